"""What every built-in role does the same way: open a branch, commit as itself, ask for the
reviewed merge, and report each of these as it happens (every report names a branch, a commit or
a file that exists afterwards)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.appgen.render import GITIGNORE
from agents.providers.base import JobCancelled, JobContext, JobFailed, JobSpec
from agents.quoting import md_inline
from agents.workspace import Author, Branch, Merge, Verdict, Workspace, WorkspaceError, agent_author


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "item"


@dataclass(slots=True)
class Result:
    summary: str
    artifacts: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


class Job:
    def __init__(self, spec: JobSpec, context: JobContext) -> None:
        self.spec, self.context = spec, context
        self.workspace = Workspace(context.workspace)

    @property
    def inputs(self) -> Mapping[str, Any]:
        return self.spec.inputs

    @property
    def project(self) -> str:
        return str(self.inputs.get("project") or "the project")

    @property
    def home(self) -> Path:
        """The project's directory (the workspace's parent): previews, legacy code, deliverables."""
        return self.context.workspace.parent

    @property
    def author(self) -> Author:
        return agent_author(self.spec.role, str(self.inputs.get("agent") or ""))

    def report(self, kind: str, message: str, **data: Any) -> None:
        self.context.report(kind, message, data)

    def check_cancelled(self) -> None:
        if self.context.cancelled():
            raise JobCancelled(self.spec.title)

    def ensure_repository(self) -> None:
        if self.workspace.ensure(project=self.project, ignore=GITIGNORE):
            self.report("repository", f"created the git repository of {self.project}", commit=self.workspace.head())

    @contextmanager
    def branch(self, name: str) -> Iterator[Branch]:
        self.ensure_repository()
        self.check_cancelled()
        try:
            with self.workspace.branch(name, author=self.author) as opened:
                self.report("branch", f"{self.author.name} opened branch {name} from main", branch=name)
                yield opened
        except WorkspaceError as error:
            raise JobFailed(str(error)) from error

    def commit(self, branch: Branch, message: str) -> str:
        commit = branch.commit(message)
        if commit:
            files = branch.changed_files()
            self.report(
                "commit",
                f"{self.author.name} committed {commit[:10]} on {branch.name}: {message.splitlines()[0]}",
                branch=branch.name,
                commit=commit,
                author=f"{self.author.name} <{self.author.email}>",
                files=len(files),
            )
        return commit

    def merge(
        self,
        branch: Branch,
        message: str,
        *,
        resolve: Callable[[Path, list[str]], None] | None = None,
        verify: Callable[[Path], Verdict] | None = None,
    ) -> Merge:
        self.check_cancelled()
        try:
            merged = self.workspace.merge(branch, message=message, resolve=resolve, verify=verify)
        except WorkspaceError as error:
            self.report("review", f"review of {branch.name} refused the merge: {error}", branch=branch.name)
            raise JobFailed(str(error)) from error
        if merged.commit:
            self.report(
                "review",
                f"review of {branch.name}: {merged.verdict.summary}",
                branch=branch.name,
                branch_head=merged.branch_head,
                files=len(merged.files),
                resolved=list(merged.resolved),
                **merged.verdict.data,
            )
            self.report("merge", f"merged {branch.name} into main as {merged.commit[:10]}", commit=merged.commit)
        return merged

    def deliver(self, name: str, message: str, files: Mapping[str, str]) -> tuple[list[str], Merge]:
        """Write documents on a branch, commit them and merge them after review."""
        with self.branch(name) as opened:
            written = [opened.write(path, text) for path, text in files.items()]
            self.commit(opened, message)
            merged = self.merge(opened, f"Merge {name}: {message}", verify=documents_present(written))
        return written, merged


def documents_present(paths: list[str]) -> Callable[[Path], Verdict]:
    """Review of documents: each one is on the merged tree and not empty."""

    def verify(tree: Path) -> Verdict:
        empty = [p for p in paths if not (tree / p).is_file() or not (tree / p).read_text("utf-8").strip()]
        if empty:
            return Verdict(False, f"missing or empty: {', '.join(empty[:5])}")
        return Verdict(True, f"{len(paths)} documents present and not empty", {"documents": len(paths)})

    return verify


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return md_inline(str(value))  # customer and tree text: one cell, no markup of its own

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
