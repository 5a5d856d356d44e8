"""The dashboard's HTML fragments, as the websocket and the polling endpoint send them.

Every fragment's root element has a stable id (``dash-summary``, ``dash-agents``,
``dash-timeline``, ``dash-burnup``, ``dash-quality``, ``dash-probability``, ``phase-<id>``, ``event-feed``) and
``hx-swap-oob="true"``, so the htmx ws extension — and htmx for a polled response with
``hx-swap="none"`` — replaces each element by id. A new feed row comes wrapped in
``<div hx-swap-oob="afterbegin:#event-feed">`` and lands at the top of the feed.

``state_html`` is the whole picture (sent first on every (re)connect, and on every poll);
``update_html`` is what one batch of events changes: the rows, the boards of the phases they
touched, and the project-wide numbers. ``live_html`` (the page) and ``polled_state_html`` come
from ``success.state_cache`` while no event happened.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from projects.models import Project
from success.charts import burnup_svg, timeline_svg
from success.dashboard import FEED_GROUPS, Dashboard, FeedEvent, FeedGroup, dashboard_read
from success.probability import success_probability
from success.state_cache import cached_html


def dashboard_context(dashboard: Dashboard, *, oob: bool = False) -> dict[str, Any]:
    """Template context of the page (``oob`` false) and of the swapped fragments (``oob`` true)."""
    return {
        "d": dashboard,
        "oob": oob,
        "project": dashboard.project,
        "feed_groups": FEED_GROUPS.values(),
        "timeline_chart": (
            timeline_svg(dashboard.timeline, dashboard.phase_status, dashboard.now)
            if dashboard.timeline is not None and dashboard.timeline.phases
            else None
        ),
        "burnup_chart": burnup_svg(dashboard.burnup) if dashboard.burnup is not None else None,
        "probability": success_probability(
            dashboard.project, now=dashboard.now, workflow=dashboard.workflow, timeline=dashboard.timeline
        ),
    }


def _numbers_html(context: dict[str, Any]) -> str:
    return "".join(
        render_to_string(f"success/_{name}.html", context)
        for name in ("summary", "probability", "agents", "timeline", "burnup", "quality")
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


def state_html(project: Project, group: FeedGroup) -> tuple[SafeString, set[int]]:
    """Everything, for a (re)connecting or polling client; with the ids of the feed rows sent."""
    dashboard = dashboard_read(project, group=group)
    context = dashboard_context(dashboard, oob=True)
    html = _numbers_html(context) + render_to_string("success/_board.html", context)
    html += render_to_string("success/_feed.html", context)
    return SafeString(html), {event.id for event in dashboard.feed}


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
