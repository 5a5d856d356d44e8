"""The dependency graph between the modules of a code base, its cycles and its hotspots.

This module owns which module depends on which. A module is one source file, named by its path
relative to the code base root; an edge ``a → b`` means ``a`` imports ``b``. Only imports that
resolve to a file inside the code base become edges; the rest are reported as external packages
(Python and JavaScript/TypeScript, standard library excluded).

How imports resolve:

- **Python** (from the shared ``ast``; Python 2 code that does not parse is read with a regex
  over ``import``/``from`` lines): a file's dotted name starts at its outermost directory with an
  ``__init__.py`` (``src/shop/orders/models.py`` is ``shop.orders.models`` when ``shop`` and
  ``orders`` are packages). ``import a.b.c`` depends on the most specific of ``a.b.c``, ``a.b``,
  ``a`` that exists; ``from p import x`` on the submodule ``p.x`` if there is one, else on ``p``.
  Relative imports (``from ..x import y``) resolve from the importing module's package. Names not
  found that way are tried relative to the importing file's directory (Python 2 implicit relative
  imports, scripts importing their neighbours) and then as a path from the root.
- **JavaScript/TypeScript**: ``import … from './x'``, ``export … from``, ``import('./x')`` and
  ``require('./x')`` with a relative specifier, tried as written, with each script extension, and
  as ``x/index.*``; a ``.js`` specifier also finds the ``.ts`` file (TypeScript ESM convention).
- **Java**: ``import a.b.C;`` finds the file declaring ``package a.b;`` named ``C.java`` (nested
  and static imports fall back to the enclosing class), ``import a.b.*;`` every class of package
  ``a.b``; classes of the same package are used without import, so a file also depends on every
  same-package class whose name appears in it.
- **C/C++**: ``#include "x.h"`` relative to the including file, else the only file of that name.

Cycles are the strongly connected components of more than one module (or a module importing
itself), found with Tarjan's algorithm (iterative, so deep graphs do not hit the recursion
limit). :func:`condense` collapses each component into one node, giving the acyclic graph the
migration plan orders.

**Hotspot score** = total cyclomatic complexity × code lines × (1 + fan-in), where fan-in is the
number of other modules that import the module: a complex, large module many others rely on is
both the riskiest to change and the one whose change ripples furthest.
"""

from __future__ import annotations

import ast
import posixpath
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from agents.legacy.languages import CPP, JAVA, JAVASCRIPT, PYTHON, TYPESCRIPT, C
from agents.legacy.sources import SourceFile


@dataclass(frozen=True)
class DependencyGraph:
    """Modules and the in-tree modules each one depends on."""

    modules: tuple[str, ...]
    edges: Mapping[str, frozenset[str]]
    external: tuple[str, ...]
    # (importer, imported) → how many imported names refer to it (Python); other languages 1.
    references: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def weight(self, source: str, target: str) -> int:
        """How strongly ``source`` depends on ``target``: its import references (at least 1)."""
        return max(1, self.references.get((source, target), 1))

    def dependencies(self, module: str) -> frozenset[str]:
        return self.edges.get(module, frozenset())

    def edge_list(self) -> list[tuple[str, str]]:
        return sorted((source, target) for source, targets in self.edges.items() for target in targets)

    def fan_in(self) -> dict[str, int]:
        """How many other modules depend on each module."""
        counts = dict.fromkeys(self.modules, 0)
        for source, targets in self.edges.items():
            for target in targets:
                if target != source:
                    counts[target] += 1
        return counts

    def fan_out(self) -> dict[str, int]:
        return {module: len(self.dependencies(module) - {module}) for module in self.modules}

    def restricted(self, modules: Iterable[str]) -> DependencyGraph:
        """The graph of only ``modules``: edges to or from any other module are dropped."""
        keep = frozenset(modules)
        return DependencyGraph(
            tuple(m for m in self.modules if m in keep),
            {m: targets & keep for m, targets in self.edges.items() if m in keep},
            self.external,
            {edge: count for edge, count in self.references.items() if edge[0] in keep and edge[1] in keep},
        )


@dataclass(frozen=True)
class Condensation:
    """The graph with every strongly connected component collapsed into one node.

    ``components`` are in dependency order: every component comes after the components it
    depends on (Tarjan emits them so). ``edges[i]`` are the components component ``i``
    depends on.
    """

    components: tuple[tuple[str, ...], ...]
    component_of: Mapping[str, int]
    edges: Mapping[int, frozenset[int]]


@dataclass(frozen=True)
class Hotspot:
    """A module ranked by complexity × size × (1 + fan-in)."""

    path: str
    complexity: int
    code_lines: int
    fan_in: int
    score: int


def build_dependency_graph(files: Sequence[SourceFile]) -> DependencyGraph:
    """Resolve the imports of every file to modules of the same code base."""
    resolver = _Resolver(files)
    edges: dict[str, frozenset[str]] = {}
    external: set[str] = set()
    references: dict[tuple[str, str], int] = {}
    for source in files:
        if source.language is PYTHON:
            counted = resolver.python(source, external)
            references.update(((source.path, target), count) for target, count in counted.items())
            targets = set(counted)
        elif source.language in (JAVASCRIPT, TYPESCRIPT):
            targets = resolver.javascript(source, external)
        elif source.language is JAVA:
            targets = resolver.java(source)
        elif source.language in (C, CPP):
            targets = resolver.c_include(source)
        else:
            continue
        if targets:
            edges[source.path] = frozenset(targets)
    return DependencyGraph(
        modules=tuple(sorted(source.path for source in files)),
        edges=edges,
        external=tuple(sorted(external)),
        references=references,
    )


def strongly_connected_components(nodes: Iterable[str], edges: Mapping[str, Iterable[str]]) -> list[tuple[str, ...]]:
    """Tarjan's algorithm, iterative; components come out dependencies-first."""
    index_of: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[tuple[str, ...]] = []
    counter = 0
    for root in nodes:
        if root in index_of:
            continue
        work: list[tuple[str, list[str], int]] = [(root, sorted(edges.get(root, ())), 0)]
        index_of[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors, position = work[-1]
            if position < len(successors):
                work[-1] = (node, successors, position + 1)
                successor = successors[position]
                if successor not in index_of:
                    index_of[successor] = lowlink[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, sorted(edges.get(successor, ())), 0))
                elif successor in on_stack:
                    lowlink[node] = min(lowlink[node], index_of[successor])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index_of[node]:
                members: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                components.append(tuple(sorted(members)))
    return components


def condense(graph: DependencyGraph) -> Condensation:
    components = strongly_connected_components(graph.modules, graph.edges)
    component_of = {member: number for number, members in enumerate(components) for member in members}
    edges: dict[int, frozenset[int]] = {}
    for number, members in enumerate(components):
        targets = {
            component_of[target]
            for member in members
            for target in graph.dependencies(member)
            if target in component_of
        }
        targets.discard(number)
        edges[number] = frozenset(targets)
    return Condensation(tuple(components), component_of, edges)


def cycles(graph: DependencyGraph) -> list[tuple[str, ...]]:
    """Import cycles: components of several modules, and modules that import themselves."""
    return [
        component
        for component in strongly_connected_components(graph.modules, graph.edges)
        if len(component) > 1 or component[0] in graph.dependencies(component[0])
    ]


def rank_hotspots(
    graph: DependencyGraph,
    *,
    complexity: Mapping[str, int],
    code_lines: Mapping[str, int],
    limit: int = 10,
) -> list[Hotspot]:
    """The ``limit`` modules with the highest complexity × size × (1 + fan-in)."""
    fan_in = graph.fan_in()
    spots = [
        Hotspot(
            path=module,
            complexity=complexity.get(module, 0),
            code_lines=code_lines.get(module, 0),
            fan_in=fan_in[module],
            score=complexity.get(module, 0) * code_lines.get(module, 0) * (1 + fan_in[module]),
        )
        for module in graph.modules
    ]
    spots = [spot for spot in spots if spot.score > 0]
    spots.sort(key=lambda spot: (-spot.score, spot.path))
    return spots[:limit]


_PY_IMPORT = re.compile(r"^\s*import\s+([\w.]+(?:\s*,\s*[\w.]+)*)", re.MULTILINE)
_PY_FROM = re.compile(r"^\s*from\s+(\.*)([\w.]*)\s+import\s+\(?\s*([\w.,\s*]+)", re.MULTILINE)
_JS_IMPORT = re.compile(
    r"""(?:\bimport|\bexport)\s+(?:[^'";]*?\bfrom\s*)?['"]([^'"\n]+)['"]"""
    r"""|\b(?:require|import)\s*\(\s*['"]([^'"\n]+)['"]\s*\)"""
)
_JS_EXTENSIONS = (".js", ".ts", ".tsx", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_JAVA_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_JAVA_IMPORT = re.compile(r"^\s*import\s+(static\s+)?([\w.]+?)(\.\*)?\s*;", re.MULTILINE)
_JAVA_TYPE_NAME = re.compile(r"\b[A-Z]\w*\b")
_C_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)
_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


class _Resolver:
    """Name tables for one code base, built once, used to resolve every file's imports."""

    def __init__(self, files: Sequence[SourceFile]) -> None:
        self.paths = {source.path for source in files}
        self.python_by_name: dict[str, str] = {}
        self.python_by_location: dict[str, str] = {}
        self.python_package: dict[str, tuple[str, ...]] = {}
        for source in files:
            if source.language is PYTHON:
                self._register_python(source.path)
        self.java_classes: dict[str, str] = {}
        self.java_packages: dict[str, dict[str, str]] = defaultdict(dict)
        self.java_package_of: dict[str, str] = {}
        for source in files:
            if source.language is JAVA:
                found = _JAVA_PACKAGE.search(source.text)
                package = found.group(1) if found else ""
                name = PurePosixPath(source.path).stem
                self.java_classes[f"{package}.{name}" if package else name] = source.path
                self.java_packages[package][name] = source.path
                self.java_package_of[source.path] = package
        self.by_basename: dict[str, list[str]] = defaultdict(list)
        for path in sorted(self.paths):
            self.by_basename[posixpath.basename(path)].append(path)

    # Python -------------------------------------------------------------------------------
    def _register_python(self, path: str) -> None:
        pure = PurePosixPath(path)
        directories = pure.parent.parts
        start = len(directories)
        while start > 0 and "/".join((*directories[:start], "__init__.py")) in self.paths:
            start -= 1
        is_package = pure.stem == "__init__"
        name_parts = directories[start:] if is_package else (*directories[start:], pure.stem)
        location_parts = directories if is_package else (*directories, pure.stem)
        if name_parts:
            self.python_by_name.setdefault(".".join(name_parts), path)
        if location_parts:
            self.python_by_location.setdefault(".".join(location_parts), path)
        self.python_package[path] = name_parts if is_package else name_parts[:-1]

    def _python_lookup(self, dotted: str, path: str) -> str | None:
        """The most specific existing module for ``dotted``, by name, neighbour or location."""
        parts = dotted.split(".")
        directory = PurePosixPath(path).parent.parts
        for table, prefix in (
            (self.python_by_name, ()),
            (self.python_by_location, directory),
            (self.python_by_location, ()),
        ):
            for end in range(len(parts), 0, -1):
                found = table.get(".".join((*prefix, *parts[:end])))
                if found is not None:
                    return found
        return None

    def _python_exact(self, dotted: str) -> str | None:
        return self.python_by_name.get(dotted) or self.python_by_location.get(dotted)

    def python(self, source: SourceFile, external: set[str]) -> Counter[str]:
        """The in-tree modules ``source`` imports, each with its number of import references
        (one per imported name, one for a bare ``import x``)."""
        targets: Counter[str] = Counter()
        for level, module, names in _python_imports(source):
            if level == 0:
                submodules = [self._python_exact(f"{module}.{name}") for name in names if name != "*"]
                hits = [found for found in submodules if found is not None]
                if hits:
                    targets.update(hits)
                    continue
                resolved = self._python_lookup(module, source.path)
                if resolved is not None:
                    targets[resolved] += max(1, len(names))
                elif module.split(".")[0] not in _STDLIB:
                    external.add(module.split(".")[0])
                continue
            package = self.python_package.get(source.path, ())
            if level - 1 > len(package):
                continue
            base = package[: len(package) - (level - 1)]
            target = ".".join((*base, *module.split("."))) if module else ".".join(base)
            hit = False
            for name in names:
                found = self._python_exact(f"{target}.{name}" if target else name)
                if found is not None:
                    targets[found] += 1
                    hit = True
            if not hit and target:
                found = self._python_exact(target)
                if found is not None:
                    targets[found] += max(1, len(names))
        del targets[source.path]
        return targets

    # JavaScript / TypeScript --------------------------------------------------------------
    def javascript(self, source: SourceFile, external: set[str]) -> set[str]:
        targets: set[str] = set()
        directory = posixpath.dirname(source.path)
        for match in _JS_IMPORT.finditer(source.text):
            specifier = match.group(1) or match.group(2)
            if not specifier.startswith("."):
                if not specifier.startswith("node:"):
                    parts = specifier.split("/")
                    external.add("/".join(parts[:2]) if specifier.startswith("@") else parts[0])
                continue
            base = posixpath.normpath(posixpath.join(directory, specifier))
            if base.startswith(".."):
                continue
            found = self._javascript_file(base)
            if found is not None and found != source.path:
                targets.add(found)
        return targets

    def _javascript_file(self, base: str) -> str | None:
        stem, suffix = posixpath.splitext(base)
        candidates = [base]
        if suffix in (".js", ".jsx", ".mjs", ".cjs"):
            candidates += [stem + ".ts", stem + ".tsx", stem + ".mts", stem + ".cts"]
        candidates += [base + extension for extension in _JS_EXTENSIONS]
        candidates += [f"{base}/index{extension}" for extension in _JS_EXTENSIONS]
        return next((c for c in candidates if c in self.paths), None)

    # Java ---------------------------------------------------------------------------------
    def java(self, source: SourceFile) -> set[str]:
        targets: set[str] = set()
        for match in _JAVA_IMPORT.finditer(source.text):
            is_static, name, wildcard = match.group(1), match.group(2), match.group(3)
            if wildcard and not is_static and name in self.java_packages:
                targets.update(self.java_packages[name].values())
                continue
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                found = self.java_classes.get(".".join(parts[:end]))
                if found is not None:
                    targets.add(found)
                    break
        package = self.java_package_of.get(source.path, "")
        neighbours = self.java_packages.get(package, {})
        for type_name in set(_JAVA_TYPE_NAME.findall(source.text)):
            found = neighbours.get(type_name)
            if found is not None:
                targets.add(found)
        targets.discard(source.path)
        return targets

    # C / C++ ------------------------------------------------------------------------------
    def c_include(self, source: SourceFile) -> set[str]:
        targets: set[str] = set()
        directory = posixpath.dirname(source.path)
        for match in _C_INCLUDE.finditer(source.text):
            included = match.group(1)
            relative = posixpath.normpath(posixpath.join(directory, included))
            if relative in self.paths:
                targets.add(relative)
                continue
            same_name = self.by_basename.get(posixpath.basename(included), [])
            if len(same_name) == 1:
                targets.add(same_name[0])
        targets.discard(source.path)
        return targets


def _python_imports(source: SourceFile) -> list[tuple[int, str, list[str]]]:
    """(level, module, imported names) per import statement; names empty for ``import x``."""
    tree = source.python_tree
    found: list[tuple[int, str, list[str]]] = []
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((0, alias.name, []) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names = [alias.name for alias in node.names]
                found.append((node.level, node.module or "", names))
        return found
    for match in _PY_IMPORT.finditer(source.text):
        found.extend((0, name.strip(), []) for name in match.group(1).split(","))
    for match in _PY_FROM.finditer(source.text):
        names = [n.strip().split(" ")[0] for n in match.group(3).split(",") if n.strip()]
        found.append((len(match.group(1)), match.group(2), names))
    return found


def imported_top_level(files: Iterable[SourceFile]) -> set[str]:
    """Every top-level name the Python files import absolutely (standard library included)."""
    names: set[str] = set()
    for source in files:
        if source.language is PYTHON:
            names.update(module.split(".")[0] for level, module, _ in _python_imports(source) if level == 0 and module)
    return names
