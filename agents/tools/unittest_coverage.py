"""A tree's unittest suite under coverage, with the coverage totals written, in one interpreter.

``agents.tools.testing.unittest_run`` starts this file as a script in the sandbox, with the tree
under test as the working directory::

    python unittest_coverage.py <source package> <tests directory> <report.json>

It does what ``coverage run --source=<source> -m unittest discover -s <tests> -t .`` followed by
``coverage json`` does, without a second interpreter to read the data back: unittest's own output
goes to stderr as usual (the caller parses its verdict), the coverage report to the JSON file, each
test's outcome (and a failure's traceback) to ``outcomes.json`` beside it, and the exit status is
unittest's (0 when every test passed).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
import unittest
from typing import Any

OUTCOMES: dict[str, str] = {}
DETAILS: dict[str, str] = {}


class _Recording(unittest.TextTestResult):
    """unittest's text result that also keeps every test's outcome by its id (in ``OUTCOMES``)."""

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        OUTCOMES.setdefault(test.id(), "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._failed(test, self.failures[-1][1])

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._failed(test, self.errors[-1][1])

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failed(test, "".join(traceback.format_exception(*err)))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        OUTCOMES[test.id()] = "skipped"

    def _failed(self, test: unittest.TestCase, text: str) -> None:
        OUTCOMES[test.id()] = "failed"
        DETAILS[test.id()] = text[-4000:]


def main(argv: list[str]) -> int:
    source, tests, report = argv
    # Run as a script, sys.path[0] is this file's directory; the tree's packages must come first.
    sys.path[0] = os.getcwd()
    import coverage

    measured = coverage.Coverage(data_file=None, source=[source])
    measured.start()
    try:
        discover = ["python -m unittest", "discover", "-s", tests, "-t", "."]
        runner = unittest.TextTestRunner(resultclass=_Recording)  # type: ignore[arg-type]
        program = unittest.main(module=None, argv=discover, exit=False, testRunner=runner)
    finally:
        measured.stop()
    # NoDataError: nothing of the source was imported; the caller then reports no coverage.
    with contextlib.suppress(coverage.exceptions.NoDataError):
        measured.json_report(outfile=report)
    with open(os.path.join(os.path.dirname(report), "outcomes.json"), "w", encoding="utf-8") as out:
        json.dump({"outcomes": OUTCOMES, "details": DETAILS}, out)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
