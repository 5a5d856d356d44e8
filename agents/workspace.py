"""A project's git workspace: the repository agents commit to, on branches merged through review.

Layout, for a workspace directory ``<project>/workspace`` (the job context's ``workspace``):

* ``repository.git/`` is the git directory, beside the trees and never inside one: the trees are
  written by code nobody on the platform wrote (the sandbox runs the tests there; a model writes
  files there), and git runs configuration from its git directory (hooks, ``core.fsmonitor``,
  filter drivers) — so no tree holds a ``.git``, and every command names its git directory and
  work tree explicitly through ``agents.hostgit`` (the one function that runs git on the host).
  A ``.git`` file or directory that appears in a tree, at any depth, is removed before git looks
  at the tree: at the top it would be ignored anyway, deeper git would take it for a nested
  repository and read that repository's configuration.
* ``workspace/`` is the working tree of ``main``. Only merges change it, and every merge happens
  under the workspace lock (``<project>/workspace.lock``, an ``flock`` that holds across threads
  and worker processes).
* ``worktrees/<branch>`` are the agents' working trees: a job opens its branch from ``main`` as a
  git worktree whose private git directory is ``repository.git/worktrees/<branch>`` (the ``.git``
  pointer file git writes into the tree is deleted at once: a pointer the tree's code could
  redirect is exactly the attack this layout exists to stop), writes and commits there with its
  role as the author (``-c user.name=<agent> -c user.email=<role>@agents.hive``), and asks for
  the merge. As git's own pointer is gone, ``git worktree prune`` would drop these records, so
  the workspace removes them itself and never prunes.
* A merge is the review step: the branch is merged with ``--no-ff --no-commit``; conflicts, if
  any, go to the caller's ``resolve`` (the app generator regenerates derived files from the
  merged specs), the caller's ``verify`` checks the merged tree (tests, parity) and the merge is
  committed by the reviewer only when it passes — otherwise it is aborted and main is untouched.

Repositories of the earlier layout (``workspace/.git`` as a directory inside the tree) are moved
to ``repository.git`` the next time they are used, and their configuration, hooks and attribute
and alternates files are replaced or dropped on the way: they lived where sandboxed code could
write, so nothing of them but refs and objects is kept.

Deliverables are a bundle of every branch (``git bundle --all``) and a zip of ``main``.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tarfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agents.hostgit import GitError, git_run
from agents.quoting import md_inline

AGENT_EMAIL_DOMAIN = "agents.hive"
MAIN = "main"
GIT_DIR_NAME = "repository.git"
_BRANCH = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,120}$")
# The whole configuration of a platform repository: written by the platform, nothing else.
_CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n\tlogallrefupdates = true\n"
# What an earlier-layout git directory may hold that could run or redirect something.
_LEGACY_DROPPED = ("hooks", "info/attributes", "info/grafts", "objects/info/alternates", "worktrees", "commondir")


class WorkspaceError(GitError):
    """A git operation failed; the message carries git's own words."""


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str

    def config(self) -> list[str]:
        return [f"user.name={self.name}", f"user.email={self.email}"]


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


def git(
    *args: str,
    git_dir: Path,
    work_tree: Path | None = None,
    author: Author | None = None,
    check: bool = True,
    timeout: float = 120,
) -> str:
    """git on a platform repository (see ``agents.hostgit``), failures as WorkspaceError."""
    try:
        return git_run(
            *args,
            git_dir=git_dir,
            work_tree=work_tree,
            config=author.config() if author else (),
            check=check,
            timeout=timeout,
        )
    except GitError as error:
        raise WorkspaceError(str(error)) from error


def tree_scrub(tree: Path) -> list[str]:
    """Remove every ``.git`` entry (file, directory or link, any letter case) from ``tree``;
    returns the relative paths removed. Links are removed, never followed."""
    removed: list[str] = []
    for folder, directories, files in os.walk(tree):
        here = Path(folder)
        for name in [*directories, *files]:
            if name.lower() != ".git":
                continue
            target = here / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
            removed.append(str(target.relative_to(tree)))
        directories[:] = [d for d in directories if d.lower() != ".git"]
    return removed


def tree_path(tree: Path, relative: str) -> Path:
    """``tree / relative`` for a file the platform is about to write, refused when it would land
    outside the tree: an absolute or ``..`` path, or a directory on the way that the tree's
    code replaced with a symbolic link (the host must not write where a link points)."""
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or ".." in parts:
        raise WorkspaceError(f"not a path inside the tree: {relative!r}")
    current = tree
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise WorkspaceError(f"{relative!r} goes through a symbolic link in the tree; nothing was written")
    return current


def tree_write(tree: Path, relative: str, text: str) -> str:
    target = tree_path(tree, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return relative


class Branch:
    """A branch checked out in its own working tree; its git directory is outside that tree."""

    def __init__(self, workspace: Workspace, name: str, path: Path, author: Author) -> None:
        self.workspace, self.name, self.path, self.author = workspace, name, path, author
        self.git_dir = workspace.git_dir / "worktrees" / path.name

    def git(self, *args: str, author: Author | None = None, check: bool = True) -> str:
        return git(*args, git_dir=self.git_dir, work_tree=self.path, author=author, check=check)

    def write(self, relative: str, text: str) -> str:
        return tree_write(self.path, relative, text)

    def commit(self, message: str) -> str:
        """Commit everything that changed; returns the commit, or "" when nothing did."""
        tree_scrub(self.path)
        self.git("add", "-A")
        if not self.git("status", "--porcelain").strip():
            return ""
        self.git("commit", "-q", "-m", message, author=self.author)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def changed_files(self) -> list[str]:
        return self.git("diff", "--name-only", f"{MAIN}...HEAD").split()

    def unstaged_files(self) -> list[str]:
        """Files of the tree that differ from the index (what a tool changed since the checkout)."""
        return self.git("diff", "--name-only").split()

    def restore(self) -> None:
        """Put every tracked file back as the branch's last commit has it."""
        self.git("checkout", "--", ".")


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        self.git_dir = self.root.parent / GIT_DIR_NAME
        self.worktrees = self.root.parent / "worktrees"
        self.lock_path = self.root.parent / "workspace.lock"

    def _git(self, *args: str, author: Author | None = None, check: bool = True, tree: bool = True) -> str:
        """git on ``main``'s repository, with ``main``'s tree as the work tree when ``tree``."""
        return git(*args, git_dir=self.git_dir, work_tree=self.root if tree else None, author=author, check=check)

    @property
    def exists(self) -> bool:
        self._migrate()
        return (self.git_dir / "HEAD").is_file()

    def _migrate(self) -> None:
        """Move an earlier layout's ``workspace/.git`` out of the tree (see the module docstring)."""
        legacy = self.root / ".git"
        if self.git_dir.exists() or not legacy.is_dir() or legacy.is_symlink():
            return
        with self.lock():
            if self.git_dir.exists() or not legacy.is_dir():
                return
            moving = self.root.parent / f".{GIT_DIR_NAME}.migrating"
            shutil.rmtree(moving, ignore_errors=True)
            legacy.rename(moving)
            for relative in _LEGACY_DROPPED:
                target = moving / relative
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
            (moving / "config").write_text(_CONFIG, encoding="utf-8")
            moving.rename(self.git_dir)
            # The branches' trees of the old layout hold pointer files into the old git directory.
            shutil.rmtree(self.worktrees, ignore_errors=True)
            # The old index may describe attacker-chosen flags; rebuild it from main's tree.
            (self.git_dir / "index").unlink(missing_ok=True)
            self._git("read-tree", MAIN)

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

    def _init(self) -> None:
        """An empty repository of the platform's: bare, with no hooks and a config it wrote."""
        self.git_dir.mkdir(parents=True, exist_ok=True)
        git("init", "-q", "--bare", "--template=", "-b", MAIN, git_dir=self.git_dir)
        (self.git_dir / "config").write_text(_CONFIG, encoding="utf-8")
        self.root.mkdir(parents=True, exist_ok=True)
        tree_scrub(self.root)

    def ensure(self, *, project: str, ignore: str) -> bool:
        """Create the repository with its first commit on ``main``; False when it was there."""
        self._migrate()
        with self.lock():
            if (self.git_dir / "HEAD").is_file():
                return False
            self._init()
            tree_write(
                self.root,
                "README.md",
                f"# {md_inline(project)}\n\nThe repository of {md_inline(project)}, delivered by Agent Hive's"
                " agents. Every change arrives on a branch and is merged after review; `git log --merges` lists"
                " the reviews.\n",
            )
            tree_write(self.root, ".gitignore", ignore)
            self._git("add", "-A")
            self._git("commit", "-q", "-m", f"Start the repository of {project}", author=PLATFORM)
            return True

    def adopt(self, fetch: Callable[[Path], str]) -> bool:
        """Create the repository from a customer's history instead of a first commit: ``fetch``
        brings their default branch into ``refs/heads/main`` of the git directory it is given (see
        ``agents.remotes``), and ``main``'s tree is checked out. False when the repository was there."""
        self._migrate()
        with self.lock():
            if (self.git_dir / "HEAD").is_file():
                return False
            self._init()
            fetch(self.git_dir)
            self._git("reset", "-q", "--hard", MAIN)
            tree_scrub(self.root)
            return True

    def commit_main(self, message: str, *, author: Author) -> tuple[str, int]:
        """Commit whatever changed in ``main``'s tree (a model working on it directly), creating
        the repository first when there is none; returns the commit and the number of files it
        changed, or ("", 0) when nothing changed."""
        self._migrate()
        with self.lock():
            if not (self.git_dir / "HEAD").is_file():
                self._init()
            tree_scrub(self.root)
            self._git("add", "-A")
            changed = self._git("status", "--porcelain").strip().splitlines()
            if not changed:
                return "", 0
            self._git("commit", "-q", "-m", message, author=author)
            return self._git("rev-parse", "HEAD", tree=False).strip(), len(changed)

    def head(self, ref: str = MAIN) -> str:
        self._migrate()
        return self._git("rev-parse", ref, tree=False).strip()

    def branches(self, prefix: str = "") -> list[str]:
        self._migrate()
        names = self._git("for-each-ref", "--format=%(refname:short)", "refs/heads/", tree=False).split()
        return [name for name in names if name.startswith(prefix)]

    def has_branch(self, name: str) -> bool:
        return name in self.branches()

    def branch_stat(self, name: str) -> tuple[int, str]:
        """How many commits ``name`` has that ``main`` has not, and git's short diff statistics."""
        self._migrate()
        commits = int(self._git("rev-list", "--count", f"{MAIN}..{name}", tree=False).strip() or 0)
        return commits, self._git("diff", "--shortstat", f"{MAIN}...{name}", tree=False).strip()

    def _worktree_path(self, name: str) -> Path:
        return self.worktrees / name.replace("/", "--")

    def branch_open(self, name: str, *, author: Author) -> Branch:
        """A fresh branch from ``main`` in its own working tree (a stale one of a failed attempt is
        dropped: a retry starts over)."""
        if not _BRANCH.match(name):
            raise WorkspaceError(f"not a branch name: {name!r}")
        self._migrate()
        path = self._worktree_path(name)
        with self.lock():
            self._drop(name, path)
            self.worktrees.mkdir(parents=True, exist_ok=True)
            self._git("worktree", "add", "-q", "--lock", "-b", name, str(path), MAIN, tree=False)
            # git's pointer from the tree to its git directory: the tree's code could redirect it.
            (path / ".git").unlink()
            opened = Branch(self, name, path, author)
            if not (opened.git_dir / "HEAD").is_file():
                raise WorkspaceError(f"git did not record the worktree of {name} where expected")
        return opened

    def branch_close(self, branch: Branch, *, delete: bool = False) -> None:
        """Remove the branch's working tree; the branch stays (its history is the record).

        The files go at once: nobody else uses that directory. Git's record of the working tree is
        dropped now if the workspace is free, else by the next ``branch_open`` of that branch (under
        the lock) — so a finished job does not wait behind the other jobs' merges and reviews."""
        shutil.rmtree(branch.path, ignore_errors=True)
        with self.lock(wait=delete) as locked:
            if locked:
                shutil.rmtree(branch.git_dir, ignore_errors=True)
                if delete:
                    self._git("branch", "-D", branch.name, tree=False, check=False)

    def _drop(self, name: str, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(self.git_dir / "worktrees" / path.name, ignore_errors=True)
        # What ``git worktree prune`` did before: records of trees that are gone (a close that
        # found the workspace busy) go now, under the lock.
        records = self.git_dir / "worktrees"
        for record in records.iterdir() if records.is_dir() else []:
            if not (self.worktrees / record.name).exists():
                shutil.rmtree(record, ignore_errors=True)
        if self.has_branch(name):
            self._git("branch", "-D", name, tree=False)

    @contextmanager
    def branch(self, name: str, *, author: Author) -> Iterator[Branch]:
        opened = self.branch_open(name, author=author)
        try:
            yield opened
        finally:
            self.branch_close(opened)

    def staged_tree(self, tree: Path) -> str:
        """Stage every change of ``tree`` (``main``'s or a branch's) and return the id of the tree
        it would commit: two equal ids are byte-for-byte the same files."""
        self._migrate()  # returns at once (before the lock) once the repository is beside the tree
        tree = tree.absolute()
        if tree == self.root:
            git_dir = self.git_dir
        elif tree.parent == self.worktrees:
            git_dir = self.git_dir / "worktrees" / tree.name
        else:
            raise WorkspaceError(f"{tree} is not a tree of this workspace")
        tree_scrub(tree)
        git("add", "-A", git_dir=git_dir, work_tree=tree)
        return git("write-tree", git_dir=git_dir, work_tree=tree).strip()

    def merge(
        self,
        branch: Branch,
        *,
        message: str,
        resolve: Callable[[Path, list[str]], None] | None = None,
        verify: Callable[[Path], Verdict] | None = None,
    ) -> Merge:
        """Review and merge ``branch`` into ``main``; raises WorkspaceError when the review fails."""
        self._migrate()
        with self.lock():
            branch_head = self._git("rev-parse", branch.name, tree=False).strip()
            if not self._git("rev-list", f"{MAIN}..{branch.name}", tree=False).strip():
                return Merge(branch.name, branch_head, "", (), (), Verdict(True, "nothing new to merge"))
            files = self._git("diff", "--name-only", f"{MAIN}...{branch.name}", tree=False).split()
            tree_scrub(self.root)
            # A conflicting merge exits non-zero; the conflicts are read from the index below.
            self._git("merge", "--no-ff", "--no-commit", "-q", branch.name, author=REVIEWER, check=False)
            conflicts = self._git("diff", "--name-only", "--diff-filter=U").split()
            try:
                if conflicts:
                    if resolve is None:
                        raise WorkspaceError(f"{branch.name} conflicts with main in {', '.join(conflicts[:5])}")
                    resolve(self.root, conflicts)
                    tree_scrub(self.root)
                    self._git("add", "-A")
                    left = self._git("diff", "--name-only", "--diff-filter=U").split()
                    if left:
                        raise WorkspaceError(f"unresolved conflicts in {', '.join(left[:5])}")
                verdict = verify(self.root) if verify else Verdict(True, f"{len(files)} files reviewed")
                if not verdict.passed:
                    raise WorkspaceError(f"review of {branch.name} failed: {verdict.summary}")
                tree_scrub(self.root)
                self._git("add", "-A")
                self._git("commit", "-q", "-m", f"{message}\n\nReview: {verdict.summary}", author=REVIEWER)
            except BaseException:
                self._git("merge", "--abort", check=False)
                self._git("reset", "-q", "--hard", MAIN, check=False)
                self._git("clean", "-q", "-fd", check=False)
                raise
            return Merge(branch.name, branch_head, self.head(), tuple(files), tuple(conflicts), verdict)

    def tag(self, name: str, *, message: str, author: Author) -> str:
        self._migrate()
        with self.lock():
            self._git("tag", "-f", "-a", name, "-m", message, MAIN, author=author, tree=False)
        return self._git("rev-parse", f"{name}^{{commit}}", tree=False).strip()

    def exists_anywhere(self, relative: str) -> bool:
        """The path is on main's tree or was committed on any branch."""
        if (self.root / relative).exists():
            return True
        self._migrate()
        return bool(self._git("rev-list", "--all", "-1", "--", relative, tree=False).strip())

    def log(self, *args: str) -> str:
        self._migrate()
        return self._git("log", *args, tree=False)

    def bundle(self, destination: Path) -> Path:
        """Every branch and tag in one file that ``git clone`` accepts."""
        self._migrate()
        destination = destination.absolute()
        destination.parent.mkdir(parents=True, exist_ok=True)
        with self.lock():
            self._git("bundle", "create", "-q", str(destination), "--all", tree=False)
        return destination

    def archive_zip(self, destination: Path) -> Path:
        """The files of ``main`` as a zip."""
        self._migrate()
        destination = destination.absolute()
        destination.parent.mkdir(parents=True, exist_ok=True)
        self._git("archive", "--format=zip", "-o", str(destination), MAIN, tree=False)
        return destination

    def export(self, ref: str, destination: Path) -> Path:
        """The tree of ``ref`` as plain files (no repository) in ``destination``."""
        self._migrate()
        destination = destination.absolute()
        destination.mkdir(parents=True, exist_ok=True)
        archive = destination.with_suffix(".tar")
        self._git("archive", "--format=tar", "-o", str(archive), ref, tree=False)
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
        archive.unlink()
        return destination
