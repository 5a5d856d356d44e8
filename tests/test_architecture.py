"""The house rules that a reader should not have to police (STYLE.md, DESIGN.md §2), checked on the
application code's syntax tree: no function over 80 lines, no module over 500 lines in ``projects``
or ``billing``, and no ``from <app>.<module> import _private`` across modules. The app layering and
the absence of import circles are ``lint-imports``' contracts (pyproject.toml)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("tenants", "billing", "agents", "projects", "success", "api", "hive")
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 500
SIZED_APPS = ("projects", "billing")


def application_modules() -> Iterator[Path]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def long_functions(source: str, *, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method whose body runs over ``limit`` lines (from its
    ``def`` line to its last line; decorators not counted)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


def private_imports(source: str, *, module: str) -> list[str]:
    """``from <app>.<module> import _name`` statements of ``module`` that reach into another module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if node.module.split(".")[0] not in APPS or node.module == module:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"from {node.module} import {alias.name}")
    return found


def test_no_function_is_longer_than_80_lines() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name} ({lines} lines)"
        for path in application_modules()
        for name, lines in long_functions(path.read_text())
    ]
    assert offenders == []


def test_no_module_of_projects_or_billing_is_longer_than_500_lines() -> None:
    offenders = []
    for path in application_modules():
        if path.relative_to(ROOT).parts[0] in SIZED_APPS:
            lines = len(path.read_text().splitlines())
            if lines > MAX_MODULE_LINES:
                offenders.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert offenders == []


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {statement}"
        for path in application_modules()
        for statement in private_imports(path.read_text(), module=dotted(path))
    ]
    assert offenders == []


def test_the_checks_see_what_they_are_for() -> None:
    """The checkers are not blind: they find a long function, a long method and a private import."""
    body = "\n".join(f"    x{n} = {n}" for n in range(80))
    source = f"def long():\n{body}\n\nclass C:\n    def method(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n"
    assert [name for name, _ in long_functions(source)] == ["long", "method"]
    assert long_functions("def short():\n    return 1\n") == []
    imports = "from projects.delivery.orchestration import _advance, advance\nfrom projects.models import __all__\n"
    assert private_imports(imports, module="projects.delivery.execution") == [
        "from projects.delivery.orchestration import _advance"
    ]
    assert private_imports(imports, module="projects.delivery.orchestration") == []
    assert private_imports("from django.db import _x\n", module="projects.views") == []
