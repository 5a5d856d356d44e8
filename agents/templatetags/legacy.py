"""``{% dependency_graph result %}``: the assessment's dependency graph as inline SVG."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from agents.legacy.graph_svg import dependency_svg

register = template.Library()


@register.simple_tag
def dependency_graph(result: Mapping[str, Any]) -> SafeString:
    # dependency_svg escapes every name it draws (module paths are hostile).
    return mark_safe(dependency_svg(result))  # noqa: S308


@register.filter
def percent_of(share: float | int | str | None) -> str:
    """A phase's share (0–1) as a percentage with one decimal, the figure the quote shows."""
    try:
        return str(round(float(share or 0) * 100, 1))
    except (TypeError, ValueError):
        return "—"
