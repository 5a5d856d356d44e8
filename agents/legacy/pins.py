"""Raising a legacy code base's dependency pins, checked by its tests.

1. **read** the pins (``agents.legacy.requirement_files``: hostile files, refused line by line);
2. **look up** each pinned project on the index the operator configured and **choose** the newest
   release of the same major version for the target Python (``agents.legacy.package_index``; a
   newer major is a recommendation, never applied). No index configured, or an index that does not
   answer: nothing is raised and the result says so — never silently;
3. **download** the wheels of the current and of the chosen versions on the host into a per-run
   wheelhouse;
4. **test** in the sandbox, which keeps no network: each run installs the wheelhouse offline
   (``pip install --no-index --find-links <wheelhouse, read-only>``) into a scratch directory, and
   the tree's tests (its own and the characterization tests) run on a copy of the tree with that
   directory first on ``PYTHONPATH`` — once with the current pins (the baseline) and once with the
   raised ones. A test that passed on the current pins and fails on the raised ones breaks parity:
   each raised pin is then tried alone to name which one broke which tests, and a pin that breaks
   tests is kept as it was. Unknown is not pass: when no test passes on the current pins (the code
   has none, or they cannot run), nothing is raised and the result says why;
5. **write** the raised pins back into their files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from packaging.version import Version

from agents.legacy.package_index import IndexUnreachable, NotOnIndex, choose, download, public_url, releases
from agents.legacy.requirement_files import Pin, Pins, read_pins, rewrite
from agents.tools.process import PYTHON
from agents.tools.sandbox import Limits, sandbox_run
from agents.tools.testing import TestReport, pytest_run

MAX_PINS = 40  # looked up per code base; the rest are listed as not checked
MAX_ALONE = 10  # raised pins tried one by one when the raise together broke tests
_IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache")


@dataclass(frozen=True)
class Raised:
    pin: Pin
    to: Version
    tests: str  # "7 of 7 tests pass against 1.4.0"

    def line(self) -> str:
        return f"{self.pin.name} {self.pin.operator}{self.pin.version} → {self.pin.operator}{self.to} ({self.tests})"


@dataclass
class PinReport:
    index_url: str
    files: tuple[str, ...] = ()
    raised: list[Raised] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # "hivebreak ==1.0.0 kept: 1.5.0 broke test_x"
    recommended: list[str] = field(default_factory=list)  # major bumps, not applied
    cannot: list[str] = field(default_factory=list)  # refused lines, unreachable index, missing wheels
    unchanged: list[str] = field(default_factory=list)  # already the newest of their major
    tests_ran: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index_url,
            "files": list(self.files),
            "raised": [
                {
                    "name": r.pin.name,
                    "file": r.pin.file,
                    "before": f"{r.pin.operator}{r.pin.version}",
                    "after": f"{r.pin.operator}{r.to}",
                    "tests": r.tests,
                }
                for r in self.raised
            ],
            "kept": self.kept,
            "recommended": self.recommended,
            "cannot": self.cannot,
            "unchanged": self.unchanged,
            "tests_ran": self.tests_ran,
        }


def raise_pins(tree: Path, *, index_url: str, target_python: str, scratch: Path) -> PinReport:
    """Raise the pins of ``tree`` in place where its tests pass against the raised versions.
    ``scratch`` is an empty directory of the caller's (the wheelhouse and the test copies)."""
    found = read_pins(tree)
    report = PinReport(public_url(index_url), found.files, cannot=list(found.cannot))
    if not found.pins:
        return report
    if not index_url:
        report.cannot.insert(0, "dependency pins not checked: no package index is configured (HIVE_PACKAGE_INDEX_URL)")
        return report
    candidates = _candidates(found, index_url, target_python, report)
    if not candidates:
        return report
    wheelhouse = scratch / "wheelhouse"
    wheelhouse.mkdir()
    candidates = _downloaded(candidates, index_url, wheelhouse, report)
    if candidates:
        _tested(tree, found.pins, candidates, wheelhouse, scratch, report)
    return report


def _candidates(found: Pins, index_url: str, target_python: str, report: PinReport) -> dict[Pin, Version]:
    chosen: dict[Pin, Version] = {}
    with httpx.Client(timeout=httpx.Timeout(15.0), follow_redirects=False, trust_env=False) as client:
        for number, pin in enumerate(found.pins):
            if number >= MAX_PINS:
                report.cannot.append(f"{pin.name}: not checked (more than {MAX_PINS} pins)")
                continue
            try:
                available = releases(client, index_url, pin.name)
            except IndexUnreachable as exc:
                report.cannot.insert(
                    0, f"dependency pins not checked: the package index {report.index_url} could not be reached ({exc})"
                )
                return {}
            except NotOnIndex as exc:
                report.cannot.append(f"{pin.file}: {pin.text} ({exc})")
                continue
            choice = choose(pin.version, available, target_python)
            if choice.newest is not None and choice.newest.major > pin.version.major:
                why = (
                    f"required: no {pin.version.major}.x release supports Python {target_python}"
                    if (choice.major_required)
                    else "a new major version may change the API"
                )
                report.recommended.append(
                    f"{pin.name} {pin.operator}{pin.version} → {choice.newest} ({why}; not applied)"
                )
            if choice.chosen is None or choice.chosen <= pin.version:
                report.unchanged.append(f"{pin.name} {pin.operator}{pin.version}: the newest of its major version")
                continue
            chosen[pin] = choice.chosen
    return chosen


def _downloaded(
    candidates: dict[Pin, Version], index_url: str, wheelhouse: Path, report: PinReport
) -> dict[Pin, Version]:
    ready: dict[Pin, Version] = {}
    for pin, to in candidates.items():
        failed = download(index_url, pin.name, pin.version, wheelhouse) or download(index_url, pin.name, to, wheelhouse)
        if failed:
            report.cannot.append(f"{pin.name} {pin.operator}{pin.version} not raised to {to}: {failed}")
        else:
            ready[pin] = to
    return ready


def _tested(
    tree: Path,
    pins: tuple[Pin, ...],
    candidates: dict[Pin, Version],
    wheelhouse: Path,
    scratch: Path,
    report: PinReport,
) -> None:
    runs = iter(range(1, 1000))

    def run(raised: dict[Pin, Version]) -> TestReport | str:
        versions = {p.name: raised.get(p, p.version) for p in pins if p in candidates}
        return tests_against(tree, versions, wheelhouse, scratch / f"run-{next(runs)}")

    before = run({})
    if isinstance(before, str) or before.passed == 0:
        # Unknown is not pass: without a test passing on the current pins, a raise has no evidence.
        why = before if isinstance(before, str) else f"no test passes on the current pins ({before.total} ran)"
        report.cannot.extend(
            f"{p.name} {p.operator}{p.version} not raised to {to}: {why}" for p, to in candidates.items()
        )
        return
    report.tests_ran = True
    accepted = _accepted(candidates, before, run, report)
    for pin, (to, after) in accepted.items():
        if rewrite(tree, pin, to):
            tests = f"{after.passed} of {after.total} tests pass against {to}"
            report.raised.append(Raised(pin, to, tests))
        else:
            report.cannot.append(f"{pin.file}: {pin.text} (raised to {to}, but the line could not be rewritten)")


def _accepted(
    candidates: dict[Pin, Version],
    before: TestReport,
    run: Callable[[dict[Pin, Version]], TestReport | str],
    report: PinReport,
) -> dict[Pin, tuple[Version, TestReport]]:
    together = run(candidates)
    if not isinstance(together, str) and not broken_by(before, together):
        return {pin: (to, together) for pin, to in candidates.items()}
    good: dict[Pin, Version] = {}
    for number, (pin, to) in enumerate(candidates.items()):
        alone = run({pin: to}) if number < MAX_ALONE else "not tried alone (too many pins)"
        if isinstance(alone, str):
            report.kept.append(f"{pin.name} {pin.operator}{pin.version} kept: {alone}")
            continue
        lost = broken_by(before, alone)
        if lost:
            report.kept.append(
                f"{pin.name} {pin.operator}{pin.version} kept: {to} broke {len(lost)} tests ({', '.join(lost[:5])})"
            )
            continue
        good[pin] = to
    if not good:
        return {}
    final = run(good)
    if isinstance(final, str) or broken_by(before, final):
        why = (
            final if isinstance(final, str) else f"raised together they broke {', '.join(broken_by(before, final)[:5])}"
        )
        report.kept.extend(f"{p.name} {p.operator}{p.version} kept: {why}" for p in good)
        return {}
    return {pin: (to, final) for pin, to in good.items()}


def broken_by(before: TestReport, after: TestReport) -> list[str]:
    """Tests passing on ``before`` that do not pass on ``after``."""
    return sorted(n for n, o in before.outcomes.items() if o == "passed" and after.outcomes.get(n) != "passed")


def tests_against(tree: Path, versions: dict[str, Version], wheelhouse: Path, work: Path) -> TestReport | str:
    """The tests of a copy of ``tree`` run in the sandbox with exactly ``versions`` installed from
    ``wheelhouse`` (offline), first on ``PYTHONPATH``; or why they could not run."""
    work.mkdir(parents=True)
    copy, site = work / "tree", work / "site"
    shutil.copytree(tree, copy, ignore=_IGNORED, symlinks=True)
    site.mkdir()
    wanted = [f"{name}=={version}" for name, version in sorted(versions.items())]
    installed = sandbox_run(
        [PYTHON, "-m", "pip", "install", "--isolated", "--disable-pip-version-check", "--no-index", "--no-deps",
         "--no-compile", "--find-links", str(wheelhouse), "--target", str(site), *wanted],
        cwd=copy,
        limits=Limits(timeout=300),
        writable=[site],
        read_only=[wheelhouse],
    )  # fmt: skip
    if not installed.ok:
        return f"installing {', '.join(wanted)} in the sandbox failed ({installed.verdict}: {installed.output[-200:]})"
    return pytest_run(copy, python_path=[site])
