"""A preview runs the customer's generated code in the sandbox's namespaces: it answers only through
its private Unix socket (no port of the host's loopback), cannot reach the host's loopback services,
outlives the process that started it, and stopping it stops the supervisor, the application and the
relay alike."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from agents.previews import (
    Preview,
    PreviewError,
    _group_alive,
    preview_get,
    preview_request,
    preview_restart,
    preview_start,
    preview_stop,
    previews_reap,
)
from agents.tools.sandbox import live_processes, namespaces_available

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import argparse
import socket
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse


class Probe(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/probe":
            port = int(parse_qs(url.query)["port"][0])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                body = b"connected"
            except OSError as error:
                body = ("refused: %s" % error).encode()
        else:
            body = b"hello from the preview"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


parser = argparse.ArgumentParser()
parser.add_argument("--host")
parser.add_argument("--port", type=int)
parser.add_argument("--database")
args = parser.parse_args()
HTTPServer((args.host, args.port), Probe).serve_forever()
"""

needs_namespaces = pytest.mark.skipif(
    not namespaces_available(), reason="this machine does not allow unprivileged user namespaces"
)


def _get(preview: Preview, path: str = "/") -> str | None:
    try:
        status, body = preview_request(preview, path)
    except OSError:
        return None
    return body.decode() if status == 200 else None


def _code(tmp_path: Path, name: str = "probe") -> Path:
    code = tmp_path / "code" / name
    (code / "app").mkdir(parents=True)
    (code / "app" / "__init__.py").write_text("")
    (code / "app" / "serve.py").write_text(SERVE)
    return code


def _start(tmp_path: Path, settings: Any) -> tuple[Path, Preview]:
    settings.HIVE_STORAGE_ROOT = tmp_path
    home = tmp_path / "customer" / "projects" / "1" / "preview"
    return home, preview_start(home, _code(tmp_path), revision="r1")


def _group_members(group: int) -> list[int]:
    return [pid for pid, member_group in live_processes() if member_group == group]


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


@needs_namespaces
def test_preview_answers_only_through_its_private_socket(tmp_path: Path, settings: Any) -> None:
    home, preview = _start(tmp_path, settings)
    try:
        assert _get(preview) == "hello from the preview"
        assert preview_get(home) == preview
        registry = json.loads((home / "preview.json").read_text())
        assert registry["pid"] == preview.pid and registry["leader"] == preview.leader
        socket_dir = Path(preview.socket_dir)
        assert socket_dir == home / "socket" and not socket_dir.is_relative_to(preview.directory)
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
        assert socket_dir.stat().st_uid == os.getuid()
        assert stat.S_ISSOCK((socket_dir / "app.sock").stat().st_mode)
        # The application's port is on the sandbox's own loopback: the host's is closed.
        assert _refused(preview.port)
    finally:
        preview_stop(home)


@needs_namespaces
def test_preview_is_sandboxed_and_cannot_reach_the_host_loopback(tmp_path: Path, settings: Any) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        # The test itself reaches the listener: the refusal below is the sandbox's doing.
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        home, preview = _start(tmp_path, settings)
        try:
            assert preview.isolation == "namespaces"
            assert len(_group_members(preview.leader)) >= 2  # the sandbox's first process and more
            answer = _get(preview, f"/probe?port={port}")
            assert answer is not None and answer.startswith("refused"), answer
        finally:
            preview_stop(home)


@needs_namespaces
def test_preview_stop_stops_the_supervisor_the_app_and_the_relay(tmp_path: Path, settings: Any) -> None:
    home, preview = _start(tmp_path, settings)
    members = _group_members(preview.leader) + _group_members(preview.pid)
    assert len(members) >= 3
    assert _get(preview) == "hello from the preview"

    assert preview_stop(home)

    assert preview_get(home) is None
    assert not _group_alive(preview.pid) and not _group_alive(preview.leader)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in members):
        time.sleep(0.05)  # reaped by the starting process's threads
    assert not [pid for pid in members if Path(f"/proc/{pid}").exists()]
    assert _get(preview) is None
    assert not (Path(preview.socket_dir) / "app.sock").exists()
    assert not Path(preview.scratch).exists()
    assert not preview_stop(home)  # nothing left to stop


@needs_namespaces
def test_preview_outlives_the_process_that_started_it_and_comes_back_after_a_stop(
    tmp_path: Path, settings: Any
) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path
    home = tmp_path / "customer" / "projects" / "3" / "preview"
    code = _code(tmp_path)
    starter = (
        "import sys, django; django.setup()\n"
        "from pathlib import Path\n"
        "from agents.previews import preview_start\n"
        "print(preview_start(Path(sys.argv[1]), Path(sys.argv[2]), revision='r7').pid)\n"
    )
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": "hive.settings", "HIVE_STORAGE_ROOT": str(tmp_path)}
    started = subprocess.run(
        [sys.executable, "-c", starter, str(home), str(code)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    try:
        preview = preview_get(home)  # the starter has exited; its preview has not
        assert preview is not None and preview.pid == int(started.stdout.strip())
        assert _get(preview) == "hello from the preview"
        assert preview_stop(home)
        assert _get(preview) is None

        again = preview_restart(home)

        assert again.pid != preview.pid and again.revision == "r7" and again.directory == str(code)
        assert _get(again) == "hello from the preview"
    finally:
        preview_stop(home)


@needs_namespaces
def test_a_sandbox_left_by_a_killed_supervisor_is_stopped(tmp_path: Path, settings: Any) -> None:
    home, preview = _start(tmp_path, settings)
    os.kill(preview.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _group_alive(preview.pid):
        time.sleep(0.05)
    assert preview_get(home) is None  # no longer "running": the supervisor is gone

    assert previews_reap(tmp_path) == 1

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(preview.leader):
        time.sleep(0.05)
    assert not _group_alive(preview.leader)
    assert _get(preview) is None
    assert not (home / "preview.json").exists() and previews_reap(tmp_path) == 0


def test_preview_stop_never_signals_a_recycled_pid(tmp_path: Path, settings: Any) -> None:
    home = tmp_path / "customer" / "projects" / "2" / "preview"
    home.mkdir(parents=True)
    # A registry naming a live process that is not a preview (this test's own).
    stale = Preview(
        os.getpid(),
        os.getpid(),
        1,
        "r1",
        str(tmp_path / "code"),
        "2026-01-01T00:00:00+00:00",
        str(home / "socket"),
        str(tmp_path / "scratch"),
        "namespaces",
    )
    (home / "preview.json").write_text(json.dumps(asdict(stale)))
    assert preview_get(home) is None
    assert not preview_stop(home)


def test_without_the_sandbox_a_preview_is_refused_with_the_reason(
    tmp_path: Path, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("agents.previews.namespaces_available", lambda: False)
    monkeypatch.setattr("agents.previews.sandbox_problem", lambda: "bwrap is not installed")
    settings.HIVE_SANDBOX_ALLOW_UNSAFE_GUARD = False
    with pytest.raises(PreviewError, match="previews run only in the sandbox, and it cannot run here: bwrap"):
        _start(tmp_path, settings)


def test_preview_under_the_allowed_guard_still_answers_only_through_its_socket(
    tmp_path: Path, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("agents.previews.namespaces_available", lambda: False)
    settings.HIVE_SANDBOX_ALLOW_UNSAFE_GUARD = True  # development only: not a boundary
    home, preview = _start(tmp_path, settings)
    try:
        assert preview.isolation == "guard"
        assert _get(preview) == "hello from the preview"
    finally:
        assert preview_stop(home)
    assert not _group_alive(preview.pid) and not _group_alive(preview.leader)
    assert _get(preview) is None
