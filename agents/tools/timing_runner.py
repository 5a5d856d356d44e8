"""Run inside the sandbox by ``agents.tools.suite_timing``: time a pytest suite's test bodies.

Usage: ``python timing_runner.py <tree> <budget seconds> <min rounds> <max rounds> <report.json>``.
The suite is run in this interpreter again and again (``pytest.main``; the modules stay imported, so
import and collection cost little after the first round). The first run warms up (imports,
Hypothesis' strategies) and is not counted; then the runs go on until the test bodies have taken
``budget`` seconds and ``min rounds`` runs were made, or ``max rounds`` runs. The wall time of each
test's call phase is summed by a plugin (set-up, tear-down and pytest's own work are not counted;
not CPU time: on this kind of machine the process CPU clock advances in 4 ms ticks). The report says how
many runs were made, the seconds measured, the fastest counted run, how many calls and how many of
them failed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Generator
from typing import Any

import pytest


class Clock:
    def __init__(self) -> None:
        self.seconds, self.calls, self.failed = 0.0, 0, 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: Any) -> Generator[None, Any, None]:
        started = time.perf_counter()
        outcome = yield
        self.seconds += time.perf_counter() - started
        self.calls += 1
        if outcome.excinfo is not None:
            self.failed += 1


def main() -> int:
    tree, budget, least, most, report = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    sys.path[0] = os.getcwd()  # as ``python -m pytest`` has it: the tree, not this script's directory
    clock, rounds = Clock(), 0
    arguments = ["-q", "--no-header", "-c", "/dev/null", "--rootdir", tree, "-p", "no:cacheprovider", tree]
    per_round: list[float] = []
    warm_up = 0.0  # the first run: imports, Hypothesis' strategies and caches are built; not counted
    while rounds < most and (clock.seconds - warm_up < budget or rounds < least):
        before = clock.seconds
        code = pytest.main(arguments, plugins=[clock])
        rounds += 1
        if rounds == 1:
            warm_up = clock.seconds
        else:
            per_round.append(clock.seconds - before)
        if code not in (0, 1) or clock.calls == 0:
            break
    summary = {"rounds": rounds, "seconds": clock.seconds, "calls": clock.calls, "failed": clock.failed}
    with open(report, "w", encoding="utf-8") as out:
        json.dump({**summary, "best": min(per_round, default=0.0)}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
