"""Modernization of a code base with no tests of its own (issue #18), by the built-in team on the
fixture tests/data/legacy_cycle: characterization tests written by Hypothesis' ghostwriter in the
sandbox pass on the legacy code and are the baseline (with its coverage); every segment is
upgraded (pyupgrade's full rule set, deprecated calls, inferred hints) and its page lists the
changes, before/after metrics and the parity measured against that baseline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agents.legacy.upgrade import rewrite_deprecated
from tests.agents.test_builtin_roles import Agent

FIXTURE = Path(__file__).parents[1] / "data" / "legacy_cycle"


def test_a_code_base_without_tests_gets_a_characterization_baseline_and_measured_parity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = tmp_path / "project" / "legacy"
    shutil.copytree(FIXTURE, legacy)
    assert not list(legacy.rglob("test_*.py"))
    agent = Agent(tmp_path / "project", project="Ledgerkit")
    analysis = agent.run("legacy_analyst", "legacy_analysis", legacy_dir=str(legacy))
    data = analysis.data
    assert data["tests_generated"] >= 30 and data["baseline_tests"] == data["tests_generated"]
    assert data["baseline_passed"] == data["baseline_tests"]  # every characterization test passes on the legacy code
    baseline = json.loads((agent.workspace / "docs/modernization/baseline.json").read_text())
    assert baseline["generator"].startswith("hypothesis.extra.ghostwriter")
    assert 50 < baseline["coverage_percent"] <= 100 and baseline["coverage_by_module"]["ledgerkit/money.py"] > 0
    assert (agent.workspace / "tests/characterization/conftest.py").is_file()
    agent.run("migration_architect", "strategy")
    phases = json.loads((agent.workspace / "docs/modernization/assessment.json").read_text())["plan"]["phases"]
    assert len(phases) == 5 and all(0.15 <= p["share"] <= 0.25 for p in phases)
    changed = []
    for phase in phases:
        outcome = agent.run(
            "modernization_developer", "segment", item={"number": phase["number"], "modules": phase["modules"]}
        )
        assert outcome.data["parity_kept"] and outcome.data["parity_percent"] == 100.0
        assert outcome.data["before"]["complexity"] >= 0 and outcome.data["after"]["test_seconds"] is not None
        changed += outcome.data["changes"]
        page = (agent.workspace / f"docs/modernization/segments/{phase['number']:02d}.md").read_text()
        assert "## Changes" in page and "## Before and after" in page and "parity 100.0 %" in page
    by_module = {c["module"]: c for c in changed}
    assert "pyupgrade" in by_module["ledgerkit/compat.py"]["tools"]
    assert "type hints" in by_module["ledgerkit/compat.py"]["tools"]
    assert by_module["ledgerkit/compat.py"]["rewrites"] == ["line 36: .warn( → .warning("]
    compat = (agent.workspace / "ledgerkit/compat.py").read_text()
    assert "class Registry:" in compat and "log.warning(" in compat and "-> None" in compat
    parity = agent.run("testing_specialist", "parity", expect=["docs/modernization/assessment.md"])
    assert parity.data["parity_percent"] == 100.0
    # Performance is timed on the characterization tests too (the legacy code has none of its own).
    monkeypatch.setattr("agents.work.modernization.TIMING_ROUNDS", 1)
    performance = agent.run("testing_specialist", "performance", legacy_dir=str(legacy))
    assert performance.data["legacy_seconds"] > 0 and performance.data["performance_percent"] > 0


def test_deprecated_calls_are_renamed_only_where_mechanical() -> None:
    text = (
        "import logging, time, datetime\nlog = logging.getLogger(__name__)\n"
        "s = 'time.clock()'  # time.clock()\nt = time.clock()\nlog.warn('x')\n"
        "other.warn('y')\nnow = datetime.datetime.utcnow()\nimport imp\n"
    )
    new, done, cannot = rewrite_deprecated(text)
    assert "t = time.perf_counter()" in new and "s = 'time.clock()'  # time.clock()" in new
    assert "log.warning('x')" in new and "other.warn('y')" in new  # an unknown object is not touched
    assert "datetime.datetime.utcnow()" in new
    assert done == ["line 4: .clock( → .perf_counter(", "line 5: .warn( → .warning("]
    assert any("datetime.utcnow" in c for c in cannot) and any("import imp" in c for c in cannot)
