"""Re-export modules: Python modules that only gather names from other modules of the code base.

This module owns that recognition. A package's ``__init__.py`` often does nothing but import the
public names of its submodules (``from pkg._connection import Connection``), list them in
``__all__`` and define a constant or two. Such a module depends on every module it re-exports,
so in a strict dependency order it must come last — and a small last module can make every
balanced cut of the plan impossible. Its imports are not *uses*: migrating it does not need the
modules it re-exports to be migrated first (they stay importable as they are). The plan may
therefore move a re-export module before the modules it imports, and says so on the plan.

A module is a re-export module when every top-level statement is one of: a docstring, an
import, an assignment or annotated assignment whose value calls nothing (constants, names,
attribute reads, tuples, lists, sets and dicts of those, string concatenation), ``del``, or an
``if``/``try`` whose bodies are again only such statements (``if TYPE_CHECKING:``, ``try: import
x except ImportError: ...``). A function or class definition, a call, a loop: not a re-export
module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from agents.legacy.sources import SourceFile

_SIMPLE_VALUES = (
    ast.Constant,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.BinOp,
    ast.UnaryOp,
    ast.Starred,
    ast.Load,
    ast.Store,
    ast.operator,
    ast.unaryop,
    ast.JoinedStr,
    ast.FormattedValue,
)


def _simple_value(node: ast.AST | None) -> bool:
    return node is None or all(isinstance(child, _SIMPLE_VALUES) for child in ast.walk(node))


def _reexport_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass | ast.Delete):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant)  # a docstring or a stray literal
    if isinstance(node, ast.Assign | ast.AugAssign):
        return _simple_value(node.value)
    if isinstance(node, ast.AnnAssign):
        return _simple_value(node.value)
    if isinstance(node, ast.If):
        return _simple_value(node.test) and _only_reexports([*node.body, *node.orelse])
    if isinstance(node, ast.Try):
        handlers = [statement for handler in node.handlers for statement in handler.body]
        return _only_reexports([*node.body, *handlers, *node.orelse, *node.finalbody])
    return False


def _only_reexports(statements: Iterable[ast.stmt]) -> bool:
    return all(_reexport_statement(statement) for statement in statements)


def reexport_modules(files: Iterable[SourceFile]) -> frozenset[str]:
    """The paths of the Python modules that only re-export names (and import at least one)."""
    found = set()
    for source in files:
        tree = source.python_tree
        if tree is None or not tree.body:
            continue
        imports = any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(tree))
        if imports and _only_reexports(tree.body):
            found.add(source.path)
    return frozenset(found)
