"""``python -m agents.legacy.assess_main <tree> <answer.json>``: the assessment of an extracted
code base, written as JSON — run by ``projects.scoping.assessment_limits`` in a child process with
limits (the analysers are super-linear on some inputs: radon's raw metrics took 109 s on one
39 KB literal list). Reads the tree, executes none of it; imports no Django."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from agents.legacy.assessment import assess


def main() -> int:
    tree, answer = Path(sys.argv[1]), Path(sys.argv[2])
    result = assess(tree)
    answer.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
