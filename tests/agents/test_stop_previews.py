"""Stopping the stack stops the customers' previews too: they run in sessions of their own, so
stopping the workers alone would leave them listening."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.core.management import call_command

from agents.previews import Preview, preview_get, preview_request, preview_start

SERVE = """
import argparse
from http.server import BaseHTTPRequestHandler, HTTPServer

class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the preview"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

parser = argparse.ArgumentParser()
parser.add_argument("--host")
parser.add_argument("--port", type=int)
parser.add_argument("--database")
args = parser.parse_args()
HTTPServer((args.host, args.port), Hello).serve_forever()
"""


def _answers(preview: Preview) -> bool:
    try:
        return preview_request(preview, "/", timeout=2)[0] == 200
    except OSError:
        return False


def test_stop_previews_stops_every_running_preview(tmp_path: Path, settings: Any) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path
    previews = []
    for customer in ("alpha", "beta"):
        code = tmp_path / "code" / customer
        (code / "app").mkdir(parents=True)
        (code / "app" / "__init__.py").write_text("")
        (code / "app" / "serve.py").write_text(SERVE)
        home = tmp_path / customer / "projects" / "1" / "preview"
        previews.append((home, preview_start(home, code, revision="r1")))
    assert all(_answers(preview) for _, preview in previews)

    out = io.StringIO()
    call_command("stop_previews", stdout=out)

    assert "stopped 2 preview(s)" in out.getvalue()
    for home, preview in previews:
        assert preview_get(home) is None
        assert not _answers(preview)


def test_stop_previews_with_nothing_running(tmp_path: Path, settings: Any) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path
    out = io.StringIO()
    call_command("stop_previews", stdout=out)
    assert "stopped 0 preview(s)" in out.getvalue()
