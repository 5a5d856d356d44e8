"""The balanced migration plan (agents/legacy/plan.py), its one timeline (effort.py) and rollback
steps that fit the code — on the fixture code base with an import cycle (tests/data/legacy_cycle)
and on three real pure-Python packages of the venv (not the fixture)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agents.legacy import assess
from agents.legacy.dependencies import DependencyGraph
from agents.legacy.effort import reconcile_timeline
from agents.legacy.plan import MAX_SHARE, MIN_SHARE, MigrationPlan, plan_migration
from billing.milestones import phase_price_cents

CYCLE_FIXTURE = Path(__file__).parents[1] / "data" / "legacy_cycle"
SITE_PACKAGES = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
# Real code bases of different shapes: h11 and httpx have import cycles (httpx's is larger than a
# phase and gets split), markdown_it has 66 small modules, click a 14-module cycle around its core.
REAL_PACKAGES = ("h11", "httpx", "markdown_it", "click")


def _assert_balanced(plan: MigrationPlan, code_lines: dict[str, int]) -> None:
    assert plan.balanced, plan.note
    assert plan.note is None
    for phase in plan.phases:
        assert phase.code_lines == sum(code_lines[m] for m in phase.modules)
        if phase.share > MAX_SHARE:
            assert len([m for m in phase.modules if code_lines[m] > 0]) == 1, phase
        else:
            assert MIN_SHARE <= phase.share <= MAX_SHARE, (phase.number, phase.share)
    # Every module is in exactly one phase; a phase only needs earlier phases.
    assert sorted(plan.phase_of()) == sorted(code_lines)
    assert sum(len(p.modules) for p in plan.phases) == len(code_lines)
    for phase in plan.phases:
        assert all(n < phase.number for n in phase.depends_on_phases)


def _check_order(graph_edges: list[tuple[str, str]], plan: MigrationPlan) -> None:
    phase_of = plan.phase_of()
    cut = {(e.importer, e.imported) for e in plan.cut_edges}
    for source, target in graph_edges:
        if (source, target) not in cut:
            assert phase_of[target] <= phase_of[source], (source, target)


def test_the_fixture_cycle_is_split_along_its_weakest_import_and_phases_are_balanced() -> None:
    result = assess(CYCLE_FIXTURE)
    code = {m.path: m.code for m in result.modules}
    assert result.cycles == (("ledgerkit/__init__.py", "ledgerkit/core.py", "ledgerkit/report.py"),)
    cycle_share = sum(code[m] for m in result.cycles[0]) / result.totals.code
    assert cycle_share > MAX_SHARE  # bigger than a phase: it has to be split
    _assert_balanced(result.plan, code)
    _check_order(list(result.dependency_edges), result.plan)
    assert len(result.plan.phases) == 5
    # core imports the package only for its version string: one reference, the weakest edge.
    (edge,) = result.plan.cut_edges
    assert (edge.importer, edge.imported, edge.references) == ("ledgerkit/core.py", "ledgerkit/__init__.py", 1)
    assert "weakest" in edge.reason and "larger than 25 %" in edge.reason
    # Each phase's price is the billing rule of its lines.
    for phase in result.plan.phases:
        assert phase.price_cents == phase_price_cents(phase.code_lines)
    # A library without a data store: rollback reverts the merge, no data-store or router steps.
    for phase in result.plan.phases:
        assert "data store" not in phase.rollback and "strangler" not in phase.rollback
        assert "Revert the merge" in phase.rollback
    assert result.plan.kind == "library" and result.plan.data_stores == ()


@pytest.mark.parametrize("package", REAL_PACKAGES)
def test_the_plan_of_a_real_package_keeps_the_balance_rule(package: str) -> None:
    root = SITE_PACKAGES / package
    assert root.is_dir(), f"{package} is not installed in the venv"
    result = assess(root)
    code = {m.path: m.code for m in result.modules}
    assert result.totals.code > 1000
    _assert_balanced(result.plan, code)
    _check_order(list(result.dependency_edges), result.plan)
    if package == "httpx":
        assert result.cycles and result.plan.cut_edges  # its big cycle was split, with reasons
        assert all("weakest" in e.reason for e in result.plan.cut_edges)


def test_a_service_with_a_data_store_gets_router_and_replay_steps(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "web.py").write_text(
        "import flask\nimport sqlite3\nfrom app import store\n\ndef f():\n    return 1\n"
    )
    (tmp_path / "app" / "store.py").write_text("import sqlite3\n\ndef g():\n    return 2\n")
    result = assess(tmp_path)
    assert result.plan.kind == "service" and result.plan.data_stores == ("sqlite3",)
    assert all("strangler-router flag" in p.rollback and "sqlite3" in p.rollback for p in result.plan.phases)


def test_an_unsplittable_order_says_why_and_is_not_called_balanced() -> None:
    # One module of 88 % and four small ones (12 % together) depending on it: no cut exists.
    modules = ("a.py", "b.py", "c.py", "d.py", "e.py")
    graph = DependencyGraph(modules, {m: frozenset({"a.py"}) for m in modules[1:]}, ())
    plan = plan_migration(graph, {"a.py": 88, "b.py": 3, "c.py": 3, "d.py": 3, "e.py": 3})
    assert plan.phases[0].modules == ("a.py",)  # an oversize module is a phase of its own
    assert not plan.balanced
    assert plan.note is not None and "15–25 %" in plan.note


def test_a_module_larger_than_a_phase_leaves_fewer_balanced_phases() -> None:
    # 70 % in one module: the other 30 % make two phases of 15 %, each within the rule.
    modules = ("a.py", "b.py", "c.py", "d.py", "e.py")
    graph = DependencyGraph(modules, {m: frozenset({"a.py"}) for m in modules[1:]}, ())
    plan = plan_migration(graph, {"a.py": 70, "b.py": 10, "c.py": 10, "d.py": 5, "e.py": 5})
    assert plan.balanced and plan.note is None
    assert [p.share for p in plan.phases] == [0.7, 0.15, 0.15] and plan.phases[0].modules == ("a.py",)


def test_the_timeline_is_one_commitment_with_its_reason() -> None:
    inside = reconcile_timeline(band_low=3, band_high=6, band_name="Small system", schedule_months=4.2)
    assert (inside.basis, inside.label) == ("size class", "3–6 months")
    longer = reconcile_timeline(band_low=3, band_high=6, band_name="Small system", schedule_months=8.1)
    assert longer.basis == "COCOMO II" and longer.high == 9 and longer.label == "6–9 months"
    assert "8.1 months" in longer.reason and "3–6 months" in longer.reason
    # The assessment carries it, and a page shows only it (not the band and COCOMO side by side).
    result = assess(CYCLE_FIXTURE)
    assert result.timeline.cocomo_months == result.effort.schedule_months
