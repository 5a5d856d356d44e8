"""Customer previews: a generated application running on a free port of 127.0.0.1.

Never under ``HIVE_DOMAIN``: a preview is customer-generated code, and on a subdomain of the
portal it could read or plant the portal's cookies. It listens on its own port of the loopback
address and is reached as ``http://127.0.0.1:<port>/``.

The registry is a file per project, ``<project>/preview/preview.json`` (pid, port, URL, the
revision it runs, when it started), so that whichever process ends the project — a web request
cancelling it, a worker completing it — can stop the preview that another worker started. The
process is started through a short-lived launcher in its own session, so it is not a child of the
worker (no zombie when another process stops it), and it is stopped by process group after its
command line was checked (a recycled pid is never signalled).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from agents.tools.process import PYTHON, clean_environment

HOST = "127.0.0.1"
REGISTRY = "preview.json"
_LAUNCHER = (
    "import subprocess, sys\n"
    "log = open(sys.argv[1], 'ab')\n"
    "child = subprocess.Popen(sys.argv[2:], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)\n"
    "print(child.pid)\n"
)


class PreviewError(Exception):
    """The preview did not come up; the message says why (with the end of its log)."""


@dataclass(frozen=True, slots=True)
class Preview:
    pid: int
    port: int
    url: str
    revision: str
    directory: str
    started_at: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _registry(home: Path) -> Path:
    return home / REGISTRY


def preview_get(home: Path) -> Preview | None:
    """The project's running preview, if its process is still the one that was started."""
    try:
        preview = Preview(**json.loads(_registry(home).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return preview if _is_ours(preview) else None


def _is_ours(preview: Preview) -> bool:
    try:
        command = Path(f"/proc/{preview.pid}/cmdline").read_bytes().decode("utf-8", "replace")
        state = Path(f"/proc/{preview.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and preview.directory in command and "app.serve" in command


def preview_start(home: Path, code: Path, *, revision: str, timeout: float = 60.0) -> Preview:
    """Serve the application in ``code`` (a plain export of the repository) on a free port.

    ``timeout`` is how long a starting server may take to answer on a busy machine; a server that
    dies meanwhile is noticed at once (its process is gone), so a broken app fails fast anyway."""
    preview_stop(home)
    home.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _attempt in range(3):  # the free port may be taken between the probe and the bind
        port = free_port()
        command = [PYTHON, "-E", "-s", "-m", "app.serve", "--host", HOST, "--port", str(port)]
        command += ["--database", str(code / "preview.sqlite3")]
        launched = subprocess.run(
            [PYTHON, "-c", _LAUNCHER, str(home / "preview.log"), *command],
            cwd=code,
            env=clean_environment(),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        preview = Preview(
            pid=int(launched.stdout.strip()),
            port=port,
            url=f"http://{HOST}:{port}/",
            revision=revision,
            directory=str(code),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        _registry(home).write_text(json.dumps(asdict(preview)))
        if _wait_healthy(preview, timeout):
            return preview
        preview_stop(home)
        log = home / "preview.log"
        last_error = log.read_text("utf-8", "replace")[-800:] if log.exists() else ""
    raise PreviewError(f"the preview did not answer on /health: {last_error.strip() or 'no output'}")


def _wait_healthy(preview: Preview, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_ours(preview):
            return False
        try:
            with urllib.request.urlopen(f"{preview.url}health", timeout=2) as response:  # noqa: S310 - loopback URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def preview_stop(home: Path, *, grace: float = 5.0) -> bool:
    """Stop the project's preview; True when one was running."""
    preview = preview_get(home)
    _registry(home).unlink(missing_ok=True)
    if preview is None:
        return False
    try:
        os.killpg(preview.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _is_ours(preview):
        time.sleep(0.05)
    if _is_ours(preview):
        os.killpg(preview.pid, signal.SIGKILL)
    return True


def previews_running(storage_root: Path) -> list[Preview]:
    """Every running preview under the storage root (for operators and the shutdown of a stack)."""
    found = []
    for registry in sorted(storage_root.glob(f"*/projects/*/preview/{REGISTRY}")):
        preview = preview_get(registry.parent)
        if preview is not None:
            found.append(preview)
    return found


def previews_stop_all(storage_root: Path) -> int:
    """Stop every preview under the storage root (``make run`` on Ctrl-C); how many were running."""
    return sum(preview_stop(registry.parent) for registry in storage_root.glob(f"*/projects/*/preview/{REGISTRY}"))
