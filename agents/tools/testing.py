"""Running a test suite and measuring what it covers.

* ``unittest_run``: ``python -m coverage run --source=<package> -m unittest discover`` (the
  generated applications' suites use only the standard library), then ``coverage json`` for the
  numbers. Statement coverage, as ``coverage report`` prints it.
* ``pytest_run``: a legacy code base's tests with pytest, isolated from any configuration above
  the tree (``-c /dev/null``, no plugin autoload), outcomes per test from the JUnit XML, so that
  two runs can be compared test by test (functional parity).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from agents.tools.process import PYTHON, run

_RAN = re.compile(r"^Ran (\d+) tests? in", re.M)
_VERDICT = re.compile(r"^(OK|FAILED)(?: \((.*)\))?$", re.M)
_COUNT = re.compile(r"(failures|errors|skipped|expected failures|unexpected successes)=(\d+)")


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

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.total > 0


def unittest_run(tree: Path, *, source: str = "app", tests: str = "tests", timeout: float = 600) -> TestReport:
    with tempfile.TemporaryDirectory(prefix="coverage-") as scratch:
        data, report = Path(scratch) / ".coverage", Path(scratch) / "coverage.json"
        started = time.monotonic()
        result = run(
            [
                PYTHON,
                "-m",
                "coverage",
                "run",
                f"--data-file={data}",
                f"--source={source}",
                "-m",
                "unittest",
                "discover",
                "-s",
                tests,
                "-t",
                ".",
            ],
            cwd=tree,
            timeout=timeout,
        )
        seconds = time.monotonic() - started
        output = result.stderr + result.stdout
        ran = _RAN.search(output)
        total = int(ran.group(1)) if ran else 0
        verdict = _VERDICT.search(output)
        counts = {name: int(n) for name, n in _COUNT.findall(verdict.group(2) or "")} if verdict else {}
        failed = counts.get("failures", 0) + counts.get("errors", 0) + counts.get("unexpected successes", 0)
        if ran is None or verdict is None:
            failed = max(failed, 1)  # the suite did not run to its end
        skipped = counts.get("skipped", 0) + counts.get("expected failures", 0)
        percent, statements, missed = None, 0, 0
        if data.exists():
            run([PYTHON, "-m", "coverage", "json", f"--data-file={data}", "-o", str(report), "-q"], cwd=tree)
            if report.exists():
                totals = json.loads(report.read_text())["totals"]
                percent = round(float(totals["percent_covered"]), 2)
                statements, missed = int(totals["num_statements"]), int(totals["missing_lines"])
    return TestReport(
        total=total,
        passed=max(total - failed - skipped, 0),
        failed=failed,
        skipped=skipped,
        seconds=round(seconds, 3),
        coverage_percent=percent,
        statements=statements,
        missed=missed,
        output=output[-4000:],
    )


def pytest_run(tree: Path, *, timeout: float = 900) -> TestReport:
    with tempfile.TemporaryDirectory(prefix="pytest-") as scratch:
        junit = Path(scratch) / "junit.xml"
        started = time.monotonic()
        result = run(
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
            timeout=timeout,
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        )
        seconds = time.monotonic() - started
        outcomes: dict[str, str] = {}
        if junit.exists():
            for case in ElementTree.parse(junit).iter("testcase"):  # noqa: S314 - pytest's own output
                name = f"{case.get('classname', '')}::{case.get('name', '')}"
                tags = {child.tag for child in case}
                outcomes[name] = (
                    "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
                )
    values = list(outcomes.values())
    return TestReport(
        total=len(values),
        passed=values.count("passed"),
        failed=values.count("failed") + (1 if result.returncode not in (0, 1, 5) else 0),
        skipped=values.count("skipped"),
        seconds=round(seconds, 3),
        outcomes=outcomes,
        output=(result.stdout + result.stderr)[-4000:],
    )
