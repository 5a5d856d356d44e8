"""The tools a model may call on a project's workspace: list, read and write files, run the tests,
commit. Each call reports one event describing what actually happened (the file written and its
size, the test counts and exit code, the commit's sha) and returns the text the model reads back.

Confinement: every path is relative to the workspace. Absolute paths, ``..`` components, the
repository's own ``.git`` directory and paths that leave the workspace through a symbolic link are
refused, reported as ``refused`` events and answered with an error result, so the model can
correct itself.

``run_tests`` executes code the model wrote, so it runs in the sandbox (``agents.tools.sandbox``):
a fresh environment without the portal's secrets, the workspace as working directory, limits on
CPU, memory, file size, processes and open files, a wall-clock timeout that kills the whole
process tree, output cut to a limit, and — where the machine allows unprivileged namespaces, as
this one does — no network, no view of the worker's processes, of the services' sockets or of
other projects' files. Where it does not, a Python-level socket guard is all that stands in for
the network namespace, and that is not a security boundary: run LLM workers under an account that
can reach nothing else worth protecting.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from agents.providers.base import Report
from agents.tools.sandbox import STOPPED_TIMEOUT, Limits, sandbox_run
from agents.workspace import Author, Workspace, WorkspaceError

MAX_READ_BYTES = 200_000
MAX_WRITE_BYTES = 1_000_000
MAX_LISTED = 500
OUTPUT_TAIL_CHARS = 4_000
# pytest reads its configuration from the nearest ancestor that has one; without a file of its
# own the workspace would inherit the portal's (its plugins, its database options).
_PYTEST_CONFIGS = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]  # JSON schema of the arguments object


def _schema(properties: Mapping[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties), "required": list(required)}


_PATH = {"type": "string", "description": "path relative to the workspace root, e.g. src/app.py"}
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_files",
        "List the files under a directory of the workspace (recursively, without .git), with sizes.",
        _schema({"path": {**_PATH, "description": "directory relative to the workspace root; default ."}}),
    ),
    ToolSpec("read_file", "Read a UTF-8 text file of the workspace.", _schema({"path": _PATH}, ["path"])),
    ToolSpec(
        "write_file",
        "Create or replace a text file of the workspace with the given content (parents are created).",
        _schema({"path": _PATH, "content": {"type": "string"}}, ["path", "content"]),
    ),
    ToolSpec(
        "run_tests",
        "Run the workspace's test suite and return the pass/fail counts and the end of its output.",
        _schema({}),
    ),
    ToolSpec(
        "commit",
        "Stage every change in the workspace and commit it with the given message.",
        _schema({"message": {"type": "string", "description": "the commit message"}}, ["message"]),
    ),
)


@dataclass(frozen=True, slots=True)
class ToolResult:
    text: str
    is_error: bool = False


class PathRefused(ValueError):
    """A path the model gave points outside what it may touch."""


def confine(root: Path, relative: object) -> Path:
    """The absolute path inside ``root`` that ``relative`` names, or ``PathRefused``."""
    if not isinstance(relative, str) or not relative.strip():
        raise PathRefused("a relative path is required")
    if "\x00" in relative:
        raise PathRefused("the path contains a NUL byte")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or relative.startswith("~") or re.match(r"^[A-Za-z]:", relative):
        raise PathRefused(f"absolute paths are refused: {relative!r}")
    if ".." in pure.parts:
        raise PathRefused(f"paths with '..' are refused: {relative!r}")
    if ".git" in pure.parts:
        raise PathRefused(f"the repository's own .git directory is off limits: {relative!r}")
    target = (root / pure).resolve()
    if not target.is_relative_to(root):
        raise PathRefused(f"{relative!r} leaves the workspace through a symbolic link")
    if ".git" in target.relative_to(root).parts:
        raise PathRefused(f"{relative!r} leads into the repository's .git directory")
    return target


def count_test_results(output: str) -> dict[str, int]:
    """Passed/failed/error/skipped counts from a pytest or unittest summary (zeros if none)."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    summary = re.findall(r"(\d+) (passed|failed|errors?|skipped)\b", output)
    if summary:
        for number, word in summary:
            counts["errors" if word.startswith("error") else word] += int(number)
        return counts
    ran = re.search(r"^Ran (\d+) tests? in", output, re.MULTILINE)
    if ran:
        failed = re.search(r"^FAILED \(([^)]*)\)", output, re.MULTILINE)
        details = dict(re.findall(r"(\w+)=(\d+)", failed.group(1))) if failed else {}
        skipped = re.search(r"^OK \(skipped=(\d+)\)", output, re.MULTILINE)
        counts["failed"] = int(details.get("failures", 0)) + int(details.get("unexpected_successes", 0))
        counts["errors"] = int(details.get("errors", 0))
        counts["skipped"] = int(details.get("skipped", 0) or (skipped.group(1) if skipped else 0))
        counts["passed"] = int(ran.group(1)) - counts["failed"] - counts["errors"] - counts["skipped"]
    return counts


@dataclass(slots=True)
class WorkspaceTools:
    """Executes tool calls on one workspace and reports each as an event."""

    workspace: Path
    report: Report
    author_name: str
    author_email: str
    test_command: Sequence[str] = ("python", "-m", "pytest", "-q")
    test_timeout: float = 300.0
    limits: Limits = field(default_factory=Limits)  # of run_tests; its timeout is ``test_timeout``
    written: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    last_tests: dict[str, Any] | None = None
    calls: int = 0

    def __post_init__(self) -> None:
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.workspace = self.workspace.resolve()

    def call(self, name: str, arguments: Mapping[str, Any] | None) -> ToolResult:
        self.calls += 1
        if arguments is None:
            self.report("tool_error", f"{name}: arguments were not a JSON object", {"tool": name})
            return ToolResult("error: the arguments must be a JSON object", is_error=True)
        handler = {
            "list_files": self._list_files,
            "read_file": self._read_file,
            "write_file": self._write_file,
            "run_tests": self._run_tests,
            "commit": self._commit,
        }.get(name)
        if handler is None:
            self.report("tool_error", f"unknown tool {name!r}", {"tool": name})
            return ToolResult(f"error: there is no tool named {name!r}", is_error=True)
        try:
            return handler(arguments)
        except PathRefused as refusal:
            self.report("refused", f"{name} refused: {refusal}", {"tool": name, "path": str(arguments.get("path"))})
            return ToolResult(f"refused: {refusal}", is_error=True)
        except (OSError, UnicodeError, subprocess.SubprocessError) as error:
            self.report("tool_error", f"{name} failed: {error}", {"tool": name})
            return ToolResult(f"error: {error}", is_error=True)

    # --- files --------------------------------------------------------------------------------

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.workspace).as_posix() or "."

    def _list_files(self, arguments: Mapping[str, Any]) -> ToolResult:
        folder = confine(self.workspace, arguments.get("path") or ".")
        if not folder.is_dir():
            return ToolResult(f"error: {self._relative(folder)} is not a directory", is_error=True)
        entries: list[str] = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(name for name in dirnames if name != ".git")
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                size = path.lstat().st_size
                entries.append(f"{self._relative(path)} ({size} bytes)")
        shown = entries[:MAX_LISTED]
        self.report(
            "files", f"listed {len(entries)} files under {self._relative(folder)}", {"path": self._relative(folder)}
        )
        more = f"\n... and {len(entries) - MAX_LISTED} more" if len(entries) > MAX_LISTED else ""
        return ToolResult("\n".join(shown) + more if shown else "(no files)")

    def _read_file(self, arguments: Mapping[str, Any]) -> ToolResult:
        path = confine(self.workspace, arguments.get("path"))
        if not path.is_file():
            return ToolResult(f"error: {self._relative(path)} is not a file", is_error=True)
        with path.open("rb") as handle:
            data = handle.read(MAX_READ_BYTES + 1)
        text = data[:MAX_READ_BYTES].decode("utf-8", "replace")
        self.report(
            "read", f"read {self._relative(path)} ({len(data[:MAX_READ_BYTES])} bytes)", {"path": self._relative(path)}
        )
        return ToolResult(text + ("\n... (truncated)" if len(data) > MAX_READ_BYTES else ""))

    def _write_file(self, arguments: Mapping[str, Any]) -> ToolResult:
        path = confine(self.workspace, arguments.get("path"))
        content = arguments.get("content")
        if not isinstance(content, str):
            return ToolResult("error: content must be a string", is_error=True)
        data = content.encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            return ToolResult(f"error: files over {MAX_WRITE_BYTES} bytes are refused", is_error=True)
        if path.is_dir():
            return ToolResult(f"error: {self._relative(path)} is a directory", is_error=True)
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        relative = self._relative(path)
        if relative not in self.written:
            self.written.append(relative)
        verb = "replaced" if existed else "created"
        self.report("artifact", f"{verb} {relative} ({len(data)} bytes)", {"path": relative, "bytes": len(data)})
        return ToolResult(f"{verb} {relative} ({len(data)} bytes)")

    # --- tests --------------------------------------------------------------------------------

    def _test_argv(self) -> list[str]:
        argv = list(self.test_command)
        if argv and argv[0] in {"python", "python3"}:
            argv[0] = sys.executable  # the worker's interpreter, which has pytest
        elif argv and argv[0] == "pytest":
            argv[:1] = [sys.executable, "-m", "pytest"]
        if "pytest" in argv and "-c" not in argv:
            own = next((self.workspace / name for name in _PYTEST_CONFIGS if (self.workspace / name).is_file()), None)
            argv += ["-c", str(own) if own else os.devnull, "--rootdir", str(self.workspace), "-p", "no:cacheprovider"]
        return argv

    def _run_tests(self, arguments: Mapping[str, Any]) -> ToolResult:
        limits = replace(self.limits, timeout=self.test_timeout)
        result = sandbox_run(self._test_argv(), cwd=self.workspace, limits=limits)
        counts = count_test_results(result.output)
        timed_out = result.stopped == STOPPED_TIMEOUT
        summary = {
            "exit_code": result.exit_code,
            "timed_out": timed_out,
            "stopped": result.stopped,
            **counts,
            "seconds": result.seconds,
            "output_bytes": result.output_bytes,
            "sandbox": result.isolation,
        }
        self.last_tests = summary
        command = shlex.join(self.test_command)
        if timed_out:
            verdict = f"tests timed out after {self.test_timeout:g} s and were killed"
        elif result.stopped or result.exit_code < 0:
            verdict = f"tests stopped by the sandbox: {result.verdict}"
        else:
            verdict = (
                f"tests {'passed' if result.exit_code == 0 else 'failed'}: {counts['passed']} passed, "
                f"{counts['failed']} failed, {counts['errors']} errors (exit {result.exit_code})"
            )
        self.report("tests", f"{verdict} — {command}", {"command": command, **summary})
        tail = result.output[-OUTPUT_TAIL_CHARS:]
        return ToolResult(f"{verdict}\n{json.dumps(summary)}\n--- output (tail) ---\n{tail}")

    # --- git ----------------------------------------------------------------------------------

    def _commit(self, arguments: Mapping[str, Any]) -> ToolResult:
        message = arguments.get("message")
        if not isinstance(message, str) or not message.strip():
            return ToolResult("error: a commit message is required", is_error=True)
        # The repository's git directory lives beside the workspace, out of reach of the code the
        # model writes and the tests it runs; git runs only through agents.hostgit.
        repository = Workspace(self.workspace)
        created = not repository.exists
        try:
            sha, files = repository.commit_main(message.strip(), author=Author(self.author_name, self.author_email))
        except WorkspaceError as error:
            raise OSError(str(error)) from error
        if created:
            self.report("repository", "initialised the workspace's git repository", {"branch": "main"})
        if not sha:
            self.report("commit", "nothing to commit: the workspace has no changes", {"sha": None})
            return ToolResult("nothing to commit: the workspace has no changes")
        self.commits.append(sha)
        subject = message.strip().splitlines()[0]
        self.report(
            "commit",
            f"committed {sha[:10]} ({files} files) as {self.author_name}: {subject}",
            {"sha": sha, "files": files, "author": self.author_name},
        )
        return ToolResult(f"committed {sha} ({files} files changed)")
