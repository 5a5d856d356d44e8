"""Characterization tests for a legacy code base that has few or none of its own.

This module owns writing them, running them and reading their baseline:

1. **generate** — Hypothesis' ghostwriter (``hypothesis.extra.ghostwriter.magic``, a maintained
   generator) writes property tests for each public module: it must *import* the module to read
   its signatures, which runs the legacy code, so it runs inside the sandbox
   (``agents.tools.sandbox``), one run for the whole tree. Its output is hostile text: it is parsed
   with ``ast`` here, and tests whose arguments have no inferable type (``st.nothing()``) are
   dropped and counted — a function without annotations gets no generated inputs, and the report
   says which ones are not characterized;
2. **run** — the generated tests (with a ``conftest.py`` that makes Hypothesis derandomized and
   database-free, so the same examples run every time) and any tests of the code's own run under
   coverage.py in the sandbox; the outcome of each test on the *legacy* code is the **baseline**
   and the statement coverage of the legacy modules is shown with it;
3. **parity** is then the share of the baseline's passing tests that still pass on the changed code
   (``agents.work.modernization``).

Tests are written to ``tests/characterization/`` of the tree, so every later test run of the tree
(each segment's before/after, the merged tree, the parity report) runs them too.
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from agents.legacy.kinds import Kind, kind_of, packages_of
from agents.legacy.sources import collect_sources
from agents.tools.process import PYTHON
from agents.tools.sandbox import Limits, sandbox_run

TESTS_DIR = "tests/characterization"
MAX_EXAMPLES = 25
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_]+")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_GENERATE = """
import importlib, json, sys
out, roots, modules = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
sys.path[:0] = roots
from hypothesis.extra import ghostwriter
found = {}
for name in modules:
    try:
        found[name] = {"code": ghostwriter.magic(importlib.import_module(name))}
    except BaseException as exc:
        found[name] = {"error": (type(exc).__name__ + ": " + str(exc))[:300]}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(found, handle)
"""
_CONFTEST = '''"""Characterization tests: Hypothesis derandomized and without a database, so every run of the
baseline and of the changed code tries the same examples."""

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

_ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(_ROOT / root) for root in {roots!r}]
settings.register_profile(
    "characterization",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples={examples},
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("characterization")
'''


@dataclass(frozen=True)
class Generated:
    """What the ghostwriter wrote: tests kept per module, and what could not be characterized."""

    files: tuple[str, ...]
    tests: int
    modules: tuple[str, ...]
    dropped: tuple[str, ...]  # "module.function: no inferable argument types"
    failed_modules: tuple[str, ...]  # "module: why it could not be imported or written"
    sandbox: str


@dataclass(frozen=True)
class Baseline:
    """The outcome of every test on one tree, with the coverage of the code under test."""

    outcomes: dict[str, str]
    passed: int
    failed: int
    seconds: float
    coverage_percent: float | None
    statements: int
    covered: int
    output: str = ""
    measured: bool = True
    files: dict[str, float] = field(default_factory=dict)


def importable_modules(tree: Path) -> tuple[list[str], list[str]]:
    """The import roots (relative directories) and dotted names of the tree's public modules."""
    roots: set[str] = set()
    names: list[str] = []
    files = collect_sources(tree).files
    packages = packages_of(source.path for source in files)
    for source in files:
        path = PurePosixPath(source.path)
        # Only code to migrate: tests, packaging, docs and examples are not its public API.
        if path.suffix != ".py" or kind_of(source.path, packages) is not Kind.CODE:
            continue
        parts = list(path.parent.parts)
        start = len(parts)
        while start > 0 and (tree / Path(*parts[:start]) / "__init__.py").is_file():
            start -= 1
        dotted = [*parts[start:], *([] if path.stem == "__init__" else [path.stem])]
        if not dotted or not all(_IDENTIFIER.match(p) for p in dotted):
            continue
        if any(p.startswith("_") for p in dotted[1:]) or dotted[0] in ("setup", "conftest"):
            continue
        roots.add("/".join(parts[:start]) or ".")
        names.append(".".join(dotted))
    return sorted(roots), sorted(set(names))


def generate(tree: Path, *, timeout: float = 300) -> Generated:
    """Write characterization tests for ``tree``'s public modules into ``tests/characterization``."""
    roots, modules = importable_modules(tree)
    with tempfile.TemporaryDirectory(prefix="ghostwriter-") as scratch:
        out = Path(scratch) / "written.json"
        result = sandbox_run(
            [PYTHON, "-c", _GENERATE, str(out), json.dumps(roots), json.dumps(modules)],
            cwd=tree,
            limits=Limits(timeout=timeout),
            writable=[Path(scratch)],
        )
        written = _read_json(out)
    target = tree / TESTS_DIR
    target.mkdir(parents=True, exist_ok=True)
    (target / "__init__.py").write_text("", "utf-8")
    (target / "conftest.py").write_text(_CONFTEST.format(roots=roots, examples=MAX_EXAMPLES), "utf-8")
    files: list[str] = []
    dropped: list[str] = []
    failed: list[str] = []
    count = 0
    for name in modules:
        entry = written.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
            why = entry.get("error") if isinstance(entry, dict) else None
            failed.append(f"{name}: {str(why or result.verdict)[:200]}")
            continue
        code, kept, lost = _keep_runnable(entry["code"], name)
        dropped.extend(lost)
        if not kept:
            continue
        relative = f"{TESTS_DIR}/test_characterize_{_SAFE_NAME.sub('_', name)}.py"
        (tree / relative).write_text(code, "utf-8")
        files.append(relative)
        count += kept
    return Generated(tuple(files), count, tuple(modules), tuple(dropped), tuple(failed), result.verdict)


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _keep_runnable(code: str, module: str) -> tuple[str, int, list[str]]:
    """The ghostwriter's module with only the tests that can generate inputs; (code, kept, dropped)."""
    try:
        parsed = ast.parse(code)
    except SyntaxError:
        return "", 0, [f"{module}: the generated tests do not parse"]
    body: list[ast.stmt] = []
    kept, dropped = 0, []
    for node in parsed.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
            if "st.nothing()" in ast.unparse(node):
                dropped.append(f"{module}.{node.name.removeprefix('test_')}: no inferable argument types")
                continue
            kept += 1
        body.append(node)
    parsed.body = body
    header = "# Characterization tests written by Hypothesis' ghostwriter for the legacy code; kept\n"
    header += "# only tests that can generate their inputs. Their results on the legacy code are the baseline.\n"
    return header + ast.unparse(parsed) + "\n", kept, dropped


def run_baseline(tree: Path, *, timeout: float = 900) -> Baseline:
    """Every test of ``tree`` (its own and the characterization tests) under coverage, in the sandbox."""
    roots, _ = importable_modules(tree)
    sources = [str(tree / root) for root in roots] or [str(tree)]
    with tempfile.TemporaryDirectory(prefix="baseline-") as scratch:
        data = Path(scratch) / ".coverage"
        junit = Path(scratch) / "junit.xml"
        report = Path(scratch) / "coverage.json"
        run = sandbox_run(
            [
                PYTHON, "-m", "coverage", "run", f"--data-file={data}", f"--source={','.join(sources)}",
                "--omit=*/tests/*,*/test_*.py,*_test.py,*/conftest.py",
                "-m", "pytest", "-q", "-c", "/dev/null", "--rootdir", str(tree), "-p", "no:cacheprovider",
                f"--junitxml={junit}", "-o", "junit_family=xunit2", str(tree),
            ],
            cwd=tree,
            limits=Limits(timeout=timeout),
            env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
            writable=[Path(scratch)],
        )  # fmt: skip
        sandbox_run(
            [PYTHON, "-m", "coverage", "json", f"--data-file={data}", "-o", str(report), "-q"],
            cwd=tree,
            limits=Limits(timeout=120),
            writable=[Path(scratch)],
        )
        outcomes = _junit_outcomes(junit)
        coverage = _read_json(report)
    totals = coverage.get("totals") if isinstance(coverage.get("totals"), dict) else None
    per_file: dict[str, float] = {}
    files = coverage.get("files")
    if isinstance(files, dict):
        for path, entry in files.items():
            summary = entry.get("summary") if isinstance(entry, dict) else None
            if isinstance(summary, dict) and isinstance(summary.get("percent_covered"), int | float):
                relative = Path(str(path)).resolve()
                shown = str(relative.relative_to(tree.resolve())) if relative.is_relative_to(tree.resolve()) else path
                per_file[str(shown)] = round(float(summary["percent_covered"]), 1)
    values = list(outcomes.values())
    return Baseline(
        outcomes=outcomes,
        passed=values.count("passed"),
        failed=values.count("failed"),
        seconds=run.seconds,
        coverage_percent=round(float(totals["percent_covered"]), 2) if isinstance(totals, dict) else None,
        statements=int(totals.get("num_statements", 0)) if isinstance(totals, dict) else 0,
        covered=int(totals.get("covered_lines", 0)) if isinstance(totals, dict) else 0,
        output=run.output[-3000:],
        measured=bool(outcomes) and run.exit_code in (0, 1) and not run.stopped,
        files=per_file,
    )


def _junit_outcomes(junit: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    if not junit.is_file():
        return outcomes
    try:
        cases = list(ElementTree.parse(junit).iter("testcase"))  # noqa: S314 - pytest's own JUnit, size-capped
    except ElementTree.ParseError:
        return outcomes
    for case in cases:
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        tags = {child.tag for child in case}
        outcomes[name] = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
    return outcomes
