"""A project's whole event history, a page at a time, newest first, filtered by kind.

Paging is by keyset, not by offset: a page is "the ``PAGE_SIZE`` events older than event
``before``", found through the ``(project, created_at)`` index whatever the page's depth, so the
thousandth page costs what the first does and an event appended meanwhile does not shift the
pages a reader is going through. The cursor is an event id; its time is read from the project's
own events, so a cursor from another project (or a made-up one) matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from projects.models import Event, Project
from success.dashboard import FEED_GROUPS, FeedEvent

PAGE_SIZE = 50
KINDS: dict[str, str] = {str(kind.value): str(kind.label) for kind in Event.Kind}


@dataclass(frozen=True, slots=True)
class HistoryPage:
    events: list[FeedEvent]
    kind: str  # "" for every kind, else an Event.Kind value or "group:<key>"
    before: int | None
    older: int | None  # the cursor of the next (older) page, None at the end


def history_filter(value: str | None) -> str:
    """A kind filter from the query string; anything unknown means every kind."""
    value = value or ""
    if value in KINDS or (value.startswith("group:") and value.removeprefix("group:") in FEED_GROUPS):
        return value
    return ""


def history_page(project: Project, *, kind: str = "", before: int | None = None) -> HistoryPage:
    """One page of ``project``'s events (two queries)."""
    events = Event.objects.filter(project=project)
    if kind.startswith("group:"):
        kinds = FEED_GROUPS[kind.removeprefix("group:")].kinds
        if kinds is not None:
            events = events.filter(kind__in=kinds)
    elif kind:
        events = events.filter(kind=kind)
    if before is not None:
        anchor = Event.objects.filter(project=project, pk=before).values_list("created_at", flat=True).first()
        if anchor is None:
            return HistoryPage([], kind, before, None)
        events = events.filter(Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before))
    rows = list(
        events.order_by("-created_at", "-pk").values_list("pk", "kind", "message", "actor", "created_at")[
            : PAGE_SIZE + 1
        ]
    )
    page = [FeedEvent(*row) for row in rows[:PAGE_SIZE]]
    return HistoryPage(page, kind, before, page[-1].id if len(rows) > PAGE_SIZE else None)
