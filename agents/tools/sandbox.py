"""Running code nobody on the platform wrote — the tests a model wrote, a generated application's
suite, a legacy code base's tests — with as little reach as this machine grants an unprivileged
process. ``sandbox_run`` is the one way the tools start such code and wait for it; ``sandbox_spawn`` starts a
long-running one (a customer's preview server, see agents/previews.py) the same way and returns.

Every run gets:

* a fresh minimal environment: PATH, locale, a private HOME and TMPDIR and nothing of the
  worker's (no DATABASE_URL, REDIS_URL, SECRET_KEY, Stripe or model API keys);
* its working directory in the tree under test, in a session and process group of its own;
* limits set with ``setrlimit`` in the child before it executes anything: CPU seconds and address
  space per process, the size of a file written, open files, no core files, and processes;
* a wall-clock timeout after which the whole tree is killed, and a process watchdog (below);
* output (stdout and stderr together) kept up to a limit, its head and its tail, with the total
  size reported, so a flood neither fills the worker's memory nor an event.

**Namespaces** (``isolation="namespaces"``; used whenever the probe at first use shows they work).
The command is started through util-linux ``unshare`` in new user, network, PID and mount
namespaces, which needs no privilege where the kernel allows unprivileged user namespaces (it
does here: checked as ``nobody``). Inside:

- the network is a loopback interface of its own, brought up so the tests' own servers work: the
  internet and the services on the machine's 127.0.0.1 (PostgreSQL, Redis) are out of reach;
- a small shell is the first process of a PID namespace of its own and runs the command as its
  child; when the command ends, the shell ends, and with it the kernel kills whatever the command
  started, double-forked or not. A fresh /proc shows only the sandbox's processes, so the worker's
  environment cannot be read from ``/proc/<pid>/environ``. (The shell reports a command killed
  by signal N as exit status 128 + N; the result turns that back into the signal.)
- a tmpfs over /run hides the services' Unix sockets (PostgreSQL's), and one over the storage root
  hides the other projects' files, the tree under test being mounted back in its place;
- capabilities are dropped (empty bounding set, ``no_new_privs``) before the command runs; it
  sees itself as uid 0 of a namespace that maps only the worker's own user.

**Guard** (``isolation="guard"``; the fallback where user namespaces are disabled, e.g. by an
AppArmor policy or ``kernel.unprivileged_userns_clone=0``). A ``sitecustomize`` on the child's
PYTHONPATH makes Python sockets refuse to connect anywhere but the loopback address (Unix sockets
only inside the tree and the run's TMPDIR), and name lookups of anything but local names. It is a
best-effort guard against accidents, **not a security boundary**: code can undo it, use
``_socket`` or ctypes, or start a program that is not Python; the machine's own loopback services
stay reachable; and a process that leaves the run's process group (``setsid``) is not killed
with it.

**Processes.** ``RLIMIT_NPROC`` counts every process of the user, so it is set to the user's
current count plus the allowance; but the kernel does not apply it to root. So a watchdog also
counts the sandbox's processes (those of its PID namespace, or of its process group in guard mode)
every ``WATCH_INTERVAL`` seconds and kills the run when there are more than allowed: the kernel's
limit where it applies, the watchdog's everywhere.

The limits go in through ``preexec_fn`` (the child calls only ``setrlimit`` between fork and exec,
with values computed beforehand), as the worker runs jobs on threads, where the standard library
warns that ``preexec_fn`` could deadlock a child that did more.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

NAMESPACES, GUARD = "namespaces", "guard"
STOPPED_TIMEOUT, STOPPED_PROCESSES = "timeout", "processes"
WATCH_INTERVAL = 0.05
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Processes the namespace set-up itself uses (unshare, the shell, ip, mount), beyond the allowance.
_SETUP_PROCESSES = 8
_SIGNALS = {int(number) for number in signal.Signals}


def _configured(name: str, default: int) -> int:
    """A deployment's ``HIVE_SANDBOX_*`` setting, or the default outside Django."""
    from django.conf import settings

    return int(getattr(settings, name, default)) if settings.configured else default


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float = 600.0  # wall clock, the whole run
    cpu_seconds: int = field(default_factory=lambda: _configured("HIVE_SANDBOX_CPU_SECONDS", 600))  # per process
    # address space per process
    memory_bytes: int = field(default_factory=lambda: _configured("HIVE_SANDBOX_MEMORY_MB", 2048) * 1024**2)
    file_bytes: int = 256 * 1024**2  # the largest file it may write
    processes: int = field(default_factory=lambda: _configured("HIVE_SANDBOX_PROCESSES", 64))  # at once
    open_files: int = 512  # per process
    output_bytes: int = 64_000  # of stdout and stderr kept: a quarter from the head, the rest from the tail


@dataclass(frozen=True, slots=True)
class SandboxResult:
    exit_code: int  # negative: killed by that signal; 127: the program could not be started
    output: str
    output_bytes: int  # what the command wrote in all
    seconds: float
    stopped: str  # "" or why the sandbox killed it: STOPPED_TIMEOUT, STOPPED_PROCESSES
    isolation: str
    limits: Limits
    peak_processes: int = 0

    @property
    def truncated(self) -> bool:
        return self.output_bytes > self.limits.output_bytes

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.stopped

    @property
    def verdict(self) -> str:
        """How the run ended, in words for the person (or model) reading the event."""
        limits = self.limits
        if self.stopped == STOPPED_TIMEOUT:
            return f"killed at the time limit of {limits.timeout:g} s"
        if self.stopped == STOPPED_PROCESSES:
            return f"killed for starting more than {limits.processes} processes"
        if self.exit_code < 0:
            number = -self.exit_code
            if number == signal.SIGXCPU:
                return f"killed at the CPU time limit of {limits.cpu_seconds} s"
            if number == signal.SIGXFSZ:
                return f"killed for writing a file over {limits.file_bytes:,} bytes"
            return f"killed by {signal.Signals(number).name}"
        return f"exit code {self.exit_code}"


class SandboxUnavailable(RuntimeError):
    """The isolation asked for cannot be had on this machine."""


def sandbox_environment(*, home: Path, tmp: Path, **extra: str) -> dict[str, str]:
    """The whole environment of a sandboxed command: nothing is inherited from the worker."""
    return {
        "PATH": f"{Path(sys.executable).parent}:{_SYSTEM_PATH}",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
        # glibc reserves 64 MB of address space per arena and thread; keep threads inside the limit.
        "MALLOC_ARENA_MAX": "2",
        **extra,
    }


def sandbox_run(
    argv: Sequence[str],
    *,
    cwd: Path,
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
    isolation: str = "auto",
) -> SandboxResult:
    """Run ``argv`` in ``cwd`` inside the sandbox and return how it went; never raises for what the
    command does (a missing program is exit code 127)."""
    limits = limits or Limits()
    cwd = cwd.resolve()
    mode = _isolation(isolation)
    with tempfile.TemporaryDirectory(prefix="hive-sandbox-") as scratch:
        command, environment = _prepare(argv, cwd=cwd, scratch=Path(scratch).resolve(), env=env, mode=mode)
        return _supervise(command, cwd=cwd, environment=environment, limits=limits, mode=mode)


def sandbox_spawn(
    argv: Sequence[str],
    *,
    cwd: Path,
    scratch: Path,
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
    isolation: str = "auto",
    output: int | None = None,
    session: bool = True,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in ``cwd`` inside the sandbox and return at once (a long-running server).

    The same isolation and per-process limits as ``sandbox_run``, but no wall-clock timeout, no
    process watchdog and no output capture: stdout and stderr go to the file descriptor
    ``output`` (discarded when None). The command runs in a session and process group of its own
    whose leader is the returned process (``unshare`` in namespaces): the caller stops it with
    ``os.killpg(process.pid, ...)`` and reaps it. With ``session=False`` the group is made in the
    caller's session instead, so that the caller can start companions in it (``setpgid`` joins
    only a group of one's own session). ``scratch`` is an existing directory the caller
    owns for the life of the command (its HOME and TMPDIR are made there) and removes after it.
    ``pass_fds`` are file descriptors the command inherits (a preview's listening socket).
    Raises ``OSError`` when the program cannot be started."""
    limits = limits or Limits()
    cwd = cwd.resolve()
    mode = _isolation(isolation)
    command, environment = _prepare(argv, cwd=cwd, scratch=scratch.resolve(), env=env, mode=mode)
    sink = subprocess.DEVNULL if output is None else output
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=sink,
        stderr=sink,
        start_new_session=session,
        process_group=None if session else 0,
        preexec_fn=_preexec(_rlimits(limits)),
        pass_fds=tuple(pass_fds),
    )


def _prepare(
    argv: Sequence[str], *, cwd: Path, scratch: Path, env: Mapping[str, str] | None, mode: str
) -> tuple[list[str], dict[str, str]]:
    """The full command line and environment of a sandboxed command, its HOME and TMPDIR (and the
    guard, in guard mode) made in ``scratch``."""
    home, tmp = scratch / "home", scratch / "tmp"
    home.mkdir(exist_ok=True)
    tmp.mkdir(exist_ok=True)
    environment = sandbox_environment(home=home, tmp=tmp, **(env or {}))
    command = list(argv)
    if mode == NAMESPACES:
        command = _namespace_command(*_hiding(cwd, scratch)) + command
    else:
        guard = scratch / "guard"
        guard.mkdir(exist_ok=True)
        (guard / "sitecustomize.py").write_text(_GUARD.replace("__ALLOWED__", repr((str(cwd), str(tmp)))))
        environment["PYTHONPATH"] = str(guard)
    return command, environment


# --- the namespaces -------------------------------------------------------------------------------

# The shell stays the namespace's first process and runs the command as its child: the kernel
# drops signals a PID 1 has no handler for, and the CPU limit's SIGXCPU must reach the command.
# The shell's exit status is the command's, 128 + N when signal N killed it.
# $1 ip, $2 mount, $3 setpriv, $4 the tree to keep visible inside the hidden directory ("" if
# none), $5 the directory to hide ("" for none); then the command. The kept tree is parked under
# /run while the tmpfs goes over the hidden directory, then moved back to its own path.
_INSIDE = """set -e
"$1" link set lo up
"$2" -t tmpfs -o size=1m,mode=755 sandbox /run
if [ -n "$5" ]; then
  if [ -n "$4" ]; then mkdir /run/tree; "$2" --bind "$4" /run/tree; fi
  "$2" -t tmpfs -o size=1m,mode=755 sandbox "$5"
  if [ -n "$4" ]; then mkdir -p "$4"; "$2" --move /run/tree "$4"; rmdir /run/tree; fi
fi
setpriv="$3"
shift 5
"$setpriv" --bounding-set=-all --inh-caps=-all --no-new-privs "$@"
"""


def _binary(name: str) -> str | None:
    return shutil.which(name, path=_SYSTEM_PATH)


def _namespace_command(keep: Path | None, hide: Path | None) -> list[str]:
    unshare, ip, mount, setpriv, shell = (_binary(n) for n in ("unshare", "ip", "mount", "setpriv", "sh"))
    if not (unshare and ip and mount and setpriv and shell):
        raise SandboxUnavailable("unshare, ip, mount, setpriv and sh are needed for namespaces")
    flags = ["--user", "--map-root-user", "--net", "--pid", "--mount", "--fork", "--kill-child", "--mount-proc"]
    inside = [shell, "-c", _INSIDE, "sandbox", ip, mount, setpriv, str(keep or ""), str(hide or "")]
    return [unshare, *flags, "--", *inside]


def _hiding(tree: Path, scratch: Path) -> tuple[Path | None, Path | None]:
    """(the tree to keep, the directory to hide): the storage root of every project's files is
    hidden, the tree under test kept visible when it lies inside. Nothing is hidden when that
    would hide the tree itself or the run's scratch directory."""
    from django.conf import settings

    configured = getattr(settings, "HIVE_STORAGE_ROOT", None) if settings.configured else None
    root = Path(configured).resolve() if configured else None
    if root is None or not root.is_dir() or tree == root or scratch.is_relative_to(root):
        return None, None
    return (tree if tree.is_relative_to(root) else None), root


_PROBE = (
    "import socket\n"
    "server = socket.create_server(('127.0.0.1', 0))\n"
    "socket.create_connection(server.getsockname()[:2], timeout=5).close()\n"
    "print('ok')\n"
)


@functools.cache
def namespaces_available() -> bool:
    """Whether this machine lets the worker's user create the sandbox's namespaces (checked once
    per process by starting one, with a loopback connection inside)."""
    try:
        command = _namespace_command(None, None)
        probe = subprocess.run(
            [*command, sys.executable, "-c", _PROBE],
            cwd=tempfile.gettempdir(),
            env=sandbox_environment(home=Path(tempfile.gettempdir()), tmp=Path(tempfile.gettempdir())),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (SandboxUnavailable, OSError, subprocess.SubprocessError) as error:
        log.warning("sandbox: no namespaces, falling back to the socket guard: %s", error)
        return False
    if probe.returncode != 0 or probe.stdout.strip() != "ok":
        log.warning("sandbox: no namespaces, falling back to the socket guard: %s", probe.stderr.strip()[-500:])
        return False
    return True


def _isolation(asked: str) -> str:
    if asked == "auto":
        return NAMESPACES if namespaces_available() else GUARD
    if asked == NAMESPACES and not namespaces_available():
        raise SandboxUnavailable("this machine does not let the worker's user create namespaces")
    if asked not in (NAMESPACES, GUARD):
        raise ValueError(f"unknown isolation {asked!r}")
    return asked


# --- limits, the watchdog and the output -----------------------------------------------------------


def _bounded(kind: int, wanted: int) -> tuple[int, int]:
    """``wanted`` as soft and hard limit, but never above the hard limit the worker already has."""
    _soft, hard = resource.getrlimit(kind)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    return value, value


def _user_tasks() -> int:
    """Processes (threads included, as the kernel counts them) of the worker's real user."""
    uid, count = str(os.getuid()), 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":", 1) for line in Path(entry.path, "status").read_text().splitlines() if ":" in line
            )
            if fields.get("Uid", "").split()[:1] == [uid]:
                count += int(fields.get("Threads", "1"))
    return count


def _rlimits(limits: Limits) -> list[tuple[int, tuple[int, int]]]:
    processes = limits.processes + _SETUP_PROCESSES
    if os.getuid() != 0:  # root is not held to RLIMIT_NPROC, and counting its processes is moot
        processes += _user_tasks()
    cpu_soft, cpu_hard = _bounded(resource.RLIMIT_CPU, limits.cpu_seconds)
    return [
        # SIGXCPU at the soft limit, SIGKILL a little later for code that ignores it.
        (resource.RLIMIT_CPU, (cpu_soft, _bounded(resource.RLIMIT_CPU, cpu_hard + 5)[1])),
        (resource.RLIMIT_AS, _bounded(resource.RLIMIT_AS, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, _bounded(resource.RLIMIT_FSIZE, limits.file_bytes)),
        (resource.RLIMIT_NOFILE, _bounded(resource.RLIMIT_NOFILE, limits.open_files)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NPROC, _bounded(resource.RLIMIT_NPROC, processes)),
    ]


def _preexec(rlimits: list[tuple[int, tuple[int, int]]]) -> Callable[[], None]:
    # Runs in the child between fork and exec: only setrlimit calls, computed beforehand.
    def apply() -> None:
        for kind, values in rlimits:
            resource.setrlimit(kind, values)

    return apply


def live_processes() -> Iterator[tuple[int, int]]:
    """(pid, process group) of every live process of the machine; zombies, which only wait to be
    reaped and hold nothing, left out."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                state, _parent, group = stat.read().rsplit(b")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if state != b"Z":
            yield int(name), int(group)


class _Watch:
    """Counts the sandbox's processes: those in its PID namespace, else those in its process group."""

    def __init__(self, leader: int, mode: str) -> None:
        self.leader, self.mode = leader, mode
        self.namespace = ""
        self.own = os.readlink("/proc/self/ns/pid")

    def find_namespace(self) -> None:
        """Note the sandbox's PID namespace once ``unshare`` has made it."""
        if self.mode == NAMESPACES and not self.namespace:
            with contextlib.suppress(OSError):
                children = os.readlink(f"/proc/{self.leader}/ns/pid_for_children")
                if children != self.own:
                    self.namespace = children

    def count(self) -> int:
        """Live processes (zombies only wait to be reaped and hold nothing)."""
        self.find_namespace()
        count = 0
        for pid, group in live_processes():
            if not self.namespace:
                count += group == self.leader
                continue
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/{pid}/ns/pid") == self.namespace
        return count

    def kill(self) -> None:
        # The group holds unshare and, in namespaces, the namespace's first process: when that
        # dies the kernel kills the rest of the namespace.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.leader, signal.SIGKILL)

    def clear(self, grace: float = 5.0) -> None:
        """Kill whatever is left and wait (a little) until it is gone."""
        deadline = time.monotonic() + grace
        while True:
            self.kill()
            if self.count() == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.01)


@dataclass(slots=True)
class _Output:
    limit: int
    head: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    total: int = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit // 4 - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        keep = self.limit - self.limit // 4
        if len(self.tail) > 2 * keep:
            del self.tail[:-keep]

    def text(self) -> str:
        tail = bytes(self.tail[-(self.limit - self.limit // 4) :])
        cut = self.total - len(self.head) - len(tail)
        marker = f"\n... ({cut:,} bytes of output left out, {self.total:,} in all) ...\n" if cut else ""
        return self.head.decode("utf-8", "replace") + marker + tail.decode("utf-8", "replace")


def _supervise(
    command: list[str], *, cwd: Path, environment: dict[str, str], limits: Limits, mode: str
) -> SandboxResult:
    started = time.monotonic()
    output = _Output(limits.output_bytes)
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_preexec(_rlimits(limits)),
        )
    except OSError as error:
        return SandboxResult(127, f"{command[0]}: {error}", 0, 0.0, "", mode, limits)
    assert process.stdout is not None
    watch = _Watch(process.pid, mode)
    stream = process.stdout.fileno()
    os.set_blocking(stream, False)
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    stopped, peak, exited_at, open_stream = "", 0, 0.0, True
    next_watch = started + WATCH_INTERVAL
    deadline = started + limits.timeout
    try:
        while True:
            if open_stream:
                for _key, _events in selector.select(timeout=0.02):
                    with contextlib.suppress(BlockingIOError):
                        chunk = os.read(stream, 65536)
                        if chunk:
                            output.add(chunk)
                        else:
                            open_stream = False
                            selector.unregister(stream)
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.02)
            now = time.monotonic()
            watch.find_namespace()
            if process.poll() is not None:
                if not exited_at:
                    exited_at = now
                    if mode == NAMESPACES and not stopped:
                        # The namespace ended with its first process, and the kernel killed what
                        # the command left running before that process could be reaped.
                        watch.kill()
                    else:  # what it left running in the background goes with it
                        watch.clear()
                if not open_stream or now - exited_at > 2.0:
                    break
                continue
            if stopped:
                watch.kill()  # again: a process may have been between fork and exec
                continue
            if now >= deadline:
                stopped = STOPPED_TIMEOUT
                watch.kill()
            elif now >= next_watch:
                next_watch = now + WATCH_INTERVAL
                count = watch.count()
                peak = max(peak, count)
                if count > limits.processes:
                    stopped = STOPPED_PROCESSES
                    watch.kill()
    finally:
        selector.close()
        process.stdout.close()
        if process.poll() is None:
            watch.kill()
            process.wait()
    exit_code = process.returncode
    if mode == NAMESPACES and exit_code > 128 and (exit_code - 128) in _SIGNALS:
        exit_code = 128 - exit_code  # the shell's way of saying "killed by signal N"
    return SandboxResult(
        exit_code=exit_code,
        output=output.text(),
        output_bytes=output.total,
        seconds=round(time.monotonic() - started, 3),
        stopped=stopped,
        isolation=mode,
        limits=limits,
        peak_processes=peak,
    )


# --- the guard --------------------------------------------------------------------------------------

_GUARD = '''"""Agent Hive's best-effort network guard for sandboxed runs (agents/tools/sandbox.py).

Not a security boundary: it stops honest code from reaching the network by accident.
"""

import ipaddress
import os
import socket

_ALLOWED_DIRS = __ALLOWED__
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _refuse(what):
    raise PermissionError(f"the sandbox allows no network access: {what}")


def _loopback(host):
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return str(host).lower() in _LOCAL_NAMES


def _check(sock, address):
    if sock.family == socket.AF_UNIX:
        path = address.decode("utf-8", "replace") if isinstance(address, bytes) else str(address)
        real = os.path.realpath(path) if path and not path.startswith("\\0") else ""
        if not any(real == d or real.startswith(d + os.sep) for d in _ALLOWED_DIRS):
            _refuse(f"unix socket {path!r}")
    elif sock.family in (socket.AF_INET, socket.AF_INET6):
        if not _loopback(address[0]):
            _refuse(f"{address[0]}:{address[1]}")
    else:
        _refuse(f"socket family {sock.family!r}")


_connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
_getaddrinfo = socket.getaddrinfo


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def sendto(self, data, *args):
    _check(self, args[-1])
    return _sendto(self, data, *args)


def getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _loopback(name):
        try:
            ipaddress.ip_address(str(name).split("%", 1)[0])  # an address needs no lookup
        except ValueError:
            _refuse(f"name lookup of {name!r}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
socket.getaddrinfo = getaddrinfo
'''


__all__ = [
    "GUARD",
    "NAMESPACES",
    "STOPPED_PROCESSES",
    "STOPPED_TIMEOUT",
    "Limits",
    "SandboxResult",
    "SandboxUnavailable",
    "namespaces_available",
    "sandbox_environment",
    "sandbox_run",
    "sandbox_spawn",
]
