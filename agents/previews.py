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

**Sandboxed** (wherever agents/tools/sandbox.py's namespaces work). The application runs through
``sandbox_spawn`` in namespaces of its own: no network but a private loopback, the machine's
PostgreSQL and Redis out of reach, the other projects' files hidden, a clean environment and the
sandbox's limits. It listens on its port of that private loopback, which the host cannot reach; a
relay beside it inside the sandbox (agents/preview_proxy.py) accepts on a Unix socket in a scratch
directory of the preview (paths work across network namespaces), and a forwarder on the host (the
same script, our own code) listens on the port of the host's 127.0.0.1 and pipes each connection
to that socket. The sandbox's ``unshare`` leads the process group and the forwarder joins it, so
stopping the group stops both; the registry's pid is that leader, whose command line names the
application and its directory. These processes are the starting worker's children, reaped by a
thread each. Where namespaces are unavailable the application runs unsandboxed on the host's
port as it always did (and a warning says so).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from agents.tools.process import PYTHON, clean_environment
from agents.tools.sandbox import Limits, live_processes, namespaces_available, sandbox_spawn

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
PROXY = Path(__file__).resolve().with_name("preview_proxy.py")
# Inside the sandbox: the relay from the Unix socket to the application's port in the background,
# then the application itself. $1 python, $2 the relay script, $3 the socket, $4 the port.
_INSIDE = (
    'python="$1"; proxy="$2"; sock="$3"; port="$4"; shift 4\n'
    '"$python" -E -s "$proxy" --listen "unix:$sock" --connect "tcp:127.0.0.1:$port" &\n'
    'exec "$@"\n'
)
# A server runs for hours: the sandbox's CPU allowance per process is for a test run.
PREVIEW_LIMITS = {"cpu_seconds": 24 * 3600}
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
    scratch: str = ""  # sandboxed: the directory of its Unix socket, HOME and TMPDIR


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
    sandboxed = namespaces_available()
    if not sandboxed:
        log.warning("previews: no namespaces on this machine, the preview of %s runs unsandboxed", code)
    last_error = ""
    for _attempt in range(3):  # the free port may be taken between the probe and the bind
        port = free_port()
        command = [PYTHON, "-E", "-s", "-m", "app.serve", "--host", HOST, "--port", str(port)]
        command += ["--database", str(code / "preview.sqlite3")]
        started, forwarder = (_start_sandboxed if sandboxed else _start_plain)(home, code, command, port)
        preview = Preview(
            pid=started.pid,
            port=port,
            url=f"http://{HOST}:{port}/",
            revision=revision,
            directory=str(code),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            scratch=started.scratch,
        )
        _registry(home).write_text(json.dumps(asdict(preview)))
        if (forwarder is not None or not sandboxed) and _wait_healthy(preview, timeout, forwarder):
            return preview
        preview_stop(home)
        if preview.scratch:  # a leader already gone is not "ours" to stop, but its directory goes
            shutil.rmtree(preview.scratch, ignore_errors=True)
        log_file = home / "preview.log"
        last_error = log_file.read_text("utf-8", "replace")[-800:] if log_file.exists() else ""
    raise PreviewError(f"the preview did not answer on /health: {last_error.strip() or 'no output'}")


@dataclass(frozen=True, slots=True)
class _Started:
    pid: int
    scratch: str = ""


def _start_plain(home: Path, code: Path, command: list[str], port: int) -> tuple[_Started, None]:
    """Unsandboxed, on the host's port, through a launcher in a session of its own."""
    launched = subprocess.run(
        [PYTHON, "-c", _LAUNCHER, str(home / "preview.log"), *command],
        cwd=code,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return _Started(int(launched.stdout.strip())), None


def _reap(process: subprocess.Popen[bytes]) -> None:
    threading.Thread(target=process.wait, name=f"preview-reaper-{process.pid}", daemon=True).start()


def _start_sandboxed(
    home: Path, code: Path, command: list[str], port: int
) -> tuple[_Started, subprocess.Popen[bytes] | None]:
    """In the sandbox's namespaces, with the relay inside and the forwarder on the host (module
    docstring). The forwarder is None when it could not join the group (the sandbox already
    ended): the preview then fails its health check."""
    scratch = Path(tempfile.mkdtemp(prefix="hive-preview-"))
    sock = scratch / "app.sock"
    shell = shutil.which("sh") or "/bin/sh"
    inside = [shell, "-c", _INSIDE, "preview", PYTHON, str(PROXY), str(sock), str(port), *command]
    with open(home / "preview.log", "ab") as output:
        leader = sandbox_spawn(
            inside,
            cwd=code,
            scratch=scratch,
            limits=Limits(**PREVIEW_LIMITS),
            isolation="namespaces",
            output=output.fileno(),
            session=False,  # a group of the worker's session, so the forwarder can join it
        )
        _reap(leader)
        forwarder = None
        with contextlib.suppress(OSError):  # the leader may be gone already: its group with it
            relay = ["--listen", f"tcp:{HOST}:{port}", "--connect", f"unix:{sock}", "--leader", str(leader.pid)]
            forwarder = subprocess.Popen(
                [PYTHON, "-E", "-s", str(PROXY), *relay],
                cwd=scratch,
                env=clean_environment(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                process_group=leader.pid,
            )
            _reap(forwarder)
    return _Started(leader.pid, str(scratch)), forwarder


def _wait_healthy(preview: Preview, timeout: float, forwarder: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_ours(preview) or (forwarder is not None and forwarder.poll() is not None):
            return False
        try:
            with urllib.request.urlopen(f"{preview.url}health", timeout=2) as response:  # noqa: S310 - loopback URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def _group_alive(group: int) -> bool:
    """Whether any live (not zombie) process is in the process group."""
    return any(member_group == group for _, member_group in live_processes())


def preview_stop(home: Path, *, grace: float = 5.0) -> bool:
    """Stop the project's preview (its whole process group: application, relay and forwarder);
    True when one was running."""
    preview = preview_get(home)
    _registry(home).unlink(missing_ok=True)
    if preview is None:
        return False
    try:
        os.killpg(preview.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    # Once signalled, the group's pid cannot be handed out again while any member lives.
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(preview.pid):
        time.sleep(0.05)
    if _group_alive(preview.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(preview.pid, signal.SIGKILL)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(preview.pid):
            time.sleep(0.05)
    if preview.scratch:
        shutil.rmtree(preview.scratch, ignore_errors=True)
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
