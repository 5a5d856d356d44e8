"""The dashboard's HTML fragments, as the websocket and the polling endpoint send them.

Every fragment's root element has a stable id (``dash-summary``, ``dash-agents``,
``dash-timeline``, ``dash-burnup``, ``dash-quality``, ``dash-probability``, ``dash-decisions``,
``phase-<id>``, ``event-feed``) and
``hx-swap-oob="true"``, so the htmx ws extension — and htmx for a polled response with
``hx-swap="none"`` — replaces each element by id. A new feed row comes wrapped in
``<div hx-swap-oob="afterbegin:#event-feed">`` and lands at the top of the feed.

``state_html`` is the whole picture (sent first on every (re)connect, and on every poll);
``update_html`` is what one batch of events changes: the rows, the boards of the phases they
touched, and the project-wide numbers. ``live_html`` (the page) and ``polled_state_html`` come
from ``success.state_cache`` while no event happened.

Every frame ends with the cursor (``cursor_html``: the highest event id shown and how many events
that covers, in ``#dash-cursor``). A reconnecting page sends it back (``static/js/dashboard.js``
adds it to the socket's URL) and gets ``catch_up_html`` — only what it missed — instead of the
whole state, whenever the cursor proves it missed nothing else.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from projects.models import Project
from success.charts import burnup_svg, timeline_svg
from success.dashboard import (
    FEED_GROUPS,
    Dashboard,
    FeedCursor,
    FeedEvent,
    FeedGroup,
    dashboard_read,
    feed_cursor_read,
    feed_events_after,
)
from success.decisions import decisions_read
from success.probability import success_probability
from success.state_cache import cached_html

# A client that missed more events than this gets the whole state: it is smaller by then.
CATCH_UP_LIMIT = 200


def dashboard_context(dashboard: Dashboard, *, oob: bool = False) -> dict[str, Any]:
    """Template context of the page (``oob`` false) and of the swapped fragments (``oob`` true)."""
    return {
        "d": dashboard,
        "oob": oob,
        "project": dashboard.project,
        "feed_groups": FEED_GROUPS.values(),
        "decisions": decisions_read(dashboard.project),
        # Reversed once: a {% url %} per card costs ~0.4 ms each, and a board shows up to 720 cards.
        "task_url": reverse("task_page", args=[dashboard.project.pk, 0]).removesuffix("0/"),
        "timeline_chart": (
            timeline_svg(dashboard.timeline, dashboard.phase_status, dashboard.now)
            if dashboard.timeline is not None and dashboard.timeline.phases
            else None
        ),
        "burnup_chart": burnup_svg(dashboard.burnup) if dashboard.burnup is not None else None,
        "probability": success_probability(
            dashboard.project,
            now=dashboard.now,
            workflow=dashboard.workflow,
            timeline=dashboard.timeline,
            scope=dashboard.scope,
        ),
    }


def _numbers_html(context: dict[str, Any]) -> str:
    return "".join(
        render_to_string(f"success/_{name}.html", context)
        for name in ("decisions", "summary", "probability", "agents", "timeline", "burnup", "quality")
    )


def live_html(project: Project, group: FeedGroup) -> SafeString:
    """The live part of the dashboard page (everything under the websocket), from the cache when
    no event happened since it was rendered."""
    return cached_html(
        project.pk,
        f"page:{group.key}",
        lambda: render_to_string("success/_live.html", dashboard_context(dashboard_read(project, group=group))),
    )


def polled_state_html(project: Project, group: FeedGroup) -> SafeString:
    """``state_html`` for the polling fallback, from the cache when no event happened since."""
    return cached_html(project.pk, f"state:{group.key}", lambda: state_html(project, group)[0])


def cursor_html(cursor: FeedCursor) -> str:
    """The page's record of how far it has seen the events; a reconnecting socket sends it back."""
    return (
        f'<i id="dash-cursor" hidden data-last="{int(cursor.last)}" data-seen="{int(cursor.seen)}"'
        ' hx-swap-oob="true"></i>'
    )


@contextmanager
def _snapshot() -> Iterator[None]:
    """One view of the database for a whole render (REPEATABLE READ): the cursor, the feed and
    the boards then agree, whatever commits meanwhile; what does is announced to the group."""
    if connection.in_atomic_block:  # already inside someone's transaction: theirs decides
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def state_html(project: Project, group: FeedGroup) -> tuple[SafeString, FeedCursor]:
    """Everything, for a (re)connecting or polling client, with the cursor it reflects."""
    with _snapshot():
        cursor = feed_cursor_read(project)
        dashboard = dashboard_read(project, group=group)
        context = dashboard_context(dashboard, oob=True)
        html = _numbers_html(context) + render_to_string("success/_board.html", context)
        html += render_to_string("success/_feed.html", context) + cursor_html(cursor)
    return SafeString(html), cursor


def catch_up_html(project: Project, group: FeedGroup, since: FeedCursor) -> tuple[SafeString, FeedCursor] | None:
    """What a client at ``since`` missed — the numbers, the touched boards and the new rows — or
    None when only the whole state will do (see ``FeedCursor``). Nothing missed: the cursor alone."""
    with _snapshot():
        missed = feed_events_after(project, since, CATCH_UP_LIMIT)
        if missed is None:
            return None
        cursor = feed_cursor_read(project)
        if not missed:
            return SafeString(cursor_html(cursor)), cursor
        phases = {phase_id for _, phase_id in missed}
        phase_ids = None if None in phases else sorted(p for p in phases if p is not None)
        rows = [event for event, _ in missed if group.kinds is None or event.kind in group.kinds]
        html = update_html(project, phase_ids) + rows_html(rows) + cursor_html(cursor)
    return SafeString(html), cursor


def update_html(project: Project, phase_ids: Collection[int] | None) -> SafeString:
    """The numbers, and the boards of ``phase_ids`` (all of them when None), after some events.

    Feed rows are not part of it (``rows_html``): they come from the events' messages.
    """
    dashboard = dashboard_read(project, phase_ids=phase_ids, with_feed=False)
    context = dashboard_context(dashboard, oob=True)
    boards: str
    if phase_ids is None:
        boards = render_to_string("success/_board.html", context)
    else:
        boards = "".join(render_to_string("success/_phase.html", dict(context, board=b)) for b in dashboard.boards)
    return SafeString(_numbers_html(context) + boards)


def rows_html(events: Iterable[FeedEvent]) -> SafeString:
    """New feed rows, given in arrival order; the newest goes on top of the feed."""
    rows = "".join(render_to_string("success/_event.html", {"event": event}) for event in reversed(list(events)))
    return SafeString(f'<div hx-swap-oob="afterbegin:#event-feed">{rows}</div>' if rows else "")
