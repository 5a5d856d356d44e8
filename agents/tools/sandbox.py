"""Running code nobody on the platform wrote — the tests a model wrote, a generated application's
suite, a legacy code base's tests and its ``conftest.py``, a customer's preview server — inside a
bubblewrap sandbox. ``sandbox_run`` is the one way the tools start such code and wait for it;
``sandbox_spawn`` starts a long-running one (a preview, see agents/previews.py) the same way and
returns.

**Threat model.** Everything in the tree under test is hostile (DESIGN.md, "Trust model"): it
runs with whatever it can reach and tries to read the platform's secrets (``/etc/shadow``, the
checkout's settings, ``.run/``, logs, other tenants' storage), to write where the host will
later execute or trust it (the checkout, the venv's ``site-packages``, host ``/tmp``), to reach
the machine's services (PostgreSQL's socket, Redis and anything on 127.0.0.1), and to outlive or
out-grow its run. The walls, and what each stops:

- *mount namespace with an allow-list root* (bubblewrap): only ``/usr`` and its ``/bin``,
  ``/lib`` links, the Python runtime and venv, a handful of harmless ``/etc`` files (generated
  ``passwd``/``group``/``hosts``; no ``shadow``) — all read-only — and the one tree under test
  read-write; private tmpfs ``/tmp`` and HOME; a fresh ``/proc``; bubblewrap's minimal ``/dev``;
  besides, only what the caller names for the run: ``writable`` scratch directories (a report it
  reads back as hostile) and ``read_only`` paths (the platform's helper scripts; a wheelhouse the
  host downloaded and the packages installed from it for a legacy code base's tests,
  ``agents.legacy.pins`` — the host fetches, the sandbox never gets a network for it).
  Reading or writing anything else of the host fails because it is not there;
- *network namespace*: a loopback of its own (the suite's own servers work), no route to the
  host's 127.0.0.1 or the internet; Unix sockets of the host are not in the filesystem;
- *an unprivileged host uid* (``HIVE_SANDBOX_UID``, default 65534): a worker running as root
  switches to it with ``setpriv`` before bubblewrap, so even a kernel or mount mistake leaves a
  process that owns nothing on the host; the tree under test is lent to its group for the run
  and what it made there is given to the tree's owner afterwards (below);
- *PID, IPC, UTS, cgroup and user namespaces*, no capabilities, ``no_new_privs``, no nested user
  namespaces: it cannot see, signal or ptrace the worker, nor read the worker's environment;
- *lifetime*: ``--die-with-parent`` (bubblewrap dies with the worker thread that started it,
  the sandbox's init with bubblewrap) and the PID namespace (when its init ends, the kernel
  kills everything in it): a worker killed with SIGKILL leaves nothing behind. The command
  itself waits at a gate until the worker has seen bubblewrap's init, so a worker killed while
  its sandbox starts does not leave one running either (bubblewrap's own init, blocked in its
  start-up handshake when its parent dies at that moment, runs nothing and is killed at the next
  sandbox's start). A spawned server outlives the thread that started it through a keeper shell
  and ends when its process group is killed;
- *limits*: rlimits (CPU, address space, file size, open files, processes, no core), a
  wall-clock timeout, a process watchdog and an output cap (below).

Where bubblewrap or unprivileged user namespaces are unavailable, running untrusted code is
**refused** (``SandboxUnavailable`` names what the host lacks). ``HIVE_SANDBOX_ALLOW_UNSAFE_GUARD``
lets a development machine fall back to the old Python socket guard, logged on every run as not
a boundary (``isolation="guard"``).

**Why a hand-written wrapper around bubblewrap.** bubblewrap does the isolation; what no
maintained library does is the part around it that this platform needs: computing the allow-list
for *this* interpreter (a venv that may be a symlink to another checkout's, whose interpreter
lives under ``/root``, mode 0700, which the sandbox uid cannot traverse), lending the tree to the
sandbox's group, and the limits, watchdog and output capture. bubblewrap's ``--ro-bind-fd`` does not
help with ``/root``: it re-resolves the descriptor's path, with the sandbox uid's permissions. So
a root worker binds each source the sandbox uid cannot reach onto an empty directory (a
stand-in, in a directory of the worker's that only it writes) in a private mount namespace of
its own (``unshare --mount``; the mounts never reach the host's namespace), and bubblewrap binds
it from there to its usual path.

**Processes.** ``RLIMIT_NPROC`` counts every process of the uid, so it is set to the uid's
current count plus the allowance; but a watchdog also counts the sandbox's processes (those of
its PID namespace, read from the sandbox's own ``/proc``, or of its process group in guard mode)
every ``WATCH_INTERVAL`` seconds and kills the run when there are more than allowed. The limits
go in through util-linux ``prlimit`` at the head of the command line, so the worker, which runs
jobs on threads, runs no Python between fork and exec.

**Output** (stdout and stderr together) is kept up to a limit, its head and its tail, with the
total size reported, so a flood neither fills the worker's memory nor an event.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import os
import resource
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

NAMESPACES, GUARD = "namespaces", "guard"
STOPPED_TIMEOUT, STOPPED_PROCESSES = "timeout", "processes"
WATCH_INTERVAL = 0.05
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Processes the sandbox's own set-up uses (bubblewrap twice, its init), beyond the allowance.
_SETUP_PROCESSES = 8
_SIGNALS = {int(number) for number in signal.Signals}
# Inside the sandbox: HOME and /tmp are tmpfs of their own, sized so that filling them costs the
# machine no more memory than one big file would.
SANDBOX_HOME, SANDBOX_TMP = "/home/sandbox", "/tmp"  # noqa: S108 - inside the sandbox, a tmpfs
# The platform's own code: a helper script of it named on a command line (the coverage runner,
# the preview relay) is made visible read-only, file by file; nothing else of the checkout is.
_PLATFORM_CODE = Path(__file__).resolve().parents[1]


def _configured(name: str, default: int) -> int:
    """A deployment's ``HIVE_SANDBOX_*`` setting, or the default outside Django."""
    from django.conf import settings

    return int(getattr(settings, name, default)) if settings.configured else default


def sandbox_uid() -> int:
    """The host uid (and gid) sandboxed code runs as when the worker is root."""
    return _configured("HIVE_SANDBOX_UID", 65534)


def unsafe_guard_allowed() -> bool:
    """Whether this deployment accepts the socket guard, which is not a boundary, where the real
    sandbox cannot run (development machines only)."""
    from django.conf import settings

    if settings.configured and hasattr(settings, "HIVE_SANDBOX_ALLOW_UNSAFE_GUARD"):
        return bool(settings.HIVE_SANDBOX_ALLOW_UNSAFE_GUARD)
    return os.environ.get("HIVE_SANDBOX_ALLOW_UNSAFE_GUARD", "") in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float = 600.0  # wall clock, the whole run
    cpu_seconds: int = field(default_factory=lambda: _configured("HIVE_SANDBOX_CPU_SECONDS", 600))  # per process
    # address space per process
    memory_bytes: int = field(default_factory=lambda: _configured("HIVE_SANDBOX_MEMORY_MB", 2048) * 1024**2)
    file_bytes: int = 256 * 1024**2  # the largest file it may write (and the size of its /tmp)
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
    """The isolation asked for cannot be had on this machine; the message says what it lacks."""


def sandbox_environment(*, home: Path, tmp: Path, **extra: str) -> dict[str, str]:
    """The whole environment of a sandboxed command: nothing is inherited from the worker."""
    return {
        "PATH": f"{Path(sys.executable).parent}:{_SYSTEM_PATH}",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "USER": "sandbox",
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
    writable: Sequence[Path] = (),
    read_only: Sequence[Path] = (),
) -> SandboxResult:
    """Run ``argv`` in ``cwd`` (the tree under test, read-write) inside the sandbox and return how
    it went; never raises for what the command does (a missing program is exit code 127).

    ``writable`` are further host directories the command may write (a scratch directory for a
    report the caller reads back — as hostile as the tree afterwards), ``read_only`` host files
    or directories it may read; each appears at its own path. Raises ``SandboxUnavailable`` when
    the host cannot sandbox and the deployment does not accept the guard."""
    return _run(
        argv,
        cwd=cwd.resolve(),
        limits=limits or Limits(),
        env=env,
        mode=_isolation(isolation),
        writable=writable,
        read_only=read_only,
    )


def _run(
    argv: Sequence[str],
    *,
    cwd: Path,
    limits: Limits,
    env: Mapping[str, str] | None,
    mode: str,
    writable: Sequence[Path] = (),
    read_only: Sequence[Path] = (),
) -> SandboxResult:
    if mode == GUARD:
        with tempfile.TemporaryDirectory(prefix="hive-sandbox-") as scratch:
            command, environment = _guarded(argv, cwd=cwd, scratch=Path(scratch).resolve(), env=env)
            return _supervise(command, cwd=cwd, environment=environment, limits=limits, mode=mode)
    trees = [cwd, *(Path(path).resolve() for path in writable)]
    with _lent(trees):
        plan = _plan(
            argv,
            cwd=cwd,
            scratch=None,
            env=env,
            limits=limits,
            writable=trees[1:],
            read_only=read_only,
            die_with_parent=True,
            describe=True,
        )
        try:
            return _supervise(
                plan.command,
                cwd=Path("/"),
                environment=plan.environment,
                limits=limits,
                mode=mode,
                fds=plan.fds,
                info=plan.info,
            )
        finally:
            plan.close()
            plan.remove_stand_ins()


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
    die_with_parent: bool = False,
    writable: Sequence[Path] = (),
    read_only: Sequence[Path] = (),
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in ``cwd`` inside the sandbox and return at once (a long-running server).

    The same walls and per-process limits as ``sandbox_run``, but no wall-clock timeout, no
    process watchdog and no output capture: stdout and stderr go to the file descriptor
    ``output`` (discarded when None). The command runs in a session and process group of its own
    whose leader is the returned process (a keeper shell waiting for bubblewrap, or bubblewrap
    itself with ``die_with_parent``; its command line ends with ``argv``): the caller stops it
    with ``os.killpg(process.pid, ...)`` — everything in the sandbox dies with bubblewrap — and
    reaps it. With ``session=False`` the group is made in the caller's session
    instead, so that the caller can start companions in it (``setpgid`` joins only a group of
    one's own session).

    ``scratch`` is an existing directory the caller owns for the life of the command and removes
    after it: it is visible inside at its own path (read-write), HOME and TMPDIR are made there,
    and a Unix socket made there is how the host reaches the server. ``cwd`` and ``scratch`` are
    lent to the sandbox for the life of the command; ``sandbox_reclaim`` gives them back.

    ``die_with_parent``: a preview must outlive the request or task that started it (it is
    stopped through its process group), so by default the sandbox lives until it is stopped or
    its command ends. With True it is also killed when the thread that spawned it ends or the
    worker dies. ``pass_fds`` are file descriptors the command inherits (a preview's listening
    socket, made on the host where no sandbox can reach its path). Raises ``OSError`` when the
    program cannot be started."""
    limits = limits or Limits()
    cwd, scratch = cwd.resolve(), scratch.resolve()
    mode = _isolation(isolation)
    sink = subprocess.DEVNULL if output is None else output
    if mode == GUARD:
        command, environment = _guarded(argv, cwd=cwd, scratch=scratch, env=env)
        fds: tuple[int, ...] = ()
        run_in = cwd
    else:
        trees = [cwd, scratch, *(Path(path).resolve() for path in writable)]
        _lend(trees)
        plan = _plan(
            argv,
            cwd=cwd,
            scratch=scratch,
            env=env,
            limits=limits,
            writable=trees[1:],
            read_only=read_only,
            die_with_parent=die_with_parent,
        )
        command, environment, fds, run_in = plan.command, plan.environment, plan.fds, Path("/")
    command, preexec = _limited(command, _rlimits(limits, sandboxed=mode != GUARD))
    try:
        started = _spawn_start(
            command,
            cwd=run_in,
            environment=environment,
            sink=sink,
            session=session,
            preexec=preexec,
            fds=(*fds, *pass_fds),
        )
    except OSError:
        if mode != GUARD:
            sandbox_reclaim(*trees)
        raise
    finally:
        if mode != GUARD:
            plan.close()
    return started


def _spawn_start(
    command: list[str],
    *,
    cwd: Path,
    environment: dict[str, str],
    sink: int,
    session: bool,
    preexec: Callable[[], None] | None,
    fds: tuple[int, ...],
) -> subprocess.Popen[bytes]:
    """Start a spawned command: no input, its output on ``sink``, in a session of its own (or a
    process group of its own in the caller's session). Raises ``OSError``."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=sink,
        stderr=sink,
        start_new_session=session,
        process_group=None if session else 0,
        preexec_fn=preexec,
        pass_fds=fds,
    )


def sandbox_reclaim(*paths: Path) -> None:
    """Give trees lent to a spawned sandbox back to their owners once it has ended."""
    for path in paths:
        _release(Path(path).resolve())


# --- the bubblewrap command line ---------------------------------------------------------------------

# Root's stage before bubblewrap, in a private mount namespace of its own: bind each source the
# sandbox uid cannot reach onto its empty stand-in in the run's scratch, then become the
# command (setpriv, then bubblewrap). Arguments: pairs of source and stand-in, "--", the command.
_STAGE = 'while [ "$1" != "--" ]; do "$0" --bind "$1" "$2" || exit 125; shift 2; done; shift; exec "$@"'
# Inside, before the command: wait for the worker's "go" on stdin. The worker sends it once
# bubblewrap has reported its init, that is once bubblewrap's parent-death signal is in place; a
# worker killed before then closes the pipe, and the command never starts (no orphan).
_GATE = 'IFS= read -r go && [ "$go" = go ] || exit 125; exec "$@" </dev/null'
# Top-level links of a merged /usr (Debian's), recreated inside; real directories are bound.
_ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# From /etc, only what programs need to start and that holds nothing of the host's secrets.
_ETC_SHARED = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "os-release", "mime.types")


def _binary(name: str) -> str | None:
    return shutil.which(name, path=_SYSTEM_PATH)


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as() -> tuple[int, int]:
    """The host uid and gid sandboxed code runs as."""
    if _as_root():
        uid = sandbox_uid()
        if uid == 0:
            raise SandboxUnavailable("HIVE_SANDBOX_UID must not be 0: sandboxed code never runs as root")
        return uid, uid
    return os.getuid(), os.getgid()


@dataclass(slots=True)
class _Plan:
    command: list[str]
    environment: dict[str, str]
    fds: tuple[int, ...]  # passed to the command, closed in the worker once it started
    info: int = -1  # the worker's end of bubblewrap's --info-fd (sandbox_run reads the init's pid)
    stand_ins: list[Path] = field(default_factory=list)  # this run's own, removed after it

    def remove_stand_ins(self) -> None:
        for path in self.stand_ins:
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() else path.unlink()

    def close(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _data(text: str) -> int:
    """A descriptor bubblewrap reads a generated file from (small: fits a pipe's buffer)."""
    read, write = os.pipe()
    os.write(write, text.encode())
    os.close(write)
    return read


def _reachable(path: Path, uid: int, gid: int) -> bool:
    """Whether ``uid`` may look ``path`` up: every directory above it searchable for it."""
    for parent in reversed(path.parents):
        try:
            status = parent.stat()
        except OSError:
            return False
        bit = 0o100 if status.st_uid == uid else 0o010 if status.st_gid == gid else 0o001
        if not status.st_mode & bit:
            return False
    return True


class _Layout:
    """The runtime's part of the allow-list (the same for every run, computed once): links to
    recreate and real paths to bind read-only, in the order bubblewrap must apply them."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, str, str]] = []  # ("link", target, where) or ("bind", path, path)
        self.links: set[str] = set()
        self.bound: list[Path] = []

    def bind(self, path: Path) -> None:
        if not self.covered(path):
            self.bound.append(path)
            self.ops.append(("bind", str(path), str(path)))

    def link(self, target: str, where: Path) -> None:
        if str(where) not in self.links and not self.covered(where):
            self.links.add(str(where))
            self.ops.append(("link", target, str(where)))

    def expose(self, path: Path, *, depth: int = 0) -> None:
        """``path`` at the path it is named by: every symlink on the way recreated inside as the
        same link (one inside a bound directory is there already; its target may not be), then
        the real file or directory bound."""
        if depth > 20:
            raise SandboxUnavailable(f"too many symlinks resolving {path}")
        current = Path("/")
        for index, part in enumerate(path.parts[1:], start=2):
            current = current / part
            if current.is_symlink():
                target = os.readlink(current)
                self.link(target, current)
                resolved = Path(os.path.normpath(current.parent / target))
                self.expose(resolved.joinpath(*path.parts[index:]), depth=depth + 1)
                return
        if path.exists():
            self.bind(path)

    def covered(self, path: Path) -> bool:
        return any(path.is_relative_to(bound) for bound in self.bound)


@functools.cache
def _layout() -> tuple[tuple[str, str, str], ...]:
    layout = _Layout()
    for name in _ROOT_LINKS:
        path = Path("/", name)
        if path.is_symlink():
            layout.link(os.readlink(path), path)
        elif path.is_dir():
            layout.bind(path)
    layout.bind(Path("/usr"))
    for name in _ETC_SHARED:
        layout.expose(Path("/etc", name))
    for path in _runtime():
        layout.expose(path)
    return tuple(layout.ops)


# Stand-ins live in a directory of their own per worker process (the runtime's are made once and
# reused by every run: an empty directory can be a mount point in any number of private mount
# namespaces at once), or, for a spawned sandbox, in its scratch directory.
_stash_lock = threading.Lock()
_stash: dict[int, Path] = {}  # pid → the process's stash (a forked child makes its own)
_stand_ins: dict[str, Path] = {}  # a runtime source → its stand-in in the process's stash


def _process_stash() -> Path:
    with _stash_lock:
        pid = os.getpid()
        if pid not in _stash or not _stash[pid].is_dir():  # forked, or removed by a /tmp cleaner
            _stash.clear()
            _stand_ins.clear()
            path = Path(tempfile.mkdtemp(prefix="hive-sandbox-stash-"))
            os.chmod(path, 0o711)  # noqa: S103 - the sandbox uid looks its stand-ins up, no listing
            _stash[pid] = path
            atexit.register(_remove_stash, pid, path)
        return _stash[pid]


def _remove_stash(pid: int, path: Path) -> None:
    if os.getpid() == pid:
        shutil.rmtree(path, ignore_errors=True)


class _Mounts:
    """One run's allow-list, as bubblewrap arguments, and the stand-ins root must stage."""

    def __init__(self, *, uid: int, gid: int, stash: Path, shared: bool) -> None:
        self.uid, self.gid, self.stash, self.shared = uid, gid, stash, shared
        self.args: list[str] = []
        self.staged: list[str] = []  # source, stand-in, source, stand-in ...
        self.bound: set[Path] = set()
        self.temporary: list[Path] = []  # stand-ins of this run only, removed after it

    def _source(self, path: Path, *, runtime: bool) -> str:
        """Where bubblewrap, as the sandbox uid, finds ``path``: itself, or its stand-in."""
        if not _as_root() or _reachable(path, self.uid, self.gid):
            return str(path)
        with _stash_lock:
            stand_in = _stand_ins.get(str(path)) if self.shared and runtime else None
            if stand_in is None or not stand_in.exists():
                stand_in = self.stash / f"{'s' if self.shared and runtime else 'r'}{uuid.uuid4().hex}"
                if path.is_dir():
                    stand_in.mkdir()
                else:
                    stand_in.touch()
                if self.shared and runtime:
                    _stand_ins[str(path)] = stand_in
                else:
                    self.temporary.append(stand_in)
        self.staged += [str(path), str(stand_in)]
        return str(stand_in)

    def bind(self, path: Path, *, write: bool = False, runtime: bool = False) -> None:
        """``path`` (real, no symlink in it) at its own path."""
        if path in self.bound:
            return
        self.bound.add(path)
        self.args += ["--bind" if write else "--ro-bind", self._source(path, runtime=runtime), str(path)]

    def apply(self, ops: Iterable[tuple[str, str, str]]) -> None:
        for kind, source, where in ops:
            if kind == "link":
                self.args += ["--symlink", source, where]
            else:
                self.bind(Path(source), runtime=True)


def _runtime() -> list[Path]:
    """What the interpreter needs: the venv as it is named, its interpreter, the base install."""
    # The base install first: the interpreter the venv links to then lies inside a bound tree.
    paths = [Path(sys.base_prefix), Path(sys.base_exec_prefix), Path(sys.prefix), Path(sys.executable)]
    return list(dict.fromkeys(Path(os.path.abspath(path)) for path in paths))


def _platform_scripts(argv: Sequence[str]) -> list[Path]:
    found = []
    for argument in argv:
        if argument.startswith("/") and len(argument) < 4096:
            path = Path(argument)
            with contextlib.suppress(OSError):
                if path.is_file() and path.resolve().is_relative_to(_PLATFORM_CODE):
                    found.append(path.resolve())
    return found


def _etc(uid: int, gid: int) -> list[tuple[str, str]]:
    """Generated /etc files: who the sandbox's users are, and that localhost is the loopback."""
    return [
        (
            "/etc/passwd",
            f"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:{uid}:{gid}:sandbox:{SANDBOX_HOME}:/bin/sh\n"
            if uid != 0
            else f"root:x:0:0:root:{SANDBOX_HOME}:/bin/sh\n",
        ),
        ("/etc/group", f"root:x:0:\nsandbox:x:{gid}:\n" if gid != 0 else "root:x:0:\n"),
        ("/etc/hosts", "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost ip6-loopback\n"),
        ("/etc/hostname", "sandbox\n"),
        ("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n"),
    ]


def _plan(
    argv: Sequence[str],
    *,
    cwd: Path,
    scratch: Path | None,
    env: Mapping[str, str] | None,
    limits: Limits,
    writable: Sequence[Path],
    read_only: Sequence[Path],
    die_with_parent: bool,
    describe: bool = False,
) -> _Plan:
    """The full command line (stage, setpriv, bubblewrap, ``argv``), its environment and the
    descriptors it reads generated files from. Without ``scratch`` (a run), HOME and /tmp are
    private tmpfs; with it (a spawned server), HOME and TMPDIR are made in it and it is visible."""
    bwrap = _binary("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(_MISSING_BWRAP)
    uid, gid = _run_as()
    mounts, fds, home, tmp = _plan_mounts(
        argv, cwd=cwd, scratch=scratch, limits=limits, writable=writable, read_only=read_only, uid=uid, gid=gid
    )
    flags = ["--unshare-all", "--unshare-user", "--disable-userns", "--hostname", "sandbox"]
    # --die-with-parent: the sandbox's init dies with bubblewrap, and bubblewrap with the thread
    # that started it (a spawned server that must outlive that thread gets a keeper, below).
    flags += ["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--chdir", str(cwd)]
    info = -1
    if describe:  # bubblewrap writes its init's pid there, for the watchdog and the gate
        info, write_end = os.pipe()
        fds.append(write_end)
        flags += ["--info-fd", str(write_end)]
        argv = [_binary("sh") or "/bin/sh", "-c", _GATE, "sandbox", *argv]
    command = [bwrap, *flags, *mounts.args, "--", *argv]
    command = _plan_privileges(command, uid=uid, gid=gid, staged=mounts.staged, die_with_parent=die_with_parent)
    environment = sandbox_environment(home=home, tmp=tmp, **(env or {}))
    return _Plan(command, environment, tuple(fds), info, mounts.temporary)


def _plan_mounts(
    argv: Sequence[str],
    *,
    cwd: Path,
    scratch: Path | None,
    limits: Limits,
    writable: Sequence[Path],
    read_only: Sequence[Path],
    uid: int,
    gid: int,
) -> tuple[_Mounts, list[int], Path, Path]:
    """``_plan``'s filesystem: bubblewrap's mounts in order, the descriptors of the generated /etc
    files, and where HOME and TMPDIR are."""
    if scratch is None:
        mounts = _Mounts(uid=uid, gid=gid, stash=_process_stash(), shared=True)
    else:
        stash = scratch / ".stash"
        stash.mkdir(exist_ok=True)
        if _as_root():
            # The sandbox uid must traverse scratch to find the stand-ins (search, no listing).
            for path in (scratch, stash):
                os.chmod(path, path.stat().st_mode & 0o777 | 0o711)  # noqa: S103
        mounts = _Mounts(uid=uid, gid=gid, stash=stash, shared=False)
    # The private /tmp first: bubblewrap mounts in order, and a runtime that lives under /tmp (a
    # checkout cloned there, with its venv) must be bound on top of it, not hidden beneath it.
    mounts.args += ["--size", str(limits.file_bytes), "--perms", "1777", "--tmpfs", SANDBOX_TMP]
    mounts.apply(_layout())
    fds = []
    for destination, text in _etc(uid, gid):
        fds.append(_data(text))
        mounts.args += ["--ro-bind-data", str(fds[-1]), destination]
    mounts.args += ["--proc", "/proc", "--dev", "/dev"]
    if scratch is None:
        home, tmp = Path(SANDBOX_HOME), Path(SANDBOX_TMP)
        mounts.args += ["--size", str(limits.file_bytes), "--perms", "0700", "--tmpfs", SANDBOX_HOME]
    else:
        home, tmp = scratch / "home", scratch / "tmp"
        for path in (home, tmp):
            path.mkdir(exist_ok=True)
            if _as_root():
                os.chown(path, uid, gid)
    for path in [*_platform_scripts(argv), *(Path(p).resolve() for p in read_only)]:
        mounts.bind(path)
    # The writable trees last, so that a tree below a read-only directory is still writable.
    for path in [cwd, *writable, *([] if scratch is None else [scratch])]:
        mounts.bind(path, write=True)
    if scratch is not None:  # the stand-ins staged in scratch are none of the command's business
        mounts.args += ["--size", "4096", "--tmpfs", str(scratch / ".stash")]
    # bubblewrap's root is a tmpfs without a size: read-only, so that only the sized /tmp and
    # HOME and the lent trees take writes.
    mounts.args += ["--remount-ro", "/"]
    return mounts, fds, home, tmp


def _plan_privileges(command: list[str], *, uid: int, gid: int, staged: list[str], die_with_parent: bool) -> list[str]:
    """``_plan``'s command wrapped in what drops the worker's privileges (a root worker: setpriv to
    the sandbox uid, after the staging mount namespace) and, for a server, the keeper shell."""
    if _as_root():
        setpriv = _binary("setpriv")
        if setpriv is None:
            raise SandboxUnavailable(_MISSING_SETPRIV)
        drop = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
        drop += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        # Set after the uid changes (which clears it), so that the moment between setpriv and
        # bubblewrap's own --die-with-parent is covered too.
        drop += ["--pdeathsig", "SIGKILL"] if die_with_parent else []
        command = [*drop, "--", *command]
        if staged:
            unshare, shell, mount = _binary("unshare"), _binary("sh"), _binary("mount")
            if not (unshare and shell and mount):
                raise SandboxUnavailable(_MISSING_UTIL_LINUX)
            stage = [unshare, "--mount", "--propagation", "private", "--", shell, "-c", _STAGE, mount]
            command = [*stage, *staged, "--", *command]
    if not die_with_parent:
        # A shell that waits for bubblewrap (no exec, so not its parent-death signal): bubblewrap
        # then dies with the keeper, that is when its process group is killed, and not when the
        # thread that started it ends.
        shell = _binary("sh") or "/bin/sh"
        command = [shell, "-c", '"$@"; exit $?', "sandbox-keeper", *command]
    return command


# --- lending trees to the sandbox uid ------------------------------------------------------------------
#
# A root worker lends the tree under test to the sandbox's *group*: every directory and file gets
# that group with group read-write (directories also search) for the run, and its group and mode
# back afterwards. The owner stays the worker's, so host-side git, which refuses a repository
# whose directories another uid owns, keeps working on trees nested in a lent one (the story
# worktrees inside a project's main tree, tested in parallel). What the sandbox made is owned by
# its uid and is given to the tree's owner afterwards (the chown clears setuid and setgid bits;
# world-write is taken away). Trees may nest and overlap, and several runs may share one, so each
# entry is lent once, counted, and given back when the last run using it ends.

_lending = threading.Lock()
_lent_trees: dict[Path, int] = {}  # tree → runs using it
_tree_owners: dict[Path, tuple[int, int]] = {}  # tree → (uid, gid) of its root when first lent
_lent_entries: dict[str, tuple[int, int, int, int]] = {}  # path → (inode, original gid, mode, lends)
_granted: dict[Path, list[str]] = {}  # tree → the entries its lend counted


# Deeper entries (only a sandbox makes them) are left as they are: the walk holds a descriptor
# per level.
_MAX_DEPTH = 256
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _walk(tree: Path, prune: Callable[[str], bool]) -> Iterator[tuple[int, str, str, os.stat_result]]:
    """(descriptor of its directory, name, path, status) of ``tree`` and of every entry below it,
    never following a symlink: each directory is opened relative to its parent's descriptor with
    ``O_NOFOLLOW`` and checked to be the one listed, so an entry a running sandbox swaps for a
    symlink meanwhile is skipped, never followed. Directories for which ``prune(path)`` is true
    are not entered."""
    try:
        parent = os.open(tree.parent, _DIRECTORY)
    except OSError:
        return
    try:
        status = os.stat(tree.name, dir_fd=parent, follow_symlinks=False)
        yield parent, tree.name, str(tree), status
        top = os.open(tree.name, _DIRECTORY, dir_fd=parent)
    except OSError:
        return
    finally:
        os.close(parent)
    if os.fstat(top).st_ino != status.st_ino:
        os.close(top)
        return
    stack = [(top, str(tree), os.scandir(top))]
    try:
        while stack:
            directory, path, listing = stack[-1]
            entry = next(listing, None)
            if entry is None:
                listing.close()
                os.close(directory)
                stack.pop()
                continue
            child = f"{path}/{entry.name}"
            try:
                status = os.stat(entry.name, dir_fd=directory, follow_symlinks=False)
            except OSError:
                continue
            yield directory, entry.name, child, status
            if not stat.S_ISDIR(status.st_mode) or len(stack) >= _MAX_DEPTH or prune(child):
                continue
            try:
                below = os.open(entry.name, _DIRECTORY, dir_fd=directory)
            except OSError:
                continue
            if os.fstat(below).st_ino != status.st_ino:
                os.close(below)
                continue
            stack.append((below, child, os.scandir(below)))
    finally:
        for directory, _path, listing in stack:
            listing.close()
            os.close(directory)


def _open_entry(directory: int, name: str, status: os.stat_result) -> int | None:
    """The entry itself, opened without following a symlink, if it is still the one listed."""
    if stat.S_ISLNK(status.st_mode) or stat.S_ISSOCK(status.st_mode):
        return None
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        opened = os.open(name, flags, dir_fd=directory)
    except OSError:
        return None
    if os.fstat(opened).st_ino != status.st_ino:
        os.close(opened)
        return None
    return opened


def _grant(directory: int, name: str, path: str, status: os.stat_result, uid: int, gid: int) -> bool:
    """Open one entry to the sandbox's group; False when it is not lent (a symlink, a socket, the
    sandbox's own, or a regular file with several links, which may be a hard link to a file
    outside the tree — an archive can carry one — that must stay closed)."""
    mode = status.st_mode
    if status.st_uid == uid or (stat.S_ISREG(mode) and status.st_nlink > 1):
        return False
    entry = _lent_entries.get(path)
    if entry is not None and entry[0] == status.st_ino:
        _lent_entries[path] = (*entry[:3], entry[3] + 1)
        return True
    opened = _open_entry(directory, name, status)
    if opened is None:
        return False
    try:
        _lent_entries[path] = (status.st_ino, status.st_gid, stat.S_IMODE(mode), 1)
        os.fchown(opened, -1, gid)  # clears setuid/setgid bits: the mode comes back afterwards
        os.fchmod(opened, stat.S_IMODE(mode) | 0o060 | (0o010 if stat.S_ISDIR(mode) or mode & 0o100 else 0))
    finally:
        os.close(opened)
    return True


def _lend(trees: Iterable[Path]) -> None:
    """Lend the trees to the sandbox's group (a root worker only)."""
    if not _as_root():
        return
    uid, gid = _run_as()
    with _lending:
        for tree in trees:
            runs = _lent_trees.get(tree, 0)
            _lent_trees[tree] = runs + 1
            if runs:
                continue
            status = tree.stat()
            _tree_owners[tree] = (status.st_uid, status.st_gid)
            if any(tree.is_relative_to(other) for other in _lent_trees if other != tree):
                # Inside a lent tree, where a sandbox may be running: its entries are open to the
                # group already; count them (from the records, not the disk) so that they stay open
                # until this run ends too.
                inside = [path for path in _lent_entries if Path(path).is_relative_to(tree)]
                for path in inside:
                    inode, group, mode, lends = _lent_entries[path]
                    _lent_entries[path] = (inode, group, mode, lends + 1)
                _granted[tree] = inside
                continue
            nested = {str(other) for other in _lent_trees if other != tree}  # lent on their own
            _granted[tree] = [
                path
                for directory, name, path, status in _walk(tree, nested.__contains__)
                if _grant(directory, name, path, status, uid, gid)
            ]


def _release(tree: Path) -> None:
    """Give one run's lend of ``tree`` back; the last one restores it."""
    with _lending:
        runs = _lent_trees.get(tree, 0)
        if runs != 1:
            if runs:
                _lent_trees[tree] = runs - 1
            return
        del _lent_trees[tree]
        owner, group = _tree_owners.pop(tree)
        uid, _gid = _run_as()
        granted = set(_granted.pop(tree, []))
        still_lent = [str(other) for other in _lent_trees]
        for directory, name, path, status in _walk(tree, set(still_lent).__contains__):
            if path in granted:
                granted.discard(path)
                if _unlend(path, directory, name, status):
                    continue
            if status.st_uid != uid or any(path == other or path.startswith(other + "/") for other in still_lent):
                continue  # not the sandbox's, or made by a sandbox that still runs
            with contextlib.suppress(OSError):
                os.chown(name, owner, group, dir_fd=directory, follow_symlinks=False)
                opened = _open_entry(directory, name, status)
                if opened is not None:
                    os.fchmod(opened, stat.S_IMODE(status.st_mode) & ~(0o002 | stat.S_ISUID | stat.S_ISGID))
                    os.close(opened)
        for path in granted:  # gone, or moved away by the sandbox: only the record goes
            _unlend(path, -1, "", None)


def _unlend(path: str, directory: int, name: str, status: os.stat_result | None) -> bool:
    """One lend of a recorded entry less; the last restores its group and mode (when the entry
    found is still the one lent: True)."""
    inode, original_group, mode, lends = _lent_entries[path]
    if lends > 1:
        _lent_entries[path] = (inode, original_group, mode, lends - 1)
        return status is not None and status.st_ino == inode
    del _lent_entries[path]
    if status is None or status.st_ino != inode:
        return False
    opened = _open_entry(directory, name, status)
    if opened is not None:
        with contextlib.suppress(OSError):
            os.fchown(opened, -1, original_group)
            os.fchmod(opened, mode)
        os.close(opened)
    return True


@contextlib.contextmanager
def _lent(trees: Sequence[Path]) -> Iterator[None]:
    _lend(trees)
    try:
        yield
    finally:
        for tree in trees:
            _release(tree)


# --- whether this host can sandbox -------------------------------------------------------------------

_MISSING_BWRAP = "bubblewrap is not installed (no bwrap on PATH): apt-get install bubblewrap"
_MISSING_SETPRIV = "setpriv is not installed (util-linux): apt-get install util-linux"
_MISSING_UTIL_LINUX = "unshare, sh and mount are needed to stage the runtime (util-linux): apt-get install util-linux"
_PROBE = (
    "import os, socket\n"
    "server = socket.create_server(('127.0.0.1', 0))\n"
    "socket.create_connection(server.getsockname()[:2], timeout=5).close()\n"
    "print('ok', os.getuid())\n"
)


# How long a failed check stands before the next run checks again (a success stands for good).
RECHECK_SECONDS = 60.0
_checked: dict[str, tuple[str, float]] = {}  # "last" → (problem, when)
_checking = threading.Lock()


def sandbox_problem() -> str:
    """Why this host cannot run the sandbox ("" when it can): checked by starting one, with a
    loopback connection inside, as the sandbox uid — once per process when it works, again after
    ``RECHECK_SECONDS`` when it did not (a busy moment must not disable the sandbox for good)."""
    with _checking:
        problem, when = _checked.get("last", ("", -1.0))
        if when >= 0 and (not problem or time.monotonic() - when < RECHECK_SECONDS):
            return problem
        problem = _check()
        _checked["last"] = (problem, time.monotonic())
        if problem:
            log.error("sandbox: untrusted code cannot run on this host: %s", problem)
        return problem


def sandbox_recheck() -> None:
    """Forget the last check (after the host was fixed, or in tests)."""
    with _checking:
        _checked.clear()


def _check() -> str:
    if _binary("bwrap") is None:
        return _MISSING_BWRAP
    try:
        with tempfile.TemporaryDirectory(prefix="hive-sandbox-probe-") as tree:
            result = _run(
                [sys.executable, "-c", _PROBE],
                cwd=Path(tree).resolve(),
                limits=Limits(timeout=30),
                env=None,
                mode=NAMESPACES,
            )
    except SandboxUnavailable as error:
        return str(error)
    except OSError as error:
        return f"the sandbox could not start: {error}"
    uid, _gid = _run_as()
    if result.exit_code != 0 or result.output.strip() != f"ok {uid}":
        return (
            f"bubblewrap could not start the sandbox as uid {uid} (where it is about namespaces, this host "
            "does not allow unprivileged user namespaces; check: sysctl user.max_user_namespaces, "
            "kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns; "
            f"try: setpriv --reuid={uid} --regid={uid} --clear-groups bwrap --unshare-all --ro-bind / / true): "
            + result.output.strip()[-500:]
        )
    return ""


def namespaces_available() -> bool:
    """Whether the bubblewrap sandbox works on this host (see ``sandbox_problem`` for why not)."""
    return not sandbox_problem()


def _isolation(asked: str) -> str:
    if asked not in ("auto", NAMESPACES, GUARD):
        raise ValueError(f"unknown isolation {asked!r}")
    if asked != GUARD:
        problem = sandbox_problem()
        if not problem:
            return NAMESPACES
        if asked == NAMESPACES or not unsafe_guard_allowed():
            raise SandboxUnavailable(f"refusing to run untrusted code without a sandbox: {problem}")
    elif not unsafe_guard_allowed():
        raise SandboxUnavailable("the socket guard is not a boundary; set HIVE_SANDBOX_ALLOW_UNSAFE_GUARD=1 to use it")
    log.warning("sandbox: running untrusted code under the socket guard, which is NOT a security boundary")
    return GUARD


def _guarded(
    argv: Sequence[str], *, cwd: Path, scratch: Path, env: Mapping[str, str] | None
) -> tuple[list[str], dict[str, str]]:
    """The command and environment under the guard: HOME and TMPDIR in ``scratch``, the guard on
    the child's PYTHONPATH."""
    home, tmp, guard = scratch / "home", scratch / "tmp", scratch / "guard"
    for path in (home, tmp, guard):
        path.mkdir(exist_ok=True)
    environment = sandbox_environment(home=home, tmp=tmp, **(env or {}))
    (guard / "sitecustomize.py").write_text(_GUARD.replace("__ALLOWED__", repr((str(cwd), str(tmp)))))
    environment["PYTHONPATH"] = str(guard)
    return list(argv), environment


# --- limits, the watchdog and the output -----------------------------------------------------------


def _bounded(kind: int, wanted: int) -> tuple[int, int]:
    """``wanted`` as soft and hard limit, but never above the hard limit the worker already has."""
    _soft, hard = resource.getrlimit(kind)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    return value, value


def _user_tasks(user: int, *, sweep: bool = False) -> int:
    """Processes (threads included, as the kernel counts them) of a user; with ``sweep``, first
    kill the user's stranded sandbox inits (``_stranded``)."""
    count = 0
    own = os.readlink("/proc/self/ns/pid")
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid != user:
                    continue
                if sweep and _stranded(int(entry.name), own):
                    os.kill(int(entry.name), signal.SIGKILL)
                    continue
                count += len(os.listdir(f"{entry.path}/task"))
    return count


def _stranded(pid: int, own_namespace: str) -> bool:
    """Whether ``pid`` is a sandbox's init left waiting for ever: bubblewrap's child waits for
    its parent to write its uid map before it sets its own parent-death signal, so a parent
    killed in that moment (its worker killed while the sandbox started) leaves it blocked,
    orphaned, before any of the command ran. Every other init has a live bubblewrap parent."""
    bwrap = _binary("bwrap")
    if bwrap is None or os.readlink(f"/proc/{pid}/exe") != bwrap:
        return False
    if os.readlink(f"/proc/{pid}/ns/pid") == own_namespace:
        return False  # bubblewrap itself, not a sandbox's init
    parent = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[1].decode()
    try:
        return os.readlink(f"/proc/{parent}/exe") != bwrap
    except OSError:
        return True


def _rlimits(limits: Limits, *, sandboxed: bool) -> list[tuple[int, tuple[int, int]]]:
    processes = limits.processes + _SETUP_PROCESSES
    uid = _run_as()[0] if sandboxed else os.getuid()
    if uid != 0:  # root is not held to RLIMIT_NPROC, and counting its processes is moot
        # The kernel counts the uid's processes (every sandbox's, as they share it), so the
        # allowance goes on top of what it has now; the watchdog counts this sandbox alone.
        processes += _user_tasks(uid, sweep=sandboxed)
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


_PRLIMIT_NAMES = {
    resource.RLIMIT_CPU: "cpu",
    resource.RLIMIT_AS: "as",
    resource.RLIMIT_FSIZE: "fsize",
    resource.RLIMIT_NOFILE: "nofile",
    resource.RLIMIT_CORE: "core",
    resource.RLIMIT_NPROC: "nproc",
}


def _limited(
    command: list[str], rlimits: list[tuple[int, tuple[int, int]]]
) -> tuple[list[str], Callable[[], None] | None]:
    """``command`` started under the limits: through util-linux ``prlimit``, which sets them and
    executes it, so that the worker starts it without running Python between fork and exec (the
    worker runs jobs on threads); a ``preexec_fn`` of ``setrlimit`` calls only where prlimit is
    missing."""
    prlimit = _binary("prlimit")
    if prlimit is not None:
        options = [f"--{_PRLIMIT_NAMES[kind]}={soft}:{hard}" for kind, (soft, hard) in rlimits]
        return [prlimit, *options, "--", *command], None

    def apply() -> None:
        for kind, values in rlimits:
            resource.setrlimit(kind, values)

    return command, apply


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
        self.init = 0  # the host pid of the namespace's first process (bubblewrap's init)
        self.own = os.readlink("/proc/self/ns/pid")

    def note_init(self, pid: int) -> None:
        """Note the sandbox's init (bubblewrap reports it on its info descriptor) and its PID
        namespace."""
        with contextlib.suppress(OSError):
            namespace = os.readlink(f"/proc/{pid}/ns/pid")
            if namespace != self.own:
                self.namespace, self.init = namespace, pid

    def count(self) -> int:
        """Live processes of the sandbox."""
        if self.namespace:
            # The sandbox's own /proc lists its namespace's processes: one directory read instead
            # of a look at every process of the machine. Until bubblewrap has mounted it, the
            # init's root is still the host's, whose pid 1 is not the sandbox's.
            with contextlib.suppress(OSError):
                proc = f"/proc/{self.init}/root/proc"
                if os.readlink(f"{proc}/1/ns/pid") == self.namespace:
                    return sum(name.isdigit() for name in os.listdir(proc))
        if self.mode == NAMESPACES and not self.namespace:
            return 1  # bubblewrap has not made the namespace yet: nothing of the command runs
        count = 0
        for pid, group in live_processes():
            if not self.namespace:
                count += group == self.leader
                continue
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/{pid}/ns/pid") == self.namespace
        return count

    def kill(self) -> None:
        # The group holds bubblewrap; the namespace's first process dies with it
        # (--die-with-parent) and is killed here as well: when it dies the kernel kills the rest
        # of the namespace.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.leader, signal.SIGKILL)
        if self.init:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.init, signal.SIGKILL)

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


def _child_pid(described: bytes) -> int:
    """The host pid of the sandbox's init, from bubblewrap's ``--info-fd`` JSON (0 if none)."""
    try:
        return int(json.loads(described or b"{}").get("child-pid", 0))
    except (ValueError, TypeError, AttributeError):
        return 0


def _open_gate(process: subprocess.Popen[bytes], *, go: bool) -> None:
    """Let the command start (``_GATE``), or with ``go`` False only close the gate's pipe."""
    if process.stdin is None or process.stdin.closed:
        return
    with contextlib.suppress(OSError):
        if go:
            process.stdin.write(b"go\n")
        process.stdin.close()


def _supervise(
    command: list[str],
    *,
    cwd: Path,
    environment: dict[str, str],
    limits: Limits,
    mode: str,
    fds: tuple[int, ...] = (),
    info: int = -1,
) -> SandboxResult:
    started = time.monotonic()
    output = _Output(limits.output_bytes)
    command, preexec = _limited(command, _rlimits(limits, sandboxed=mode == NAMESPACES))
    try:
        process = _supervised_start(command, cwd=cwd, environment=environment, preexec=preexec, fds=fds, info=info)
    except OSError as error:
        if info >= 0:
            os.close(info)
        return SandboxResult(127, f"{command[0]}: {error}", 0, 0.0, "", mode, limits)
    assert process.stdout is not None
    watch = _Watch(process.pid, mode)
    stream = process.stdout.fileno()
    os.set_blocking(stream, False)
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    described = bytearray()  # what bubblewrap wrote on its info descriptor
    if info >= 0:
        selector.register(info, selectors.EVENT_READ)
    stopped, peak, exited_at, open_stream = "", 0, 0.0, True
    next_watch = started + WATCH_INTERVAL
    deadline = started + limits.timeout
    try:
        while True:
            if open_stream:
                open_stream = _read_ready(
                    selector, stream=stream, info=info, described=described, process=process, watch=watch, output=output
                )
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.02)
            now = time.monotonic()
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
        _supervision_end(selector, process=process, watch=watch)
    if info >= 0:
        os.close(info)
    return SandboxResult(
        exit_code=_exit_code(process.returncode, mode=mode),
        output=output.text(),
        output_bytes=output.total,
        seconds=round(time.monotonic() - started, 3),
        stopped=stopped,
        isolation=mode,
        limits=limits,
        peak_processes=peak,
    )


def _supervision_end(selector: selectors.BaseSelector, *, process: subprocess.Popen[bytes], watch: _Watch) -> None:
    """However supervision ends: the gate closes, the output pipe closes, and a command still
    running is killed with everything it started, and reaped."""
    selector.close()
    _open_gate(process, go=False)
    assert process.stdout is not None
    process.stdout.close()
    if process.poll() is None:
        watch.kill()
        process.wait()


def _supervised_start(
    command: list[str],
    *,
    cwd: Path,
    environment: dict[str, str],
    preexec: Callable[[], None] | None,
    fds: tuple[int, ...],
    info: int,
) -> subprocess.Popen[bytes]:
    """Start the supervised command in a session of its own, its output on one pipe (stdin is the
    gate's pipe when bubblewrap describes its init on ``info``). Raises ``OSError``."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.PIPE if info >= 0 else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec,
        pass_fds=fds,
    )


def _read_ready(
    selector: selectors.BaseSelector,
    *,
    stream: int,
    info: int,
    described: bytearray,
    process: subprocess.Popen[bytes],
    watch: _Watch,
    output: _Output,
) -> bool:
    """Read what is ready within a short wait: bubblewrap's description of its init (``info``:
    the watchdog learns the init's pid and the gate opens), then the command's output. False once
    the output stream has ended."""
    open_stream = True
    for key, _events in selector.select(timeout=0.02):
        if key.fd == info:
            chunk = os.read(info, 4096)
            described += chunk
            init = _child_pid(bytes(described))
            if init or not chunk:  # bubblewrap keeps the descriptor open
                selector.unregister(info)
                watch.note_init(init)
                _open_gate(process, go=bool(init))
            continue
        with contextlib.suppress(BlockingIOError):
            chunk = os.read(stream, 65536)
            if chunk:
                output.add(chunk)
            else:
                open_stream = False
                selector.unregister(stream)
    return open_stream


def _exit_code(code: int, *, mode: str) -> int:
    if mode == NAMESPACES and code > 128 and (code - 128) in _SIGNALS:
        return 128 - code  # bubblewrap's way of saying "killed by signal N"
    return code


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
    "live_processes",
    "namespaces_available",
    "sandbox_environment",
    "sandbox_problem",
    "sandbox_recheck",
    "sandbox_reclaim",
    "sandbox_run",
    "sandbox_spawn",
    "sandbox_uid",
]
