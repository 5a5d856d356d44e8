"""The legacy assessment of an upload, run where it cannot take the portal down.

The red team uploaded 45,000 lines holding a few large data tables: radon's raw metrics are
super-linear on long literals (1,000 / 2,000 / 4,000 items: 8 / 33 / 109 s), and the assessment ran
in the web request, so one upload held a web worker at full CPU for over fifteen minutes and the
customer saw a page that never answered. Now the analysers run in a child interpreter
(``python -m agents.legacy.assess_main``) with a CPU limit (RLIMIT_CPU), an address-space limit
(RLIMIT_AS), a wall-clock deadline (killed when it passes) and a size cap on its answer, and at
most ``HIVE_ASSESSMENT_CONCURRENCY`` run at once per web process; a code base that needs more gets
a plain message and nothing is saved. The child reads the extracted tree and executes none of it;
its answer is JSON, read as data. (Why not the requirements' fork server, ``intake_limits``: the
analysers are another set of imports, and an assessment takes seconds, so a new interpreter's
start costs little.)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from django.conf import settings

_MIB = 1024 * 1024
_ANSWER_CAP = 64 * _MIB
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


class AssessmentRefused(Exception):
    """The code base could not be assessed within the limits; the message is for the customer."""


def _limits(cpu_seconds: int, memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _slot() -> threading.BoundedSemaphore:
    size = max(1, int(settings.HIVE_ASSESSMENT_CONCURRENCY))
    with _slots_lock:
        return _slots.setdefault(size, threading.BoundedSemaphore(size))


def assessment_bounded(tree: Path) -> dict[str, Any]:
    """The assessment of ``tree`` as ``Assessment.to_dict()`` gives it, or AssessmentRefused."""
    cpu, wall = int(settings.HIVE_ASSESSMENT_CPU_SECONDS), float(settings.HIVE_ASSESSMENT_WALL_SECONDS)
    memory = int(settings.HIVE_ASSESSMENT_MEMORY_MB) * _MIB
    slot = _slot()
    if not slot.acquire(timeout=wall):
        raise AssessmentRefused(
            "We are assessing other code bases right now. Nothing was lost: upload it again in a minute."
        )
    try:
        with tempfile.TemporaryDirectory(prefix="assessment-") as scratch:
            answer = Path(scratch) / "assessment.json"
            environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0"}
            try:
                finished = subprocess.run(
                    [sys.executable, "-m", "agents.legacy.assess_main", str(tree), str(answer)],
                    cwd=settings.BASE_DIR,
                    env=environment,
                    capture_output=True,
                    timeout=wall,
                    preexec_fn=lambda: _limits(cpu, memory),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise AssessmentRefused(_too_big(f"took longer than {wall:g} seconds")) from None
            if finished.returncode != 0 or not answer.is_file():
                reason = "needed more processing than allowed" if finished.returncode < 0 else "could not be analysed"
                raise AssessmentRefused(_too_big(reason))
            if answer.stat().st_size > _ANSWER_CAP:
                raise AssessmentRefused(_too_big("gave more results than can be kept"))
            result: dict[str, Any] = json.loads(answer.read_text("utf-8"))
            return result
    finally:
        slot.release()


def _too_big(reason: str) -> str:
    return (
        f"The assessment of this code {reason}, and nothing was saved. Upload the code without generated"
        " files and data tables (large literal lists, vendored libraries), or ask your account manager to"
        " assess it with you."
    )
