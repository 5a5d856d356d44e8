"""Customer previews: a generated application running in the sandbox, reachable only through a
private Unix socket that the portal's preview gateway (projects/preview_gateway.py) proxies.

Never under ``HIVE_DOMAIN`` and never on a port of the host: the application is customer-generated
code. It runs through ``sandbox_spawn`` with no network but a loopback of its own and listens on a
port there, which nothing outside its sandbox can reach. A relay beside it inside the sandbox
(agents/preview_relay.py) accepts on a listening Unix socket that was bound on the host in the
preview's private directory ``<project>/preview/socket/`` (mode 0700, under the storage root, which
no sandbox sees) and handed in as a file descriptor only. So the only way in is that socket, and
only the platform's own processes (the gateway, the health check, the page-load probe) can open it;
another project's sandbox can neither see the directory nor connect to the port.

The files of a preview's directory (``home``, ``<project>/preview/``):

* ``preview.json`` — the registry of the running preview (supervisor pid, sandbox leader, revision,
  the code's directory, when it started), so that whichever process ends the project (a web
  request, a worker, ``manage.py stop_previews``, the sweep) can stop what another started;
* ``deployed.json`` — the code and revision last deployed, so that the customer's "Start preview"
  brings the same application back after it was stopped (its data, in ``preview.sqlite3`` of the
  code's directory, survives);
* ``activity`` — its modification time is the last request the gateway proxied (idle stop);
* ``socket/app.sock`` — the listening socket.

Each preview is kept by a supervisor process (agents/preview_supervisor.py) in a session of its
own, so that it outlives the task that started it; it is stopped by signalling the supervisor and
the sandbox's process group after their command lines and parentage were checked (a recycled pid
is never signalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from agents.tools.process import PYTHON
from agents.tools.sandbox import (
    GUARD,
    NAMESPACES,
    live_processes,
    namespaces_available,
    sandbox_problem,
    sandbox_reclaim,
    unsafe_guard_allowed,
)

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SUPERVISOR = "agents.preview_supervisor"
SOCKET_DIR, SOCKET_NAME = "socket", "app.sock"
REGISTRY, DEPLOYED, ACTIVITY = "preview.json", "deployed.json", "activity"
# A server runs for hours: the sandbox's CPU allowance per process is for a test run.
PREVIEW_CPU_SECONDS = 24 * 3600


class PreviewError(Exception):
    """The preview did not come up; the message says why (with the end of its log)."""


@dataclass(frozen=True, slots=True)
class Preview:
    pid: int  # the supervisor
    leader: int  # the sandbox's first process, leader of its process group
    port: int  # the application's port on the sandbox's own loopback
    revision: str
    directory: str  # the code it serves
    started_at: str
    socket_dir: str
    scratch: str  # the sandbox's HOME and TMPDIR
    isolation: str

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the socket ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _socket_path(socket_dir: Path) -> Iterator[str]:
    """The socket's address through ``/proc/self/fd``: short whatever the storage root's path
    (a Unix socket address holds at most 108 bytes)."""
    handle = os.open(socket_dir, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{handle}/{SOCKET_NAME}"
    finally:
        os.close(handle)


def preview_socket_connect(socket_dir: Path, *, timeout: float = 10.0) -> socket.socket:
    """A connection to the preview's socket (raises OSError when nothing listens)."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        with _socket_path(socket_dir) as path:
            connection.connect(path)
    except BaseException:
        connection.close()
        raise
    return connection


async def preview_socket_open(socket_dir: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``preview_socket_connect`` for asyncio (the gateway)."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.setblocking(False)
    try:
        with _socket_path(socket_dir) as path:
            await asyncio.get_running_loop().sock_connect(connection, path)
    except BaseException:
        connection.close()
        raise
    return await asyncio.open_unix_connection(sock=connection)


class PreviewHTTPConnection(http.client.HTTPConnection):
    """An ``http.client`` connection to a preview over its socket (health check, page-load probe)."""

    def __init__(self, socket_dir: Path, *, timeout: float = 10.0) -> None:
        super().__init__("preview.invalid", timeout=timeout)
        self.socket_dir = socket_dir

    def connect(self) -> None:
        self.sock = preview_socket_connect(self.socket_dir, timeout=self.timeout or 10.0)


# --- the registry --------------------------------------------------------------------------------


def _registry_read(home: Path) -> Preview | None:
    try:
        return Preview(**json.loads((home / REGISTRY).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def preview_get(home: Path) -> Preview | None:
    """The project's running preview, if its supervisor is still the one that was started."""
    preview = _registry_read(home)
    return preview if preview is not None and _is_ours(preview) else None


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name: state, parent, group, …"""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _is_ours(preview: Preview) -> bool:
    try:
        command = Path(f"/proc/{preview.pid}/cmdline").read_bytes().decode("utf-8", "replace")
        state = _stat(preview.pid)[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and SUPERVISOR in command and json.dumps(preview.directory) in command


def _leader_is_ours(preview: Preview) -> bool:
    """Whether the registry's leader is still this preview's sandbox (not a recycled pid): the
    supervisor's child, or, when the supervisor was killed, a process running this application."""
    try:
        if int(_stat(preview.leader)[1]) == preview.pid:
            return True
        command = Path(f"/proc/{preview.leader}/cmdline").read_bytes().decode("utf-8", "replace")
    except (OSError, IndexError, ValueError):
        return False
    return "app.serve" in command and f"{preview.directory}/preview.sqlite3" in command


def preview_deployed(home: Path) -> tuple[Path, str] | None:
    """(the code, its revision) of the preview last deployed here, if its code is still there."""
    try:
        record = json.loads((home / DEPLOYED).read_text())
        code, revision = Path(record["directory"]), str(record["revision"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return (code, revision) if (code / "app" / "serve.py").is_file() else None


def preview_touch(home: Path) -> None:
    """Note a request to the preview now (the idle stop counts from the last one)."""
    marker = home / ACTIVITY
    try:
        os.utime(marker)
    except FileNotFoundError:
        marker.touch()


def preview_last_active(home: Path, preview: Preview) -> datetime:
    """When the preview last served a request, or when it started if it has served none since."""
    started = preview.started
    with contextlib.suppress(OSError):
        touched = datetime.fromtimestamp((home / ACTIVITY).stat().st_mtime, UTC)
        return max(started, touched)
    return started


# --- start and stop ------------------------------------------------------------------------------


def _supervisor_environment() -> dict[str, str]:
    """The starter's environment, with the settings the sandbox reads as they are in this process
    (a deployment's are in the environment already; a test's overrides are not)."""
    from django.conf import settings

    environment = dict(os.environ)
    environment.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH", "")]))
    if settings.configured:
        for name in dir(settings):
            if name == "HIVE_STORAGE_ROOT" or name.startswith("HIVE_SANDBOX_"):
                value = getattr(settings, name)
                if isinstance(value, bool):
                    environment[name] = "1" if value else "0"
                elif isinstance(value, (str, int, float, Path)):
                    environment[name] = str(value)
    return environment


def _reap(process: subprocess.Popen[bytes]) -> None:
    threading.Thread(target=process.wait, name=f"preview-reaper-{process.pid}", daemon=True).start()


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The supervisor's first line, or b"" when it ended (or said nothing) in time."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return b""
    return process.stdout.readline()


def _socket_dir_make(home: Path) -> Path:
    """The preview's private directory for its socket: made afresh, mode 0700, owned by the
    platform's user (the gateway's side), never inside the tree the sandbox works on."""
    socket_dir = home / SOCKET_DIR
    shutil.rmtree(socket_dir, ignore_errors=True)
    socket_dir.mkdir(mode=0o700)
    socket_dir.chmod(0o700)  # whatever the umask
    return socket_dir


def preview_start(home: Path, code: Path, *, revision: str, timeout: float = 60.0) -> Preview:
    """Serve the application in ``code`` (a plain export of the repository) in the sandbox.

    ``timeout`` is how long a starting server may take to answer on a busy machine; a server that
    dies meanwhile is noticed at once (its supervisor is gone), so a broken app fails fast anyway."""
    preview_stop(home)
    home.mkdir(parents=True, exist_ok=True)
    code = code.resolve()
    isolation = NAMESPACES if namespaces_available() else GUARD
    if isolation == GUARD:
        if not unsafe_guard_allowed():
            raise PreviewError(f"previews run only in the sandbox, and it cannot run here: {sandbox_problem()}")
        log.warning("previews: no sandbox here, the preview of %s runs under the guard (not a boundary)", code)
    (home / DEPLOYED).write_text(json.dumps({"directory": str(code), "revision": revision}))
    log_file = home / "preview.log"
    for _attempt in range(3):  # under the guard, the free port may be taken between probe and bind
        preview = _launch(home, code, revision=revision, isolation=isolation, log_file=log_file)
        if preview is not None and _wait_healthy(preview, timeout):
            preview_touch(home)
            return preview
        preview_stop(home)
        if preview is not None:  # a supervisor already gone is not "ours" to stop, but its scratch goes
            shutil.rmtree(preview.scratch, ignore_errors=True)
    last_error = log_file.read_text("utf-8", "replace")[-800:] if log_file.exists() else ""
    raise PreviewError(f"the preview did not answer on /health: {last_error.strip() or 'no output'}")


def _launch(home: Path, code: Path, *, revision: str, isolation: str, log_file: Path) -> Preview | None:
    """Start the supervisor and write the registry; None when it did not report its sandbox."""
    socket_dir = _socket_dir_make(home)
    scratch = Path(tempfile.mkdtemp(prefix="hive-preview-"))
    port = free_port()
    command = [PYTHON, "-E", "-s", "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--database", str(code / "preview.sqlite3")]
    spec = {
        "code": str(code),
        "socket_dir": str(socket_dir),
        "scratch": str(scratch),
        "log": str(log_file),
        "isolation": isolation,
        "port": port,
        "cpu_seconds": PREVIEW_CPU_SECONDS,
        "command": command,
    }
    with open(log_file, "ab") as output:
        supervisor = subprocess.Popen(
            [PYTHON, "-m", SUPERVISOR, json.dumps(spec)],
            cwd=ROOT,
            env=_supervisor_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=output,
            start_new_session=True,  # not the worker's group: stopping the worker leaves the preview
        )
    try:
        line = _read_line(supervisor, 60.0)
    finally:
        assert supervisor.stdout is not None
        supervisor.stdout.close()
    _reap(supervisor)
    try:
        leader = int(json.loads(line)["leader"])
    except (ValueError, TypeError, KeyError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(supervisor.pid, signal.SIGKILL)
        shutil.rmtree(scratch, ignore_errors=True)
        return None
    preview = Preview(
        pid=supervisor.pid,
        leader=leader,
        port=port,
        revision=revision,
        directory=str(code),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        socket_dir=str(socket_dir),
        scratch=str(scratch),
        isolation=isolation,
    )
    (home / REGISTRY).write_text(json.dumps(asdict(preview)))
    return preview


def preview_request(preview: Preview, path: str, *, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``path`` of the running preview over its socket: (status, body)."""
    connection = PreviewHTTPConnection(Path(preview.socket_dir), timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "preview.invalid"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_healthy(preview: Preview, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_ours(preview):
            return False
        try:
            if preview_request(preview, "/health", timeout=2)[0] == 200:
                return True
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    return False


def preview_restart(home: Path, *, timeout: float = 60.0) -> Preview:
    """Bring back the preview last deployed here (the customer's "Start preview")."""
    running = preview_get(home)
    if running is not None:
        return running
    deployed = preview_deployed(home)
    if deployed is None:
        raise PreviewError("no preview was deployed for this project yet")
    code, revision = deployed
    return preview_start(home, code, revision=revision, timeout=timeout)


def _group_alive(group: int) -> bool:
    """Whether any live (not zombie) process is in the process group."""
    return any(member_group == group for _, member_group in live_processes())


def preview_stop(home: Path, *, grace: float = 5.0) -> bool:
    """Stop the project's preview (the supervisor, and the sandbox's group: application and relay);
    True when one was running."""
    preview = _registry_read(home)
    (home / REGISTRY).unlink(missing_ok=True)
    if preview is None:
        return False
    # A supervisor killed outright may leave its sandbox running (where the sandbox does not die
    # with its parent): that is stopped too.
    groups = ([preview.pid] if _is_ours(preview) else []) + ([preview.leader] if _leader_is_ours(preview) else [])
    if not groups:
        shutil.rmtree(preview.scratch, ignore_errors=True)
        return False
    # Once signalled, a group's pid cannot be handed out again while any member lives.
    for number in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, number)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_group_alive(group) for group in groups):
            time.sleep(0.05)
        if not any(_group_alive(group) for group in groups):
            break
    if preview.isolation == NAMESPACES:
        # The sandbox had the served tree and its scratch lent to it: give them back.
        sandbox_reclaim(Path(preview.directory), Path(preview.scratch))
    shutil.rmtree(preview.scratch, ignore_errors=True)
    with contextlib.suppress(OSError):
        (Path(preview.socket_dir) / SOCKET_NAME).unlink()
    return True


def previews_found(storage_root: Path) -> list[tuple[Path, Preview]]:
    """(its directory, the preview) of every running preview under the storage root."""
    found = []
    for registry in sorted(storage_root.glob(f"*/projects/*/preview/{REGISTRY}")):
        preview = preview_get(registry.parent)
        if preview is not None:
            found.append((registry.parent, preview))
    return found


def previews_stop_all(storage_root: Path) -> int:
    """Stop every preview under the storage root (``make run`` on Ctrl-C); how many were running."""
    return sum(preview_stop(registry.parent) for registry in storage_root.glob(f"*/projects/*/preview/{REGISTRY}"))


def previews_reap(storage_root: Path) -> int:
    """Clear the registries of previews whose supervisor is gone (killed, or its host restarted),
    stopping a sandbox such a supervisor left running; how many were cleared."""
    stale = [r.parent for r in storage_root.glob(f"*/projects/*/preview/{REGISTRY}") if preview_get(r.parent) is None]
    for home in stale:
        preview_stop(home)
    return len(stale)
