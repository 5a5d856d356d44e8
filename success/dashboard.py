"""The read side of the live dashboard: what a customer sees of a running project, in a fixed
number of queries whatever the project's size.

``dashboard_read`` gathers one project's picture — phases on the timeline (planned against
actual), the task board by phase and status (each column capped at ``CARD_CAP`` cards by one
windowed query, with the rest counted), agents at work now, the typed event feed, progress
(``projects.delivery.progress``), timeline adherence, burn-up, quality numbers and
usage — in about fifteen queries. ``project_summaries`` does the same for the customer overview:
every project's status, progress and health in four queries.

Quality numbers are read, never made up: an agent reports a number by putting one of the
``QUALITY_METRICS`` keys into the data of a ``task.report`` event or of its outcome (task
output ``data``); the latest value of each wins, and a metric nobody reported yet shows as "not
measured yet".

The overview computes progress and delay for many projects at once with the formulas of
``projects.delivery.progress``, applied to rows fetched for all projects together instead of once per
project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, F, Max, Q, Sum, Value, When, Window
from django.db.models.functions import RowNumber, Trunc
from django.utils import timezone

from agents.roles import ROLES, Role
from projects.delivery.progress import (
    PHASE_FIELDS,
    Timeline,
    phase_delays,
    progress_from_rows,
    progress_rows,
    project_progress,
    project_timeline,
)
from projects.models import NOT_BUILT_LABEL, SKIPPED_LABEL, Event, Phase, Project, Run, Task, Workflow
from projects.scoping.scope_snapshot import project_quality_standards
from success.delivery_status import ScopeFacts, duration_text, project_scope_facts, scope_facts, status_words
from tenants.quality import COVERAGE_MIN, HIGH_FINDINGS_MAX, PAGE_LOAD_MAX, SECRET_FINDINGS_MAX, Measure, Threshold

CARD_CAP = 30
FEED_SIZE = 30
AGENTS_SHOWN = 50

K = Event.Kind
S = Task.Status


# --- the event feed -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedGroup:
    key: str
    label: str
    kinds: frozenset[str] | None  # None: every kind


FEED_GROUPS: dict[str, FeedGroup] = {
    group.key: group
    for group in (
        FeedGroup("all", "Everything", None),
        FeedGroup(
            "milestones",
            "Milestones",
            frozenset({K.PROJECT_STARTED, K.PROJECT_COMPLETED, K.PHASE_STARTED, K.PHASE_PASSED, K.PHASE_COMPLETED}),
        ),
        FeedGroup("work", "Agent work", frozenset({K.TASK_READY, K.TASK_STARTED, K.TASK_REPORT, K.TASK_SUCCEEDED})),
        FeedGroup(
            "problems",
            "Problems",
            # Every kind that reports something wrong: a story the agents cannot build (story.gap)
            # and a failed payment are problems as much as a failed task.
            frozenset(
                {
                    K.TASK_FAILED,
                    K.TASK_RETRY,
                    K.TASK_BLOCKED,
                    K.TASK_ESCALATED,
                    K.RUN_LOST,
                    K.PHASE_BLOCKED,
                    K.STORY_GAP,
                    K.PAYMENT_FAILED,
                }
            ),
        ),
        FeedGroup(
            "decisions",
            "Decisions",
            frozenset(
                {
                    K.PROJECT_PAUSED,
                    K.PROJECT_RESUMED,
                    K.PROJECT_CANCELLED,
                    K.APPROVAL_REQUESTED,
                    K.APPROVAL_GRANTED,
                    K.PHASE_GATES_REQUESTED,
                    K.TASK_HELD,
                    K.TASK_RELEASED,
                    K.TASK_RERUN,
                    K.TASK_CANCELLED,
                }
            ),
        ),
    )
}
DEFAULT_FEED = FEED_GROUPS["all"]
_TONES = {"milestones": "ok", "problems": "bad", "decisions": "warn"}


def feed_group(key: str | None) -> FeedGroup:
    return FEED_GROUPS.get(key or "", DEFAULT_FEED)


def kind_tone(kind: str) -> str:
    for key, tone in _TONES.items():
        kinds = FEED_GROUPS[key].kinds
        if kinds is not None and kind in kinds:
            return tone
    return "info"


def kind_label(kind: str) -> str:
    try:
        return str(Event.Kind(kind).label)
    except ValueError:
        return kind


@dataclass(frozen=True, slots=True)
class FeedEvent:
    id: int
    kind: str
    message: str
    actor: str
    created_at: datetime

    @property
    def label(self) -> str:
        return kind_label(self.kind)

    @property
    def tone(self) -> str:
        return kind_tone(self.kind)


def feed_event_from_message(message: Mapping[str, Any]) -> FeedEvent:
    """A feed row from the channel-layer message ``projects.delivery.events`` publishes (no query)."""
    return FeedEvent(
        id=int(message["event_id"]),
        kind=str(message["kind"]),
        message=str(message.get("message") or ""),
        actor=str(message.get("actor") or "system"),
        created_at=datetime.fromisoformat(str(message["created_at"])),
    )


def feed_read(project: Project, group: FeedGroup, limit: int = FEED_SIZE) -> list[FeedEvent]:
    """The latest events of the group, newest first."""
    events = Event.objects.filter(project=project)
    if group.kinds is not None:
        events = events.filter(kind__in=group.kinds)
    rows = events.order_by("-created_at", "-pk").values_list("pk", "kind", "message", "actor", "created_at")[:limit]
    return [FeedEvent(*row) for row in rows]


# How many of the newest event ids a cursor remembers as already counted (see FeedCursor).
CURSOR_RECENT = 50


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """How far a dashboard has seen the project's events: the highest id and how many there were.

    Ids are handed out at insert, not at commit, so an event can become visible after one with a
    higher id; "everything up to ``last``" is therefore checked by count: a reconnecting client
    whose ``seen`` still equals the number of events up to ``last`` missed only events above it.
    ``recent`` holds the newest ids already counted, so a late message about one of them (the
    consumer joins its group before reading) is not counted twice. Read it in the same snapshot
    as what it describes (``success.fragments``).
    """

    last: int
    seen: int
    recent: frozenset[int] = frozenset()


def feed_cursor_read(project: Project) -> FeedCursor:
    """The project's cursor now (two queries)."""
    totals = Event.objects.filter(project=project).aggregate(last=Max("pk"), seen=Count("pk"))
    recent = Event.objects.filter(project=project).order_by("-pk").values_list("pk", flat=True)[:CURSOR_RECENT]
    return FeedCursor(last=totals["last"] or 0, seen=totals["seen"], recent=frozenset(recent))


def feed_events_after(project: Project, cursor: FeedCursor, limit: int) -> list[tuple[FeedEvent, int | None]] | None:
    """The events a client at ``cursor`` has not seen (with their phase ids), oldest first; None
    when that cannot be told (an event at or below ``last`` it never saw, or more than ``limit``)."""
    if Event.objects.filter(project=project, pk__lte=cursor.last).count() != cursor.seen:
        return None
    rows = (
        Event.objects.filter(project=project, pk__gt=cursor.last)
        .order_by("pk")
        .values_list("pk", "kind", "message", "actor", "created_at", "phase_id")[: limit + 1]
    )
    if len(rows) > limit:
        return None
    return [(FeedEvent(*row[:5]), row[5]) for row in rows]


# --- the task board -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardColumn:
    key: str
    label: str
    statuses: tuple[str, ...]


COLUMNS = (
    BoardColumn("todo", "To do", (S.PENDING, S.READY, S.QUEUED)),
    BoardColumn("running", "In progress", (S.RUNNING,)),
    BoardColumn("waiting", "Waiting / blocked", (S.AWAITING_APPROVAL, S.BLOCKED)),
    BoardColumn("done", "Done", (S.DONE, S.CANCELLED)),
)


def role_label(role: str) -> str:
    try:
        return ROLES[Role(role)].name
    except (KeyError, ValueError):
        return role.replace("_", " ").capitalize() if role else "Customer"


NOT_BUILT, SKIPPED = "not_built", "skipped"
SHOWN_LABELS = {NOT_BUILT: NOT_BUILT_LABEL, SKIPPED: SKIPPED_LABEL}


@dataclass(frozen=True, slots=True)
class Card:
    id: int
    title: str
    role: str
    status: str
    started_at: datetime | None

    @property
    def role_label(self) -> str:
        return role_label(self.role)

    @property
    def status_label(self) -> str:
        if self.status in SHOWN_LABELS:
            return SHOWN_LABELS[self.status]
        try:
            return str(Task.Status(self.status).label)
        except ValueError:
            return self.status


@dataclass(slots=True)
class ColumnCards:
    column: BoardColumn
    cards: list[Card] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.cards)


@dataclass(slots=True)
class PhaseBoard:
    id: int
    position: int
    name: str
    status: str
    columns: list[ColumnCards]
    still_open: list[str] = field(default_factory=list)  # what its skipped steps leave open
    skipped: bool = False

    @property
    def status_label(self) -> str:
        if self.skipped and self.status == Phase.Status.DONE:  # a step did nothing: never plainly "Done"
            return "Skipped — not applicable" + (
                f"; still open: {', '.join(self.still_open)}" if self.still_open else ""
            )
        try:
            return str(Phase.Status(self.status).label)
        except ValueError:
            return self.status

    @property
    def total(self) -> int:
        return sum(column.total for column in self.columns)

    @property
    def done(self) -> int:
        return self.columns[-1].total


def _column_case() -> Case:
    return Case(
        When(status=S.DONE, output__data__built=False, then=Value("waiting")),  # not built: still open
        *[When(status__in=column.statuses, then=Value(column.key)) for column in COLUMNS],
        default=Value(COLUMNS[0].key),
    )


def _shown_case() -> Case:
    """A done task that built nothing, or did nothing, shows so (``Card.status_label``)."""
    return Case(
        When(status=S.DONE, output__data__built=False, then=Value(NOT_BUILT)),
        When(status=S.DONE, output__data__has_key="skipped", then=Value(SKIPPED)),
        default=F("status"),
    )


def boards_read(project: Project, phase_ids: Iterable[int] | None = None) -> list[PhaseBoard]:
    """The board of every phase (or of ``phase_ids``): two queries, at most ``CARD_CAP`` cards per column."""
    phases = Phase.objects.filter(project=project).order_by("position")
    tasks = Task.objects.filter(project=project)
    if phase_ids is not None:
        ids = list(phase_ids)
        phases, tasks = phases.filter(pk__in=ids), tasks.filter(phase_id__in=ids)
    boards = {
        pk: PhaseBoard(pk, position, name, status, [ColumnCards(column) for column in COLUMNS])
        for pk, position, name, status in phases.values_list("pk", "position", "name", "status")
    }
    partition = [F("phase_id"), F("column")]
    rows = (
        tasks.annotate(column=_column_case())
        .annotate(
            rank=Window(RowNumber(), partition_by=partition, order_by=[F("position").asc(), F("pk").asc()]),
            column_total=Window(Count("pk"), partition_by=partition),
        )
        .filter(rank__lte=CARD_CAP)
        .order_by("phase_id", "column", "rank")
        .annotate(shown=_shown_case())
        .values_list(
            "pk",
            "phase_id",
            "column",
            "column_total",
            "title",
            "role",
            "shown",
            "started_at",
            "output__data__skipped__leaves_open",
        )
    )
    index = {column.key: number for number, column in enumerate(COLUMNS)}
    for pk, phase_id, column, column_total, title, role, status, started_at, leaves_open in rows:
        board = boards.get(phase_id)
        if board is None:
            continue
        if status == SKIPPED:
            board.skipped = True
            if isinstance(leaves_open, str) and leaves_open and leaves_open not in board.still_open:
                board.still_open.append(leaves_open)
        cell = board.columns[index[column]]
        cell.total = column_total
        cell.cards.append(Card(pk, title, role, status, started_at))
    return list(boards.values())


# --- agents, usage, quality ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentAtWork:
    agent_name: str
    provider: str
    role: str
    task_id: int
    task_title: str
    since: datetime

    @property
    def role_label(self) -> str:
        return role_label(self.role)


def agents_read(project: Project) -> list[AgentAtWork]:
    rows = (
        Run.objects.filter(task__project=project, status=Run.Status.RUNNING)
        .order_by("started_at", "pk")
        .values_list("agent_name", "provider", "task__role", "task_id", "task__title", "started_at")[:AGENTS_SHOWN]
    )
    return [AgentAtWork(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Usage:
    runs: int
    seconds: float
    tokens: int
    cost: Decimal


def usage_read(project: Project) -> Usage:
    totals = Run.objects.filter(task__project=project).aggregate(
        runs=Count("pk"), seconds=Sum("usage_seconds"), tokens=Sum("usage_tokens"), cost=Sum("usage_cost")
    )
    return Usage(
        runs=totals["runs"] or 0,
        seconds=float(totals["seconds"] or 0.0),
        tokens=int(totals["tokens"] or 0),
        cost=Decimal(totals["cost"] or 0),
    )


@dataclass(frozen=True, slots=True)
class QualityMetric:
    key: Measure
    label: str
    unit: str  # of the reported value, as shown
    threshold: Threshold
    scale: float = 1.0  # reported value × scale = the value in the threshold's unit

    @property
    def target(self) -> str:
        return self.threshold.label

    def meets(self, value: float) -> bool:
        return self.threshold.is_met(value * self.scale)


# The seed's MVP quality standards: keys and thresholds from the one vocabulary (tenants.quality).
QUALITY_METRICS = (
    QualityMetric(Measure.COVERAGE, "Test coverage", "%", COVERAGE_MIN),
    QualityMetric(Measure.HIGH_FINDINGS, "HIGH security findings", "", HIGH_FINDINGS_MAX),
    QualityMetric(Measure.PAGE_LOAD_P95, "Page load (p95)", " ms", PAGE_LOAD_MAX, scale=0.001),
    QualityMetric(Measure.SECRET_FINDINGS, "Committed secrets found", "", SECRET_FINDINGS_MAX),
)
_QUALITY_KEYS = [metric.key for metric in QUALITY_METRICS]
# Measure → the code of the quality standard (billing.catalog) that sets its target.
_STANDARD_CODES = {
    Measure.COVERAGE: "test_coverage",
    Measure.HIGH_FINDINGS: "high_security_findings",
    Measure.PAGE_LOAD_P95: "page_load",
}


def project_quality_metrics(project: Project) -> tuple[QualityMetric, ...]:
    """The quality metrics with the project's own targets (`project_quality_standards`: a
    stricter page load asked for in the requirements replaces the catalog's 2 s), as the gates
    judge them."""
    own = {c.code: c.threshold for c in project_quality_standards(project) if c.threshold is not None}
    return tuple(
        replace(metric, threshold=own.get(_STANDARD_CODES.get(metric.key, ""), metric.threshold))
        for metric in QUALITY_METRICS
    )


_QUALITY_SCAN = 50


@dataclass(frozen=True, slots=True)
class QualityReading:
    metric: QualityMetric
    value: float | None
    at: datetime | None

    @property
    def measured(self) -> bool:
        return self.value is not None

    @property
    def ok(self) -> bool | None:
        return None if self.value is None else self.metric.meets(self.value)

    @property
    def display(self) -> str:
        if self.value is None:
            return "not measured yet"
        number = f"{self.value:,.1f}".removesuffix(".0")
        return f"{number}{self.metric.unit}"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def quality_read(project: Project) -> list[QualityReading]:
    """The latest reported value of each quality metric (two queries), or "not measured yet"."""
    reports: list[tuple[datetime, Mapping[str, Any]]] = list(
        Event.objects.filter(project=project, kind=K.TASK_REPORT, data__has_any_keys=_QUALITY_KEYS)
        .order_by("-created_at", "-pk")
        .values_list("created_at", "data")[:_QUALITY_SCAN]
    )
    outputs = (
        Task.objects.filter(project=project, status=S.DONE, output__data__has_any_keys=_QUALITY_KEYS)
        .order_by("-finished_at", "-pk")
        .values_list("finished_at", "output")[:_QUALITY_SCAN]
    )
    reports += [(finished_at, output.get("data") or {}) for finished_at, output in outputs if finished_at]
    reports.sort(key=lambda report: report[0], reverse=True)
    readings = []
    for metric in project_quality_metrics(project):
        latest = next(
            ((at, value) for at, data in reports if (value := _number(data.get(metric.key))) is not None), None
        )
        readings.append(QualityReading(metric, latest[1] if latest else None, latest[0] if latest else None))
    return readings


# --- progress over time -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Burnup:
    start: datetime
    end: datetime  # the later of now and the planned end
    now: datetime
    planned_end: datetime | None
    scope: int  # tasks to do, cancelled ones left out
    done_steps: tuple[tuple[datetime, int], ...]  # cumulative done tasks at each bucket's start

    @property
    def done(self) -> int:
        return self.done_steps[-1][1] if self.done_steps else 0


def _bucket_kind(span: timedelta) -> str:
    if span <= timedelta(hours=2):
        return "minute"
    if span <= timedelta(days=3):
        return "hour"
    return "day"


def burnup_read(project: Project, workflow: Workflow, now: datetime) -> Burnup:
    """Done tasks over time against the scope (two queries, one row per time bucket)."""
    counts = Task.objects.filter(project=project).aggregate(
        total=Count("pk"), cancelled=Count("pk", filter=Q(status=S.CANCELLED))
    )
    kind = _bucket_kind(now - workflow.started_at)
    buckets = (
        Task.objects.filter(project=project, status=S.DONE, finished_at__isnull=False)
        .annotate(bucket=Trunc("finished_at", kind))
        .values("bucket")
        .annotate(n=Count("pk"))
        .order_by("bucket")
        .values_list("bucket", "n")
    )
    steps: list[tuple[datetime, int]] = []
    done = 0
    for bucket, n in buckets:
        done += n
        steps.append((bucket, done))
    end = max(now, workflow.planned_end) if workflow.planned_end else now
    return Burnup(
        start=workflow.started_at,
        end=end,
        now=now,
        planned_end=workflow.planned_end,
        scope=counts["total"] - counts["cancelled"],
        done_steps=tuple(steps),
    )


# --- one project ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adherence:
    """Timeline adherence in words: on plan, behind by how much, or no plan to measure against."""

    planned: bool
    delay: timedelta | None
    blocked_for: timedelta | None = None  # a task is blocked: never "on plan"
    open_gaps: int = 0  # paid stories the built-in developers cannot build: never plainly "on plan"

    @property
    def state(self) -> str:
        if self.blocked_for is not None:
            return "blocked"
        if not self.planned or self.delay is None:
            return "unplanned"
        return "late" if self.delay > timedelta(0) else "on_track"

    @property
    def text(self) -> str:
        if self.blocked_for is not None:
            behind = f"; behind plan by {duration_text(self.delay)}" if self.delay and self.delay > timedelta(0) else ""
            return f"Blocked for {duration_text(self.blocked_for)}{behind}"
        if self.state == "unplanned":
            return "No planned timeline yet (it comes from the accepted quote)"
        assert self.delay is not None
        if self.delay > timedelta(0):
            return f"Behind plan by {duration_text(self.delay)}"
        if self.open_gaps:
            plural = "story is" if self.open_gaps == 1 else "stories are"
            return f"Open gaps: {self.open_gaps} paid {plural} not built (needs the model provider or a developer)"
        if self.delay < -timedelta(hours=1):
            return f"On plan, {duration_text(-self.delay)} ahead"
        return "On plan"


@dataclass(frozen=True, slots=True)
class Dashboard:
    project: Project
    workflow: Workflow | None
    now: datetime
    progress: float
    timeline: Timeline | None
    adherence: Adherence
    boards: list[PhaseBoard]
    agents: list[AgentAtWork]
    feed: list[FeedEvent]
    feed_group: FeedGroup
    quality: list[QualityReading]
    usage: Usage
    burnup: Burnup | None
    scope: ScopeFacts = field(default_factory=ScopeFacts)

    @property
    def progress_percent(self) -> int:
        return int(self.progress * 100)

    @property
    def status_label(self) -> str:
        return status_words(self.workflow, self.scope, now=self.now) or str(self.project.get_status_display())

    @property
    def phase_status(self) -> dict[int, str]:
        return {board.id: board.status for board in self.boards}


def dashboard_read(
    project: Project,
    *,
    group: FeedGroup = DEFAULT_FEED,
    phase_ids: Iterable[int] | None = None,
    with_feed: bool = True,
    now: datetime | None = None,
) -> Dashboard:
    """The whole dashboard of ``project``; with ``phase_ids`` only those phases' boards (for a live
    update), without the feed when ``with_feed`` is false. The query count never depends on size."""
    now = now or timezone.now()
    workflow = Workflow.objects.filter(project=project).first()
    timeline = project_timeline(project, now=now, workflow=workflow) if workflow is not None else None
    scope = project_scope_facts(project)
    return Dashboard(
        project=project,
        workflow=workflow,
        now=now,
        progress=scope.progress(project_progress(project), workflow) if workflow is not None else 0.0,
        timeline=timeline,
        adherence=Adherence(
            planned=bool(workflow and workflow.planned_end),
            delay=timeline.delay if timeline else None,
            blocked_for=scope.blocked_for(now) if workflow is not None and workflow.is_active else None,
            open_gaps=len(scope.open_gaps),
        ),
        scope=scope,
        boards=boards_read(project, phase_ids) if workflow is not None else [],
        agents=agents_read(project) if workflow is not None else [],
        feed=feed_read(project, group) if with_feed else [],
        feed_group=group,
        quality=quality_read(project),
        usage=usage_read(project),
        burnup=burnup_read(project, workflow, now) if workflow is not None else None,
    )


# --- all projects (the customer overview) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    project: Project
    workflow: Workflow | None
    progress: float
    delay: timedelta | None
    blocked: int
    scope: ScopeFacts = field(default_factory=ScopeFacts)
    now: datetime = field(default_factory=timezone.now)

    @property
    def progress_percent(self) -> int:
        return int(self.progress * 100)

    @property
    def status_label(self) -> str:
        if self.workflow is None:
            return str(self.project.get_status_display())
        return status_words(self.workflow, self.scope, now=self.now)

    @property
    def health(self) -> tuple[str, str]:
        """(tone, words) for the overview: what a customer needs to know at a glance."""
        if self.workflow is None:
            return "info", "Not started"
        if self.workflow.status == Workflow.Status.COMPLETED:
            if self.scope.unconsented or self.scope.open_gaps:
                return "warn", "Delivered — paid scope missing, awaiting your decision"
            return "ok", "Delivered" if not self.scope.consented else "Delivered with reduced scope"
        if self.workflow.status == Workflow.Status.CANCELLED:
            return "info", "Cancelled"
        if self.blocked:
            since = self.scope.blocked_for(self.now)
            plural = "s" if self.blocked != 1 else ""
            return "bad", f"Blocked: {self.blocked} task{plural}" + (f" for {duration_text(since)}" if since else "")
        if self.delay is not None and self.delay > timedelta(0):
            return "warn", f"Behind plan by {duration_text(self.delay)}"
        if self.scope.open_gaps:
            gaps = len(self.scope.open_gaps)
            return "warn", f"Open gaps: {gaps} paid stor{'y' if gaps == 1 else 'ies'} not built"
        if self.workflow.status == Workflow.Status.PAUSED:
            return "warn", "Paused"
        return "ok", "On plan" if self.delay is not None else "Running"


def project_summaries(*, now: datetime | None = None) -> list[ProjectSummary]:
    """Every project of the current schema with status, progress and health: four queries."""
    now = now or timezone.now()
    projects = list(
        Project.objects.select_related("workflow").only(
            "pk", "name", "service", "status", "created_at", "workflow__status", "workflow__planned_end"
        )
    )
    rows_of: dict[int, list[Mapping[str, Any]]] = {}
    blocked: dict[int, int] = {}
    by_phase = progress_rows(Task.objects.all(), "project_id")
    for row in by_phase.annotate(blocked=Count("pk", filter=Q(status=S.BLOCKED))).order_by():
        rows_of.setdefault(row["project_id"], []).append(row)
        blocked[row["project_id"]] = blocked.get(row["project_id"], 0) + row["blocked"]
    phases: dict[int, list[Mapping[str, Any]]] = {}
    for phase in Phase.objects.order_by("project_id", "position").values("project_id", *PHASE_FIELDS):
        phases.setdefault(phase["project_id"], []).append(phase)
    facts = scope_facts(project.pk for project in projects)
    summaries = []
    for project in projects:
        workflow = getattr(project, "workflow", None)
        planned = workflow is not None and workflow.planned_end is not None
        summaries.append(
            ProjectSummary(
                project=project,
                workflow=workflow,
                progress=facts[project.pk].progress(progress_from_rows(rows_of.get(project.pk, [])), workflow),
                delay=phase_delays(planned, phases.get(project.pk, []), now)[1],
                blocked=blocked.get(project.pk, 0),
                scope=facts[project.pk],
                now=now,
            )
        )
    return summaries
