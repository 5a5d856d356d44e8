"""How long a code base's tests take to run its code — the performance measurement of a
modernization (legacy against modernized, ``agents.work.modernization.performance``).

A single run of a small suite takes milliseconds, which a busy two-core machine's noise (process
start-up, the sandbox, other work) swamps: the gate once read 58 % and once 94.6 % for code that
had only been reformatted. So the suite is repeated *inside one sandboxed interpreter*
(``agents/tools/timing_runner.py``): a warm-up run that is not counted (imports, Hypothesis'
strategies), then at least ``MIN_ROUNDS`` runs and until the test bodies have taken ``BUDGET``
seconds (at most ``MAX_ROUNDS``); the figure is the fastest counted run — for deterministic code
the least disturbed run is the closest to its own cost. Start-up, collection and pytest's own set-up
are not counted. (Wall time: the process CPU clock advances in 4 ms ticks here, too coarse.)
No maintained tool times an arbitrary pytest suite this way (pytest-benchmark times
functions a test marks; timeit has no pytest collection), hence this small runner.

The report is written by the sandboxed process, next to code under test, so it is read as hostile
input: only finite numbers within bounds are believed.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agents.tools.process import PYTHON
from agents.tools.sandbox import Limits, sandbox_run

_RUNNER = Path(__file__).resolve().with_name("timing_runner.py")
BUDGET = 0.4  # seconds of test bodies per measurement
MIN_ROUNDS = 5  # counted runs, after the warm-up run
MAX_ROUNDS = 60
_IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")


@dataclass(frozen=True, slots=True)
class SuiteTiming:
    rounds: int
    calls: int  # test calls over all rounds
    seconds_per_round: float  # the test bodies' time of one run of the suite, on average
    best_round: float  # the fastest run of the suite: the least disturbed by the rest of the machine


def suite_timing(tree: Path, *, timeout: float = 300) -> SuiteTiming | None:
    """The suite under ``tree`` timed on a scratch copy (tests may write files); None when it
    could not be timed (no test ran, a test failed, the run was stopped, the report is not
    believable)."""
    with tempfile.TemporaryDirectory(prefix="timing-") as scratch:
        copy = Path(scratch) / "tree"
        shutil.copytree(tree, copy, ignore=_IGNORED)
        out = Path(scratch) / "out"
        out.mkdir()
        report = out / "timing.json"
        result = sandbox_run(
            [PYTHON, str(_RUNNER), str(copy), str(BUDGET), str(MIN_ROUNDS), str(MAX_ROUNDS), str(report)],
            cwd=copy,
            limits=Limits(timeout=timeout),
            env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
            writable=[out],
        )
        if not result.ok or not report.is_file():
            return None
        return _timing_read(report)


def _timing_read(report: Path) -> SuiteTiming | None:
    try:
        data = json.loads(report.read_text("utf-8")[:10_000])
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    rounds, calls, failed, seconds, best = (data.get(k) for k in ("rounds", "calls", "failed", "seconds", "best"))
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (rounds, calls, failed)):
        return None
    if not all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in (seconds, best)):
        return None
    assert isinstance(rounds, int) and isinstance(calls, int)
    assert isinstance(seconds, int | float) and isinstance(best, int | float)
    if not 0 < rounds <= MAX_ROUNDS or calls <= 0 or failed != 0 or not 0 < best <= seconds < 3600:
        return None
    return SuiteTiming(rounds=rounds, calls=calls, seconds_per_round=float(seconds) / rounds, best_round=float(best))
