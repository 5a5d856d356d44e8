"""Waiting on a delivery by its progress rather than by the clock.

A loaded machine (two cores, other suites running) makes every step slower, but a healthy
delivery keeps appending events and finishing runs. ``wait_while_progressing`` fails when nothing
new happened for ``stalled_after`` seconds — the delivery is stuck — or when the generous overall
``cap`` is reached, and says which, with the last events, so a failure shows where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Max, Q

from projects.models import Event, Run

STALLED_AFTER = 60.0
CAP = 600.0


def delivery_progress(project_id: int) -> tuple[object, ...]:
    """What changes while a delivery is moving: its events and the runs that finished."""
    events = Event.objects.filter(project_id=project_id).aggregate(count=Count("pk"), last=Max("pk"))
    runs = Run.objects.filter(task__project_id=project_id).aggregate(
        count=Count("pk"), finished=Count("pk", filter=Q(finished_at__isnull=False))
    )
    return events["count"], events["last"], runs["count"], runs["finished"]


def _last_events(project_id: int, count: int = 8) -> str:
    rows = Event.objects.filter(project_id=project_id).order_by("-pk")[:count]
    return "\n".join(f"  {event.created_at:%H:%M:%S.%f} {event.kind}: {event.message[:160]}" for event in rows)


def wait_while_progressing(
    predicate: Callable[[], object],
    *,
    project_id: int,
    what: str,
    stalled_after: float = STALLED_AFTER,
    cap: float = CAP,
) -> Any:
    started = last_change = time.monotonic()
    seen = delivery_progress(project_id)
    while True:
        value = predicate()
        if value:
            return value
        now = time.monotonic()
        current = delivery_progress(project_id)
        if current != seen:
            seen, last_change = current, now
        if now - last_change > stalled_after:
            raise AssertionError(
                f"no progress for {stalled_after:g} s waiting for {what} "
                f"({now - started:.0f} s in all); the last events:\n{_last_events(project_id)}"
            )
        if now - started > cap:
            raise AssertionError(f"waited {cap:g} s for {what}; the last events:\n{_last_events(project_id)}")
        time.sleep(0.1)
