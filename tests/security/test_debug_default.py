"""DEBUG is off unless asked for (red-team check: Django's debug pages list every URL and show
tracebacks with settings). Settings are loaded in a fresh interpreter with no DEBUG in the
environment, as a production start would; ``make run`` asks for DEBUG on its loopback-only server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PROBE = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.SECURE)"


def _settings_with(**extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "HIVE_TESTING"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "hive.settings",
        "SECRET_KEY": "a-production-like-secret-key-for-this-probe-only-0123456789",
        "HIVE_PREVIEW_DOMAIN": "agenthive-preview.example",
        **extra,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_debug_is_off_and_the_secure_defaults_on_without_the_variable() -> None:
    assert _settings_with() == "False True"


def test_only_an_explicit_debug_turns_it_on() -> None:
    assert _settings_with(DEBUG="1").startswith("True")
    assert _settings_with(DEBUG="0").startswith("False")


def test_make_run_serves_debug_on_loopback_only() -> None:
    script = (ROOT / "scripts" / "run_stack.py").read_text(encoding="utf-8")
    assert '"--host", "127.0.0.1"' in script
    assert "0.0.0.0" not in script  # noqa: S104  (looked for, not bound)
