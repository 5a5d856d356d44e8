"""Reports: the daily progress summary of every active project and the weekly executive briefing
of every customer, both made only from what was recorded — the event stream, the task records
progress is derived from, gate runs, story decisions, survey answers and the agents' measurements.

**Daily summary** (beat, ``success.daily_summaries``): for the previous UTC day, per project that
was active during it; stored once per project and day, emailed to the members who opted in
(``ReportPreference``) and shown in the portal.

**As of now**: ``daily_summary_now`` and ``weekly_briefing_now`` make the same report up to the
moment they are asked for (the portal's buttons, rate-limited), so a delivery that finishes before
the next morning or Monday still has both; they are shown, not stored or mailed.

**Weekly briefing** (beat on Mondays, ``success.weekly_briefings``): one PDF per customer for the
seven days before the Monday it is made on, with a chart of the work done per day, a chart of
each project's progress, and per project the numbers an executive asks for: progress, tasks done
in the week, gate runs, acceptance, satisfaction, timeline and success probability. The numbers
are stored with the PDF, so a test (or an auditor) can compare the two.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from projects.delivery.faults import customer_text
from projects.delivery.progress import project_progress, project_timeline
from projects.models import Event, Project, Task, Workflow
from success.acceptance import acceptance_summaries
from success.dashboard import Adherence, quality_read
from success.delivery_status import (
    ScopeFacts,
    duration_text,
    project_scope_facts,
    scope_facts,
    scope_lines,
    status_words,
)
from success.escalations import current_customer
from success.links import portal_url
from success.models import DailySummary, Escalation, GateRun, ReportPreference, StoryDecision, Survey, WeeklyBriefing
from success.probability import success_probability
from success.satisfaction import satisfaction_scores, satisfaction_summary
from tenants.emails import send_templated_email
from tenants.models import Customer, Membership

K = Event.Kind


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def projects_active_between(start: datetime, end: datetime) -> list[Project]:
    """Projects whose delivery ran at some point of [start, end)."""
    return list(
        Project.objects.filter(workflow__started_at__lt=end)
        .filter(Q(workflow__finished_at__isnull=True) | Q(workflow__finished_at__gte=start))
        .exclude(workflow__status=Workflow.Status.CANCELLED, workflow__finished_at__lt=start)
        .select_related("workflow")
        .order_by("pk")
    )


def _count(kinds: Counter[str], kind: str) -> int:
    return kinds.get(kind, 0)


def daily_numbers(project: Project, day: date, *, now: datetime | None = None) -> dict[str, Any]:
    """The numbers of one project's day, from its records (up to ``now`` for a day not over)."""
    start, end = _day_bounds(day)
    end = min(end, now + timedelta(microseconds=1)) if now is not None else end
    events = list(
        Event.objects.filter(project=project, created_at__gte=start, created_at__lt=end).values_list(
            "kind", "message", "phase__name"
        )
    )
    kinds = Counter(kind for kind, _, _ in events)
    workflow = Workflow.objects.filter(project=project).first()
    timeline = project_timeline(project, now=end) if workflow is not None else None
    facts = project_scope_facts(project)
    now = min(timezone.now(), end)
    adherence = Adherence(
        planned=bool(workflow and workflow.planned_end),
        delay=timeline.delay if timeline else None,
        blocked_for=facts.blocked_for(now) if workflow is not None and workflow.is_active else None,
        open_gaps=len(facts.open_gaps),
    )
    gate_runs = list(
        GateRun.objects.filter(project=project, evaluated_at__gte=start, evaluated_at__lt=end).values_list(
            "phase__name", "number", "verdict"
        )
    )
    decisions = Counter(
        StoryDecision.objects.filter(project=project, decided_at__gte=start, decided_at__lt=end).values_list(
            "decision", flat=True
        )
    )
    scores = [
        score
        for score in Survey.objects.filter(project=project, answered_at__gte=start, answered_at__lt=end).values_list(
            "score", flat=True
        )
        if score is not None
    ]
    quality = {
        reading.metric.label: f"{reading.display} (target {reading.metric.target})"
        for reading in quality_read(project)
        if reading.value is not None
    }
    return {
        "day": day.isoformat(),
        "progress_percent": int(facts.progress(project_progress(project), workflow) * 100) if workflow else 0,
        "status": status_words(workflow, facts, now=now),
        **open_matters(project, facts, now=now),
        "tasks_done": _count(kinds, K.TASK_SUCCEEDED),
        "tasks_failed": _count(kinds, K.TASK_FAILED),
        "tasks_blocked": _count(kinds, K.TASK_BLOCKED),
        "escalated": _count(kinds, K.TASK_ESCALATED),
        "phases_completed": [phase for kind, _, phase in events if kind == K.PHASE_COMPLETED and phase],
        "gate_runs": [f"{phase} #{number}: {verdict}" for phase, number, verdict in gate_runs],
        "stories_accepted": decisions.get(StoryDecision.Decision.ACCEPTED, 0),
        "stories_rejected": decisions.get(StoryDecision.Decision.REJECTED, 0),
        "survey_scores": scores,
        "timeline": adherence.text,
        "quality": quality,
        "events": len(events),
    }


def open_matters(project: Project, facts: ScopeFacts, *, now: datetime) -> dict[str, list[str]]:
    """Escalations still open, blocked work and dropped scope — every report lists them. Said in
    plain words: an escalation's reason (which may hold a traceback) is for staff only."""
    escalations = [
        f"{escalation.get_kind_display()}, open since {escalation.created_at:%Y-%m-%d %H:%M} UTC"
        for escalation in Escalation.objects.filter(project=project).exclude(status=Escalation.Status.RESOLVED)
    ]
    blocked = [
        f"“{task.title}” blocked"
        + (f" for {duration_text(now - task.blocked_since)}" if task.blocked_since else "")
        + (f": {customer_text(task.blocked_reason)}" if task.blocked_reason else "")
        for task in Task.objects.filter(project=project, status=Task.Status.BLOCKED).order_by("blocked_since")
    ]
    return {"escalations_open": escalations, "blocked_work": blocked, "scope_open": scope_lines(facts)}


def _matters_lines(numbers: dict[str, Any]) -> list[str]:
    lines = []
    for key, label in (
        ("escalations_open", "Escalations open"),
        ("blocked_work", "Blocked work"),
        ("scope_open", "Scope not delivered or dropped"),
    ):
        items = numbers.get(key) or []
        lines.append(f"{label}: {'; '.join(items) if items else 'none'}.")
    return lines


def daily_text(project: Project, numbers: dict[str, Any]) -> str:
    as_of = f", as of {numbers['as_of']}" if numbers.get("as_of") else ""
    lines = [
        f"{project.name} — {numbers['day']}{as_of}",
        f"Status: {numbers.get('status') or 'not started'}. Progress: {numbers['progress_percent']} % "
        f"(delivered, verified scope). {numbers['timeline']}.",
        f"Tasks done: {numbers['tasks_done']}; failed attempts: {numbers['tasks_failed']}; "
        f"blocked: {numbers['tasks_blocked']}; escalated: {numbers['escalated']}.",
    ]
    lines += _matters_lines(numbers)
    if numbers["phases_completed"]:
        lines.append(f"Phases completed: {', '.join(numbers['phases_completed'])}.")
    if numbers["gate_runs"]:
        lines.append(f"Quality gate runs: {'; '.join(numbers['gate_runs'])}.")
    if numbers["stories_accepted"] or numbers["stories_rejected"]:
        lines.append(f"Stories accepted: {numbers['stories_accepted']}; rejected: {numbers['stories_rejected']}.")
    if numbers["survey_scores"]:
        lines.append(f"Satisfaction answers: {', '.join(f'{s}/10' for s in numbers['survey_scores'])}.")
    if numbers["quality"]:
        lines.append("Quality: " + "; ".join(f"{key} {value}" for key, value in numbers["quality"].items()) + ".")
    if not numbers["events"]:
        lines.append("Nothing was recorded on this project that day.")
    return "\n".join(lines)


def _subscribers(customer: Customer) -> list[str]:
    """Emails of the members who opted in to the daily summary and are still members."""
    opted = ReportPreference.objects.filter(daily_summary=True).values_list("user_id", flat=True)
    return sorted(
        Membership.objects.filter(customer=customer, user_id__in=list(opted), user__is_active=True).values_list(
            "user__email", flat=True
        )
    )


def daily_summary_make(*, project: Project, day: date) -> DailySummary:
    """Make, store and email the summary of ``project`` for ``day`` (once; again returns the stored one)."""
    existing = DailySummary.objects.filter(project=project, day=day).first()
    if existing is not None:
        return existing
    numbers = daily_numbers(project, day)
    customer = current_customer()
    recipients = _subscribers(customer)
    try:
        with transaction.atomic():
            summary = DailySummary.objects.create(
                project=project, day=day, numbers=numbers, text=daily_text(project, numbers), emailed_to=recipients
            )
            if recipients:
                send_templated_email(
                    "daily_summary",
                    recipients,
                    {
                        "customer": customer,
                        "project": project,
                        "summary": summary,
                        "link": portal_url(customer.schema_name, f"/reports/daily/{summary.pk}/"),
                        "preferences_link": portal_url(customer.schema_name, "/reports/"),
                    },
                )
    except IntegrityError:
        return DailySummary.objects.get(project=project, day=day)
    return summary


def daily_summary_now(project: Project, *, now: datetime | None = None) -> tuple[dict[str, Any], str]:
    """Today's summary of ``project`` up to this moment, made on request (not stored, not mailed:
    the morning's summary of the whole day still comes)."""
    now = now or timezone.now()
    numbers = daily_numbers(project, now.date(), now=now)
    numbers["as_of"] = f"{now:%H:%M} UTC"
    return numbers, daily_text(project, numbers)


def daily_summaries_make(*, day: date | None = None) -> list[DailySummary]:
    """Every active project's summary of ``day`` (default: yesterday, UTC) in this schema."""
    day = day or (timezone.now() - timedelta(days=1)).date()
    start, end = _day_bounds(day)
    return [daily_summary_make(project=project, day=day) for project in projects_active_between(start, end)]


# --- weekly briefing ----------------------------------------------------------------------------


def week_of(day: date) -> date:
    """The Monday starting the week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def weekly_numbers(week_start: date, *, now: datetime | None = None) -> dict[str, Any]:
    """The briefing's numbers for the seven days from ``week_start``, per project and in total."""
    start = datetime.combine(week_start, time.min, tzinfo=UTC)
    end = start + timedelta(days=7)
    now = min(now or timezone.now(), end)
    projects = projects_active_between(start, end)
    ids = [project.pk for project in projects]
    acceptance = acceptance_summaries(ids)
    scores = satisfaction_scores(ids)
    done_per_day: dict[int, list[int]] = {pid: [0] * 7 for pid in ids}
    for project_id, created_at in Event.objects.filter(
        project_id__in=ids, kind=K.TASK_SUCCEEDED, created_at__gte=start, created_at__lt=end
    ).values_list("project_id", "created_at"):
        done_per_day[project_id][(created_at - start).days] += 1
    gate_runs = Counter(
        (project_id, verdict != GateRun.Verdict.BLOCKED)
        for project_id, verdict in GateRun.objects.filter(
            project_id__in=ids, evaluated_at__gte=start, evaluated_at__lt=end
        ).values_list("project_id", "verdict")
    )
    escalations = Counter(  # every escalation raised in the week, whatever its kind
        Escalation.objects.filter(project_id__in=ids, created_at__gte=start, created_at__lt=end).values_list(
            "project_id", flat=True
        )
    )
    facts_of = scope_facts(ids)
    rows: list[dict[str, Any]] = []
    for project in projects:
        workflow = project.workflow
        timeline = project_timeline(project, now=now)
        summary = acceptance.get(project.pk)
        satisfaction = satisfaction_summary(scores.get(project.pk, []))
        facts = facts_of[project.pk]
        probability = success_probability(project, now=now, scope=facts)
        rows.append(
            {
                "project_id": project.pk,
                "name": project.name,
                "status": status_words(workflow, facts, now=now),
                "progress_percent": int(facts.progress(project_progress(project), workflow) * 100),
                **open_matters(project, facts, now=now),
                "tasks_done": sum(done_per_day[project.pk]),
                "done_per_day": done_per_day[project.pk],
                "gate_runs_passed": gate_runs.get((project.pk, True), 0),
                "gate_runs_blocked": gate_runs.get((project.pk, False), 0),
                "escalations": escalations.get(project.pk, 0),
                "acceptance_rate": str(summary.rate) if summary and summary.rate is not None else None,
                "satisfaction_mean": str(satisfaction.mean) if satisfaction.mean is not None else None,
                "timeline": Adherence(
                    planned=workflow.planned_end is not None,
                    delay=timeline.delay,
                    blocked_for=facts.blocked_for(now) if workflow.is_active else None,
                    open_gaps=len(facts.open_gaps),
                ).text,
                "success_probability": probability.percent,
            }
        )
    return {
        "week_start": week_start.isoformat(),
        "week_end": (week_start + timedelta(days=6)).isoformat(),
        "projects": rows,
        "tasks_done": sum(row["tasks_done"] for row in rows),
        "done_per_day": [sum(row["done_per_day"][day] for row in rows) for day in range(7)],
        "gate_runs_passed": sum(row["gate_runs_passed"] for row in rows),
        "gate_runs_blocked": sum(row["gate_runs_blocked"] for row in rows),
        "escalations": sum(row["escalations"] for row in rows),
    }


def _work_chart(numbers: dict[str, Any]) -> Drawing:
    drawing = Drawing(170 * mm, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 10 * mm, 150 * mm, 42 * mm
    chart.data = [numbers["done_per_day"]]
    start = date.fromisoformat(numbers["week_start"])
    chart.categoryAxis.categoryNames = [f"{start + timedelta(days=d):%a %d}" for d in range(7)]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(5, max(numbers["done_per_day"]) + 1)
    chart.bars[0].fillColor = colors.HexColor("#2f6fde")
    drawing.add(chart)
    drawing.add(String(15 * mm, 55 * mm, "Tasks done per day", fontSize=10))
    return drawing


PROJECTS_PER_CHART = 20  # a chart of more bars would not fit on a page


def _progress_chart(rows: list[dict[str, Any]], title: str = "Progress of each project (%)") -> Drawing:
    height = max(30, 9 * len(rows) + 16) * mm
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 45 * mm, 8 * mm, 115 * mm, height - 16 * mm
    chart.data = [[row["progress_percent"] for row in rows] or [0]]
    chart.categoryAxis.categoryNames = [row["name"][:28] for row in rows] or ["no project"]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.bars[0].fillColor = colors.HexColor("#1d9a6c")
    drawing.add(chart)
    drawing.add(String(0, height - 6 * mm, title, fontSize=10))
    return drawing


def _shown(value: object, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def _paragraph(text: str, style: Any) -> Paragraph:
    """A paragraph showing ``text`` as text. ReportLab parses a Paragraph's string as markup —
    ``<a href>`` makes a link, ``<img src>`` opens a local file, a stray ``<`` fails the whole
    document — and names here are typed by customers, so everything is escaped."""
    return Paragraph(escape(text), style)


def _project_table(row: dict[str, Any], styles: Any) -> Table:
    """The briefing's table of one project's numbers."""
    table = Table(
        [
            ["Status", row["status"]],
            ["Progress", f"{row['progress_percent']} %"],
            ["Tasks done this week", str(row["tasks_done"])],
            ["Gate runs passed / blocked", f"{row['gate_runs_passed']} / {row['gate_runs_blocked']}"],
            ["Escalations", str(row["escalations"])],
            ["Acceptance rate", _shown(row["acceptance_rate"], " %")],
            ["Satisfaction (mean)", _shown(row["satisfaction_mean"], " / 10")],
            ["Timeline", row["timeline"]],
            ["Success probability", _shown(row["success_probability"], " %")],
            *[
                [label, _paragraph("; ".join(row.get(key) or []) or "none", styles["BodyText"])]
                for key, label in (
                    ("escalations_open", "Escalations open"),
                    ("blocked_work", "Blocked work"),
                    ("scope_open", "Scope not delivered or dropped"),
                )
            ],
        ],
        colWidths=[60 * mm, 110 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#555555")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
            ]
        )
    )
    return table


def briefing_pdf(customer: Customer, numbers: dict[str, Any]) -> bytes:
    """Render the briefing's numbers as a PDF with two charts and a table per project."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Executive briefing — {customer.name}",
        author="Agent Hive",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    story: list[Any] = [
        _paragraph(f"Executive briefing — {customer.name}", styles["Title"]),
        _paragraph(
            f"Week of {numbers['week_start']} to {numbers['week_end']}"
            + (f", as of {numbers['as_of']}" if numbers.get("as_of") else ""),
            styles["Heading2"],
        ),
        _paragraph(
            f"Active projects: {len(numbers['projects'])}. Tasks done: {numbers['tasks_done']}. "
            f"Quality gate runs passed: {numbers['gate_runs_passed']}, blocked: {numbers['gate_runs_blocked']}. "
            f"Escalations: {numbers['escalations']}.",
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
        _work_chart(numbers),
        Spacer(1, 4 * mm),
    ]
    rows = numbers["projects"]
    for first in range(0, max(len(rows), 1), PROJECTS_PER_CHART):
        part = rows[first : first + PROJECTS_PER_CHART]
        title = "Progress of each project (%)" if first == 0 else "Progress of each project (%), continued"
        story += [_progress_chart(part, title), Spacer(1, 4 * mm)]
    for row in numbers["projects"]:
        story.append(_paragraph(row["name"], styles["Heading3"]))
        table = _project_table(row, styles)
        story += [table, Spacer(1, 3 * mm)]
    if not numbers["projects"]:
        story.append(_paragraph("No project was in delivery this week.", styles["BodyText"]))
    story.append(
        _paragraph(
            "Every number comes from the recorded project events, gate runs, story decisions, survey answers "
            "and measurements.",
            styles["Italic"],
        )
    )
    document.build(story)
    return buffer.getvalue()


def weekly_briefing_now(*, now: datetime | None = None) -> tuple[dict[str, Any], bytes]:
    """This week's briefing from Monday up to this moment, made on request (not stored: Monday's
    briefing of the whole week still comes)."""
    now = now or timezone.now()
    numbers = weekly_numbers(week_of(now.date()), now=now)
    numbers["as_of"] = f"{now:%Y-%m-%d %H:%M} UTC"
    return numbers, briefing_pdf(current_customer(), numbers)


def weekly_briefing_make(*, week_start: date, now: datetime | None = None) -> WeeklyBriefing:
    """Make and store this schema's briefing for the week from ``week_start`` (once)."""
    existing = WeeklyBriefing.objects.filter(week_start=week_start).first()
    if existing is not None:
        return existing
    numbers = weekly_numbers(week_start, now=now)
    pdf = briefing_pdf(current_customer(), numbers)
    try:
        with transaction.atomic():
            return WeeklyBriefing.objects.create(week_start=week_start, numbers=numbers, pdf=pdf)
    except IntegrityError:
        return WeeklyBriefing.objects.get(week_start=week_start)


def last_week_start(today: date | None = None) -> date:
    return week_of(today or timezone.now().date()) - timedelta(days=7)
