"""A tree's unittest suite under coverage, with the coverage totals written, in one interpreter.

``agents.tools.testing.unittest_run`` starts this file as a script in the sandbox, with the tree
under test as the working directory::

    python unittest_coverage.py <source package> <tests directory> <report.json>

It does what ``coverage run --source=<source> -m unittest discover -s <tests> -t .`` followed by
``coverage json`` does, without a second interpreter to read the data back: unittest's own output
goes to stderr as usual (the caller parses its verdict), the coverage report to the JSON file, and
the exit status is unittest's (0 when every test passed).
"""

from __future__ import annotations

import contextlib
import os
import sys
import unittest


def main(argv: list[str]) -> int:
    source, tests, report = argv
    # Run as a script, sys.path[0] is this file's directory; the tree's packages must come first.
    sys.path[0] = os.getcwd()
    import coverage

    measured = coverage.Coverage(data_file=None, source=[source])
    measured.start()
    try:
        discover = ["python -m unittest", "discover", "-s", tests, "-t", "."]
        program = unittest.main(module=None, argv=discover, exit=False)
    finally:
        measured.stop()
    # NoDataError: nothing of the source was imported; the caller then reports no coverage.
    with contextlib.suppress(coverage.exceptions.NoDataError):
        measured.json_report(outfile=report)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
