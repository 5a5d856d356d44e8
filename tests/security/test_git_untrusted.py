"""Git on the host never trusts a tree (agents/hostgit.py, agents/workspace.py, the LLM tools'
commit, the legacy git import, the deliverables).

Code nobody on the platform wrote runs in the trees the workspace commits from. Here that code's
moves are made directly on the tree — a ``.git`` file redirected to a repository of the
attacker's whose configuration sets ``core.fsmonitor``, hooks and filter/diff/merge drivers, a
``.gitattributes`` naming those drivers, a nested repository, configuration-like files — and the
host then does what it always does (commit, review and merge, bundle, export). Every program the
attacker configured would leave a marker file; none may appear, and the commits must hold the
tree's files and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from agents.legacy.archives import copy_from_git_path
from agents.providers.llm_tools import WorkspaceTools
from agents.workspace import PLATFORM, Verdict, Workspace, agent_author

DEVELOPER = agent_author("fullstack_developer", "fullstack_developer-1")
PROGRAMS = ("fsmonitor", "pre-commit", "post-commit", "clean", "smudge", "textconv", "merge-driver", "nested")
ATTRIBUTES = "* filter=evil diff=evil merge=evil\n"


def plain_git(*args: str, cwd: Path) -> str:
    """The test's own git (not the code under test), with the author it needs and nothing else."""
    environment = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, check=True).stdout


class Attacker:
    """The programs an attacker would get git to run, each leaving its own marker when it runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.markers = root / "markers"
        self.markers.mkdir(parents=True)
        self.scripts = root / "scripts"
        self.scripts.mkdir()

    def program(self, name: str, *, passthrough: bool = False) -> str:
        script = self.scripts / name
        body = f"#!/bin/sh\ntouch '{self.markers / name}'\n" + ("cat\n" if passthrough else "exit 0\n")
        script.write_text(body)
        script.chmod(0o755)
        return str(script)

    def config(self) -> str:
        """git configuration that runs every program of the attacker's."""
        return (
            f"[core]\n\tfsmonitor = {self.program('fsmonitor')}\n\thooksPath = {self.root / 'hooks'}\n"
            f'[filter "evil"]\n\tclean = {self.program("clean", passthrough=True)}\n'
            f"\tsmudge = {self.program('smudge', passthrough=True)}\n\trequired = true\n"
            f'[diff "evil"]\n\ttextconv = {self.program("textconv", passthrough=True)}\n'
            f'[merge "evil"]\n\tdriver = {self.program("merge-driver")} %O %A %B\n'
        )

    def hooks(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for hook in ("pre-commit", "post-commit"):
            (folder / hook).write_text(f"#!/bin/sh\ntouch '{self.markers / hook}'\n")
            (folder / hook).chmod(0o755)

    def repository(self) -> Path:
        """A repository of the attacker's, outside every tree, configured to run everything."""
        evil = self.root / "evil"
        evil.mkdir()
        plain_git("init", "-q", cwd=evil)
        with (evil / ".git" / "config").open("a") as config:
            config.write(self.config())
        self.hooks(evil / ".git" / "hooks")
        self.hooks(self.root / "hooks")
        return evil / ".git"

    def plant(self, tree: Path) -> set[str]:
        """Everything sandboxed code could leave in ``tree``; returns the files a commit of the
        tree must hold (and nothing else)."""
        evil = self.repository()
        if (tree / ".git").is_dir():  # the layout before: the repository itself was in the tree
            with (tree / ".git" / "config").open("a") as config:
                config.write(self.config())
            self.hooks(tree / ".git" / "hooks")
        else:
            (tree / ".git").write_text(f"gitdir: {evil}\n")
        (tree / ".gitattributes").write_text(ATTRIBUTES)
        (tree / "config").write_text(self.config())  # a .git/config look-alike
        (tree / ".gitconfig").write_text(self.config())
        (tree / "data.txt").write_text("plain data\n")
        nested = tree / "vendor"
        nested.mkdir()
        (nested / "lib.py").write_text("VALUE = 1\n")
        plain_git("init", "-q", cwd=nested)
        plain_git("add", "-A", cwd=nested)
        plain_git("commit", "-q", "-m", "nested", cwd=nested)
        with (nested / ".git" / "config").open("a") as config:
            config.write(f"[core]\n\tfsmonitor = {self.program('nested')}\n")
        return {".gitattributes", "config", ".gitconfig", "data.txt", "vendor/lib.py"}

    def ran(self) -> list[str]:
        return sorted(path.name for path in self.markers.iterdir())


def tree_of(git_dir: Path, ref: str) -> dict[str, str]:
    """path → mode of every entry of ``ref``'s tree (gitlinks are mode 160000)."""
    listing = plain_git(f"--git-dir={git_dir}", "ls-tree", "-r", ref, cwd=git_dir)
    return {line.split("\t", 1)[1]: line.split()[0] for line in listing.splitlines()}


def repository_of(workspace: Path) -> Path:
    """Where the repository is: beside the tree (inside it in the layout before)."""
    beside = workspace.parent / "repository.git"
    return beside if beside.exists() else workspace / ".git"


@pytest.fixture
def attacker(tmp_path: Path) -> Attacker:
    return Attacker(tmp_path / "attacker")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    created = Workspace(tmp_path / "project" / "workspace")
    created.ensure(project="Shop", ignore="__pycache__/\n")
    return created


def test_a_branch_commit_runs_nothing_the_tree_configured_and_holds_only_the_files(
    workspace: Workspace, attacker: Attacker
) -> None:
    branch = workspace.branch_open("story/001-attack", author=DEVELOPER)
    expected = attacker.plant(branch.path)

    commit = branch.commit("Story 1")

    assert attacker.ran() == []
    assert commit
    files = tree_of(repository_of(workspace.root), "story/001-attack")
    assert set(files) == expected | {"README.md", ".gitignore"}
    assert "160000" not in files.values()  # the nested repository's files, not a gitlink
    # The attacker's repository got nothing.
    assert plain_git("rev-list", "--all", cwd=attacker.root / "evil") == ""

    merged = workspace.merge(branch, message="Merge story/001-attack")
    workspace.branch_close(branch)
    assert attacker.ran() == []
    assert set(tree_of(repository_of(workspace.root), merged.commit)) == expected | {"README.md", ".gitignore"}
    assert (workspace.root / "data.txt").read_text() == "plain data\n"  # no smudge filter ran on checkout


def test_the_review_of_a_merge_runs_nothing_its_tests_planted_in_mains_tree(
    workspace: Workspace, attacker: Attacker
) -> None:
    branch = workspace.branch_open("story/002-review", author=DEVELOPER)
    (branch.path / "feature.py").write_text("FEATURE = 2\n")
    branch.commit("Story 2")
    planted: set[str] = set()

    def verify(tree: Path) -> Verdict:
        # The review runs the merged tree's tests; this is what those tests could leave behind.
        planted.update(attacker.plant(tree))
        return Verdict(True, "tests pass")

    merged = workspace.merge(branch, message="Merge story/002-review", verify=verify)
    workspace.branch_close(branch)

    assert attacker.ran() == []
    files = tree_of(repository_of(workspace.root), merged.commit)
    assert set(files) == planted | {"README.md", ".gitignore", "feature.py"}
    assert "160000" not in files.values()
    # Later work on the workspace still runs nothing.
    later = workspace.branch_open("story/003-later", author=DEVELOPER)
    (later.path / "later.py").write_text("LATER = 3\n")
    later.commit("Story 3")
    workspace.merge(later, message="Merge story/003-later")
    assert attacker.ran() == []


def test_the_deliverables_hold_the_platforms_history_after_an_attack(
    workspace: Workspace, attacker: Attacker, tmp_path: Path
) -> None:
    head = workspace.head()
    attacker.plant(workspace.root)  # e.g. a review's tests, after the last merge
    # ... and a history of the attacker's, which the tree's .git now points at.
    evil = attacker.root / "evil"
    quiet = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"]
    plain_git(*quiet, "commit", "-q", "--allow-empty", "-m", "attacker history", cwd=evil)
    if (workspace.root / ".git").is_dir():  # the layout before: the repository itself was in the tree
        (workspace.root / ".git").rename(workspace.root.parent / "moved-aside.git")
    (workspace.root / ".git").write_text(f"gitdir: {evil / '.git'}\n")

    bundle = workspace.bundle(tmp_path / "out" / "project.bundle")
    archive = workspace.archive_zip(tmp_path / "out" / "project.zip")

    assert attacker.ran() == []
    clone = tmp_path / "clone"
    plain_git("clone", "-q", str(bundle), str(clone), cwd=tmp_path)
    assert plain_git("rev-parse", "HEAD", cwd=clone).strip() == head
    assert sorted(zipfile.ZipFile(archive).namelist()) == [".gitignore", "README.md"]


def test_a_repository_of_the_earlier_layout_is_moved_out_of_its_tree_and_disarmed(
    tmp_path: Path, attacker: Attacker
) -> None:
    root = tmp_path / "project" / "workspace"
    root.mkdir(parents=True)
    plain_git("init", "-q", "-b", "main", cwd=root)
    (root / "README.md").write_text("# Shop\n")
    plain_git("add", "-A", cwd=root)
    plain_git("commit", "-q", "-m", "Start", cwd=root)
    old_head = plain_git("rev-parse", "HEAD", cwd=root).strip()
    # While the repository sat in the tree, sandboxed code could rewrite its configuration and hooks.
    with (root / ".git" / "config").open("a") as config:
        config.write(attacker.config())
    attacker.hooks(root / ".git" / "hooks")
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text(ATTRIBUTES)

    workspace = Workspace(root)
    assert workspace.head() == old_head
    branch = workspace.branch_open("story/001-after", author=DEVELOPER)
    (branch.path / "data.txt").write_text("plain data\n")
    branch.commit("Story 1")
    merged = workspace.merge(branch, message="Merge story/001-after")
    workspace.branch_close(branch)

    assert attacker.ran() == []
    assert not (root / ".git").exists()
    git_dir = tmp_path / "project" / "repository.git"
    assert "evil" not in (git_dir / "config").read_text()
    assert set(tree_of(git_dir, merged.commit)) == {"README.md", "data.txt"}
    assert plain_git(f"--git-dir={git_dir}", "merge-base", "--is-ancestor", old_head, merged.commit, cwd=tmp_path) == ""


def test_the_llm_tools_commit_runs_nothing_the_workspace_configured(tmp_path: Path, attacker: Attacker) -> None:
    events: list[tuple[str, str, dict[str, Any]]] = []
    tools = WorkspaceTools(
        tmp_path / "llm" / "workspace",
        lambda kind, message, data=None: events.append((kind, message, dict(data or {}))),
        "fullstack_developer",
        "fullstack_developer@agents.hive",
    )
    tools.call("write_file", {"path": "calc.py", "content": "def add(a, b):\n    return a + b\n"})
    assert not tools.call("commit", {"message": "First"}).is_error
    expected = attacker.plant(tools.workspace) | {"calc.py"}

    result = tools.call("commit", {"message": "Second"})

    assert attacker.ran() == []
    assert not result.is_error, result.text
    assert set(tree_of(repository_of(tools.workspace), "HEAD")) == expected
    assert plain_git("rev-list", "--all", cwd=attacker.root / "evil") == ""


def test_a_customers_repository_is_exported_without_running_its_configuration(
    tmp_path: Path, attacker: Attacker
) -> None:
    root = tmp_path / "repos"
    legacy = root / "legacy"
    legacy.mkdir(parents=True)
    plain_git("init", "-q", cwd=legacy)
    (legacy / ".gitattributes").write_text(ATTRIBUTES)
    (legacy / "core.py").write_text("x = 1\n")
    plain_git("add", "-A", cwd=legacy)
    plain_git("commit", "-q", "-m", "initial", cwd=legacy)
    with (legacy / ".git" / "config").open("a") as config:
        config.write(attacker.config())
    attacker.hooks(legacy / ".git" / "hooks")

    copy_from_git_path("legacy", allowed_root=root, dest=tmp_path / "out")

    assert attacker.ran() == []
    assert (tmp_path / "out" / "core.py").read_text() == "x = 1\n"


def test_the_platform_repository_is_outside_every_tree(workspace: Workspace) -> None:
    branch = workspace.branch_open("story/004-layout", author=DEVELOPER)
    try:
        assert not (workspace.root / ".git").exists()
        assert not (branch.path / ".git").exists()
        assert not (workspace.root.parent / "repository.git").is_relative_to(workspace.root)
    finally:
        workspace.branch_close(branch)
    assert Workspace(workspace.root).head() == workspace.head()
    assert PLATFORM.email in plain_git(
        f"--git-dir={workspace.root.parent / 'repository.git'}", "log", "--format=%ae", cwd=workspace.root
    )
