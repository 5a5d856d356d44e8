"""Success probability: how likely the project is to meet its guarantee, as a transparent score.

The score is a weighted mean of five factors, each between 0 and 1, over the factors that have
data (a factor without data is left out and says so; with none at all there is no score):

==================  ======  ===========================================================================
factor              weight  score
==================  ======  ===========================================================================
timeline            30      1 on plan; falls linearly to 0 at a delay of 20 % of the planned duration
quality gates       25      share of the gate runs that passed; 0.2 less while a phase is blocked
acceptance          25      acceptance rate / 90 % (capped at 1); 0.1 less when the trend falls
satisfaction        20      1 at a mean of 8/10 or more, 0 at 4 or less, linear between; 0.1 less when
                            the latest score is 2 or more below the earlier mean
delivery            30      1 less: the paid scope that cannot be delivered as things stand (open
                            capability gaps, drops without consent); failed and unverified criteria
                            of built stories (half their share); blocked work (0.2 at once, up to
                            0.5 after 8 hours blocked)
==================  ======  ===========================================================================

A project with a blocked task never scores 100 % (the delivery factor is below 1 while it is).

Trends: the acceptance trend compares the acceptance rate of the earlier half of the decisions
with that of the later half (a fall of 10 points or more counts); the satisfaction trend compares
the latest answered score with the mean of the ones before it.

The result is a percentage with a band — likely (≥ 75), at risk (50–74), unlikely (< 50) — and
the reasons: one sentence per factor saying what moved it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from projects.delivery.progress import Timeline, project_timeline
from projects.models import Phase, Project, Workflow
from success.acceptance import TARGET_PERCENT
from success.delivery_status import ScopeFacts, duration_text, project_scope_facts
from success.models import GateRun, StoryDecision, Survey

WEIGHTS = {"timeline": 30, "gates": 25, "acceptance": 25, "satisfaction": 20, "delivery": 30}
BLOCKED_AT_ZERO = timedelta(hours=8)  # blocked this long takes the blocking share of the delivery factor to 0
LATE_AT_ZERO = 0.2  # share of the planned duration at which the timeline factor reaches 0


@dataclass(frozen=True, slots=True)
class Factor:
    key: str
    label: str
    weight: int
    score: float | None  # 0..1, None without data
    reason: str

    @property
    def percent(self) -> int | None:
        return None if self.score is None else round(self.score * 100)


@dataclass(frozen=True, slots=True)
class Probability:
    percent: int | None
    factors: tuple[Factor, ...]

    @property
    def band(self) -> str:
        if self.percent is None:
            return "unknown"
        return "likely" if self.percent >= 75 else "at risk" if self.percent >= 50 else "unlikely"

    @property
    def tone(self) -> str:
        return {"likely": "ok", "at risk": "warn", "unlikely": "bad"}.get(self.band, "info")

    @property
    def reasons(self) -> list[str]:
        return [factor.reason for factor in self.factors]


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def timeline_factor(
    project: Project, workflow: Workflow | None, now: datetime, timeline: Timeline | None = None
) -> Factor:
    label = "Timeline"
    if workflow is None or workflow.planned_end is None:
        return Factor("timeline", label, WEIGHTS["timeline"], None, "Timeline: no planned delivery date yet.")
    delay = (timeline or project_timeline(project, now=now)).delay or timedelta(0)
    planned = workflow.planned_end - workflow.started_at
    if delay <= timedelta(0):
        return Factor("timeline", label, WEIGHTS["timeline"], 1.0, "Timeline: not behind the planned dates.")
    share = delay / planned if planned > timedelta(0) else 1.0
    score = _clamp(1 - share / LATE_AT_ZERO)
    reason = f"Timeline: behind plan by {duration_text(delay)} ({share:.0%} of the planned duration)."
    return Factor("timeline", label, WEIGHTS["timeline"], score, reason)


def gates_factor(project: Project) -> Factor:
    label = "Quality gates"
    runs = list(GateRun.objects.filter(project=project).values_list("verdict", flat=True))
    if not runs:
        return Factor("gates", label, WEIGHTS["gates"], None, "Quality gates: none evaluated yet.")
    passed = sum(1 for verdict in runs if verdict != GateRun.Verdict.BLOCKED)
    score = passed / len(runs)
    reason = f"Quality gates: {passed} of {len(runs)} gate run{'s' if len(runs) != 1 else ''} passed"
    blocked = list(Phase.objects.filter(project=project, status=Phase.Status.BLOCKED).values_list("name", flat=True))
    if blocked:
        score = _clamp(score - 0.2)
        reason += f"; blocked now: {', '.join(blocked)}"
    return Factor("gates", label, WEIGHTS["gates"], score, reason + ".")


def _rate(decisions: list[str]) -> float:
    return sum(1 for d in decisions if d == StoryDecision.Decision.ACCEPTED) / len(decisions)


def acceptance_factor(project: Project, decided: list[tuple[int, str]] | None = None) -> Factor:
    """The share of decided stories accepted; ``decided`` is (story id, decision) of the stories
    not dropped, oldest first, when the caller has read them (``ScopeFacts.decisions``)."""
    label = "Acceptance"
    latest: dict[int, str] = {}
    ordered: list[str] = []
    if decided is None:
        decided = list(
            StoryDecision.objects.filter(project=project, story__dropped=False)
            .order_by("decided_at", "pk")
            .values_list("story_id", "decision")
        )
    for story_id, decision in decided:
        latest[story_id] = decision
        ordered.append(decision)
    if not latest:
        return Factor("acceptance", label, WEIGHTS["acceptance"], None, "Acceptance: no story decided yet.")
    rate = _rate(list(latest.values()))
    score = _clamp(rate * 100 / float(TARGET_PERCENT))
    reason = f"Acceptance: {rate:.0%} of the decided stories accepted (target {TARGET_PERCENT}%)"
    if len(ordered) >= 4:
        half = len(ordered) // 2
        before, after = _rate(ordered[:half]), _rate(ordered[half:])
        if after <= before - 0.1:
            score = _clamp(score - 0.1)
            reason += f"; falling: {before:.0%} of the earlier decisions were acceptances, {after:.0%} of the later"
        elif after >= before + 0.1:
            reason += f"; rising: {before:.0%} → {after:.0%}"
    return Factor("acceptance", label, WEIGHTS["acceptance"], score, reason + ".")


def satisfaction_factor(project: Project) -> Factor:
    label = "Satisfaction"
    scores = [
        int(score)
        for score in Survey.objects.filter(project=project, score__isnull=False)
        .order_by("answered_at", "pk")
        .values_list("score", flat=True)
        if score is not None
    ]
    if not scores:
        return Factor("satisfaction", label, WEIGHTS["satisfaction"], None, "Satisfaction: no survey answered yet.")
    mean = sum(scores) / len(scores)
    score = _clamp((mean - 4) / 4)
    mean_text = Decimal(mean).quantize(Decimal("0.1"))
    plural = "s" if len(scores) != 1 else ""
    reason = f"Satisfaction: mean {mean_text}/10 over {len(scores)} answer{plural}"
    if len(scores) >= 2:
        earlier = sum(scores[:-1]) / (len(scores) - 1)
        if scores[-1] <= earlier - 2:
            score = _clamp(score - 0.1)
            reason += f"; falling: the latest is {scores[-1]}/10 after a mean of {earlier:.1f}"
    return Factor("satisfaction", label, WEIGHTS["satisfaction"], score, reason + ".")


def delivery_factor(
    project: Project, workflow: Workflow | None, now: datetime, facts: ScopeFacts | None = None
) -> Factor:
    label = "Delivery"
    if workflow is None:
        return Factor("delivery", label, WEIGHTS["delivery"], None, "Delivery: not started.")
    facts = facts or project_scope_facts(project)
    score, reasons = 1.0, []
    if facts.paid:
        missing = len(facts.open_gaps) + len(facts.unconsented)
        if missing:
            score -= max(0.1, missing / facts.paid)
            reasons.append(f"{missing} of {facts.paid} paid stories cannot be delivered as things stand")
    if facts.criteria_total and (facts.criteria_failed or facts.criteria_unverified):
        share = (facts.criteria_failed + facts.criteria_unverified) / facts.criteria_total
        score -= share / 2
        reasons.append(
            f"acceptance criteria of built stories: {facts.criteria_failed} failed, "
            f"{facts.criteria_unverified} unverified"
        )
    blocked_for = facts.blocked_for(now)
    if blocked_for is not None and workflow.is_active:
        score -= 0.2 + 0.3 * min(1.0, blocked_for / BLOCKED_AT_ZERO)
        reasons.append(
            f"{facts.blocked} task{'s' if facts.blocked != 1 else ''} blocked for {duration_text(blocked_for)}"
        )
    if not reasons and not facts.paid:
        return Factor("delivery", label, WEIGHTS["delivery"], None, "Delivery: no stories to deliver, nothing blocked.")
    if not reasons:
        reason = "Delivery: nothing blocked, nothing dropped or unverified."
        return Factor("delivery", label, WEIGHTS["delivery"], 1.0, reason)
    return Factor("delivery", label, WEIGHTS["delivery"], _clamp(score), "Delivery: " + "; ".join(reasons) + ".")


_UNREAD: Any = object()


def success_probability(
    project: Project,
    *,
    now: datetime | None = None,
    workflow: Workflow | None = _UNREAD,
    timeline: Timeline | None = None,
    scope: ScopeFacts | None = None,
) -> Probability:
    """The project's success probability with the reasons behind it (the dashboard passes the
    workflow and timeline it has already read)."""
    now = now or timezone.now()
    if workflow is _UNREAD:
        workflow = Workflow.objects.filter(project=project).first()
    factors = (
        timeline_factor(project, workflow, now, timeline),
        gates_factor(project),
        acceptance_factor(project, scope.decisions if scope is not None else None),
        satisfaction_factor(project),
        delivery_factor(project, workflow, now, scope),
    )
    scored = [factor for factor in factors if factor.score is not None]
    if not scored:
        return Probability(None, factors)
    total = sum(factor.weight for factor in scored)
    value = sum(factor.weight * (factor.score or 0.0) for factor in scored) / total
    return Probability(round(value * 100), factors)
