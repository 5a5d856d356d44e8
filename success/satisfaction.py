"""Customer satisfaction: a short survey (one score 0–10 and an optional comment) at each
milestone the customer lives through — the plan they approve, the preview they open, the
delivery — and the NPS-style summary account managers read.

A milestone's survey opens when its phase completes (``phase.completed`` of the phase holding
the plan's approval, or of the preview phase) or the project is delivered
(``project.completed``): at most one per milestone and project, none for the internal phases
(analysis, sprint planning, quality gates, deployment) the customer never sees. Any member may
answer it once. A score below 8 — the guarantee's satisfaction floor — is escalated to the
account manager at once. Surveys opened per phase by earlier releases stay as they are.

Summary: the mean score (CSAT), and the NPS-style split of the scores into promoters (9–10),
passives (7–8) and detractors (0–6); NPS = % promoters − % detractors, from −100 to 100.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from projects.models import Phase, Project
from success import state_cache
from success.escalations import escalation_raise
from success.models import Escalation, Survey
from tenants.models import User

SATISFACTION_FLOOR = 8


class SurveyError(Exception):
    """The answer cannot be recorded; the message says why."""


PLAN_APPROVAL = "approve_plan"  # the workflow step where the customer approves the plan
PREVIEW_PHASE = "preview"


def milestone_of(phase: Phase) -> str | None:
    """The milestone a completed phase closes for the customer, or None for an internal phase."""
    if phase.key == PREVIEW_PHASE:
        return Survey.Occasion.PREVIEW
    if phase.tasks.filter(key=PLAN_APPROVAL).exists():
        return Survey.Occasion.PLAN
    return None


def survey_open(*, project: Project, occasion: str = Survey.Occasion.DELIVERY, phase: Phase | None = None) -> Survey:
    """Open the survey of a milestone (the delivery by default), once per project."""
    existing = Survey.objects.filter(project=project, occasion=occasion).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Survey.objects.create(project=project, phase=phase, occasion=occasion)
    except IntegrityError:
        return Survey.objects.get(project=project, occasion=occasion)


@transaction.atomic
def survey_answer(*, survey: Survey, user: User, score: int, comment: str = "") -> Survey:
    """Record a member's answer; a score under 8 escalates to the account manager."""
    if not 0 <= score <= 10:
        raise SurveyError("The score goes from 0 to 10.")
    survey = Survey.objects.select_for_update(of=("self",)).select_related("project", "phase").get(pk=survey.pk)
    if not survey.is_open:
        raise SurveyError(f"This survey was answered by {survey.answered_by_email}.")
    survey.score, survey.comment = score, comment.strip()
    survey.answered_by, survey.answered_by_email, survey.answered_at = user, user.email, timezone.now()
    survey.save(update_fields=["score", "comment", "answered_by", "answered_by_email", "answered_at"])
    if score < SATISFACTION_FLOOR:
        said = f" Their comment: “{survey.comment}”" if survey.comment else ""
        escalation_raise(
            project=survey.project,
            kind=Escalation.Kind.LOW_SATISFACTION,
            subject=f"survey:{survey.pk}",
            reason=f"{user.email} rated {survey.subject} of {survey.project.name} {score}/10.{said}",
        )
    state_cache.version_bump_on_commit(survey.project_id)
    return survey


@dataclass(frozen=True, slots=True)
class SatisfactionSummary:
    scores: tuple[int, ...]

    @property
    def answered(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> Decimal | None:
        if not self.scores:
            return None
        return (Decimal(sum(self.scores)) / len(self.scores)).quantize(Decimal("0.1"))

    @property
    def promoters(self) -> int:
        return sum(1 for score in self.scores if score >= 9)

    @property
    def passives(self) -> int:
        return sum(1 for score in self.scores if 7 <= score <= 8)

    @property
    def detractors(self) -> int:
        return sum(1 for score in self.scores if score <= 6)

    @property
    def nps(self) -> int | None:
        if not self.scores:
            return None
        return round((self.promoters - self.detractors) * 100 / len(self.scores))

    @property
    def below_floor(self) -> int:
        return sum(1 for score in self.scores if score < SATISFACTION_FLOOR)


def satisfaction_summary(scores: Iterable[int]) -> SatisfactionSummary:
    return SatisfactionSummary(tuple(scores))


def satisfaction_scores(project_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    """Answered scores of every project of this schema (or of ``project_ids``), oldest first."""
    answered = Survey.objects.filter(score__isnull=False)
    if project_ids is not None:
        answered = answered.filter(project_id__in=list(project_ids))
    scores: dict[int, list[int]] = {}
    for project_id, score in answered.order_by("answered_at", "pk").values_list("project_id", "score"):
        assert score is not None
        scores.setdefault(project_id, []).append(score)
    return scores
