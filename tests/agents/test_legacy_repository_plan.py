"""Code as customers send it (agents/legacy/kinds.py, facades.py, plan.py): a zip of a repository
with its own tests, packaging, docs and examples. Only code is phased, balanced and priced; the
rest is listed with what happens to it. The repositories are built from installed packages at
test time (tests/agents/repositories.py) and go through the real archive extraction."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.legacy import assess, extract_archive
from agents.legacy.assessment import Assessment
from agents.legacy.characterize import importable_modules
from agents.legacy.dependencies import DependencyGraph
from agents.legacy.facades import reexport_modules
from agents.legacy.kinds import Kind, is_test, kind_of
from agents.legacy.plan import MAX_SHARE, MIN_SHARE, plan_migration
from agents.legacy.sources import collect_sources
from billing.milestones import phase_price_cents
from tests.agents.repositories import repository_of, zip_of

# h11: tests beside the package; aiosmtpd and referencing: their real suites inside the package
# (aiosmtpd also ships its Sphinx docs and a QA suite); mando: tests inside, one oversize module.
PACKAGES = ("h11", "aiosmtpd", "referencing", "mando")


def _uploaded(package: str, tmp_path: Path) -> tuple[Path, Assessment]:
    archive = tmp_path / f"{package}.zip"
    archive.write_bytes(zip_of(repository_of(package, tmp_path / "repo"), f"{package}-main"))
    tree = extract_archive(archive, tmp_path / "code")
    return tree.root, assess(tree.root)


def _assert_the_balance_rule(result: Assessment) -> None:
    """Each phase within 15–25 % of the migrated lines, or over it for one module alone larger than
    a phase (with at most modules too small together to be a phase of their own)."""
    plan = result.plan
    code = {m.path: m.code for m in result.modules}
    assert plan.balanced and plan.note is None, plan.note
    assert plan.total_code_lines == result.migrated.code == sum(p.code_lines for p in plan.phases)
    for phase in plan.phases:
        share = phase.code_lines / result.migrated.code
        assert abs(share - phase.share) < 1e-4
        if share > MAX_SHARE:
            largest = max(code[m] for m in phase.modules)
            assert largest > MAX_SHARE * result.migrated.code, phase
            assert phase.code_lines - largest < MIN_SHARE * result.migrated.code, phase
        else:
            assert MIN_SHARE <= share <= MAX_SHARE, (phase.number, share)
        assert phase.price_cents == phase_price_cents(phase.code_lines)
        assert all(n < phase.number for n in phase.depends_on_phases)
    # Only code is in the phases, and every module of the code is in exactly one.
    migrated = sorted(m.path for m in result.modules if m.kind == "code")
    assert sorted(m for p in plan.phases for m in p.modules) == migrated
    # The order follows every import between modules of the code except the listed ones.
    phase_of = plan.phase_of()
    cut = {(e.importer, e.imported) for e in plan.cut_edges}
    for source, target in result.dependency_edges:
        if source in phase_of and target in phase_of and (source, target) not in cut:
            assert phase_of[target] <= phase_of[source], (source, target)


@pytest.mark.parametrize("package", PACKAGES)
def test_an_uploaded_repository_is_planned_on_its_code_only(package: str, tmp_path: Path) -> None:
    root, result = _uploaded(package, tmp_path)

    _assert_the_balance_rule(result)
    kinds = {m.path: m.kind for m in result.modules}
    top = f"{package}-main"
    assert kinds[f"{top}/setup.py"] == kinds[f"{top}/noxfile.py"] == "packaging"
    assert kinds[f"{top}/docs/conf.py"] == "docs" and kinds[f"{top}/examples/show_version.py"] == "examples"
    assert kinds[f"{top}/{package}/__init__.py"] == "code"
    groups = {g.kind: g for g in result.excluded}
    tests = groups["tests"]
    assert tests.label == "legacy tests" and "parity baseline" in tests.treatment and "not migrated" in tests.treatment
    assert set(tests.files) == {path for path, kind in kinds.items() if kind == "tests"}
    assert all(is_test(path) for path in tests.files) and len(tests.files) >= 3
    assert tests.code == sum(m.code for m in result.modules if m.kind == "tests") > 0
    assert f"{top}/docs/conf.py" in groups["docs"].files
    assert result.migrated.code + sum(g.code for g in result.excluded) == result.totals.code
    # Characterization tests, when written, are for the code's public API only: not for its tests,
    # its build scripts, docs or examples.
    _, names = importable_modules(root)
    assert names and all(name.split(".")[0] == package for name in names)
    assert not any(".tests" in name or name.endswith(".conftest") for name in names)
    # The size class and the COCOMO II effort are of the code that is migrated.
    assert result.effort.ksloc == pytest.approx(result.migrated.code / 1000, abs=1e-3)


def test_h11_as_a_repository_gets_five_balanced_phases_and_says_why_its_init_moves_early(tmp_path: Path) -> None:
    # The tryout: 13/22/29/7/29 %, "cannot balance". h11/__init__.py imports every module (its
    # imports resolve in a repository), so a strict order puts its 51 lines alone at the end.
    _, result = _uploaded("h11", tmp_path)

    assert len(result.plan.phases) == 5
    assert all(MIN_SHARE <= p.share <= MAX_SHARE for p in result.plan.phases)
    init = "h11-main/h11/__init__.py"
    freed = [e for e in result.plan.cut_edges if e.importer == init]
    assert freed and all("only re-exports names" in e.reason for e in freed)
    assert {m.path for m in result.hotspots}.isdisjoint(g for group in result.excluded for g in group.files)


def test_what_each_file_is() -> None:
    packages = frozenset({"shop", "shop/setup"})
    assert kind_of("shop/models.py", packages) is Kind.CODE
    assert kind_of("scripts/nightly.py", packages) is Kind.CODE  # may run in production: migrated
    assert kind_of("shop/setup.py", packages) is Kind.CODE  # a module of the package, not a build script
    assert kind_of("setup.py", packages) is Kind.PACKAGING
    assert kind_of("web/webpack.config.js", packages) is Kind.PACKAGING
    assert kind_of("shop/tests/helpers.py", packages) is Kind.TESTS
    assert kind_of("shop/models_test.py", packages) is Kind.TESTS
    assert kind_of("conftest.py", packages) is Kind.TESTS
    assert kind_of("src/test/java/shop/OrderTest.java", packages) is Kind.TESTS
    assert kind_of("web/cart.spec.ts", packages) is Kind.TESTS
    assert kind_of("server/handler_test.go", packages) is Kind.TESTS
    assert kind_of("docs/conf.py", packages) is Kind.DOCS
    assert kind_of("docs/_static/theme.css", packages) is Kind.DOCS
    assert kind_of("examples/client.py", packages) is Kind.EXAMPLES
    assert kind_of("benchmarks/run.py", packages) is Kind.EXAMPLES
    # Names that only look like the rule are code.
    assert kind_of("shop/testing.py", packages) is Kind.CODE
    assert kind_of("shop/contest.py", packages) is Kind.CODE
    assert kind_of("shop/latest_tests_report.py", packages) is Kind.CODE


def test_only_modules_that_merely_re_export_are_re_export_modules(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": '"""Doc."""\nfrom pkg.a import A\nfrom pkg.b import *\n__all__ = ("A",)\n'
        "VERSION = '1.' + '0'\ntry:\n    from pkg.c import C\nexcept ImportError:\n    C = None\n",
        "pkg/calls.py": "from pkg.a import A\nDEFAULT = A()\n",
        "pkg/defines.py": "from pkg.a import A\n\ndef f():\n    return A\n",
        "pkg/loops.py": "from pkg.a import A\nfor name in ('x',):\n    pass\n",
        "pkg/constants.py": "X = 1\n",
        "pkg/a.py": "class A:\n    pass\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)

    assert reexport_modules(collect_sources(tmp_path).files) == {"pkg/__init__.py"}


def test_a_re_export_module_moves_early_only_when_the_strict_order_cannot_balance() -> None:
    # h11's shape: top.py uses every module, init.py re-exports them all and top's names. In a
    # strict order init.py comes last: with top.py 30 lines of 110 (> 25 %), alone 5 % (< 15 %).
    modules = ("a.py", "b.py", "c.py", "d.py", "top.py", "init.py")
    edges = {"top.py": frozenset(modules[:4]), "init.py": frozenset(modules[:5])}
    lines = {"a.py": 20, "b.py": 20, "c.py": 20, "d.py": 20, "top.py": 24, "init.py": 6}
    graph = DependencyGraph(modules, edges, ())

    strict = plan_migration(graph, lines)
    freed = plan_migration(graph, lines, reexports=frozenset({"init.py"}))

    assert not strict.balanced and strict.note is not None and "15–25 %" in strict.note
    assert freed.balanced and freed.note is None
    assert all(MIN_SHARE <= p.share <= MAX_SHARE for p in freed.phases)
    assert {(e.importer, e.imported) for e in freed.cut_edges} == {("init.py", m) for m in modules[:5]}
    assert all("only re-exports names" in e.reason for e in freed.cut_edges)
    # When the strict order balances, the re-export module's imports are kept.
    assert plan_migration(graph, {**lines, "init.py": 2}, reexports=frozenset({"init.py"})).cut_edges == ()
    # A module that is not a re-export module is never moved before what it imports.
    assert not plan_migration(graph, lines, reexports=frozenset()).balanced


def test_small_modules_may_join_an_oversize_module_but_not_a_normal_phase() -> None:
    # Two modules above a phase (36 % and 49 % of 99 lines) leave 14 lines: too few for a phase.
    modules = ("small.py", "core.py", "schema.py", "tiny.py")
    graph = DependencyGraph(modules, {"core.py": frozenset({"small.py"}), "schema.py": frozenset({"core.py"})}, ())
    sizes = {"small.py": 12, "core.py": 36, "schema.py": 49, "tiny.py": 2}
    plan = plan_migration(graph, sizes)

    assert plan.balanced and plan.note is None and len(plan.phases) == 2
    for phase in plan.phases:
        largest = max(sizes[m] for m in phase.modules)
        assert largest > MAX_SHARE * 99 and phase.code_lines - largest < MIN_SHARE * 99
    # 20 % next to an oversize module is a phase of its own, not the oversize phase's company.
    wide_sizes = {"small.py": 20, "core.py": 30, "schema.py": 49, "tiny.py": 1}
    wide = plan_migration(graph, wide_sizes)
    assert wide.balanced and len(wide.phases) == 3
    assert any("small.py" in p.modules and "core.py" not in p.modules for p in wide.phases)
