"""The one way the platform runs git on the host.

Every tree git looks at on this platform is hostile: agents, models and customers' tests write
it, and git runs configuration from the repository it is pointed at (``core.fsmonitor`` and hooks
run programs; ``filter.*``, ``diff.*``/``merge.*`` drivers and ``core.sshCommand`` name programs
that ``.gitattributes`` or a transport then starts). So ``git_start`` — and ``git_run`` on top of
it — is the only place that starts git, and every invocation:

* names its repository with ``--git-dir`` (and its tree with ``--work-tree`` when it has one):
  git never discovers a repository, so a ``.git`` file or directory planted in a tree is never
  read; the caller keeps the git directory where no sandboxed code can write
  (see ``agents.workspace``);
* reads no system or global configuration (``GIT_CONFIG_NOSYSTEM``, ``GIT_CONFIG_GLOBAL`` set to
  /dev/null, ``HOME`` pointing nowhere, no system attributes) and no environment of the worker's
  (a ``GIT_DIR`` or ``GIT_CONFIG_*`` inherited from the worker would redirect it);
* forces off what runs programs or reaches out even if a repository's configuration sets it:
  fsmonitor, hooks, the user's attributes and excludes files, signing, every transport
  (``protocol.allow=never``), submodule recursion (a nested repository would be another
  repository whose configuration git reads), automatic gc.

Attributes in a tree can only *name* filter, diff and merge drivers; the drivers themselves are
defined in configuration, and the only configuration left is the repository's own, which the
platform writes and keeps out of the sandbox's reach — so ``filter=evil`` in a tree's
``.gitattributes`` names nothing and runs nothing. Repositories that are not the platform's (a
customer's repository on the server, read by ``agents.legacy.archives``) are read through
``git_dir_trusted_view``: a git directory of the platform's whose objects are the customer's, so
their configuration is never read while their objects are.

No maintained library does this: GitPython and pygit2/dulwich either shell out to the same git
with the same configuration rules, or reimplement merge/archive/bundle partially; the hardening
is a handful of flags, which is why this module is small and hand-written.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# Forced on every invocation; ``-c`` outranks every configuration file, the repository's included.
HARDENING: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.attributesFile=/dev/null",
    "core.excludesFile=/dev/null",
    "core.sshCommand=false",
    "core.untrackedCache=false",
    "protocol.allow=never",
    "submodule.recurse=false",
    "diff.ignoreSubmodules=all",
    "status.submoduleSummary=false",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "gc.auto=0",
    "maintenance.auto=false",
)
_PATH = "/usr/local/bin:/usr/bin:/bin"


class GitError(Exception):
    """A git command failed; the message carries git's own words."""


def git_environment() -> dict[str, str]:
    """The whole environment git gets: built from nothing, so nothing of the worker's leaks in."""
    return {
        "PATH": _PATH,
        "LC_ALL": "C",
        "HOME": os.devnull,  # no ~/.gitconfig, ~/.config/git/*: a path under a file does not exist
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_PROTOCOL_FROM_USER": "0",
    }


def git_command(args: Sequence[str], *, git_dir: Path, work_tree: Path | None = None) -> list[str]:
    command = ["git", f"--git-dir={git_dir}"]
    if work_tree is not None:
        command.append(f"--work-tree={work_tree}")
    for setting in HARDENING:
        command += ["-c", setting]
    return command + list(args)


def git_start(
    args: Sequence[str],
    *,
    git_dir: Path,
    work_tree: Path | None = None,
    config: Sequence[str] = (),
    stdout: int | IO[bytes] | None = subprocess.PIPE,
    stderr: int | IO[bytes] | None = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start git on ``git_dir`` (and ``work_tree``); ``config`` adds ``-c name=value`` settings
    of the caller's (an author's name), never ones that would undo the hardening."""
    for setting in config:
        if setting.split("=", 1)[0].lower() in {h.split("=", 1)[0].lower() for h in HARDENING}:
            raise ValueError(f"{setting!r} would undo a hardening setting")
    extra = [part for setting in config for part in ("-c", setting)]
    command = git_command([*extra, *args], git_dir=git_dir, work_tree=work_tree)
    # The working directory is the tree (pathspecs are relative to it) or the git directory.
    cwd = work_tree if work_tree is not None else git_dir
    return subprocess.Popen(
        command, cwd=cwd, env=git_environment(), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
    )


def git_run(
    *args: str,
    git_dir: Path,
    work_tree: Path | None = None,
    config: Sequence[str] = (),
    check: bool = True,
    timeout: float = 120,
) -> str:
    """Run git to the end and return what it printed; raises GitError when ``check`` and it fails."""
    process = git_start(args, git_dir=git_dir, work_tree=work_tree, config=config)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise GitError(f"git {' '.join(args[:3])} did not finish in {timeout:g} s") from None
    if check and process.returncode != 0:
        detail = (err or out).decode("utf-8", "replace").strip()[:500]
        raise GitError(f"git {' '.join(args[:3])} failed: {detail}")
    return out.decode("utf-8", "replace")


@contextmanager
def git_dir_trusted_view(foreign_git_dir: Path) -> Iterator[Path]:
    """A git directory of the platform's own (empty configuration, no hooks) that reads the
    objects of ``foreign_git_dir`` through ``objects/info/alternates``: commands on the view
    see the foreign repository's commits and trees but never its configuration or attributes
    file. Refs are not shared: resolve the commit first (``git_run("rev-parse", ...)`` on the
    foreign directory reads only refs) and pass its id."""
    with tempfile.TemporaryDirectory(prefix="hive-git-view-") as temporary:
        view = Path(temporary) / "view.git"
        view.mkdir()
        git_run("init", "-q", "--bare", "--template=", git_dir=view)
        objects = (foreign_git_dir / "objects").resolve()
        (view / "objects" / "info").mkdir(parents=True, exist_ok=True)
        (view / "objects" / "info" / "alternates").write_text(f"{objects}\n", encoding="utf-8")
        yield view


TRANSPORTS = frozenset({"https", "ssh", "file"})
# What a command that talks to a customer's remote adds: its one transport (below), no redirects to
# another host or scheme, no credential helper or prompt of anybody's.
_REMOTE_SETTINGS = ("http.followRedirects=false", "credential.helper=", "core.askPass=")
_REMOTE_ENVIRONMENT = frozenset(
    {"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_CONFIG_KEY_1", "GIT_CONFIG_VALUE_1"}
    | {"GIT_SSH_COMMAND"}
)


def git_remote_run(
    *args: str,
    git_dir: Path,
    scheme: str,
    environment: dict[str, str] | None = None,
    timeout: float = 120,
) -> str:
    """git that talks to a remote over exactly one transport, ``scheme`` (``https``, ``ssh`` or
    ``file``); every other transport stays forbidden by ``protocol.allow=never``. ``environment``
    carries the credential (``agents.remotes``: an HTTP header through ``GIT_CONFIG_*``, or
    ``GIT_SSH_COMMAND`` naming a key file), so it is never in an argument a process list shows.
    The caller checked the URL (``agents.remotes.remote_parse``)."""
    if scheme not in TRANSPORTS:
        raise ValueError(f"no transport {scheme!r}")
    unknown = set(environment or {}) - _REMOTE_ENVIRONMENT
    if unknown:
        raise ValueError(f"not a transport setting: {sorted(unknown)}")
    command = git_command([], git_dir=git_dir)
    # After the hardening: ``-c`` settings later on the line win, and these allow one transport only.
    for setting in (f"protocol.{scheme}.allow=always", *_REMOTE_SETTINGS):
        command += ["-c", setting]
    process = subprocess.Popen(
        [*command, *args],
        cwd=git_dir,
        env={**git_environment(), **(environment or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise GitError(f"git {args[0] if args else ''} did not finish in {timeout:g} s") from None
    if process.returncode != 0:
        detail = (err or out).decode("utf-8", "replace").strip()[:500]
        raise GitError(f"git {args[0] if args else ''} failed: {detail}")
    return out.decode("utf-8", "replace")
