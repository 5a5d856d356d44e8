"""The dashboard's pictures, drawn as inline SVG on the server: no charting library, no CDN.

``burnup_svg`` draws done tasks over time against the scope, with the ideal line from the start to
the planned end when there is a plan; ``timeline_svg`` draws each phase's planned span (pale) and
actual span (solid; an open phase runs to now, red when it is past its planned end), with a line
at now. Both scale to their container (``viewBox``) and every text goes through ``format_html``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from projects.delivery.progress import Timeline
from success.dashboard import Burnup

WIDTH, PLOT_LEFT, PLOT_RIGHT = 640, 48, 16


def _x_scale(start: datetime, end: datetime, left: float, right: float) -> tuple[float, float]:
    """(origin, pixels per second) mapping ``start..end`` onto ``left..right``."""
    span = max((end - start).total_seconds(), 1.0)
    return left, (right - left) / span


def _date_label(moment: datetime, span: timedelta) -> str:
    return moment.strftime("%H:%M" if span <= timedelta(days=2) else "%b %d")


def burnup_svg(burnup: Burnup) -> SafeString:
    height, top, bottom = 200, 12, 172
    left, right = PLOT_LEFT, WIDTH - PLOT_RIGHT
    origin, per_second = _x_scale(burnup.start, burnup.end, left, right)
    scope = max(burnup.scope, 1)

    def x(moment: datetime) -> float:
        return round(origin + max(0.0, (moment - burnup.start).total_seconds()) * per_second, 1)

    def y(count: float) -> float:
        return round(bottom - (bottom - top) * min(count, scope) / scope, 1)

    parts: list[SafeString] = [
        format_html('<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>', left, bottom, right, bottom),
        format_html('<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>', left, top, left, bottom),
        format_html('<line class="scope" x1="{}" y1="{}" x2="{}" y2="{}"/>', left, y(scope), right, y(scope)),
        format_html('<text x="{}" y="{}" text-anchor="end">{}</text>', left - 6, y(scope) + 4, burnup.scope),
        format_html('<text x="{}" y="{}" text-anchor="end">0</text>', left - 6, bottom + 4),
    ]
    if burnup.planned_end is not None:
        parts.append(
            format_html(
                '<line class="ideal" x1="{}" y1="{}" x2="{}" y2="{}"><title>planned pace</title></line>',
                left,
                bottom,
                x(burnup.planned_end),
                y(scope),
            )
        )
    points: list[tuple[float, float]] = [(left, bottom)]
    for moment, done in burnup.done_steps:
        points += [(x(moment), points[-1][1]), (x(moment), y(done))]
    points.append((x(burnup.now), points[-1][1]))
    parts.append(
        format_html(
            '<polyline class="done" points="{}"><title>{} of {} tasks done</title></polyline>',
            " ".join(f"{px:.1f},{py:.1f}" for px, py in points),
            burnup.done,
            burnup.scope,
        )
    )
    span = burnup.end - burnup.start
    parts += [
        format_html('<line class="now" x1="{}" y1="{}" x2="{}" y2="{}"/>', x(burnup.now), top, x(burnup.now), bottom),
        format_html('<text x="{}" y="{}">{}</text>', left, bottom + 18, _date_label(burnup.start, span)),
        format_html(
            '<text x="{}" y="{}" text-anchor="end">{}</text>', right, bottom + 18, _date_label(burnup.end, span)
        ),
    ]
    return format_html(
        '<svg class="chart burnup" viewBox="0 0 {} {}" role="img" aria-label="Burn-up: {} of {} tasks done">{}</svg>',
        WIDTH,
        height,
        burnup.done,
        burnup.scope,
        mark_safe("".join(parts)),  # noqa: S308  (each part was built by format_html)
    )


def timeline_svg(timeline: Timeline, statuses: Mapping[int, str], now: datetime) -> SafeString:
    """Planned against actual spans of each phase; ``statuses`` maps phase id → status."""
    row, label_width = 26, 170
    left, right = label_width, WIDTH - PLOT_RIGHT
    moments = [now]
    for phase in timeline.phases:
        moments += [m for m in (phase.planned_start, phase.planned_end, phase.started_at, phase.finished_at) if m]
    if timeline.planned_end:
        moments.append(timeline.planned_end)
    start, end = min(moments), max(moments)
    origin, per_second = _x_scale(start, end, left, right)
    height = 24 + row * max(len(timeline.phases), 1)

    def x(moment: datetime) -> float:
        return round(origin + (moment - start).total_seconds() * per_second, 1)

    bars: list[tuple[str, str, float, float, float]] = []
    for number, phase in enumerate(timeline.phases):
        top = 8 + number * row
        if phase.planned_start and phase.planned_end:
            bars.append(
                ("planned", phase.name, x(phase.planned_start), top, x(phase.planned_end) - x(phase.planned_start))
            )
        if phase.started_at:
            finish = phase.finished_at or now
            late = phase.delay is not None and phase.delay > timedelta(0)
            css = f"actual {statuses.get(phase.phase_id, '')}{' late' if late else ''}"
            bars.append((css, phase.name, x(phase.started_at), top + 5, max(x(finish) - x(phase.started_at), 2.0)))
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" class="label">{}</text>',
        ((4, 22 + number * row, phase.name[:26]) for number, phase in enumerate(timeline.phases)),
    )
    rects = format_html_join(
        "",
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (css, px, top, round(max(width, 1.0), 1), 14 if css == "planned" else 4, name)
            for css, name, px, top, width in bars
        ),
    )
    now_line = format_html(
        '<line class="now" x1="{}" y1="2" x2="{}" y2="{}"><title>now</title></line>', x(now), x(now), height - 14
    )
    span = end - start
    axis = format_html(
        '<text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>',
        left,
        height - 2,
        _date_label(start, span),
        right,
        height - 2,
        _date_label(end, span),
    )
    return format_html(
        '<svg class="chart timeline" viewBox="0 0 {} {}" role="img" aria-label="Phase timeline, planned and actual">'
        "{}{}{}{}</svg>",
        WIDTH,
        height,
        labels,
        rects,
        now_line,
        axis,
    )
