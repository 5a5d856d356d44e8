"""The modernization assessment of a code base: every measure in one typed result.

This module owns :func:`assess`, the one call scoping and the legacy-analysis agent tool make
on an extracted code base. It reads the tree once (``sources``), scans each file once (``loc``),
measures complexity (``complexity``), builds the import graph (``dependencies``), and derives
hotspots, the debt estimate (``debt``), the COCOMO II effort (``effort``) and the migration plan
(``plan``). The size class, timeline commitment and assessment price are the catalog's
(``billing.catalog``), so the quote and the charge use the same rule.

Every file is measured, but only **code** is migrated (``kinds``): the code's own tests, its
packaging, docs and examples are listed in ``excluded`` with what happens to them, and stay out
of the phase plan, the hotspots, the debt, the size class and the COCOMO II effort — all of which
are about the code that is migrated (``migrated``). The assessment price reads every analysed line
(``totals``): the assessment reads and runs the tests too.

:meth:`Assessment.to_dict` gives plain JSON types (dicts, lists, strings, numbers, None) for a
``JSONField``; nothing in it depends on where the code was unpacked (paths are relative).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.legacy.complexity import (
    APPROXIMATION,
    NOT_APPLICABLE,
    RADON,
    ModuleComplexity,
    measure_complexity,
)
from agents.legacy.debt import DebtEstimate, estimate_debt
from agents.legacy.dependencies import (
    DependencyGraph,
    Hotspot,
    build_dependency_graph,
    cycles,
    imported_top_level,
    rank_hotspots,
)
from agents.legacy.effort import CocomoEstimate, Timeline, estimate_effort, reconcile_timeline
from agents.legacy.facades import reexport_modules
from agents.legacy.kinds import MIGRATED_SCOPE, TREATMENT, Kind, kind_of, packages_of
from agents.legacy.loc import LanguageLoc, LineCounts, ScannedSource, loc_by_language, scan_file
from agents.legacy.plan import TARGET_PHASES, MigrationPlan, plan_migration
from agents.legacy.sources import SkippedFile, SourceFile, collect_sources
from billing.catalog import SizeClass, assessment_price_cents, modernization_size_class

COMPLEXITY_METHODS: dict[str, str] = {
    RADON: "radon cyclomatic complexity and maintainability index (Python)",
    APPROXIMATION: (
        "1 + decision keywords and operators per function; maintainability index by the "
        "classic formula with a token-count Halstead volume"
    ),
    NOT_APPLICABLE: "markup and style sheets: size only",
}
HOTSPOT_UNIT = "complexity points × code lines × (1 + fan-in)"
HOTSPOT_EXPLAINED = (
    "score = the module's total cyclomatic complexity × its code lines × (1 + the number of modules of the "
    "code to migrate that import it; tests are not counted); a complex, large module many others rely on is "
    "both the riskiest to change and the one whose change ripples furthest. The score ranks modules against "
    "each other; it has no absolute scale."
)
# Imports that mean the code keeps data of its own (rollback must restore it) ...
DATA_STORE_IMPORTS = frozenset(
    {
        "sqlite3", "dbm", "shelve", "sqlalchemy", "psycopg", "psycopg2", "pymysql", "MySQLdb", "mysql",
        "pymongo", "motor", "redis", "peewee", "pony", "tortoise", "cassandra", "elasticsearch", "boto3",
        "django", "asyncpg", "aiosqlite", "couchdb", "influxdb", "neo4j", "h5py", "tables", "zodb", "ZODB",
    }
)  # fmt: skip
# ... and imports that mean it serves requests (rollback by its routing flag).
SERVICE_IMPORTS = frozenset(
    {
        "flask", "django", "fastapi", "starlette", "aiohttp", "tornado", "bottle", "pyramid", "falcon",
        "sanic", "cherrypy", "web", "quart", "litestar", "socketserver", "wsgiref",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ModuleReport:
    """Everything measured about one module (source file)."""

    path: str
    language: str
    blank: int
    comment: int
    code: int
    complexity_method: str
    functions: int
    total_complexity: int
    mean_complexity: float
    max_complexity: int
    maintainability_index: float | None
    fan_in: int
    fan_out: int
    phase: int | None
    kind: str


@dataclass(frozen=True)
class ExcludedGroup:
    """Files of one kind that are measured but not migrated, and what happens to them instead."""

    kind: str
    label: str
    treatment: str
    files: tuple[str, ...]
    code: int


@dataclass(frozen=True)
class SizeClassReport:
    """The catalog's size class and the timeline commitment that comes with it."""

    code: str
    name: str
    timeline_low: int
    timeline_high: int
    timeline_unit: str
    timeline: str


@dataclass(frozen=True)
class Assessment:
    """The full result of :func:`assess`."""

    files: int
    totals: LineCounts
    migrated: LineCounts
    excluded: tuple[ExcludedGroup, ...]
    migrated_scope: str
    languages: tuple[LanguageLoc, ...]
    modules: tuple[ModuleReport, ...]
    complexity_methods: dict[str, str]
    function_count: int
    mean_function_complexity: float
    dependency_edges: tuple[tuple[str, str], ...]
    cycles: tuple[tuple[str, ...], ...]
    external_packages: tuple[str, ...]
    hotspots: tuple[Hotspot, ...]
    debt: DebtEstimate
    effort: CocomoEstimate
    size_class: SizeClassReport
    timeline: Timeline
    hotspot_unit: str
    hotspot_explained: str
    assessment_price_cents: int
    plan: MigrationPlan
    skipped: tuple[SkippedFile, ...]
    ignored_files: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The assessment as JSON-serialisable plain data."""
        data: dict[str, Any] = _jsonable(self)
        data["totals"]["total"] = self.totals.total
        return data


def _module_reports(
    scans: list[tuple[SourceFile, ScannedSource]],
    measured: list[ModuleComplexity],
    graph: DependencyGraph,
    phase_of: dict[str, int],
    kinds: dict[str, Kind],
) -> tuple[ModuleReport, ...]:
    """One row per source file: its line counts, complexity, fan-in/out and migration phase."""
    fan_in = graph.fan_in()
    fan_out = graph.fan_out()
    return tuple(
        ModuleReport(
            path=source.path,
            language=source.language.name,
            blank=scanned.counts.blank,
            comment=scanned.counts.comment,
            code=scanned.counts.code,
            complexity_method=module.method,
            functions=len(module.functions),
            total_complexity=module.total_complexity,
            mean_complexity=round(module.mean_complexity, 2),
            max_complexity=module.max_complexity,
            maintainability_index=module.maintainability_index,
            fan_in=fan_in.get(source.path, 0),
            fan_out=fan_out.get(source.path, 0),
            phase=phase_of.get(source.path),
            kind=str(kinds[source.path]),
        )
        for (source, scanned), module in zip(scans, measured, strict=True)
    )


def _size_class_report(size_class: SizeClass) -> SizeClassReport:
    return SizeClassReport(
        code=str(size_class.code),
        name=size_class.name,
        timeline_low=size_class.timeline.low,
        timeline_high=size_class.timeline.high,
        timeline_unit=size_class.timeline.unit,
        timeline=size_class.timeline.label,
    )


def _excluded_groups(
    scans: list[tuple[SourceFile, ScannedSource]], kinds: dict[str, Kind]
) -> tuple[ExcludedGroup, ...]:
    """The files that are not migrated, one group per kind, with what happens to them."""
    groups = []
    for kind, (label, treatment) in TREATMENT.items():
        members = [(source.path, scanned.counts.code) for source, scanned in scans if kinds[source.path] is kind]
        if members:
            groups.append(
                ExcludedGroup(
                    kind=str(kind),
                    label=label,
                    treatment=treatment,
                    files=tuple(path for path, _ in members),
                    code=sum(code for _, code in members),
                )
            )
    return tuple(groups)


def _sum(counts: list[LineCounts]) -> LineCounts:
    total = LineCounts()
    for item in counts:
        total = total + item
    return total


def assess(root: Path, *, phases: int = TARGET_PHASES, hotspot_limit: int = 10) -> Assessment:
    """Analyse the code base under ``root`` (already extracted and trusted to read)."""
    started = time.perf_counter()
    tree = collect_sources(Path(root))
    scans = [(source, scan_file(source)) for source in tree.files]
    measured: list[ModuleComplexity] = [measure_complexity(source, scanned) for source, scanned in scans]
    packages = packages_of(source.path for source in tree.files)
    kinds = {source.path: kind_of(source.path, packages) for source in tree.files}
    migrating = [source.path for source in tree.files if kinds[source.path] is Kind.CODE]
    graph = build_dependency_graph(tree.files)
    code_graph = graph.restricted(migrating)
    code_lines = {source.path: scanned.counts.code for source, scanned in scans}
    totals = _sum([scanned.counts for _, scanned in scans])
    migrated = _sum([scanned.counts for source, scanned in scans if kinds[source.path] is Kind.CODE])
    imported = imported_top_level(tree.files)
    plan = plan_migration(
        code_graph,
        code_lines,
        phases=phases,
        reexports=reexport_modules(source for source in tree.files if kinds[source.path] is Kind.CODE),
        service=bool(imported & SERVICE_IMPORTS),
        data_stores=sorted(imported & DATA_STORE_IMPORTS),
    )
    modules = _module_reports(scans, measured, graph, plan.phase_of(), kinds)
    complexities = [f.complexity for module in measured for f in module.functions]
    # Rounded once, so the price is reproducible from the stored figure.
    mean_complexity = round(sum(complexities) / len(complexities), 4) if complexities else 0.0
    hotspots = rank_hotspots(
        code_graph,
        complexity={module.path: module.total_complexity for module in measured},
        code_lines=code_lines,
        limit=hotspot_limit,
    )
    size_class = modernization_size_class(migrated.code)
    effort = estimate_effort(migrated.code)
    return Assessment(
        files=len(tree.files),
        totals=totals,
        migrated=migrated,
        excluded=_excluded_groups(scans, kinds),
        migrated_scope=MIGRATED_SCOPE,
        languages=tuple(loc_by_language(scans)),
        modules=modules,
        complexity_methods={
            method: text
            for method, text in COMPLEXITY_METHODS.items()
            if any(module.method == method for module in measured)
        },
        function_count=len(complexities),
        mean_function_complexity=mean_complexity,
        dependency_edges=tuple(graph.edge_list()),
        cycles=tuple(cycles(graph)),
        external_packages=graph.external,
        hotspots=tuple(hotspots),
        debt=estimate_debt([m for m in measured if kinds[m.path] is Kind.CODE], code_lines=migrated.code),
        effort=effort,
        size_class=_size_class_report(size_class),
        timeline=reconcile_timeline(
            band_low=size_class.timeline.low,
            band_high=size_class.timeline.high,
            band_name=size_class.name,
            schedule_months=effort.schedule_months,
        ),
        hotspot_unit=HOTSPOT_UNIT,
        hotspot_explained=HOTSPOT_EXPLAINED,
        assessment_price_cents=assessment_price_cents(code_loc=totals.code, mean_complexity=mean_complexity),
        plan=plan,
        skipped=tuple(tree.skipped),
        ignored_files=tree.ignored_files,
        seconds=round(time.perf_counter() - started, 3),
    )


def _jsonable(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
