"""agents.tools.suite_timing: a suite's test bodies timed in one sandboxed interpreter — a slower
implementation measures slower, a failing suite is not timed, and the report the sandboxed process
writes is believed only when its numbers make sense."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.tools.suite_timing import MAX_ROUNDS, _timing_read, suite_timing

TEST = "from calc import total\n\n\ndef test_total():\n    assert total() > 0\n"


def _tree(root: Path, body: str) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(body)
    (root / "tests" / "test_calc.py").write_text(TEST)
    return root


def test_a_slower_implementation_measures_slower(tmp_path: Path) -> None:
    fast = _tree(tmp_path / "fast", "def total():\n    return sum(range(2_000))\n")
    slow = _tree(tmp_path / "slow", "def total():\n    return sum(i for i in range(200_000))\n")
    quick, heavy = suite_timing(fast), suite_timing(slow)
    assert quick is not None and heavy is not None
    assert quick.rounds >= 4 and quick.calls == quick.rounds  # one warm-up run, then at least 3
    assert heavy.best_round > 5 * quick.best_round


def test_a_failing_suite_is_not_timed(tmp_path: Path) -> None:
    assert suite_timing(_tree(tmp_path / "broken", "def total():\n    return 0\n")) is None


@pytest.mark.parametrize(
    "report",
    [
        {"rounds": 3, "calls": 3, "failed": 0, "seconds": 1.0, "best": -0.1},
        {"rounds": 3, "calls": 3, "failed": 0, "seconds": 1.0, "best": 2.0},  # a run longer than all of them
        {"rounds": 3, "calls": 3, "failed": 1, "seconds": 1.0, "best": 0.1},
        {"rounds": MAX_ROUNDS + 1, "calls": 3, "failed": 0, "seconds": 1.0, "best": 0.1},
        {"rounds": True, "calls": 3, "failed": 0, "seconds": 1.0, "best": 0.1},
        {"rounds": 3, "calls": 3, "failed": 0, "seconds": "1", "best": 0.1},
        {"rounds": 3, "calls": 3, "failed": 0, "seconds": 1e308 * 10, "best": 0.1},
        [1, 2, 3],
    ],
)
def test_a_forged_report_is_not_believed(tmp_path: Path, report: object) -> None:
    path = tmp_path / "timing.json"
    path.write_text(json.dumps(report))
    assert _timing_read(path) is None
