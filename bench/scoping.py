"""Benchmark of scoping (issue 3): both halves, each printing its own table.

- ``scoping_requirements.py``: analyse + scope a 50-story document (target < 1 s);
- ``scoping_legacy.py``: assess a generated ~100K-line code base (target < 30 s).

    .venv/bin/python bench/scoping.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in ("scoping_requirements.py", "scoping_legacy.py"):
        print(f"\n== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script)], check=True)
