"""The modernization team's work on a customer's legacy code base.

* Legacy analyst: imports the code as delivered into the repository (the first commit after the
  repository's start), assesses it with ``agents.legacy.assess`` (the analyser scoping used) and
  runs its own tests to record the baseline every later step is compared with; then the debt.
* Migration architect: the phased plan with a routing flag and a rollback per segment; the rollout.
* Modernization developers: one segment each. Python modules of the segment get ruff's safe
  pyupgrade and import-order fixes and its formatter; the legacy tests run before and after, in a
  scratch copy of the tree. A change that makes any previously passing test fail is reverted,
  not committed (parity first); the review re-runs the tests on the merged tree.
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

from agents.legacy import assess
from agents.providers.base import JobFailed
from agents.quoting import md_inline
from agents.tools import TestReport, pytest_run, secret_scan, security_scan
from agents.tools.process import PYTHON, run
from agents.work.common import Job, Result, slug, table
from agents.workspace import MAIN, Verdict

DOCS = "docs/modernization"
_IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache")
TIMING_ROUNDS = 3


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
        tests = legacy_tests(branch.path)
        baseline = tests.outcomes if tests else {}
        if tests:
            job.report(
                "tests",
                f"legacy baseline: {tests.passed} of {tests.total} tests pass",
                tests_passed=tests.passed,
                tests_failed=tests.failed,
            )
        languages = [[lang["language"], lang["files"], lang["code"]] for lang in data["languages"]]
        hotspots = [[h["path"], h["complexity"], h["code_lines"], h["fan_in"]] for h in data["hotspots"]]
        text = (
            f"# Assessment of {md_inline(job.project)}\n\n"
            f"- files: {result.files}\n- code lines: {result.totals.code:,}\n"
            f"- functions: {result.function_count} (mean complexity {result.mean_function_complexity})\n"
            f"- size class: {result.size_class.name} ({result.size_class.timeline})\n"
            f"- import cycles: {len(result.cycles)}\n"
            f"- external packages: {', '.join(result.external_packages) or 'none'}\n"
            f"- legacy tests: {f'{tests.passed} of {tests.total} pass' if tests else 'none found'}\n\n"
            f"## Languages\n\n{table(['language', 'files', 'code lines'], languages)}\n"
            f"## Hotspots\n\n{table(['module', 'complexity', 'code lines', 'fan-in'], hotspots)}"
        )
        branch.write(f"{DOCS}/assessment.md", text)
        branch.write(f"{DOCS}/assessment.json", json.dumps(data, indent=2, sort_keys=True) + "\n")
        branch.write(f"{DOCS}/baseline-tests.json", json.dumps(baseline, indent=2, sort_keys=True) + "\n")
        job.commit(branch, "Legacy assessment and test baseline")
        merged = job.merge(branch, "Merge legacy/import: the code as delivered and its assessment")
    return Result(
        f"imported and assessed {result.totals.code:,} lines ({result.files} files); "
        f"{len(result.plan.phases)} segments planned; baseline {len(baseline)} tests",
        [f"{DOCS}/assessment.md", f"{DOCS}/assessment.json", f"{DOCS}/baseline-tests.json"],
        {
            "code_lines": result.totals.code,
            "files": result.files,
            "segments": len(result.plan.phases),
            "baseline_tests": len(baseline),
            "import_commit": imported,
            "commit": merged.commit,
        },
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


def segment(job: Job) -> Result:
    item = dict(job.inputs.get("item") or {})
    number = int(item.get("number", 0))
    modules = [str(m) for m in item.get("modules", [])]
    name = f"segment/{number:02d}"
    with job.branch(name) as branch:
        python = [m for m in modules if m.endswith(".py") and (branch.path / m).is_file()]
        before = legacy_tests(branch.path)
        changed: list[str] = []
        if python:
            run(
                [
                    PYTHON,
                    "-m",
                    "ruff",
                    "check",
                    "--isolated",
                    "--target-version",
                    "py311",
                    "--select",
                    "UP,I",
                    "--fix",
                    "--exit-zero",
                    "-q",
                    *python,
                ],
                cwd=branch.path,
            )
            run([PYTHON, "-m", "ruff", "format", "--isolated", "-q", *python], cwd=branch.path)
            changed = [p for p in python if p in set(branch.unstaged_files())]
        compiled = run([PYTHON, "-m", "py_compile", *python], cwd=branch.path) if python else None
        after = legacy_tests(branch.path) if changed else before
        kept, broken = _parity(before, after)
        if compiled is not None and compiled.returncode != 0:
            kept, broken = False, [compiled.stderr.strip()[:300]]
        if not kept:
            branch.restore()
            job.report(
                "parity", f"segment {number}: refactoring reverted, it broke {len(broken)} tests", broken=broken[:20]
            )
            changed = []
        tests = f"{after.passed} of {after.total} legacy tests pass" if after else "no legacy tests exist"
        job.report(
            "parity",
            f"segment {number}: {len(changed)} of {len(python)} Python modules modernized; {tests}",
            changed=len(changed),
            tests_passed=after.passed if after else 0,
        )
        note = (
            f"# Segment {number}\n\nModules: {len(modules)} ({len(python)} Python).\n\n"
            f"Refactoring: ruff's safe pyupgrade (UP) and import-order (I) fixes for Python 3.11, then ruff format.\n\n"
            f"Changed: {md_inline(', '.join(changed)) or 'nothing'}.\n\nParity: {tests} "
            f"({'kept' if kept else 'the refactoring broke tests and was reverted'}).\n"
        )
        branch.write(f"{DOCS}/segments/{number:02d}.md", note)
        branch.write(
            f"deploy/flags/segment-{number}.json",
            json.dumps({"segment": number, "modules": modules, "enabled": True}, indent=2) + "\n",
        )
        job.commit(branch, f"Segment {number}: modernize {len(changed)} modules, parity kept")

        def verify(tree: Path) -> Verdict:
            merged = legacy_tests(tree)
            same, lost = _parity(before, merged)
            count = f"{merged.passed}/{merged.total} legacy tests pass" if merged else "no legacy tests"
            return Verdict(same, f"{count} on the merged tree" + (f"; broken: {', '.join(lost[:3])}" if lost else ""))

        merged = job.merge(branch, f"Merge {name}", verify=verify)
    return Result(
        f"segment {number}: {len(changed)} modules modernized; {tests}",
        [f"{DOCS}/segments/{number:02d}.md", f"deploy/flags/segment-{number}.json"],
        {"segment": number, "modules_changed": len(changed), "parity_kept": kept, "merge": merged.commit},
    )


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


def _median_seconds(tree: Path) -> float | None:
    times = []
    for _ in range(TIMING_ROUNDS):
        report = legacy_tests(tree)
        if report is None:
            return None
        times.append(report.seconds)
    return statistics.median(times)


def performance(job: Job) -> Result:
    legacy = _legacy_dir(job)
    job.ensure_repository()
    with tempfile.TemporaryDirectory(prefix="modern-") as scratch:
        modern = job.workspace.export(MAIN, Path(scratch) / "main")
        before, after = _median_seconds(legacy), _median_seconds(modern)
    percent = round(100.0 * before / after, 1) if before and after else None
    job.report(
        "performance",
        f"legacy suite {before} s, modernized {after} s (median of {TIMING_ROUNDS})"
        + (f": {percent} % of the legacy speed" if percent else ""),
        performance_percent=percent,
    )
    text = (
        f"# Performance against the legacy baseline\n\nMeasure: wall time of the code base's own test suite, median"
        f" of {TIMING_ROUNDS} runs each (a proxy for the code paths the tests exercise).\n\n"
        f"- legacy: {before} s\n- modernized: {after} s\n- relative speed: {percent if percent else 'n/a'} %\n"
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
