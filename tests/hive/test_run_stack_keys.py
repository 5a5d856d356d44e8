"""`make run` (scripts/run_stack.py) gives the secret store a key: made on the first run, kept in
.run/secret-keys with mode 0600 like the demo password, the same on every later run, and one the
store accepts — so a repository can be connected on a development stack."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tenants.secrets import secret_decrypt, secret_encrypt

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run_stack.py"


def _run_stack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_stack_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_first_run_makes_a_private_key_the_store_accepts_and_later_runs_keep_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    run_stack = _run_stack()
    monkeypatch.setattr(run_stack, "STATE", tmp_path)

    key = run_stack.secret_keys()

    kept = tmp_path / "secret-keys"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert run_stack.secret_keys() == key == kept.read_text().strip()
    settings.HIVE_SECRET_KEYS = [key]
    assert secret_decrypt(secret_encrypt("tok-123456")).value == "tok-123456"


def test_every_process_of_the_stack_gets_the_key() -> None:
    source = SCRIPT.read_text()
    assert 'env.setdefault("HIVE_SECRET_KEYS", secret_keys())' in source
    # The processes are started with that environment, none with a fresh one.
    assert "Popen(cmd, cwd=ROOT, env=env)" in source
