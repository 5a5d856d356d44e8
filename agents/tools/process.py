"""How tools start programs on customer code: the platform's Python, a minimal environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PYTHON = sys.executable


def clean_environment(**extra: str) -> dict[str, str]:
    """PATH, locale and a home directory only: the worker's database URL, keys and secrets stay out."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only a fallback when HOME is unset
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    environment.update(extra)
    return environment


def run(command: Sequence[str], *, cwd: Path, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), cwd=cwd, env=clean_environment(**extra), capture_output=True, text=True, timeout=timeout
    )
