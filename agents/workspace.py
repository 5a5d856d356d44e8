"""A project's git workspace: the repository agents commit to, on branches merged through review.

Layout, for a workspace directory ``<project>/workspace`` (the job context's ``workspace``):

* ``workspace/`` is the repository and its working tree, always on ``main``. Only merges change
  it, and every merge happens under the workspace lock (``<project>/workspace.lock``, an
  ``flock`` that holds across threads and worker processes).
* ``worktrees/<branch>`` are the agents' working trees: a job opens its branch from ``main`` as a
  ``git worktree``, writes and commits there with its role as the author
  (``-c user.name=<agent> -c user.email=<role>@agents.hive``), and asks for the merge.
* A merge is the review step: the branch is merged with ``--no-ff --no-commit``; conflicts, if
  any, go to the caller's ``resolve`` (the app generator regenerates derived files from the
  merged specs), the caller's ``verify`` checks the merged tree (tests, parity) and the merge is
  committed by the reviewer only when it passes — otherwise it is aborted and main is untouched.

Git runs as a subprocess with no global or system configuration, no remotes and no network.
Deliverables are a bundle of every branch (``git bundle --all``) and a zip of ``main``.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

AGENT_EMAIL_DOMAIN = "agents.hive"
MAIN = "main"
_BRANCH = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,120}$")
_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


class WorkspaceError(Exception):
    """A git operation failed; the message carries git's own words."""


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str

    def config(self) -> list[str]:
        return ["-c", f"user.name={self.name}", "-c", f"user.email={self.email}"]


def agent_author(role: str, agent: str = "") -> Author:
    """Commits carry the agent's name (``fullstack_developer-3``) and its role's address."""
    return Author(agent or role, f"{role}@{AGENT_EMAIL_DOMAIN}")


PLATFORM = Author("Agent Hive", f"platform@{AGENT_EMAIL_DOMAIN}")
REVIEWER = Author("Agent Hive review", f"review@{AGENT_EMAIL_DOMAIN}")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a review found on the merged tree."""

    passed: bool
    summary: str
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Merge:
    branch: str
    branch_head: str
    commit: str  # the merge commit on main ("" when the branch had nothing new)
    files: tuple[str, ...]
    resolved: tuple[str, ...]  # paths that conflicted and were resolved
    verdict: Verdict


def git(*args: str, cwd: Path, author: Author | None = None, check: bool = True, timeout: float = 120) -> str:
    environment = {**os.environ, **_ENV}
    command = ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]
    command += (author.config() if author else []) + list(args)
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise WorkspaceError(f"git {' '.join(args[:3])} failed: {(result.stderr or result.stdout).strip()[:500]}")
    return result.stdout


def staged_tree(path: Path) -> str:
    """Stage every change of the working tree at ``path`` and return the id of the tree it would
    commit: two equal ids are byte-for-byte the same files."""
    git("add", "-A", cwd=path)
    return git("write-tree", cwd=path).strip()


class Branch:
    """A branch checked out in its own working tree."""

    def __init__(self, workspace: Workspace, name: str, path: Path, author: Author) -> None:
        self.workspace, self.name, self.path, self.author = workspace, name, path, author

    def write(self, relative: str, text: str) -> str:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return relative

    def commit(self, message: str) -> str:
        """Commit everything that changed; returns the commit, or "" when nothing did."""
        git("add", "-A", cwd=self.path)
        if not git("status", "--porcelain", cwd=self.path).strip():
            return ""
        git("commit", "-q", "-m", message, cwd=self.path, author=self.author)
        return self.head()

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.path).strip()

    def changed_files(self) -> list[str]:
        return git("diff", "--name-only", f"{MAIN}...HEAD", cwd=self.path).split()


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.worktrees = root.parent / "worktrees"
        self.lock_path = root.parent / "workspace.lock"

    @property
    def exists(self) -> bool:
        return (self.root / ".git").is_dir()

    @contextmanager
    def lock(self, *, wait: bool = True) -> Iterator[bool]:
        """Hold the workspace lock; with ``wait=False`` yields False at once when another holds it."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure(self, *, project: str, ignore: str) -> bool:
        """Create the repository with its first commit on ``main``; False when it was there."""
        with self.lock():
            if self.exists:
                return False
            self.root.mkdir(parents=True, exist_ok=True)
            git("init", "-q", "-b", MAIN, cwd=self.root)
            (self.root / "README.md").write_text(
                f"# {project}\n\nThe repository of {project}, delivered by Agent Hive's agents. Every change"
                " arrives on a branch and is merged after review; `git log --merges` lists the reviews.\n",
                encoding="utf-8",
            )
            (self.root / ".gitignore").write_text(ignore, encoding="utf-8")
            git("add", "-A", cwd=self.root)
            git("commit", "-q", "-m", f"Start the repository of {project}", cwd=self.root, author=PLATFORM)
            return True

    def head(self, ref: str = MAIN) -> str:
        return git("rev-parse", ref, cwd=self.root).strip()

    def branches(self, prefix: str = "") -> list[str]:
        names = git("for-each-ref", "--format=%(refname:short)", "refs/heads/", cwd=self.root).split()
        return [name for name in names if name.startswith(prefix)]

    def has_branch(self, name: str) -> bool:
        return name in self.branches()

    def _worktree_path(self, name: str) -> Path:
        return self.worktrees / name.replace("/", "--")

    def branch_open(self, name: str, *, author: Author) -> Branch:
        """A fresh branch from ``main`` in its own working tree (a stale one of a failed attempt is
        dropped: a retry starts over)."""
        if not _BRANCH.match(name):
            raise WorkspaceError(f"not a branch name: {name!r}")
        path = self._worktree_path(name)
        with self.lock():
            self._drop(name, path)
            self.worktrees.mkdir(parents=True, exist_ok=True)
            git("worktree", "add", "-q", "-b", name, str(path), MAIN, cwd=self.root)
        return Branch(self, name, path, author)

    def branch_close(self, branch: Branch, *, delete: bool = False) -> None:
        """Remove the branch's working tree; the branch stays (its history is the record).

        The files go at once: nobody else uses that directory. Git's record of the working tree is
        pruned now if the workspace is free, else by the next ``branch_open`` (which prunes under
        the lock) — so a finished job does not wait behind the other jobs' merges and reviews."""
        shutil.rmtree(branch.path, ignore_errors=True)
        with self.lock(wait=delete) as locked:
            if locked:
                git("worktree", "prune", cwd=self.root, check=False)
                if delete:
                    git("branch", "-D", branch.name, cwd=self.root, check=False)

    def _drop(self, name: str, path: Path) -> None:
        if path.exists():
            git("worktree", "remove", "--force", str(path), cwd=self.root, check=False)
            shutil.rmtree(path, ignore_errors=True)
        git("worktree", "prune", cwd=self.root, check=False)
        if self.has_branch(name):
            git("branch", "-D", name, cwd=self.root)

    @contextmanager
    def branch(self, name: str, *, author: Author) -> Iterator[Branch]:
        opened = self.branch_open(name, author=author)
        try:
            yield opened
        finally:
            self.branch_close(opened)

    def merge(
        self,
        branch: Branch,
        *,
        message: str,
        resolve: Callable[[Path, list[str]], None] | None = None,
        verify: Callable[[Path], Verdict] | None = None,
    ) -> Merge:
        """Review and merge ``branch`` into ``main``; raises WorkspaceError when the review fails."""
        with self.lock():
            branch_head = git("rev-parse", branch.name, cwd=self.root).strip()
            if not git("rev-list", f"{MAIN}..{branch.name}", cwd=self.root).strip():
                return Merge(branch.name, branch_head, "", (), (), Verdict(True, "nothing new to merge"))
            files = git("diff", "--name-only", f"{MAIN}...{branch.name}", cwd=self.root).split()
            # A conflicting merge exits non-zero; the conflicts are read from the index below.
            git("merge", "--no-ff", "--no-commit", "-q", branch.name, cwd=self.root, author=REVIEWER, check=False)
            conflicts = git("diff", "--name-only", "--diff-filter=U", cwd=self.root).split()
            try:
                if conflicts:
                    if resolve is None:
                        raise WorkspaceError(f"{branch.name} conflicts with main in {', '.join(conflicts[:5])}")
                    resolve(self.root, conflicts)
                    git("add", "-A", cwd=self.root)
                    left = git("diff", "--name-only", "--diff-filter=U", cwd=self.root).split()
                    if left:
                        raise WorkspaceError(f"unresolved conflicts in {', '.join(left[:5])}")
                verdict = verify(self.root) if verify else Verdict(True, f"{len(files)} files reviewed")
                if not verdict.passed:
                    raise WorkspaceError(f"review of {branch.name} failed: {verdict.summary}")
                git("add", "-A", cwd=self.root)
                git("commit", "-q", "-m", f"{message}\n\nReview: {verdict.summary}", cwd=self.root, author=REVIEWER)
            except BaseException:
                git("merge", "--abort", cwd=self.root, check=False)
                git("reset", "-q", "--hard", MAIN, cwd=self.root, check=False)
                git("clean", "-q", "-fd", cwd=self.root, check=False)
                raise
            return Merge(branch.name, branch_head, self.head(), tuple(files), tuple(conflicts), verdict)

    def tag(self, name: str, *, message: str, author: Author) -> str:
        with self.lock():
            git("tag", "-f", "-a", name, "-m", message, MAIN, cwd=self.root, author=author)
        return git("rev-parse", f"{name}^{{commit}}", cwd=self.root).strip()

    def exists_anywhere(self, relative: str) -> bool:
        """The path is on main's tree or was committed on any branch."""
        if (self.root / relative).exists():
            return True
        return bool(git("rev-list", "--all", "-1", "--", relative, cwd=self.root).strip())

    def log(self, *args: str) -> str:
        return git("log", *args, cwd=self.root)

    def bundle(self, destination: Path) -> Path:
        """Every branch and tag in one file that ``git clone`` accepts."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        with self.lock():
            git("bundle", "create", "-q", str(destination), "--all", cwd=self.root)
        return destination

    def archive_zip(self, destination: Path) -> Path:
        """The files of ``main`` as a zip."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        git("archive", "--format=zip", "-o", str(destination), MAIN, cwd=self.root)
        return destination

    def export(self, ref: str, destination: Path) -> Path:
        """The tree of ``ref`` as plain files (no repository) in ``destination``."""
        destination.mkdir(parents=True, exist_ok=True)
        archive = destination.with_suffix(".tar")
        git("archive", "--format=tar", "-o", str(archive), ref, cwd=self.root)
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
        archive.unlink()
        return destination
