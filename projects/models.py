"""A customer's projects, as they are scoped and quoted (tenant schema).

A project starts as a draft of one service. MVPs hold user stories that the customer edits;
modernizations hold the assessment of their legacy code; augmentations hold the engagement the
customer chose. A quote is a numbered, frozen snapshot of the scope at the time it was made;
once accepted it never changes, and re-scoping makes a new version.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from billing.catalog import ServiceCode, format_usd
from projects.requirements.grammar import story_sentence
from projects.requirements.nfr import NonFunctional

# The one service enum is the catalog's (``billing.catalog.ServiceCode``); projects calls it Service.
Service = ServiceCode


class Project(models.Model):
    class Status(models.TextChoices):
        SCOPING = "scoping", "Scoping"
        QUOTED = "quoted", "Quote ready"
        CUSTOM_REQUESTED = "custom_requested", "Custom quote requested"
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        IN_DELIVERY = "in_delivery", "In delivery"

    name = models.CharField(max_length=160)
    service = models.CharField(max_length=20, choices=Service.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCOPING)
    # Users live in the public schema; no database constraint crosses schemas.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    requirements_text = models.TextField(blank=True)
    requirements_source = models.CharField(max_length=255, blank=True, help_text="file name, or 'pasted'")
    # Features the requirements mention outside any story (integrations, AI/ML, real-time).
    context_features = models.JSONField(default=dict, blank=True)
    # Non-functional requirements found in the requirements (`projects.requirements.nfr`), as
    # `NonFunctional.to_json()` dicts: shown on the scope page and quote, carried into the plan.
    non_functional = models.JSONField(default=list, blank=True)
    # Why the last payment attempt failed, shown on the project until a payment succeeds.
    payment_issue = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def nonfunctional_requirements(self) -> list[NonFunctional]:
        """The stored non-functional requirements; a malformed entry is left out, not shown wrong."""
        items = []
        for data in self.non_functional if isinstance(self.non_functional, list) else []:
            try:
                items.append(NonFunctional.from_json(data))
            except (KeyError, TypeError, ValueError, ArithmeticError):
                continue
        return items

    @property
    def is_locked(self) -> bool:
        """Scope can no longer change once a quote was accepted."""
        return self.status in (self.Status.AWAITING_PAYMENT, self.Status.IN_DELIVERY)


class Story(models.Model):
    """A user story of an MVP project, as analysed and then edited by the customer."""

    class Priority(models.TextChoices):
        MUST = "must", "Must have"
        SHOULD = "should", "Should have"
        COULD = "could", "Could have"
        WONT = "wont", "Won't have"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stories")
    position = models.PositiveIntegerField(default=0)
    epic = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=300)
    as_a = models.CharField(max_length=200)
    i_want = models.TextField()
    so_that = models.TextField(blank=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.SHOULD)
    points = models.PositiveSmallIntegerField(default=3)
    acceptance_criteria = models.JSONField(default=list, blank=True)
    dropped = models.BooleanField(default=False)
    # The sentence, list item or table row the story was read from ("" for added stories).
    source = models.TextField(blank=True)
    # What the built-in developers cannot build (``agents.appgen.capabilities``), said at planning:
    # {"capability", "reason", "flagged_at", "assignee": "" | "llm" | "branch", "branch"}.
    gap = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "stories"

    def __str__(self) -> str:
        return self.title

    @property
    def sentence(self) -> str:
        """The story as every page, e-mail and PDF shows it (`projects.requirements.grammar`)."""
        return story_sentence(self.as_a, self.i_want, self.so_that)


class Assessment(models.Model):
    """The analysis of a modernization project's legacy code (agents.legacy), stored as JSON."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="assessment")
    source = models.CharField(max_length=300, help_text="upload file name or git path")
    created_at = models.DateTimeField(default=timezone.now)
    result = models.JSONField()

    def __str__(self) -> str:
        return f"Assessment of {self.project}"


class Engagement(models.Model):
    """What a team-augmentation customer asked for."""

    class Kind(models.TextChoices):
        SPRINT = "sprint", "Sprint-based"
        CONTINUOUS = "continuous", "Continuous"
        PROJECT = "project", "Project-based (custom quote)"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="engagement")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    sprints = models.PositiveSmallIntegerField(default=1)
    sprint_weeks = models.PositiveSmallIntegerField(default=2)
    months = models.PositiveSmallIntegerField(default=1)
    team_size = models.PositiveSmallIntegerField(default=3)
    skills = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.project}"


class RepositoryConnection(models.Model):
    """The customer's git repository an augmentation works in (``projects.delivery.repository``): its
    checked URL and the credential they gave, encrypted by ``tenants.secrets`` — never stored,
    shown or logged in the clear after the request that received it."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="repository")
    url = models.CharField(max_length=500)
    scheme = models.CharField(max_length=10)
    credential = models.TextField(blank=True, help_text="Fernet token of the deploy key or access token")
    credential_hint = models.CharField(max_length=80, blank=True)
    connected_by_email = models.CharField(max_length=254)
    connected_at = models.DateTimeField(default=timezone.now)
    credential_changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class QuoteLockedError(Exception):
    """An accepted quote was about to change."""


class Quote(models.Model):
    """Version ``number`` of a project's quote: a frozen snapshot of the scope and its terms."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quotes")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    snapshot: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField()
    price_cents = models.BigIntegerField(null=True, blank=True, help_text="empty for custom quotes")
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    accepted_by_email = models.EmailField(blank=True)
    # The consent given with the acceptance: the amount charged at once and the card the whole
    # schedule was authorised on (brand, last four digits, expiry), as the customer saw them.
    authorised_now_cents = models.BigIntegerField(null=True, blank=True)
    authorised_card = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="one_quote_number_per_project")]

    def __str__(self) -> str:
        return f"{self.project} quote v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and Quote.objects.filter(pk=self.pk, accepted_at__isnull=False).exists():
            raise QuoteLockedError(f"Quote v{self.number} was accepted and cannot change; make a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.accepted_at is not None:
            raise QuoteLockedError(f"Quote v{self.number} was accepted and cannot be deleted.")
        return super().delete(*args, **kwargs)


class ScheduledPayment(models.Model):
    """One milestone of the payment schedule the customer authorised with the quote: its amount,
    its trigger, and where it stands. Charged through billing when its trigger happens; a failed
    charge is retried on the dunning schedule (``projects.delivery.payments``)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DUE = "due", "Due"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scheduled_payments")
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=60)
    label = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField()
    trigger = models.CharField(max_length=30)
    number = models.PositiveSmallIntegerField(default=0)
    when = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    due_at = models.DateTimeField(null=True, blank=True, help_text="when the trigger happened (or will)")
    failures = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    charge_id = models.BigIntegerField(null=True, blank=True, help_text="billing ledger row")

    class Meta:
        ordering = ["project", "position"]
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="one_scheduled_payment_per_key")]

    def __str__(self) -> str:
        return f"{self.project}: {self.label}"

    @property
    def amount_label(self) -> str:
        return format_usd(self.amount_cents)


# --- Workflow: phases, tasks, runs and the event stream (see projects.delivery.workflow / orchestration) ---


class Workflow(models.Model):
    """The delivery of a project: started once, then running until completed or cancelled."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="workflow")
    template = models.CharField(max_length=40)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    # Which agents provider does the work ("" = the platform default).
    provider = models.CharField(max_length=40, blank=True)
    # The project's settings for the llm provider over the deployment's (model, budget_tokens,
    # budget_cost); a task's inputs["llm"] may still override them.
    llm = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # From the accepted quote's timeline (its upper bound); empty when no quote names one.
    planned_end = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Workflow of {self.project}"

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.RUNNING, self.Status.PAUSED}

    @property
    def delivery_label(self) -> str:
        """The project's status as its customer says it, once delivery has started."""
        return {
            self.Status.RUNNING: "In delivery",
            self.Status.PAUSED: "Paused",
            self.Status.COMPLETED: "Delivered",
            self.Status.CANCELLED: "Cancelled",
        }.get(self.Status(self.status), str(self.get_status_display()))


class Phase(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        GATING = "gating", "Awaiting quality gates"
        BLOCKED = "blocked", "Blocked by gates"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    # Share of the project's progress this phase carries (relative to the other phases).
    weight = models.PositiveSmallIntegerField(default=1)
    gated = models.BooleanField(default=False, help_text="quality gates must pass before the next phase")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    gate_note = models.TextField(blank=True)

    class Meta:
        ordering = ["project", "position"]
        constraints = [models.UniqueConstraint(fields=["project", "position"], name="one_phase_per_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class Task(models.Model):
    class Kind(models.TextChoices):
        AGENT = "agent", "Agent work"
        APPROVAL = "approval", "Customer approval"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waits for its phase or its dependencies
        READY = "ready", "Ready"  # waits for an agent
        QUEUED = "queued", "Queued"  # an agent is leased, the job is on its way to a worker
        RUNNING = "running", "Running"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        DONE = "done", "Done"
        BLOCKED = "blocked", "Blocked"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.DONE, Status.CANCELLED)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField(default=0)
    key = models.CharField(max_length=40, help_text="the step, e.g. story or architecture")
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.AGENT)
    role = models.CharField(max_length=40, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    depends_on = models.ManyToManyField("self", symmetrical=False, related_name="dependents", blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # An account manager's hold: a held task is not dispatched until released.
    held = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    ready_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    blocked_since = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The leased agent (public schema); no database constraint crosses schemas.
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    output = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["phase__position", "position", "pk"]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="task_status_idx"),
            models.Index(fields=["project", "status"], name="task_project_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def not_built(self) -> bool:
        """Ended without building its story: the built-in developers cannot (``data["built"]`` False)."""
        data = self.output.get("data") if isinstance(self.output, dict) else None
        return self.status == self.Status.DONE and isinstance(data, dict) and data.get("built") is False

    @property
    def shown_status(self) -> str:
        """The status as the customer reads it: a step that built nothing or did nothing says so."""
        if self.not_built:
            return NOT_BUILT_LABEL
        data = self.output.get("data") if isinstance(self.output, dict) else None
        if self.status == self.Status.DONE and isinstance(data, dict) and data.get("skipped"):
            return SKIPPED_LABEL
        return str(self.get_status_display())


NOT_BUILT_LABEL = "Not built — needs the model provider or a developer"
SKIPPED_LABEL = "Skipped — not applicable"


class Run(models.Model):
    """One attempt of a task on an agent: who ran it, how long, what came out, what it used."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        LOST = "lost", "Lost (worker stopped)"
        CANCELLED = "cancelled", "Cancelled"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="runs")
    attempt = models.PositiveSmallIntegerField()
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    agent_name = models.CharField(max_length=80, blank=True)
    provider = models.CharField(max_length=40)
    worker = models.CharField(max_length=200, blank=True, help_text="Celery worker host and process")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    usage_seconds = models.FloatField(default=0.0)
    usage_tokens = models.PositiveIntegerField(default=0)
    usage_cost = models.DecimalField(max_digits=14, decimal_places=6, default=0)

    class Meta:
        ordering = ["task", "attempt"]
        constraints = [models.UniqueConstraint(fields=["task", "attempt"], name="one_run_per_attempt")]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="run_heartbeat_idx")]

    def __str__(self) -> str:
        return f"{self.task} attempt {self.attempt}"


class EventImmutableError(Exception):
    """Events are appended, never changed or deleted."""


class Event(models.Model):
    """The append-only stream of what happened in a project; the dashboard and reports read it."""

    class Kind(models.TextChoices):
        PROJECT_STARTED = "project.started", "Project started"
        PROJECT_PAUSED = "project.paused", "Project paused"
        PROJECT_RESUMED = "project.resumed", "Project resumed"
        PROJECT_CANCELLED = "project.cancelled", "Project cancelled"
        PROJECT_COMPLETED = "project.completed", "Project completed"
        PROJECT_CONFIGURED = "project.configured", "Agents configured"
        PHASE_STARTED = "phase.started", "Phase started"
        PHASE_GATES_REQUESTED = "phase.gates_requested", "Quality gates requested"
        PHASE_PASSED = "phase.passed", "Quality gates passed"
        PHASE_BLOCKED = "phase.blocked", "Quality gates blocked the phase"
        PHASE_COMPLETED = "phase.completed", "Phase completed"
        TASK_READY = "task.ready", "Task ready"
        TASK_STARTED = "task.started", "Task started"
        TASK_REPORT = "task.report", "Agent report"
        TASK_SUCCEEDED = "task.succeeded", "Task succeeded"
        TASK_FAILED = "task.failed", "Task attempt failed"
        TASK_RETRY = "task.retry", "Task retry scheduled"
        TASK_BLOCKED = "task.blocked", "Task blocked"
        TASK_ESCALATED = "task.escalated", "Blocked task escalated"
        TASK_HELD = "task.held", "Task put on hold"
        TASK_RELEASED = "task.released", "Task released from hold"
        TASK_RERUN = "task.rerun", "Task re-run requested"
        TASK_CANCELLED = "task.cancelled", "Task cancelled"
        RUN_LOST = "run.lost", "Run lost (worker stopped), re-queued"
        APPROVAL_REQUESTED = "approval.requested", "Approval requested"
        APPROVAL_GRANTED = "approval.granted", "Approval granted"
        PAYMENT_RECEIVED = "payment.received", "Payment received"
        PAYMENT_FAILED = "payment.failed", "Payment failed"
        STORY_GAP = "story.gap", "Story needs the model provider or a developer"
        SCOPE_DROPPED = "scope.dropped", "Scope dropped"
        SCOPE_CONSENTED = "scope.consented", "Owner consented to dropped scope"
        PLAN_CORRECTED = "plan.corrected", "Plan item corrected"
        REPOSITORY_CONNECTED = "repository.connected", "Repository connected"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # "system", an agent name, or the email of the person who acted.
    actor = models.CharField(max_length=254, default="system")
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["project", "created_at"], name="event_project_idx")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise EventImmutableError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise EventImmutableError("events are append-only")


class ScopeChange(models.Model):
    """Paid scope taken out of a delivery (a story or a task), with the reason, and the owner's
    recorded consent and its price consequence (``projects.scope_changes``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scope_changes")
    story = models.ForeignKey(Story, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=300)
    reason = models.TextField()
    dropped_by_email = models.EmailField(blank=True)
    dropped_at = models.DateTimeField(default=timezone.now)
    # The price consequence the owner agrees to: a credit against the unpaid milestones.
    credit_cents = models.BigIntegerField(default=0)
    credit_applied_cents = models.BigIntegerField(default=0)
    consented_by_email = models.EmailField(blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "dropped_at", "pk"]

    def __str__(self) -> str:
        return f"Dropped: {self.title}"

    @property
    def consented(self) -> bool:
        return self.consented_at is not None

    @property
    def credit_dollars(self) -> str:
        return f"{self.credit_cents / 100:,.2f}"
