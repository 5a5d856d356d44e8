"""A project's delivery: the workflow, its phases, tasks and runs, the append-only event stream
and the scope changes (tenant schema; see projects.delivery.workflow / orchestration)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from projects.models.scoping import Project, Story


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
    recorded consent and its price consequence (``projects.delivery.scope_changes``)."""

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
