"""Running a test suite and measuring what it covers. Both runners execute code nobody on the
platform wrote, so they run it in the sandbox (``agents.tools.sandbox``): no secrets, no network,
limits on time, memory and processes.

* ``unittest_run``: the tree's ``unittest`` suite under coverage (``--source=<package>``) and the
  coverage totals, in one interpreter (``agents/tools/unittest_coverage.py``; the generated
  applications' suites use only the standard library). Statement coverage, as ``coverage report``
  prints it.
* ``pytest_run``: a legacy code base's tests with pytest, isolated from any configuration above
  the tree (``-c /dev/null``, no plugin autoload), outcomes per test from the JUnit XML, so that
  two runs can be compared test by test (functional parity).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from agents.tools.process import PYTHON
from agents.tools.sandbox import Limits, sandbox_run

_RAN = re.compile(r"^Ran (\d+) tests? in", re.M)
_VERDICT = re.compile(r"^(OK|FAILED)(?: \((.*)\))?$", re.M)
_COUNT = re.compile(r"(failures|errors|skipped|expected failures|unexpected successes)=(\d+)")
_RUNNER = Path(__file__).resolve().with_name("unittest_coverage.py")


@dataclass(frozen=True, slots=True)
class TestReport:
    total: int
    passed: int
    failed: int
    skipped: int
    seconds: float
    coverage_percent: float | None = None
    statements: int = 0
    missed: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)  # test id → passed/failed/skipped
    output: str = ""
    details: dict[str, str] = field(default_factory=dict)  # test id → a failed test's traceback
    # The tests' own time (the sum of the JUnit cases' times: no interpreter start-up or collection);
    # None where the runner reports no per-test times.
    test_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.total > 0


def unittest_run(tree: Path, *, source: str = "app", tests: str = "tests", timeout: float = 600) -> TestReport:
    with tempfile.TemporaryDirectory(prefix="coverage-") as scratch:
        report = Path(scratch) / "coverage.json"
        result = sandbox_run(
            [PYTHON, str(_RUNNER), source, tests, str(report)],
            cwd=tree,
            limits=Limits(timeout=timeout),
            writable=[Path(scratch)],  # where the report is written (read back as hostile input)
        )
        output = result.output
        ran = _RAN.search(output)
        total = int(ran.group(1)) if ran else 0
        verdict = _VERDICT.search(output)
        counts = {name: int(n) for name, n in _COUNT.findall(verdict.group(2) or "")} if verdict else {}
        failed = counts.get("failures", 0) + counts.get("errors", 0) + counts.get("unexpected successes", 0)
        if ran is None or verdict is None or not result.ok:
            failed = max(failed, 1)  # the suite did not run to its end
        skipped = counts.get("skipped", 0) + counts.get("expected failures", 0)
        outcomes, details = _outcomes_read(Path(scratch) / "outcomes.json")
        percent, statements, missed = None, 0, 0
        if report.exists():
            totals = json.loads(report.read_text())["totals"]
            percent = round(float(totals["percent_covered"]), 2)
            statements, missed = int(totals["num_statements"]), int(totals["missing_lines"])
    if result.stopped or result.exit_code < 0:
        output += f"\n[sandbox: {result.verdict}]"
    return TestReport(
        total=total,
        passed=max(total - failed - skipped, 0),
        failed=failed,
        skipped=skipped,
        seconds=result.seconds,
        coverage_percent=percent,
        statements=statements,
        missed=missed,
        outcomes=outcomes,
        output=output[-4000:],
        details=details,
    )


def _outcomes_read(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Each test's outcome as the runner wrote it — from inside the sandbox, so checked, not trusted."""
    try:
        data = json.loads(path.read_text("utf-8")[:5_000_000]) if path.is_file() else {}
    except (OSError, ValueError):
        return {}, {}
    raw = data.get("outcomes") if isinstance(data, dict) else None
    notes = data.get("details") if isinstance(data, dict) else None
    outcomes = {
        str(k)[:300]: v
        for k, v in (raw.items() if isinstance(raw, dict) else [])
        if v in ("passed", "failed", "skipped")
    }
    details = {
        str(k)[:300]: str(v)[-4000:] for k, v in (notes.items() if isinstance(notes, dict) else []) if k in outcomes
    }
    return dict(list(outcomes.items())[:5000]), details


def pytest_run(tree: Path, *, timeout: float = 900, python_path: Sequence[Path] = ()) -> TestReport:
    """``python_path``: host directories (packages installed for this run, e.g. a legacy code base's
    dependencies at chosen versions) visible read-only and placed first on ``PYTHONPATH``."""
    environment = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    if python_path:
        environment["PYTHONPATH"] = ":".join(str(Path(p).resolve()) for p in python_path)
    with tempfile.TemporaryDirectory(prefix="pytest-") as scratch:
        junit = Path(scratch) / "junit.xml"
        result = sandbox_run(
            [
                PYTHON,
                "-m",
                "pytest",
                "-q",
                "-c",
                "/dev/null",
                "--rootdir",
                str(tree),
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
                "-o",
                "junit_family=xunit2",
                str(tree),
            ],
            cwd=tree,
            limits=Limits(timeout=timeout),
            env=environment,
            writable=[Path(scratch)],  # where the JUnit XML is written (read back as hostile input)
            read_only=[Path(p).resolve() for p in python_path],
        )
        outcomes: dict[str, str] = {}
        timed = 0.0
        if junit.exists():
            for case in ElementTree.parse(junit).iter("testcase"):  # noqa: S314 - pytest's own output
                name = f"{case.get('classname', '')}::{case.get('name', '')}"
                tags = {child.tag for child in case}
                outcomes[name] = (
                    "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
                )
                timed += _case_seconds(case.get("time"), timeout)
    values = list(outcomes.values())
    output = result.output
    if result.stopped or result.exit_code < 0:
        output += f"\n[sandbox: {result.verdict}]"
    return TestReport(
        total=len(values),
        passed=values.count("passed"),
        failed=values.count("failed") + (1 if result.exit_code not in (0, 1, 5) else 0),
        skipped=values.count("skipped"),
        seconds=result.seconds,
        outcomes=outcomes,
        output=output[-4000:],
        test_seconds=timed if outcomes else None,
    )


def _case_seconds(value: str | None, limit: float) -> float:
    """One JUnit case's time, as written by code under test's process: a finite number within the
    run's time limit, else nothing."""
    try:
        seconds = float(value or 0)
    except ValueError:
        return 0.0
    return seconds if 0 <= seconds <= limit else 0.0
