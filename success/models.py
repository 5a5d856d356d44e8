"""The customer-success records of a tenant: gate runs and waivers, story acceptance, satisfaction
surveys, success metrics and their measurements, the 30-day guarantee and its assessments,
escalations, and the stored reports.

Every row lives in the customer's schema next to the projects it is about. People live in the
public schema, so a person is kept as a user id without a database constraint (no constraint
crosses schemas) plus the email as it was at the time, which is what the records show.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from projects.models import Phase, Project, Story, Task


def _person(related_name: str = "+") -> models.ForeignKey:  # type: ignore[type-arg]
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name=related_name,
    )


# --- quality gates ------------------------------------------------------------------------------


class GateState(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown (not measured)"
    WAIVED = "waived", "Waived"


class GateRun(models.Model):
    """One evaluation of a phase's quality gates on the measurements recorded at that moment."""

    class Verdict(models.TextChoices):
        PASSED = "passed", "Passed"
        PASSED_WITH_WAIVERS = "waived", "Passed with waivers"
        BLOCKED = "blocked", "Blocked"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gate_runs")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="gate_runs")
    number = models.PositiveSmallIntegerField(help_text="1 for the phase's first evaluation, then 2, 3, ...")
    service = models.CharField(max_length=20)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    evaluated_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=254, default="system")
    # The measuring task added after the fixes of a blocked run; once it is done the gates run again.
    recheck_task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["phase", "number"]
        constraints = [models.UniqueConstraint(fields=["phase", "number"], name="one_gate_run_number_per_phase")]

    def __str__(self) -> str:
        return f"{self.phase} gates #{self.number}: {self.verdict}"

    @property
    def passed(self) -> bool:
        return self.verdict != self.Verdict.BLOCKED


class GateResult(models.Model):
    """One gate of a run: the threshold, the measured value and where it came from."""

    run = models.ForeignKey(GateRun, on_delete=models.CASCADE, related_name="results")
    code = models.CharField(max_length=40)
    description = models.CharField(max_length=200)
    target = models.CharField(max_length=40, help_text="the threshold as shown, e.g. ≥ 95%")
    value = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    unit = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=10, choices=GateState.choices)
    evidence = models.TextField(blank=True, help_text="the measurement's source, or why there is none")
    measured_at = models.DateTimeField(null=True, blank=True)
    remediation_task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["run", "pk"]

    def __str__(self) -> str:
        return f"{self.description}: {self.state}"

    @property
    def value_display(self) -> str:
        if self.value is None:
            return "not measured"
        number = f"{self.value.normalize():f}"
        return f"{number} {self.unit}".strip() if self.unit not in {"%"} else f"{number}{self.unit}"


class GateWaiver(models.Model):
    """An account manager's waiver of one gate of one phase, with the written reason the customer sees."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gate_waivers")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="gate_waivers")
    code = models.CharField(max_length=40)
    description = models.CharField(max_length=200)
    reason = models.TextField()
    waived_by = _person()
    waived_by_email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["phase", "code"], name="one_waiver_per_gate")]

    def __str__(self) -> str:
        return f"{self.description} waived by {self.waived_by_email}"


# --- acceptance and satisfaction ----------------------------------------------------------------


class StoryDecision(models.Model):
    """The customer accepted or rejected a story against its acceptance criteria. Decisions are
    kept in order; the latest one is the story's state."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="story_decisions")
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    unmet_criteria = models.JSONField(default=list, blank=True)
    decided_by = _person()
    decided_by_email = models.EmailField()
    decided_at = models.DateTimeField(default=timezone.now)
    fix_task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["decided_at", "pk"]

    def __str__(self) -> str:
        return f"{self.story}: {self.decision}"


class Survey(models.Model):
    """A short satisfaction survey (0–10) at a milestone the customer lives through: the plan
    they approved, the preview they opened, the delivery. Surveys of earlier releases were opened
    at the end of every internal phase (``PHASE``); those rows are kept as they were answered."""

    class Occasion(models.TextChoices):
        PLAN = "plan", "The plan"
        PREVIEW = "preview", "The preview"
        DELIVERY = "delivery", "Delivery"
        PHASE = "phase", "End of a phase (earlier surveys)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="surveys")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.CASCADE, related_name="surveys")
    occasion = models.CharField(max_length=10, choices=Occasion.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_by = _person()
    answered_by_email = models.EmailField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "phase"], name="one_survey_per_phase"),
            models.UniqueConstraint(
                fields=["project", "occasion"],
                condition=Q(occasion__in=["plan", "preview", "delivery"]),
                name="one_survey_per_milestone",
            ),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=10), name="survey_score_0_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.project} survey ({self.subject})"

    @property
    def subject(self) -> str:
        if self.occasion == self.Occasion.PHASE and self.phase is not None:
            return self.phase.name
        return {"plan": "the plan", "preview": "the preview"}.get(self.occasion, "the delivery")

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


# --- success metrics and the guarantee ----------------------------------------------------------


class SuccessMetric(models.Model):
    """A number the guarantee is judged on, for one project: its target, its baseline (where the
    condition is an improvement) and, through ``measurements``, its values over time."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="success_metrics")
    code = models.CharField(max_length=40)
    description = models.CharField(max_length=200)
    # Units are phrases ("backlog items per week"), not symbols: a 20-character column once made
    # every augmentation project's success page answer 500.
    unit = models.CharField(max_length=60, blank=True)
    target = models.CharField(max_length=80, blank=True)
    baseline = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    baseline_source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["project", "pk"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="one_metric_per_code")]

    def __str__(self) -> str:
        return f"{self.project}: {self.description}"


class Measurement(models.Model):
    """One value of a metric, when it was taken and where it came from."""

    metric = models.ForeignKey(SuccessMetric, on_delete=models.CASCADE, related_name="measurements")
    value = models.DecimalField(max_digits=14, decimal_places=3)
    measured_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=300)
    recorded_by_email = models.CharField(max_length=254, default="system")

    class Meta:
        ordering = ["metric", "measured_at", "pk"]
        indexes = [models.Index(fields=["metric", "-measured_at"], name="measurement_latest_idx")]

    def __str__(self) -> str:
        return f"{self.metric.code} = {self.value} ({self.source})"


class Guarantee(models.Model):
    """The 30-day success guarantee of a delivered project."""

    class Status(models.TextChoices):
        OPEN = "open", "Window open"
        PASSED = "passed", "Met"
        PENDING = "pending", "Assessed, evidence missing"
        FAILED = "failed", "Not met: refund awaits the account manager"
        REFUNDED = "refunded", "Not met: refunded"
        DECLINED = "declined", "Not met: refund declined by the account manager"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="guarantee")
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by_email = models.EmailField(blank=True)
    claim_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = _person()
    decided_by_email = models.EmailField(blank=True)
    decision_note = models.TextField(blank=True)
    refunded_cents = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Guarantee of {self.project}: {self.get_status_display()}"

    def is_window_open(self, now: datetime | None = None) -> bool:
        return self.status == self.Status.OPEN and (now or timezone.now()) < self.closes_at


class GuaranteeAssessment(models.Model):
    """The guarantee judged at one moment (window end, a customer's claim, a re-assessment):
    every condition with its state and evidence, as shown to the customer."""

    class Trigger(models.TextChoices):
        WINDOW_END = "window_end", "End of the 30-day window"
        CLAIM = "claim", "Customer claim"
        REVIEW = "review", "Account manager review"

    class Outcome(models.TextChoices):
        MET = "met", "Met"
        NOT_MET = "not_met", "Not met"
        PENDING = "pending", "Pending evidence"

    guarantee = models.ForeignKey(Guarantee, on_delete=models.CASCADE, related_name="assessments")
    assessed_at = models.DateTimeField(default=timezone.now)
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # [{"code", "description", "target", "state", "value", "evidence"}, ...]
    checks = models.JSONField(default=list)
    actor = models.CharField(max_length=254, default="system")

    class Meta:
        ordering = ["assessed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.guarantee.project}: {self.outcome} ({self.trigger})"


# --- escalations --------------------------------------------------------------------------------


class Escalation(models.Model):
    """Something a person must look at, assigned to the customer's account manager until resolved."""

    class Kind(models.TextChoices):
        BLOCKED_TASK = "blocked_task", "Task blocked past the escalation limit"
        GATE_FAILED_TWICE = "gate_failed_twice", "Quality gate failed twice"
        LOW_SATISFACTION = "low_satisfaction", "Satisfaction below 8/10"
        TIMELINE_SLIP = "timeline_slip", "Timeline slipped past the threshold"
        GUARANTEE_FAILED = "guarantee_failed", "Guarantee not met: refund to confirm"
        GUARANTEE_PENDING = "guarantee_pending", "Guarantee assessment lacks evidence"
        PAYMENT_OVERDUE = "payment_overdue", "A milestone charge failed"
        PLATFORM_FAULT = "platform_fault", "Platform fault (exception in the platform's code)"
        CAPABILITY_GAP = "capability_gap", "A story the built-in developers cannot build"
        ACCEPTANCE_OPEN = "acceptance_open", "Acceptance criteria unverified or failed"
        SCOPE_DROPPED = "scope_dropped", "Paid scope dropped: the owner's consent is needed"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What it is about, so the same problem is escalated once while open: "task:12", "phase:3:test_coverage".
    subject = models.CharField(max_length=100)
    reason = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    assigned_to = _person()
    assigned_to_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_to = models.JSONField(default=list, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_email = models.EmailField(blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"], condition=~Q(status="resolved"), name="one_unresolved_escalation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.project}"


# --- reports ------------------------------------------------------------------------------------


class ReportPreference(models.Model):
    """A member's choice to receive the daily progress summaries by email."""

    user = _person()
    email = models.EmailField()
    daily_summary = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="one_report_preference_per_user")]

    def __str__(self) -> str:
        return f"{self.email}: daily summary {'on' if self.daily_summary else 'off'}"


class DailySummary(models.Model):
    """One day of one active project, from its events and measurements; stored as it was sent."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="daily_summaries")
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    numbers = models.JSONField(default=dict)
    text = models.TextField()
    emailed_to = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-day", "project"]
        constraints = [models.UniqueConstraint(fields=["project", "day"], name="one_daily_summary_per_day")]
        verbose_name_plural = "daily summaries"

    def __str__(self) -> str:
        return f"{self.project} on {self.day}"


class WeeklyBriefing(models.Model):
    """The customer's weekly executive briefing (a PDF with charts), for the week from ``week_start``."""

    week_start = models.DateField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    numbers = models.JSONField(default=dict)
    pdf = models.BinaryField()

    class Meta:
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"Briefing for the week of {self.week_start}"


# --- acceptance criteria as checks --------------------------------------------------------------


class CriterionCheck(models.Model):
    """One acceptance criterion of a story as a check, with its latest result and evidence
    (``success.criteria``). Unverified is unknown, never pass: it goes to a person, who waives it
    with a reason the customer sees or attaches evidence."""

    class Status(models.TextChoices):
        PASS = "pass", "Verified: pass"
        FAIL = "fail", "Verified: fail"
        UNVERIFIED = "unverified", "Unverified"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="criterion_checks")
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="criterion_checks")
    index = models.PositiveSmallIntegerField()
    criterion = models.TextField()
    derived = models.BooleanField(default=False, help_text="written by the agents: the story had no criteria")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNVERIFIED)
    test = models.CharField(max_length=500, blank=True)
    output = models.TextField(blank=True)
    commit = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_at = models.DateTimeField(default=timezone.now)
    # Earlier results, oldest first: [{"status", "test", "commit", "checked_at", "task_id"}].
    history = models.JSONField(default=list, blank=True)
    # A person's decision on a check that is not a verified pass.
    waived_reason = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    decided_by_email = models.EmailField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["story__position", "story_id", "index"]
        constraints = [models.UniqueConstraint(fields=["story", "index"], name="one_check_per_criterion")]

    def __str__(self) -> str:
        return f"{self.story_id}#{self.index}: {self.get_status_display()}"

    @property
    def outcome(self) -> str:
        """What the acceptance gate counts: pass, fail, unverified, waived or evidenced."""
        if self.status == self.Status.PASS:
            return "pass"
        if self.evidence:
            return "evidenced"
        if self.waived_reason:
            return "waived"
        return str(self.status)


# --- notifications ------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    """What a person is told about; each member chooses per kind how (``NotificationPreference``)."""

    APPROVAL_NEEDED = "approval_needed", "Approval needed"
    TASK_BLOCKED = "task_blocked", "Task blocked or escalated"
    SCOPE_CHANGE = "scope_change", "Scope change"
    PREVIEW_READY = "preview_ready", "Preview ready"
    DELIVERY_DONE = "delivery_done", "Delivery done"
    SURVEY_OPEN = "survey_open", "Satisfaction survey open"
    GUARANTEE = "guarantee", "Guarantee opened or decided"
    PAYMENT_RECEIPT = "payment_receipt", "Payment receipt"
    PAYMENT_FAILURE = "payment_failure", "Payment failure"


class NotificationDelivery(models.TextChoices):
    IMMEDIATELY = "immediately", "E-mail at once"
    DIGEST = "digest", "In the daily digest"
    OFF = "off", "No e-mail (portal list only)"


class Notification(models.Model):
    """One thing one person is told, with the page where they act; read or unread in the portal,
    e-mailed at once, in the next daily digest, or not at all (the person's preference then)."""

    user = _person()
    email = models.EmailField()
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    # An absolute link on the tenant's own domain: the same one the e-mail carries.
    link = models.URLField(max_length=500)
    action = models.CharField(max_length=80)
    # What it is about, so one occurrence tells each person once: "event:12", "survey:3".
    key = models.CharField(max_length=100)
    delivery = models.CharField(max_length=12, choices=NotificationDelivery.choices)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_notification_per_user_and_key")]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["delivery", "emailed_at"], name="notification_digest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.title}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """How one person wants one kind of notification; without a row, at once."""

    user = _person()
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    delivery = models.CharField(
        max_length=12, choices=NotificationDelivery.choices, default=NotificationDelivery.IMMEDIATELY
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_notification_preference_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.delivery}"
