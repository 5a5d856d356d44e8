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


class Service(models.TextChoices):
    MVP = "mvp", "MVP development"
    MODERNIZATION = "modernization", "Legacy modernization"
    AUGMENTATION = "augmentation", "Team augmentation"


class Project(models.Model):
    class Status(models.TextChoices):
        SCOPING = "scoping", "Scoping"
        QUOTED = "quoted", "Quote ready"
        CUSTOM_REQUESTED = "custom_requested", "Custom quote requested"
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"

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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_locked(self) -> bool:
        """Scope can no longer change once a quote was accepted."""
        return self.status == self.Status.AWAITING_PAYMENT


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

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "stories"

    def __str__(self) -> str:
        return self.title


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
