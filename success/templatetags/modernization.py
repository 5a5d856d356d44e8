"""``{% segment_results project as segments %}``: each finished migration segment's changes, metrics
and parity (the modernization developer's task output), for the project page."""

from __future__ import annotations

from typing import Any

from django import template

from projects.models import Project, Task

register = template.Library()


@register.simple_tag
def segment_results(project: Project) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    tasks = Task.objects.filter(project=project, key="segment", status=Task.Status.DONE).order_by("finished_at", "pk")
    for task in tasks:
        data = (task.output or {}).get("data") or {}
        if not isinstance(data, dict):
            continue
        changes = [c for c in data.get("changes") or [] if isinstance(c, dict)]
        rows.append(
            {
                "number": data.get("segment"),
                "summary": str((task.output or {}).get("summary") or ""),
                "parity_percent": data.get("parity_percent"),
                "parity_kept": bool(data.get("parity_kept")),
                "changes": changes,
                "cannot": [str(c) for c in data.get("cannot") or []],
                "before": data.get("before") if isinstance(data.get("before"), dict) else {},
                "after": data.get("after") if isinstance(data.get("after"), dict) else {},
            }
        )
    return rows
