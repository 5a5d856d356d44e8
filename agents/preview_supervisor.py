"""The process that keeps one customer preview running: ``python -m agents.preview_supervisor SPEC``.

A preview is long-running: it must outlive the Celery task (or the web request) that started it,
yet the sandbox ties its command to the life of the process that spawned it (bubblewrap's
``--die-with-parent``, and no worker may leave sandboxed processes behind when it is killed). So
the starter does not spawn the sandbox itself: it starts this small supervisor in a session of its
own, which

1. binds the preview's listening Unix socket in the preview's private directory (mode 0700, made
   by the starter on the host; the path is reached through ``/proc/self/fd/<dir>/`` so its length
   never hits the 108-byte limit of socket addresses);
2. starts the sandbox through ``sandbox_spawn`` with only that socket's file descriptor passed in:
   the relay inside (agents/preview_relay.py, given as ``-c`` source because the checkout is not
   visible in the sandbox) accepts on it and pipes to the application's port on the sandbox's own
   loopback, and the application is started next to it without the descriptor;
3. prints ``{"leader": <pid>}`` for the starter, then waits for the sandbox; SIGTERM ends the
   sandbox's process group and then itself, and when the sandbox ends it removes the socket.

It loads the Django settings (the sandbox reads its limits and the storage root from them); the
starter passes the values of the settings that matter in the environment, so that a test's
overrides reach it too. SPEC is JSON: ``code``, ``socket_dir``, ``scratch``, ``log``,
``isolation``, ``port``, ``cpu_seconds``, ``command``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

SOCKET_NAME = "app.sock"
RELAY_SOURCE = Path(__file__).resolve().with_name("preview_relay.py").read_text()
# Inside the sandbox: the relay in the background on the inherited socket, then the application
# without it. $1 python, $2 the relay's source, $3 the application's port; then the command.
_INSIDE = (
    'python="$1"; relay="$2"; port="$3"; shift 3\n'
    '"$python" -E -s -c "$relay" --listen fd:{fd} --connect "tcp:127.0.0.1:$port" &\n'
    'exec "$@" {fd}<&-\n'
)


def socket_bind(directory: Path) -> socket.socket:
    """A listening Unix socket ``directory/app.sock``, inheritable by the sandbox."""
    handle = os.open(directory, os.O_PATH | os.O_DIRECTORY)
    try:
        path = f"/proc/self/fd/{handle}/{SOCKET_NAME}"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
    finally:
        os.close(handle)
    listener.listen(128)
    listener.set_inheritable(True)
    return listener


def _stop(leader: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """End the sandbox's process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    for number in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader.pid, number)
        with contextlib.suppress(subprocess.TimeoutExpired):
            leader.wait(timeout=grace)
            return


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str]) -> int:
    spec: dict[str, Any] = json.loads(argv[0])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive.settings")
    from django.conf import settings

    settings.HIVE_STORAGE_ROOT  # noqa: B018 - load the settings now: the sandbox reads them when configured
    from agents.tools.sandbox import Limits, sandbox_spawn

    signal.signal(signal.SIGTERM, _terminate)
    socket_dir = Path(spec["socket_dir"])
    listener = socket_bind(socket_dir)
    fd = listener.fileno()
    shell = shutil.which("sh") or "/bin/sh"
    inside = [shell, "-c", _INSIDE.format(fd=fd), "preview", sys.executable, RELAY_SOURCE, str(spec["port"])]
    with open(spec["log"], "ab") as log:
        leader = sandbox_spawn(
            [*inside, *spec["command"]],
            cwd=Path(spec["code"]),
            scratch=Path(spec["scratch"]),
            limits=Limits(cpu_seconds=int(spec["cpu_seconds"])),
            isolation=str(spec["isolation"]),
            output=log.fileno(),
            pass_fds=(fd,),
        )
    listener.close()  # the relay holds it now; a connection waits in its backlog until it accepts
    print(json.dumps({"leader": leader.pid}), flush=True)
    sys.stdout.close()  # the starter reads until the end of this line's pipe
    try:
        leader.wait()
    finally:
        _stop(leader)
        with contextlib.suppress(OSError):
            (socket_dir / SOCKET_NAME).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
