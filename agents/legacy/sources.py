"""Reading a legacy code base from disk: which files are source, and their text, read once.

This module owns the walk over an extracted code base. Every analyser (line counts, complexity,
dependencies) works from the :class:`SourceFile` objects collected here, so each file is read and
decoded once and each Python file is parsed once (:attr:`SourceFile.python_tree`), whatever the
number of analyses.

What is not analysed, and why:

- directories of vendored, installed or generated code (``.git``, ``node_modules``,
  ``__pycache__``, virtualenvs — recognised by name or by their ``pyvenv.cfg`` — build output);
- files whose extension is not a known language (counted in ``ignored_files``);
- files with a source extension that are binary (a NUL byte in the first 8 KiB), larger than
  ``max_file_bytes`` (generated data, not hand-written code) or symbolic links (never followed:
  the tree may come from an untrusted upload) — each listed in ``skipped`` with its reason.

Text is decoded as UTF-8, falling back to Latin-1 (legacy code is often in a single-byte
encoding; Latin-1 decodes every byte, so counts stay exact even if some characters are wrong).
"""

from __future__ import annotations

import ast
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from agents.legacy.languages import PYTHON, Language, language_for

#: Directory names never descended into: VCS metadata, dependencies, caches, build output.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "CVS",
        "node_modules",
        "bower_components",
        "jspm_packages",
        "vendor",
        "third_party",
        "venv",
        ".venv",
        "site-packages",
        ".tox",
        ".nox",
        ".eggs",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".idea",
        ".vscode",
        "dist",
        "build",
        "target",
        "htmlcov",
    }
)
DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024
_BINARY_PROBE_BYTES = 8192


@dataclass
class SourceFile:
    """One source file of the code base: its path relative to the root, language and text."""

    path: str
    language: Language
    text: str

    @cached_property
    def python_tree(self) -> ast.Module | None:
        """The parsed module for Python files, or None when it does not parse (e.g. Python 2).

        Parsed once and shared by the complexity and dependency analyses.
        """
        if self.language is not PYTHON:
            return None
        with warnings.catch_warnings():
            # Legacy code is full of invalid escape sequences; they are not our findings.
            warnings.simplefilter("ignore")
            try:
                return ast.parse(self.text, filename=self.path)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return None


@dataclass(frozen=True)
class SkippedFile:
    """A file with a source extension that was not analysed, and why."""

    path: str
    reason: str


@dataclass
class SourceTree:
    """The analysable files of a code base."""

    root: Path
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    ignored_files: int = 0


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def collect_sources(root: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> SourceTree:
    """Walk ``root`` and read every analysable source file, in a stable (sorted) order."""
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")
    tree = SourceTree(root=root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIPPED_DIRS
            and not d.endswith(".egg-info")
            and not (current / d).is_symlink()
            and not _is_virtualenv(current / d)
        )
        for name in sorted(filenames):
            full = current / name
            relative = full.relative_to(root).as_posix()
            language = language_for(relative)
            if language is None:
                tree.ignored_files += 1
                continue
            if full.is_symlink():
                tree.skipped.append(SkippedFile(relative, "symbolic link, not followed"))
                continue
            try:
                size = full.stat().st_size
                if size > max_file_bytes:
                    tree.skipped.append(SkippedFile(relative, f"larger than {max_file_bytes} bytes"))
                    continue
                data = full.read_bytes()
            except OSError as exc:
                tree.skipped.append(SkippedFile(relative, f"unreadable: {exc.strerror}"))
                continue
            if b"\0" in data[:_BINARY_PROBE_BYTES]:
                tree.skipped.append(SkippedFile(relative, "binary content"))
                continue
            tree.files.append(SourceFile(relative, language, _decode(data)))
    return tree
