"""The modernization team's work on a customer's legacy code base.

* Legacy analyst: imports the code as delivered into the repository (the first commit after the
  repository's start), assesses it with ``agents.legacy.assess`` (the analyser scoping used). When
  the code has no tests of its own, the testing side writes characterization tests for its public
  API with Hypothesis' ghostwriter in the sandbox (``agents.legacy.characterize``); every test's
  outcome on the legacy code, under coverage, is the baseline every later step is compared with.
* Migration architect: the phased plan with a routing flag and a rollback per segment; the rollout.
* Modernization developers: one segment each. Python modules of the segment are upgraded to the
  target Python (pyupgrade's full rule set), deprecated standard-library calls renamed where that
  is mechanical, and inferred type hints added (``agents.legacy.upgrade``); the tests (the code's
  own and the characterization tests) run before and after, in a scratch copy of the tree. A change
  that makes any previously passing test fail is reverted, not committed (parity first); the review
  re-runs the tests on the merged tree. The segment's page lists each module's changes, what could
  not be modernized, and before/after complexity, maintainability, HIGH findings and test time.
* Testing specialist: the whole legacy suite on main against the baseline (parity, test by test)
  and the suite's wall time on the original code against the modernized one (performance).
* Compliance validator: the audit trail of the project from its event log, checked against the
  repository's history (every merge has its review, every approval a named person).
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

from agents.legacy import assess
from agents.legacy.characterize import TESTS_DIR, Baseline, Generated, generate, run_baseline
from agents.legacy.complexity import measure_complexity
from agents.legacy.languages import language_for
from agents.legacy.loc import scan_file
from agents.legacy.pins import PinReport, raise_pins
from agents.legacy.requirement_files import dependency_files
from agents.legacy.sources import SourceFile
from agents.legacy.upgrade import DEFAULT_TARGET, TARGETS, Upgrade, modernize
from agents.providers.base import JobFailed
from agents.quoting import md_inline
from agents.tools import TestReport, pytest_run, secret_scan, security_scan
from agents.tools.suite_timing import suite_timing
from agents.work.common import Job, Result, slug, table
from agents.workspace import MAIN, Verdict

DOCS = "docs/modernization"
_IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache")
TIMING_ROUNDS = 5
# Below this a run of the suite is too quick to compare two speeds (timer and scheduling noise of
# tens of microseconds were seen to move the ratio by 8 %): the performance gate is then unknown.
RESOLUTION_SECONDS = 0.001
PINS_POLICY = (
    "Each pin moves to the newest release of its major version for the target Python, only when the tests "
    "(run in the sandbox, offline, against the downloaded wheels) still pass; a newer major version is "
    "recommended, not applied.\n\n"
)


def _legacy_dir(job: Job) -> Path:
    legacy = Path(str(job.inputs.get("legacy_dir") or job.home / "legacy"))
    if not legacy.is_dir():
        raise JobFailed(f"no legacy code was uploaded for {job.project}")
    return legacy


def has_tests(tree: Path) -> bool:
    return any(
        ".git" not in p.parts and (p.name.startswith("test_") or p.name.endswith("_test.py"))
        for p in tree.rglob("*.py")
    )


def legacy_tests(tree: Path) -> TestReport | None:
    """The code base's own tests, run on a scratch copy (tests may write files)."""
    if not has_tests(tree):
        return None
    with tempfile.TemporaryDirectory(prefix="legacy-tests-") as scratch:
        copy = Path(scratch) / "tree"
        shutil.copytree(tree, copy, ignore=_IGNORED)
        return pytest_run(copy)


def _assessment(job: Job) -> dict[str, Any]:
    path = job.workspace.root / DOCS / "assessment.json"
    if not path.exists():
        raise JobFailed("the legacy analysis has not been merged yet (docs/modernization/assessment.json)")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _baseline(job: Job) -> dict[str, str]:
    path = job.workspace.root / DOCS / "baseline-tests.json"
    return dict(json.loads(path.read_text("utf-8"))) if path.exists() else {}


def characterize(tree: Path) -> tuple[Generated | None, Baseline]:
    """Characterization tests when the code has none of its own, then the baseline on the legacy code."""
    written = None if has_tests(tree) else generate(tree)
    return written, run_baseline(tree)


def legacy_analysis(job: Job) -> Result:
    legacy = _legacy_dir(job)
    with job.branch("legacy/import") as branch:
        shutil.copytree(legacy, branch.path, ignore=_IGNORED, dirs_exist_ok=True)
        imported = job.commit(branch, f"Import the legacy code base of {job.project} as delivered")
        result = assess(branch.path)
        data = result.to_dict()
        job.report(
            "assessment",
            f"assessed {result.totals.code:,} lines of code in {result.files} files: "
            f"{len(result.plan.phases)} migration segments, debt rating {result.debt.rating}",
            code_lines=result.totals.code,
            files=result.files,
        )
        written, baseline = characterize(branch.path)
        if written is not None:
            job.report(
                "characterization",
                f"wrote {written.tests} characterization tests for {len(written.files)} modules with Hypothesis' "
                f"ghostwriter; {len(written.dropped)} functions without inferable argument types not covered",
                tests_generated=written.tests,
            )
        outcomes = baseline.outcomes
        job.report(
            "tests",
            f"legacy baseline: {baseline.passed} of {len(outcomes)} tests pass, "
            f"coverage {baseline.coverage_percent if baseline.coverage_percent is not None else 'unknown'} %",
            tests_passed=baseline.passed,
            tests_failed=baseline.failed,
            coverage_percent=baseline.coverage_percent,
        )
        branch.write(f"{DOCS}/assessment.md", _assessment_text(job, result, data, written, baseline))
        branch.write(f"{DOCS}/assessment.json", json.dumps(data, indent=2, sort_keys=True) + "\n")
        branch.write(f"{DOCS}/baseline-tests.json", json.dumps(outcomes, indent=2, sort_keys=True) + "\n")
        branch.write(f"{DOCS}/baseline.json", json.dumps(_baseline_summary(written, baseline), indent=2) + "\n")
        job.commit(branch, "Legacy assessment, characterization tests and the test baseline")
        merged = job.merge(branch, "Merge legacy/import: the code as delivered, its assessment and baseline")
    return Result(
        f"imported and assessed {result.totals.code:,} lines ({result.files} files); "
        f"{len(result.plan.phases)} segments planned; baseline {baseline.passed}/{len(outcomes)} tests pass, "
        f"coverage {baseline.coverage_percent} %",
        [f"{DOCS}/assessment.md", f"{DOCS}/assessment.json", f"{DOCS}/baseline-tests.json", f"{DOCS}/baseline.json"],
        {
            "code_lines": result.totals.code,
            "files": result.files,
            "segments": len(result.plan.phases),
            "baseline_tests": len(outcomes),
            "baseline_passed": baseline.passed,
            "coverage_percent": baseline.coverage_percent,
            "tests_generated": written.tests if written else 0,
            "import_commit": imported,
            "commit": merged.commit,
        },
    )


def _baseline_summary(written: Generated | None, baseline: Baseline) -> dict[str, Any]:
    return {
        "generator": "hypothesis.extra.ghostwriter (in the sandbox)" if written else None,
        "tests_dir": TESTS_DIR if written else None,
        "generated_tests": written.tests if written else 0,
        "not_characterized": list(written.dropped) if written else [],
        "modules_failed": list(written.failed_modules) if written else [],
        "tests": len(baseline.outcomes),
        "passed": baseline.passed,
        "failed": baseline.failed,
        "seconds": baseline.seconds,
        "coverage_percent": baseline.coverage_percent,
        "statements": baseline.statements,
        "covered": baseline.covered,
        "coverage_by_module": baseline.files,
    }


def _assessment_text(job: Job, result: Any, data: dict[str, Any], written: Generated | None, baseline: Baseline) -> str:
    languages = [[lang["language"], lang["files"], lang["code"]] for lang in data["languages"]]
    hotspots = [[h["path"], h["complexity"], h["code_lines"], h["fan_in"], h["score"]] for h in data["hotspots"]]
    tests = (
        f"{written.tests} characterization tests written by Hypothesis' ghostwriter"
        if written
        else "the code's own tests"
    )
    return (
        f"# Assessment of {md_inline(job.project)}\n\n"
        f"- files: {result.files}\n- code lines: {result.totals.code:,}\n"
        f"- code lines to migrate (the segments): {result.migrated.code:,}\n"
        + "".join(
            f"- not migrated: {g.label}, {len(g.files)} files, {g.code:,} code lines — {g.treatment}\n"
            for g in result.excluded
        )
        + f"- functions: {result.function_count} (mean complexity {result.mean_function_complexity})\n"
        f"- timeline: {result.timeline.label} ({result.timeline.basis}: {md_inline(result.timeline.reason)})\n"
        f"- import cycles: {len(result.cycles)}\n"
        f"- external packages: {md_inline(', '.join(result.external_packages)) or 'none'}\n"
        f"- baseline: {tests}; {baseline.passed} of {len(baseline.outcomes)} pass on the legacy code; "
        f"statement coverage {baseline.coverage_percent} %\n\n"
        f"## Languages\n\n{table(['language', 'files', 'code lines'], languages)}\n"
        f"## Hotspots\n\nScore: {result.hotspot_explained}\n\n"
        f"{table(['module', 'complexity', 'code lines', 'fan-in', 'score'], hotspots)}"
    )


def debt(job: Job) -> Result:
    data = _assessment(job)
    estimate = data["debt"]
    rules = [[r["rule"], r["description"], r["findings"], r["minutes"]] for r in estimate.get("rules", [])]
    items = [[i["path"], i["rule"], i["subject"], i["minutes"]] for i in estimate.get("largest_items", [])]
    text = (
        f"# Technical debt of {md_inline(job.project)}\n\nMethod: {estimate['method']}\n\n"
        f"- remediation: {estimate['remediation_hours']} hours\n- debt ratio: {estimate['debt_ratio']}\n"
        f"- rating: {estimate['rating']}\n\n## By rule\n\n{table(['rule', 'what', 'findings', 'minutes'], rules)}\n"
        f"## Largest items\n\n{table(['module', 'rule', 'where', 'minutes'], items)}"
    )
    written, _ = job.deliver("legacy/debt", "Technical debt assessment", {f"{DOCS}/debt.md": text})
    return Result(
        f"debt rating {estimate['rating']}: {estimate['remediation_hours']} hours of remediation",
        written,
        {"debt_hours": estimate["remediation_hours"], "debt_rating": estimate["rating"]},
    )


def strategy(job: Job) -> Result:
    plan = _assessment(job)["plan"]
    phases = plan["phases"]
    rows = [
        [
            p["number"],
            f"{round(p['share'] * 100)} %",
            p["code_lines"],
            ", ".join(map(str, p["depends_on_phases"])) or "-",
        ]
        for p in phases
    ]
    flags = {f"segment-{p['number']}": {"modules": p["modules"], "enabled": False} for p in phases}
    text = (
        f"# Modernization strategy of {md_inline(job.project)}\n\nOrder: {plan['ordering']}.\n"
        + (f"\nNote: {plan['note']}\n" if plan.get("note") else "")
        + f"\n{table(['segment', 'share', 'code lines', 'after segments'], rows)}\n## Rollback\n\n"
        + "".join(f"- segment {p['number']}: {p['rollback']}\n" for p in phases)
        + f"\nEvery segment sits behind its routing flag in `deploy/flags.json`; rollback within "
        f"{plan['rollback_within_hours']} hours.\n"
    )
    files = {f"{DOCS}/strategy.md": text, "deploy/flags.json": json.dumps(flags, indent=2) + "\n"}
    written, _ = job.deliver("migration/strategy", f"Migration plan in {len(phases)} segments", files)
    return Result(f"{len(phases)} segments planned with rollback flags", written, {"segments": len(phases)})


def _parity(before: TestReport | None, after: TestReport | None) -> tuple[bool, list[str]]:
    if before is None or after is None:
        return True, []
    broken = [
        name
        for name, outcome in before.outcomes.items()
        if outcome == "passed" and after.outcomes.get(name) != "passed"
    ]
    return not broken, broken


def _metrics(tree: Path, modules: list[str]) -> dict[str, Any]:
    """Complexity and maintainability of ``modules`` (radon), HIGH findings of the tree (bandit)."""
    total, indexes = 0, []
    for path in modules:
        language = language_for(path)
        if language is None or not (tree / path).is_file():
            continue
        source = SourceFile(path, language, (tree / path).read_text("utf-8", errors="replace"))
        measured = measure_complexity(source, scan_file(source))
        total += measured.total_complexity
        if measured.maintainability_index is not None:
            indexes.append(measured.maintainability_index)
    return {
        "complexity": total,
        "maintainability": round(statistics.mean(indexes), 1) if indexes else None,
        "high_findings": security_scan(tree).high,
    }


def segment(job: Job) -> Result:
    item = dict(job.inputs.get("item") or {})
    number = int(item.get("number", 0))
    modules = [str(m) for m in item.get("modules", [])]
    target = str(job.inputs.get("target_python") or DEFAULT_TARGET)
    target = target if target in TARGETS else DEFAULT_TARGET
    name = f"segment/{number:02d}"
    with job.branch(name) as branch:
        python = [m for m in modules if m.endswith(".py") and (branch.path / m).is_file()]
        before = legacy_tests(branch.path)
        metrics_before = _metrics(branch.path, python)
        upgrade = modernize(branch.path, python, target=target) if python else Upgrade(target, (), (), {})
        changed = [c.path for c in upgrade.changed]
        after = legacy_tests(branch.path) if changed else before
        kept, broken = _parity(before, after)
        if not kept:
            branch.restore()
            job.report(
                "parity", f"segment {number}: modernization reverted, it broke {len(broken)} tests", broken=broken[:20]
            )
            changed = []
        metrics_after = _metrics(branch.path, python) if changed else metrics_before
        percent = _parity_percent(before, after if kept else before)
        tests = f"{after.passed} of {after.total} tests pass" if after else "no tests exist"
        job.report(
            "parity",
            f"segment {number}: {len(changed)} of {len(python)} Python modules modernized for Python {target}; "
            f"{tests}; parity {f'{percent} %' if percent is not None else 'not measured'}",
            changed=len(changed),
            tests_passed=after.passed if after else 0,
            parity_percent=percent,
        )
        note = _segment_note(number, modules, python, upgrade if changed else None, kept, broken, tests, percent)
        note += _metrics_table(metrics_before, metrics_after, before, after if kept else before)
        note += "".join(f"- cannot modernize: {md_inline(item)}\n" for item in upgrade.cannot)
        pins = _dependency_pins(job, branch.path, number, target)
        note += _pins_note(pins) if pins else ""
        branch.write(f"{DOCS}/segments/{number:02d}.md", note)
        branch.write(
            f"deploy/flags/segment-{number}.json",
            json.dumps({"segment": number, "modules": modules, "enabled": True}, indent=2) + "\n",
        )
        raised = f"; {len(pins.raised)} dependency pins raised" if pins else ""
        verdict = "parity kept" if percent is not None else "parity not measured (no baseline test passes)"
        job.commit(branch, f"Segment {number}: modernize {len(changed)} modules for Python {target}{raised}, {verdict}")

        def verify(tree: Path) -> Verdict:
            merged = legacy_tests(tree)
            same, lost = _parity(before, merged)
            count = f"{merged.passed}/{merged.total} tests pass" if merged else "no tests"
            return Verdict(same, f"{count} on the merged tree" + (f"; broken: {', '.join(lost[:3])}" if lost else ""))

        merged = job.merge(branch, f"Merge {name}", verify=verify)
    return Result(
        f"segment {number}: {len(changed)} modules modernized for Python {target}; {tests}; "
        f"parity {percent if percent is not None else 'unknown'} %",
        [f"{DOCS}/segments/{number:02d}.md", f"deploy/flags/segment-{number}.json"],
        {
            "segment": number,
            "modules_changed": len(changed),
            "parity_kept": kept,
            "parity_percent": percent,
            "changes": [
                {"module": c.path, "tools": list(c.tools), "rewrites": list(c.rewrites)}
                for c in upgrade.changed
                if c.path in changed
            ]
            + (_pins_changes(pins) if pins else []),
            "cannot": list(upgrade.cannot) + (_pins_cannot(pins) if pins else []),
            "pins": pins.to_dict() if pins else None,
            "before": {**metrics_before, "test_seconds": before.test_seconds if before else None},
            "after": {**metrics_after, "test_seconds": after.test_seconds if kept and after else None},
            "merge": merged.commit,
        },
    )


def _dependency_pins(job: Job, tree: Path, number: int, target: str) -> PinReport | None:
    """The code base's dependency pins, raised by the first segment: they belong to the whole code
    base rather than to one segment's modules, and every later segment builds on them."""
    if number != 1 or not dependency_files(tree):
        return None
    index = str(getattr(settings, "HIVE_PACKAGE_INDEX_URL", ""))
    with tempfile.TemporaryDirectory(prefix="pins-") as scratch:
        pins = raise_pins(tree, index_url=index, target_python=target, scratch=Path(scratch))
    job.report(
        "dependencies",
        f"segment {number}: {len(pins.raised)} dependency pins raised, {len(pins.kept)} kept because tests broke, "
        f"{len(pins.cannot)} not modernized",
        pins_raised=len(pins.raised),
        pins_kept=len(pins.kept),
    )
    return pins


def _pins_note(pins: PinReport) -> str:
    rows = [
        [r.pin.name, r.pin.file, f"{r.pin.operator}{r.pin.version}", f"{r.pin.operator}{r.to}", r.tests]
        for r in pins.raised
    ]
    return (
        f"\n## Dependency pins\n\nIndex: {md_inline(pins.index_url or 'none configured')}. "
        + PINS_POLICY
        + (table(["package", "file", "before", "after", "tests"], rows) if rows else "No pin raised.\n")
        + "\n"
        + "".join(f"- {md_inline(item)}\n" for item in _pins_cannot(pins))
        + "".join(f"- unchanged: {md_inline(item)}\n" for item in pins.unchanged)
    )


def _pins_cannot(pins: PinReport) -> list[str]:
    return (
        [f"dependency pin kept: {item}" for item in pins.kept]
        + [f"dependency major version recommended: {item}" for item in pins.recommended]
        + [f"dependency pins: {item}" if not item.startswith("dependency pins") else item for item in pins.cannot]
    )


def _pins_changes(pins: PinReport) -> list[dict[str, Any]]:
    files = sorted({r.pin.file for r in pins.raised})
    return [
        {"module": f, "tools": ["dependency pins"], "rewrites": [r.line() for r in pins.raised if r.pin.file == f]}
        for f in files
    ]


def _parity_percent(before: TestReport | None, after: TestReport | None) -> float | None:
    """Share of the tests passing before that still pass; None when nothing passed to compare."""
    if before is None or after is None:
        return None
    passing = [name for name, outcome in before.outcomes.items() if outcome == "passed"]
    if not passing:
        return None
    kept = [name for name in passing if after.outcomes.get(name) == "passed"]
    return round(100.0 * len(kept) / len(passing), 2)


def _segment_note(
    number: int,
    modules: list[str],
    python: list[str],
    upgrade: Upgrade | None,
    kept: bool,
    broken: list[str],
    tests: str,
    percent: float | None,
) -> str:
    rows = [[c.path, ", ".join(c.tools), "; ".join(c.rewrites) or "-"] for c in (upgrade.changed if upgrade else ())]
    verdict = "kept" if kept else f"the changes broke {len(broken)} tests and were reverted"
    target = upgrade.target if upgrade else DEFAULT_TARGET
    return (
        f"# Segment {number}\n\nModules: {len(modules)} ({len(python)} Python). Target: Python {target}.\n\n"
        "Passes: pyupgrade's full rule set for the target, deprecated standard-library calls renamed where the "
        "rename is mechanical, inferred type hints (autotyping --safe).\n\n"
        f"## Changes\n\n{table(['module', 'passes', 'deprecated calls replaced'], rows) if rows else 'none'}\n\n"
        f"## Parity\n\n{tests}; parity {percent if percent is not None else 'unknown'} % ({verdict}).\n\n"
    )


def _metrics_table(
    before: dict[str, Any], after: dict[str, Any], tests_before: TestReport | None, tests_after: TestReport | None
) -> str:
    rows = [
        ["cyclomatic complexity (segment)", before["complexity"], after["complexity"]],
        ["maintainability index (mean)", before["maintainability"], after["maintainability"]],
        ["HIGH security findings (tree)", before["high_findings"], after["high_findings"]],
        [
            "test time (s)",
            tests_before.seconds if tests_before else "-",
            tests_after.seconds if tests_after else "-",
        ],
    ]
    return f"## Before and after\n\n{table(['measure', 'before', 'after'], rows)}\n## What was not modernized\n\n"


def parity(job: Job) -> Result:
    job.ensure_repository()
    expected = [str(p) for p in job.inputs.get("expect", [])]
    missing = [p for p in expected if not job.workspace.exists_anywhere(p)]
    if missing:
        raise JobFailed(f"{len(missing)} of {len(expected)} expected artifacts are missing: {', '.join(missing[:5])}")
    baseline = _baseline(job)
    with job.branch("testing/parity") as branch:
        now = legacy_tests(branch.path)
        passing = [name for name, outcome in baseline.items() if outcome == "passed"]
        kept = [name for name in passing if now is not None and now.outcomes.get(name) == "passed"]
        percent = round(100.0 * len(kept) / len(passing), 2) if passing else None
        security = security_scan(branch.path)
        job.report(
            "parity",
            f"{len(kept)} of {len(passing)} baseline tests still pass"
            + (f" ({percent} % parity)" if percent is not None else " (no legacy tests to compare)"),
            parity_percent=percent,
            tests_passed=now.passed if now else 0,
            tests_failed=now.failed if now else 0,
        )
        job.report("security_scan", f"bandit: {security.high} high findings", security_high_findings=security.high)
        lost = sorted(set(passing) - set(kept))
        text = (
            f"# Functional parity of {md_inline(job.project)}\n\n- baseline tests passing: {len(passing)}\n"
            f"- still passing on main: {len(kept)}\n- parity: {percent if percent is not None else 'n/a'} %\n"
            f"- bandit HIGH findings: {security.high}\n" + "".join(f"- lost: {md_inline(name)}\n" for name in lost)
        )
        written = [branch.write("reports/parity.md", text)]
        job.commit(branch, f"Parity report: {percent} %")
        job.merge(branch, "Merge testing/parity")
    return Result(
        f"parity {percent if percent is not None else 'n/a'} % ({len(kept)}/{len(passing)} baseline tests), "
        f"{security.high} high security findings",
        written,
        {
            "parity_percent": percent,
            "checked": len(expected),
            "tests_passed": now.passed if now else 0,
            "tests_failed": now.failed if now else 0,
            "security_high_findings": security.high,
            "secret_findings": len(secret_scan(job.workspace.root)),
        },
    )


def rollout(job: Job) -> Result:
    plan = _assessment(job)["plan"]
    steps = "".join(
        f"{i}. switch `segment-{p['number']}` on; watch errors and latency for one day; rollback: {p['rollback']}\n"
        for i, p in enumerate(plan["phases"], 1)
    )
    text = f"# Gradual rollout of {md_inline(job.project)}\n\nSegments go live one at a time, in plan order:\n\n{steps}"
    written, _ = job.deliver("migration/rollout", "Rollout runbook", {"deploy/rollout.md": text})
    return Result(f"rollout runbook of {len(plan['phases'])} steps in deploy/rollout.md", written, {})


def _timings(job: Job, legacy: Path, modern: Path) -> tuple[float | None, float | None]:
    """One round of each suite's test bodies, timed by ``agents.tools.suite_timing`` (repeated in
    one sandboxed interpreter), ``TIMING_ROUNDS`` times each with legacy and modern alternating so
    that a busy moment of the machine weighs on both; the fastest is the run least disturbed by the
    rest of the machine. Each pair is reported as it is measured. None for a side not timed."""
    before: list[float] = []
    after: list[float] = []
    if not has_tests(legacy) or not has_tests(modern):
        return None, None
    for number in range(1, TIMING_ROUNDS + 1):
        for tree, times in ((legacy, before), (modern, after)):
            timing = suite_timing(tree)
            if timing is not None:
                times.append(timing.best_round)
        job.report(
            "performance",
            f"measurement {number} of {TIMING_ROUNDS}: legacy {_ms(before[-1] if before else None)},"
            f" modernized {_ms(after[-1] if after else None)} per run of the suite",
        )
    return (min(before) if before else None), (min(after) if after else None)


def _ms(seconds: float | None) -> str:
    return "not measured" if seconds is None else f"{seconds * 1000:.2f} ms"


def performance(job: Job) -> Result:
    legacy = _legacy_dir(job)
    job.ensure_repository()
    with tempfile.TemporaryDirectory(prefix="modern-") as scratch:
        modern = job.workspace.export(MAIN, Path(scratch) / "main")
        if not has_tests(legacy) and (modern / TESTS_DIR).is_dir():
            # The legacy code has no tests of its own: time the characterization tests on both.
            copy = Path(scratch) / "legacy"
            shutil.copytree(legacy, copy, ignore=_IGNORED)
            shutil.copytree(modern / TESTS_DIR, copy / TESTS_DIR, ignore=_IGNORED)
            legacy = copy
        before, after = _timings(job, legacy, modern)
    too_quick = before is not None and after is not None and min(before, after) < RESOLUTION_SECONDS
    percent = round(100.0 * before / after, 1) if before and after and not too_quick else None
    if too_quick:
        job.report(
            "performance",
            f"not measured: one run of the tests takes {_ms(before)} (legacy) and {_ms(after)} (modernized), under"
            f" {_ms(RESOLUTION_SECONDS)} — too quick to tell the two speeds apart on this machine; a person decides",
        )
    job.report(
        "performance",
        f"legacy tests {_ms(before)}, modernized {_ms(after)} per run of the suite"
        f" (fastest of {TIMING_ROUNDS} alternating measurements)"
        + (f": {percent} % of the legacy speed" if percent else ""),
        performance_percent=percent,
    )
    text = (
        "# Performance against the legacy baseline\n\nMeasure: the time the code base's test bodies take for one"
        " run of the suite (the suite repeated in one interpreter after a warm-up run, at least 5 times and"
        " until 0.4 s were measured, its fastest run;"
        f" interpreter start-up, collection and set-up excluded), fastest of {TIMING_ROUNDS} measurements each,"
        " legacy and modernized"
        " alternating — a proxy for the code paths the tests exercise.\n\n"
        f"- legacy: {_ms(before)}\n- modernized: {_ms(after)}\n- relative speed: "
        + (
            f"{percent} %\n"
            if percent
            else f"not measured (a run under {_ms(RESOLUTION_SECONDS)} cannot be compared)\n"
        )
    )
    written, _ = job.deliver("testing/performance", "Performance report", {"reports/performance.md": text})
    return Result(
        f"modernized code runs its tests at {percent} % of the legacy speed" if percent else "no legacy tests to time",
        written,
        {"performance_percent": percent, "legacy_seconds": before, "modern_seconds": after},
    )


def audit(job: Job) -> Result:
    """The audit trail from the event log, cross-checked with the repository's history."""
    job.ensure_repository()
    expected = [str(p) for p in job.inputs.get("expect", [])]
    missing = [p for p in expected if not job.workspace.exists_anywhere(p)]
    events = [dict(e) for e in job.inputs.get("events", [])]
    merges = [line.split("\t") for line in job.workspace.log("--merges", "--format=%H\t%an\t%s", MAIN).splitlines()]
    reviewed = {str(e.get("branch")) for e in events if e.get("report") == "review"}
    unreviewed = [m[2] for m in merges if not any(branch and branch in m[2] for branch in reviewed)]
    anonymous = [e for e in events if e.get("kind") == "approval.granted" and e.get("actor") in ("", "system")]
    authors = set(job.workspace.log("--format=%ae", MAIN).split())
    outsiders = sorted(a for a in authors if not a.endswith("@agents.hive"))
    findings = [f"missing artifact: {p}" for p in missing] + [f"merge without a review event: {m}" for m in unreviewed]
    findings += [f"approval without a named person: {e.get('message')}" for e in anonymous]
    findings += [f"commit author outside the agents: {a}" for a in outsiders]
    secrets = secret_scan(job.workspace.root)
    findings += [f"secret: {s}" for s in secrets]
    rows = [[e.get("created_at", ""), e.get("actor", ""), e.get("kind", ""), e.get("message", "")] for e in events]
    text = (
        f"# Audit trail of {md_inline(job.project)}\n\n{len(events)} events, {len(merges)} reviewed merges on main.\n\n"
        f"## Findings\n\n"
        + ("".join(f"- {md_inline(f)}\n" for f in findings) or "- none\n")
        + f"\n## Events\n\n{table(['when', 'who', 'what', 'detail'], rows)}"
    )
    written, _ = job.deliver(
        f"compliance/{slug(job.spec.key)}", "Audit trail report", {"docs/compliance/audit-trail.md": text}
    )
    if missing:
        raise JobFailed(f"{len(missing)} of {len(expected)} expected artifacts are missing: {', '.join(missing[:5])}")
    return Result(
        f"audit trail of {len(events)} events and {len(merges)} merges: {len(findings)} findings",
        written,
        {
            "audit_events": len(events),
            "merges": len(merges),
            "audit_findings": len(findings),
            "secret_findings": len(secrets),
        },
    )
