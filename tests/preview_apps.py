"""Preview applications for the preview tests, and the helpers that start them for a project.

``ECHO`` answers every request with what it received (method, path, the Cookie header, the body's
length) as JSON, and has pages that probe the sandbox from inside (``/probe``), stream a large
body (``/big``), set cookies (``/set-cookie``) and answer slowly (``/slow``).
"""

from __future__ import annotations

from pathlib import Path

from agents.previews import Preview, preview_start

ECHO = r'''
import argparse
import json
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse


def _reach(query):
    """What this sandbox reaches: a TCP port on 127.0.0.1, a Unix socket path, a directory."""
    found = {}
    if "port" in query:
        try:
            socket.create_connection(("127.0.0.1", int(query["port"][0])), timeout=2).close()
            found["port"] = "connected"
        except OSError as error:
            found["port"] = "refused: %s" % error
    if "unix" in query:
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(query["unix"][0])
            found["unix"] = "connected"
        except OSError as error:
            found["unix"] = "refused: %s" % error
        finally:
            client.close()
    if "dir" in query:
        try:
            found["dir"] = sorted(os.listdir(query["dir"][0]))
        except OSError as error:
            found["dir"] = "refused: %s" % error
    return found


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/health":
            return self._answer(200, b'{"ok": true}')
        if url.path == "/probe":
            return self._answer(200, json.dumps(_reach(query)).encode())
        if url.path == "/big":
            size = int(query["bytes"][0])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            block = b"x" * 65536
            while size > 0:
                self.wfile.write(block[:size])
                size -= len(block)
            return None
        if url.path == "/slow":
            time.sleep(float(query["seconds"][0]))
        headers = []
        if url.path == "/set-cookie":
            headers = [("Set-Cookie", "hive_preview=planted; Path=/"), ("Set-Cookie", "app=kept; Path=/")]
        answer = {
            "method": self.command,
            "path": self.path,
            "cookie": self.headers.get("Cookie", ""),
            "headers": sorted(name.lower() for name in self.headers.keys()),
            "body_bytes": len(body),
        }
        return self._answer(200, json.dumps(answer).encode(), headers)

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, *args):
        pass


parser = argparse.ArgumentParser()
parser.add_argument("--host")
parser.add_argument("--port", type=int)
parser.add_argument("--database")
args = parser.parse_args()
HTTPServer((args.host, args.port), Echo).serve_forever()
'''


def echo_code(directory: Path) -> Path:
    """A code tree whose ``app.serve`` is ``ECHO``."""
    (directory / "app").mkdir(parents=True, exist_ok=True)
    (directory / "app" / "__init__.py").write_text("")
    (directory / "app" / "serve.py").write_text(ECHO)
    return directory


def echo_preview_start(storage_root: Path, schema: str, project_id: int) -> tuple[Path, Preview]:
    """Start ``ECHO`` as the preview of project ``project_id`` of ``schema``: (its home, it)."""
    home = storage_root / schema / "projects" / str(project_id) / "preview"
    code = echo_code(home / "r1")
    return home, preview_start(home, code, revision="r1")
