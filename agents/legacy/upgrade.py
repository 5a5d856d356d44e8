"""Modernizing the Python modules of a migration segment, and saying what could not be modernized.

Three passes, each a change the characterization and legacy tests then check:

1. **pyupgrade** (maintained; its full rule set for the target Python, ``--py311-plus`` for 3.11):
   ``%``-formats and ``.format`` to f-strings, ``typing.List`` to ``list``, ``super(C, self)`` to
   ``super()``, ``class C(object)``, ``u""``, ``set([..])``, ``__future__`` imports and the rest. It
   is a tool over untrusted code, so it runs inside the sandbox;
2. **deprecated standard-library APIs** replaced where the replacement is mechanical — the same
   call under its current name (``logging.warn`` and a module logger's ``.warn`` → ``warning``,
   ``time.clock`` → ``time.perf_counter``, ``base64.encodestring`` → ``encodebytes``,
   ``threading.currentThread`` → ``current_thread``, unittest's ``assertEquals`` family …). No
   maintained tool does these renames for the standard library alone (pyupgrade leaves them), so
   they are written here: located with ``ast`` (never by text search, so strings and comments are
   untouched) and only on a name bound by ``import <module>`` in the same file. Deprecated APIs
   whose replacement changes behaviour (``datetime.utcnow``, ``cgi.escape``, ``inspect.getargspec``,
   ``imp``, ``distutils`` …) are *not* changed: each use is listed in ``cannot`` with the reason;
3. **type hints where they can be inferred**: autotyping (maintained, libcst) with ``--safe``:
   ``-> None`` on functions that return nothing, scalar return types from literal returns, and
   parameter types from ``bool``/``int``/``str``… defaults. Sandboxed like pyupgrade.

Dependency pins are raised separately, once per code base (``agents.legacy.pins``): the releases
are looked up and the wheels fetched on the host from the configured index, and the tests run
against them in the sandbox, which stays offline.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from agents.tools.process import PYTHON
from agents.tools.sandbox import Limits, sandbox_run

TARGETS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
DEFAULT_TARGET = "3.11"
# (module, deprecated function) → its current name: the same call, renamed.
RENAMED: dict[tuple[str, str], str] = {
    ("logging", "warn"): "warning",
    ("time", "clock"): "perf_counter",
    ("base64", "encodestring"): "encodebytes",
    ("base64", "decodestring"): "decodebytes",
    ("threading", "currentThread"): "current_thread",
    ("threading", "activeCount"): "active_count",
    ("os", "getcwdu"): "getcwd",
}
# unittest.TestCase aliases removed in Python 3.12, called on ``self``.
UNITTEST_ALIASES: dict[str, str] = {
    "assertEquals": "assertEqual",
    "assertNotEquals": "assertNotEqual",
    "assert_": "assertTrue",
    "failUnless": "assertTrue",
    "failIf": "assertFalse",
    "failUnlessEqual": "assertEqual",
    "failIfEqual": "assertNotEqual",
    "assertAlmostEquals": "assertAlmostEqual",
    "assertNotAlmostEquals": "assertNotAlmostEqual",
    "assertRegexpMatches": "assertRegex",
    "assertNotRegexpMatches": "assertNotRegex",
    "assertRaisesRegexp": "assertRaisesRegex",
    "assertDictContainsSubset": "",  # removed without a drop-in replacement
}
# Deprecated or removed APIs whose replacement changes behaviour: listed, never rewritten.
NOT_MECHANICAL: dict[tuple[str, str], str] = {
    ("datetime", "utcnow"): "returns a naive datetime; datetime.now(UTC) is aware, so comparisons change",
    ("datetime", "utcfromtimestamp"): "naive result; fromtimestamp(ts, UTC) is aware",
    ("cgi", "escape"): "html.escape quotes by default where cgi.escape did not",
    ("inspect", "getargspec"): "getfullargspec returns seven fields where callers unpack four",
    ("asyncio", "get_event_loop"): "no running loop must become asyncio.run or new_event_loop: a design change",
    ("platform", "linux_distribution"): "removed; the distro package reads /etc/os-release differently",
    ("string", "maketrans"): "str.maketrans works on str, not bytes",
    ("os", "popen2"): "subprocess needs a different call and error handling",
}
REMOVED_MODULES: dict[str, str] = {
    "imp": "importlib has no one-to-one replacement for load_module/find_module",
    "distutils": "removed in 3.12; setuptools or packaging replace parts of it, per use",
    "asynchat": "removed in 3.12; asyncio streams are a rewrite",
    "asyncore": "removed in 3.12; asyncio is a rewrite",
    "cgi": "removed in 3.13; email.message or a framework's parser, per use",
    "pipes": "removed in 3.13; shlex.quote and subprocess, per use",
    "telnetlib": "removed in 3.13; a third-party client is a dependency decision",
}


@dataclass(frozen=True)
class ModuleChange:
    path: str
    tools: tuple[str, ...]  # which passes changed it
    rewrites: tuple[str, ...]  # the deprecated-API replacements, "line 12: logging.warn → logging.warning"
    lines_before: int
    lines_after: int


@dataclass(frozen=True)
class Upgrade:
    target: str
    changed: tuple[ModuleChange, ...]
    cannot: tuple[str, ...]
    tool_verdicts: dict[str, str]


def target_flag(target: str) -> str:
    if target not in TARGETS:
        raise ValueError(f"unknown target Python {target!r}; one of {', '.join(TARGETS)}")
    return f"--py{target.replace('.', '')}-plus"


def modernize(tree: Path, files: list[str], *, target: str = DEFAULT_TARGET) -> Upgrade:
    """Run the three passes over ``files`` (paths relative to ``tree``) in place."""
    flag = target_flag(target)
    python = [f for f in files if f.endswith(".py") and (tree / f).is_file() and not (tree / f).is_symlink()]
    original = {f: (tree / f).read_text("utf-8", errors="replace") for f in python}
    tools: dict[str, list[str]] = {f: [] for f in python}
    verdicts: dict[str, str] = {}
    if python:
        verdicts["pyupgrade"] = _sandboxed(
            [PYTHON, "-m", "pyupgrade", flag, "--exit-zero-even-if-changed", *python], tree
        )
        _note(tree, python, original, tools, "pyupgrade")
    rewrites: dict[str, list[str]] = {}
    cannot: list[str] = []
    for path in python:
        before = (tree / path).read_text("utf-8", errors="replace")
        after, done, listed = rewrite_deprecated(before)
        cannot.extend(f"{path}:{item}" for item in listed)
        if after != before and _compiles(after):
            (tree / path).write_text(after, "utf-8")
            rewrites[path] = done
            tools[path].append("deprecated APIs")
    if python:
        staged = {f: (tree / f).read_text("utf-8", errors="replace") for f in python}
        verdicts["autotyping"] = _sandboxed([PYTHON, "-m", "autotyping", "--safe", *python], tree)
        _note(tree, python, staged, tools, "type hints")
    for path in python:
        if not _compiles((tree / path).read_text("utf-8", errors="replace")):
            (tree / path).write_text(original[path], "utf-8")  # a pass broke it: keep the legacy text
            tools[path] = []
            cannot.append(f"{path}: the changes did not compile and were undone")
    changed = tuple(
        ModuleChange(
            path=path,
            tools=tuple(tools[path]),
            rewrites=tuple(rewrites.get(path, ())),
            lines_before=len(original[path].splitlines()),
            lines_after=len((tree / path).read_text("utf-8", errors="replace").splitlines()),
        )
        for path in python
        if (tree / path).read_text("utf-8", errors="replace") != original[path]
    )
    return Upgrade(target, changed, tuple(cannot), verdicts)


def _sandboxed(argv: list[str], tree: Path) -> str:
    result = sandbox_run(argv, cwd=tree, limits=Limits(timeout=300))
    return "ok" if result.exit_code == 0 and not result.stopped else f"{result.verdict}: {result.output[-300:]}"


def _note(tree: Path, files: list[str], before: dict[str, str], tools: dict[str, list[str]], name: str) -> None:
    for path in files:
        if (tree / path).read_text("utf-8", errors="replace") != before[path]:
            tools[path].append(name)


def _compiles(text: str) -> bool:
    try:
        compile(text, "<modernized>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def rewrite_deprecated(text: str) -> tuple[str, list[str], list[str]]:
    """(new text, replacements made, uses that cannot be replaced mechanically) of one module."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return text, [], []
    modules = _imported_modules(tree)
    loggers = _module_loggers(tree, modules)
    uses_unittest = "unittest" in modules
    edits: list[tuple[int, int, str, str]] = []  # line, column of the attribute name, old, new
    cannot: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in REMOVED_MODULES and node.col_offset >= 0:
                    cannot.append(f"{node.lineno}: import {top} — {REMOVED_MODULES[top]}")
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        func = node.func
        owner = func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else None
        if isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name):
            owner_name = owner.attr if owner.value.id in modules else None
        new: str | None = None
        module = modules.get(owner_name or "")
        if module is not None and (module, func.attr) in RENAMED:
            new = RENAMED[(module, func.attr)]
        elif owner_name in loggers and func.attr == "warn":
            new = "warning"
        elif uses_unittest and owner_name == "self" and func.attr in UNITTEST_ALIASES:
            new = UNITTEST_ALIASES[func.attr] or None
            if new is None:
                cannot.append(f"{node.lineno}: self.{func.attr} — removed in 3.12 without a drop-in replacement")
        elif (owner_name in modules or owner_name == "datetime") and (
            modules.get(owner_name or "", owner_name or ""),
            func.attr,
        ) in NOT_MECHANICAL:
            key = (modules.get(owner_name or "", owner_name or ""), func.attr)
            cannot.append(f"{node.lineno}: {key[0]}.{key[1]} — {NOT_MECHANICAL[key]}")
        if new and func.end_lineno is not None and func.end_col_offset is not None:
            edits.append((func.end_lineno, func.end_col_offset - len(func.attr), func.attr, new))
    if not edits:
        return text, [], cannot
    lines = text.splitlines(keepends=True)
    done: list[str] = []
    for line, column, old, new in sorted(set(edits), reverse=True):
        row = lines[line - 1]
        encoded = row.encode("utf-8")
        if encoded[column : column + len(old)].decode("utf-8", errors="replace") != old:
            continue
        lines[line - 1] = (encoded[:column] + new.encode() + encoded[column + len(old) :]).decode("utf-8")
        done.append(f"line {line}: .{old}( → .{new}(")
    return "".join(lines), sorted(done, key=_line_number), cannot


def _line_number(item: str) -> int:
    found = re.match(r"line (\d+)", item)
    return int(found.group(1)) if found else 0


def _imported_modules(tree: ast.Module) -> dict[str, str]:
    """Local name → standard module, for ``import x`` and ``import x as y`` (and ``from datetime
    import datetime``, whose class carries the deprecated ``utcnow``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if "." not in alias.name:
                    names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module == "datetime" and node.level == 0:
            for alias in node.names:
                if alias.name == "datetime":
                    names[alias.asname or "datetime"] = "datetime"
    return names


def _module_loggers(tree: ast.Module, modules: dict[str, str]) -> set[str]:
    """Module-level names bound to ``logging.getLogger(...)``."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value.func
            if (
                isinstance(call, ast.Attribute)
                and call.attr == "getLogger"
                and isinstance(call.value, ast.Name)
                and modules.get(call.value.id) == "logging"
            ):
                found.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return found
