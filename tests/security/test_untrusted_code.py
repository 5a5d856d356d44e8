"""Attacks a hostile customer's code makes from inside the sandbox (agents/tools/sandbox.py), each
as a test: reading the host's secrets, writing where the host will trust it, reaching the
machine's services, running as root, a legacy upload's ``conftest.py``, and outliving a worker
killed with SIGKILL. Every attack is checked from outside too (the file on the host, the marker
the payload would have made)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

import agents.providers  # noqa: F401 - loads agents.work in the order it expects
from agents.tools.sandbox import (
    SandboxResult,
    namespaces_available,
    sandbox_reclaim,
    sandbox_run,
    sandbox_spawn,
    sandbox_uid,
)
from agents.work.modernization import legacy_tests

pytestmark = pytest.mark.skipif(not namespaces_available(), reason="bubblewrap cannot run on this host")

CHECKOUT = Path(django_settings.BASE_DIR)

READ = (
    "import sys\n"
    "for path in sys.argv[1:]:\n"
    "    try:\n"
    "        with open(path, 'rb') as file:\n"
    "            print('READ', path, file.read(40))\n"
    "    except OSError as error:\n"
    "        print('DENIED', path, type(error).__name__)\n"
)
WRITE = (
    "import sys\n"
    "for path in sys.argv[1:]:\n"
    "    try:\n"
    "        with open(path, 'w') as file:\n"
    "            file.write('pwned')\n"
    "        print('WROTE', path)\n"
    "    except OSError as error:\n"
    "        print('DENIED', path, type(error).__name__)\n"
)


def survivors(marker: str) -> list[int]:
    """Pids of live processes whose command line mentions ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except (OSError, IndexError):
            continue
        if marker in command and state != "Z":
            found.append(int(entry.name))
    return found


def _verdicts(result: SandboxResult) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in result.output.splitlines() if line.split()[:1] != []}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    path = tmp_path / "storage" / "alpha" / "projects" / "1" / "workspace"
    path.mkdir(parents=True)
    (path / "app.py").write_text("VALUE = 1\n")
    return path


# --- reading ---------------------------------------------------------------------------------------


def test_it_cannot_read_the_hosts_secrets(tree: Path, tmp_path: Path, settings: Any) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path / "storage"
    planted = tmp_path / "planted-secret.txt"
    planted.write_text("the platform's secret")
    theirs = tmp_path / "storage" / "beta" / "projects" / "2" / "workspace" / "secret.py"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("TOKEN = 'beta'\n")
    run_dir = CHECKOUT / ".run"
    run_dir.mkdir(exist_ok=True)
    run_secret = run_dir / f"security-test-{os.getpid()}"
    run_secret.write_text("demo-password")
    targets = [planted, Path("/etc/shadow"), CHECKOUT / "hive" / "settings.py", run_secret, theirs]
    try:
        for path in targets:  # the worker itself can read every one of them
            assert path.read_bytes()
        result = sandbox_run([sys.executable, "-c", READ, *map(str, targets)], cwd=tree)
    finally:
        run_secret.unlink()
    verdicts = _verdicts(result)
    assert result.ok, result.output
    assert verdicts == {str(path): "DENIED" for path in targets}, result.output
    assert "the platform's secret" not in result.output and "TOKEN" not in result.output


def test_it_sees_its_own_tree_and_nothing_of_the_checkout(tree: Path) -> None:
    look = (
        "import json, os, sys\n"
        "print(json.dumps([os.listdir('.'), os.path.exists(sys.argv[1]), os.path.exists(sys.argv[2]),"
        " sorted(os.listdir('/etc'))]))\n"
    )
    result = sandbox_run([sys.executable, "-c", look, str(CHECKOUT / "manage.py"), "/var/log"], cwd=tree)
    assert result.ok, result.output
    own, checkout_seen, logs_seen, etc = json.loads(result.output)
    assert (own, checkout_seen, logs_seen) == (["app.py"], False, False)
    assert "shadow" not in etc and "passwd" in etc


# --- writing ---------------------------------------------------------------------------------------


def test_it_cannot_write_outside_its_tree(tree: Path) -> None:
    name = f"hive-pwned-{os.getpid()}-{time.monotonic_ns()}"
    site_packages = Path(sysconfig.get_paths()["purelib"])
    targets = [
        CHECKOUT / "hive" / f"{name}.py",
        CHECKOUT / f"{name}.txt",
        site_packages / f"{name}.pth",
        Path(tempfile.gettempdir()) / name,
        tree.parent / name,  # beside the tree: its project's directory
    ]
    result = sandbox_run([sys.executable, "-c", WRITE, *map(str, targets), str(tree / "own.txt")], cwd=tree)
    try:
        assert result.ok, result.output
        assert [path for path in targets if path.exists()] == []
        verdicts = _verdicts(result)
        # The checkout and the venv are not there (a read-only root); /tmp is a private tmpfs that
        # takes the write and is gone with the sandbox: the host's files above are what count.
        # (A checkout cloned under /tmp is hidden by that private /tmp: a write there lands in the
        # sandbox's tmpfs, which the check above shows never reaches the host.)
        private = [str(path).startswith(tempfile.gettempdir().rstrip("/") + "/") for path in targets[:3]]
        assert all(verdicts[str(path)] == "DENIED" or hidden for path, hidden in zip(targets[:3], private, strict=True))
        assert "DENIED" in [verdicts[str(path)] for path in targets[:3]], result.output
        assert verdicts[str(tree / "own.txt")] == "WROTE"
        assert (tree / "own.txt").read_text() == "pwned"  # the tree itself is writable
    finally:
        for path in targets:
            path.unlink(missing_ok=True)


# --- the network ------------------------------------------------------------------------------------

CONNECT = (
    "import socket, sys\n"
    "for target in sys.argv[1:]:\n"
    "    try:\n"
    "        if target.startswith('/'):\n"
    "            sock = socket.socket(socket.AF_UNIX)\n"
    "            sock.settimeout(3)\n"
    "            sock.connect(target)\n"
    "        else:\n"
    "            host, port = target.rsplit(':', 1)\n"
    "            sock = socket.create_connection((host, int(port)), timeout=3)\n"
    "        sock.close()\n"
    "        print('CONNECTED', target)\n"
    "    except OSError as error:\n"
    "        print('REFUSED', target, type(error).__name__)\n"
)


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_it_cannot_reach_the_hosts_loopback_nor_postgresql(tree: Path, listener: int) -> None:
    postgres = next(Path("/var/run/postgresql").glob(".s.PGSQL.*"), None)
    targets = [f"127.0.0.1:{listener}"]
    socket.create_connection(("127.0.0.1", listener), timeout=3).close()  # the worker can
    if postgres is not None and stat.S_ISSOCK(postgres.stat().st_mode):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(postgres))  # the worker can
        targets.append(str(postgres))
    result = sandbox_run([sys.executable, "-c", CONNECT, *targets], cwd=tree)
    assert result.ok, result.output
    assert _verdicts(result) == dict.fromkeys(targets, "REFUSED"), result.output


# --- who it runs as ---------------------------------------------------------------------------------

HOLD = (
    "import os, pathlib, sys, time\n"
    "pathlib.Path('made-inside').write_text(str(os.getuid()))\n"
    "pathlib.Path('setuid-tool').write_text('#!/bin/sh\\n')\n"
    "os.chmod('setuid-tool', 0o4755)\n"
    "deadline = time.monotonic() + 60\n"
    "while not os.path.exists('go') and time.monotonic() < deadline:\n"
    "    time.sleep(0.02)\n"
    "print('done', sys.argv[1])\n"
)


def test_it_runs_as_an_unprivileged_host_uid_that_owns_only_its_tree_for_the_run(tree: Path) -> None:
    marker = f"hive-uid-test-{os.getpid()}-{time.monotonic_ns()}"
    owner = tree.stat().st_uid
    lent = {path: (path.stat().st_gid, path.stat().st_mode) for path in (tree, tree / "app.py")}
    results: list[SandboxResult] = []
    runner = threading.Thread(
        target=lambda: results.append(sandbox_run([sys.executable, "-c", HOLD, marker], cwd=tree)), daemon=True
    )
    runner.start()
    made = tree / "made-inside"
    deadline = time.monotonic() + 30
    while not made.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        # Seen from the host while it runs: its file and its process belong to the sandbox uid;
        # the tree stays the worker's, lent to the sandbox's group.
        assert made.stat().st_uid == sandbox_uid() != 0
        assert (tree.stat().st_uid, tree.stat().st_gid) == (owner, sandbox_uid())
        pids = survivors(marker)
        assert pids
        for pid in pids:
            uids = {
                line.split(":", 1)[0]: line.split()[1:]
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith(("Uid:", "Gid:"))
            }
            assert uids["Uid"] == [str(sandbox_uid())] * 4, uids
            assert "0" not in uids["Gid"]
    finally:
        (tree / "go").write_text("")
        runner.join(30)
    assert results and results[0].ok, results
    # Afterwards the tree is the worker's again, and the setuid bit did not survive the chown.
    for path in (tree, made, tree / "setuid-tool", tree / "app.py"):
        assert path.lstat().st_uid == owner, path
    assert not (tree / "setuid-tool").stat().st_mode & stat.S_ISUID
    assert {path: (path.stat().st_gid, path.stat().st_mode) for path in lent} == lent


def test_a_symlink_it_leaves_does_not_hand_the_host_file_over(tree: Path, tmp_path: Path) -> None:
    host_file = tmp_path / "host-owned.txt"
    host_file.write_text("host")
    before = host_file.stat()
    link = "import os, sys\nos.symlink(sys.argv[1], 'link')\nos.link('app.py', 'hard')\n"
    result = sandbox_run([sys.executable, "-c", link, str(host_file)], cwd=tree)
    assert result.ok, result.output
    assert (tree / "link").is_symlink()
    after = host_file.stat()
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    # Its own hard links are taken back with the rest of the tree.
    assert {path.name: path.lstat().st_uid for path in tree.iterdir()} == dict.fromkeys(
        ["app.py", "hard", "link"], tree.stat().st_uid
    )


# --- a legacy upload's conftest.py ------------------------------------------------------------------

CONFTEST = """
import os, pathlib
marker = pathlib.Path({marker!r})
try:
    marker.write_text("ran on the host as " + str(os.getuid()))
    outcome = "escaped"
except OSError as error:
    outcome = "contained: " + type(error).__name__
pathlib.Path("conftest-ran").write_text(outcome)
"""


def test_a_legacy_conftest_runs_only_inside_the_sandbox(tmp_path: Path) -> None:
    marker = tmp_path / "conftest-marker"
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "conftest.py").write_text(CONFTEST.format(marker=str(marker)))
    (legacy / "test_legacy.py").write_text(
        "import pathlib\n\n\ndef test_conftest_was_contained():\n"
        "    assert pathlib.Path('conftest-ran').read_text().startswith('contained')\n"
    )
    report = legacy_tests(legacy)
    assert report is not None
    assert not marker.exists()
    # The conftest did run (inside), and its test saw that it was contained.
    assert report.outcomes == {"test_legacy::test_conftest_was_contained": "passed"}, report.output


# --- no orphans -------------------------------------------------------------------------------------

WORKER = """
import sys
from pathlib import Path
sys.path.insert(0, {checkout!r})
from agents.tools.sandbox import sandbox_run
print("starting", flush=True)
sandbox_run([sys.executable, "-c", "import time; time.sleep(300)", {marker!r}], cwd=Path({tree!r}))
"""


def _stranded_inits() -> list[int]:
    """Sandbox inits (bubblewrap in a PID namespace of its own) whose bubblewrap parent is gone."""
    bwrap, own, found = shutil.which("bwrap"), os.readlink("/proc/self/ns/pid"), []
    for entry in os.scandir("/proc"):
        try:
            if not entry.name.isdigit() or entry.stat().st_uid != sandbox_uid():
                continue
            if os.readlink(f"{entry.path}/exe") != bwrap or os.readlink(f"{entry.path}/ns/pid") == own:
                continue
            parent = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1]
            if not Path(f"/proc/{parent}").exists() or os.readlink(f"/proc/{parent}/exe") != bwrap:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _sleepers(marker: str) -> list[int]:
    """The sandboxed sleeper itself (not bubblewrap, whose command line names it too)."""
    return [
        pid
        for pid in survivors(marker)
        if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(sys.executable.encode() + b"\0-c\0import time")
    ]


def test_a_worker_killed_mid_run_leaves_no_sandboxed_process(tree: Path) -> None:
    marker = f"hive-orphan-test-{os.getpid()}-{time.monotonic_ns()}"
    script = WORKER.format(checkout=str(CHECKOUT), marker=marker, tree=str(tree))
    worker = subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, "DJANGO_SETTINGS_MODULE": ""}, stdout=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _sleepers(marker):
            assert worker.poll() is None, "the worker ended before its sandbox started"
            time.sleep(0.05)
        assert _sleepers(marker), "the sandboxed sleeper never started"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and survivors(marker):
            time.sleep(0.1)
        assert survivors(marker) == []
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        for pid in survivors(marker):
            os.kill(pid, signal.SIGKILL)
        assert worker.stdout is not None
        worker.stdout.close()


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.02, 0.04])
def test_a_worker_killed_while_its_sandbox_starts_leaves_nothing(tree: Path, delay: float) -> None:
    """Killed between starting bubblewrap and bubblewrap's parent-death signal taking hold, the
    worker never opens the sandbox's gate: the command does not start, nothing lingers."""
    marker = f"hive-start-race-{os.getpid()}-{time.monotonic_ns()}"
    script = WORKER.format(checkout=str(CHECKOUT), marker=marker, tree=str(tree))
    worker = subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, "DJANGO_SETTINGS_MODULE": ""}, stdout=subprocess.PIPE
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline() == b"starting\n"
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and survivors(marker):
            time.sleep(0.1)
        assert survivors(marker) == []
        # Killed while bubblewrap set up (its own start-up check, the probe, included), an init
        # may be left blocked before anything ran: the next sandbox's start clears it.
        assert sandbox_run(["/usr/bin/true"], cwd=tree).ok
        assert _stranded_inits() == []
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        for pid in survivors(marker):
            os.kill(pid, signal.SIGKILL)
        assert worker.stdout is not None
        worker.stdout.close()


# --- one project's sandbox and another's server --------------------------------------------------

SERVE_UNIX = (
    "import socket, sys\n"
    "server = socket.socket(socket.AF_UNIX)\n"
    "server.bind(sys.argv[1])\n"
    "server.listen()\n"
    "while True:\n"
    "    connection, _ = server.accept()\n"
    "    connection.sendall(b'their preview')\n"
    "    connection.close()\n"
)


def test_one_projects_sandbox_cannot_reach_another_projects_server(tmp_path: Path, listener: int) -> None:
    """A spawned server (a preview) listens on a Unix socket in its scratch directory, which the
    host reaches; another project's sandbox finds neither that socket nor the host's ports."""
    theirs, scratch, ours = tmp_path / "beta-code", Path(tempfile.mkdtemp(prefix="hive-preview-")), tmp_path / "alpha"
    theirs.mkdir()
    ours.mkdir()
    sock = scratch / "app.sock"
    server = sandbox_spawn([sys.executable, "-c", SERVE_UNIX, str(sock)], cwd=theirs, scratch=scratch)
    try:
        deadline = time.monotonic() + 30
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.socket(socket.AF_UNIX) as host_side:  # the host reaches it, as the forwarder does
            host_side.connect(str(sock))
            assert host_side.recv(100) == b"their preview"
        targets = [str(sock), f"127.0.0.1:{listener}"]
        result = sandbox_run([sys.executable, "-c", CONNECT, *targets], cwd=ours)
        assert result.ok, result.output
        assert _verdicts(result) == dict.fromkeys(targets, "REFUSED"), result.output
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        sandbox_reclaim(theirs, scratch)
        shutil.rmtree(scratch, ignore_errors=True)


def test_a_tree_made_too_deep_to_walk_does_not_stop_the_run_from_ending(tree: Path) -> None:
    # Deeper than the walk goes (256 levels), shallow enough for pytest's own clean-up (recursive).
    deep = "import os\nfor _ in range(400):\n    os.mkdir('d')\n    os.chdir('d')\nprint('deep')\n"
    try:
        result = sandbox_run([sys.executable, "-c", deep], cwd=tree)
        assert (result.ok, result.output) == (True, "deep\n"), result.output
        # Given back as far as the walk goes; nothing followed, nothing raised.
        assert (tree / "d").stat().st_uid == tree.stat().st_uid
        assert (tree / "d" / "d" / "d").stat().st_uid == tree.stat().st_uid
    finally:
        shutil.rmtree(tree / "d", ignore_errors=True)
