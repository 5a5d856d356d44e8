"""A preview runs the customer's generated code in the sandbox's namespaces: it answers on the
host's 127.0.0.1:<port> through the forwarder, cannot reach the host's loopback services, and
stopping it stops the application and the forwarder alike."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from agents.previews import Preview, _group_alive, preview_get, preview_start, preview_stop
from agents.tools.sandbox import live_processes, namespaces_available

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


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def _start(tmp_path: Path, settings: Any) -> tuple[Path, Preview]:
    settings.HIVE_STORAGE_ROOT = tmp_path
    code = tmp_path / "code" / "probe"
    (code / "app").mkdir(parents=True)
    (code / "app" / "__init__.py").write_text("")
    (code / "app" / "serve.py").write_text(SERVE)
    home = tmp_path / "customer" / "projects" / "1" / "preview"
    return home, preview_start(home, code, revision="r1")


def _group_members(group: int) -> list[int]:
    return [pid for pid, member_group in live_processes() if member_group == group]


def test_preview_answers_on_the_host_loopback(tmp_path: Path, settings: Any) -> None:
    home, preview = _start(tmp_path, settings)
    try:
        assert preview.url == f"http://127.0.0.1:{preview.port}/"
        assert _get(preview.url) == "hello from the preview"
        assert preview_get(home) == preview
        registry = json.loads((home / "preview.json").read_text())
        assert registry["pid"] == preview.pid
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
            assert preview.scratch, "the preview should run in the sandbox where namespaces work"
            members = _group_members(preview.pid)
            assert len(members) >= 2  # the sandbox's leader and the forwarder at least
            answer = _get(f"{preview.url}probe?port={port}")
            assert answer is not None and answer.startswith("refused"), answer
        finally:
            preview_stop(home)


@needs_namespaces
def test_preview_stop_stops_the_app_and_the_forwarder(tmp_path: Path, settings: Any) -> None:
    home, preview = _start(tmp_path, settings)
    members = _group_members(preview.pid)
    assert len(members) >= 2
    assert _get(preview.url) == "hello from the preview"

    assert preview_stop(home)

    assert preview_get(home) is None
    assert not _group_alive(preview.pid)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in members):
        time.sleep(0.05)  # reaped by the starting process's threads
    assert not [pid for pid in members if Path(f"/proc/{pid}").exists()]
    assert _get(preview.url) is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", preview.port), timeout=2).close()
    assert not Path(preview.scratch).exists()
    assert not preview_stop(home)  # nothing left to stop


def test_preview_stop_never_signals_a_recycled_pid(tmp_path: Path, settings: Any) -> None:
    home = tmp_path / "customer" / "projects" / "2" / "preview"
    home.mkdir(parents=True)
    # A registry naming a live process that is not a preview (this test's own).
    stale = Preview(os.getpid(), 1, "http://127.0.0.1:1/", "r1", str(tmp_path / "code"), "2026-01-01T00:00:00+00:00")
    (home / "preview.json").write_text(json.dumps(asdict(stale)))
    assert preview_get(home) is None
    assert not preview_stop(home)


def test_preview_without_namespaces_runs_as_before(tmp_path: Path, settings: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("agents.previews.namespaces_available", lambda: False)
    home, preview = _start(tmp_path, settings)
    try:
        assert preview.scratch == ""  # unsandboxed: the application itself listens on the port
        assert _get(preview.url) == "hello from the preview"
    finally:
        assert preview_stop(home)
    assert not _group_alive(preview.pid)
    assert _get(preview.url) is None
