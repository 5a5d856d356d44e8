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
