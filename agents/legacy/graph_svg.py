"""The dependency graph of an assessment as an SVG drawing, made on the server.

This module owns the drawing: one column per migration phase (phase order left to right), the
phase's modules stacked in it, an arrow from each importing module to the module it imports; an
import the plan cut to split a cycle is drawn dashed, in red, with the reason as its tooltip.
Module names come from the customer's upload and are hostile: every text and attribute value is
escaped with ``html.escape`` (quotes included) and long names are shortened; nothing of the input
reaches the drawing unescaped. No maintained library draws this layered layout without Graphviz
(a system binary we would have to run on customer names), and the layout here is a few lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

COLUMN = 240
ROW = 26
NODE_WIDTH = 200
NODE_HEIGHT = 20
MARGIN = 24
MAX_NODES = 400
_NAME = 30


def _short(name: str) -> str:
    return name if len(name) <= _NAME else "…" + name[-(_NAME - 1) :]


_NOT_MIGRATED = 1_000_000  # the column key of the files that are not migrated: after every phase


def dependency_svg(result: Mapping[str, Any]) -> str:
    """The SVG of ``result`` (an ``Assessment.to_dict()``); an empty string without modules."""
    modules: Sequence[Mapping[str, Any]] = result.get("modules") or []
    if not modules:
        return ""
    # The code to migrate first, so a large test suite does not push it out of the drawing; the
    # files that are not migrated (tests, packaging, docs, examples) in a last column of their own.
    shown = sorted(modules, key=lambda m: str(m.get("kind") or "code") != "code")[:MAX_NODES]
    columns: dict[int, list[str]] = defaultdict(list)
    for module in shown:
        excluded = str(module.get("kind") or "code") != "code"
        columns[_NOT_MIGRATED if excluded else int(module.get("phase") or 0)].append(str(module["path"]))
    order = sorted(columns)
    place: dict[str, tuple[int, int]] = {}
    for index, phase in enumerate(order):
        for row, path in enumerate(sorted(columns[phase])):
            place[path] = (MARGIN + index * COLUMN, MARGIN + 18 + row * ROW)
    width = MARGIN * 2 + len(order) * COLUMN
    height = MARGIN * 2 + 18 + max(len(c) for c in columns.values()) * ROW
    cut = {
        (str(e["importer"]), str(e["imported"])): str(e.get("reason", ""))
        for e in (result.get("plan") or {}).get("cut_edges", [])
    }
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" data-testid="dependency-graph" font-family="sans-serif" font-size="11">',
        "<title>Module dependency graph: one column per migration phase; an arrow points from the importing "
        "module to the module it imports; dashed red arrows are imports the plan cut.</title>",
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#777"/></marker></defs>',
    ]
    for index, phase in enumerate(order):
        label = "not migrated" if phase == _NOT_MIGRATED else f"phase {phase}" if phase else "no phase"
        parts.append(f'<text x="{MARGIN + index * COLUMN}" y="{MARGIN}" font-weight="bold">{escape(label)}</text>')
    for source, target in result.get("dependency_edges") or []:
        source, target = str(source), str(target)
        if source not in place or target not in place:
            continue
        (x1, y1), (x2, y2) = place[source], place[target]
        reason = cut.get((source, target))
        style = 'stroke="#c0392b" stroke-dasharray="4 3"' if reason is not None else 'stroke="#999"'
        tip = f"{source} imports {target}" + (f" (cut: {reason})" if reason else "")
        parts.append(
            f'<line x1="{x1 + NODE_WIDTH // 2}" y1="{y1 + NODE_HEIGHT // 2}" x2="{x2 + NODE_WIDTH // 2}" '
            f'y2="{y2 + NODE_HEIGHT // 2}" {style} marker-end="url(#arrow)" opacity="0.6">'
            f"<title>{escape(tip)}</title></line>"
        )
    for path, (x, y) in place.items():
        parts.append(
            f'<g data-module="{escape(path)}"><rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" '
            f'rx="3" fill="#eef3fb" stroke="#5b7db1"/><text x="{x + 6}" y="{y + 14}">{escape(_short(path))}</text>'
            f"<title>{escape(path)}</title></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
