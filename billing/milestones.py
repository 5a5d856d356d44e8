"""When each service is paid: the milestones of the seed's payment terms, as values.

- MVP: 50 % when the quote is accepted (``mvp-deposit``), the rest when the customer accepts the
  delivery (``mvp-acceptance``); an odd cent goes to the second half.
- Legacy modernization: the assessment up front (``assessment``), then each implementation phase
  when it passes its gates (``phase-<n>``, success-based).
- Team augmentation: each sprint up front (``sprint-<n>``); continuous augmentation is a monthly
  subscription, not milestones; project-based work follows its custom quote (``custom-deposit`` on
  acceptance, ``custom-completion`` at the end).

A milestone's ``key`` is unique within its project: the ledger refuses a second charge of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.catalog import (
    PHASE_COUNT,
    PHASE_PRICE,
    SPRINT_AUGMENTATION,
    AugmentationPlanCode,
    ServiceCode,
)

MVP_DEPOSIT_PERCENT = 50


class MilestoneError(ValueError):
    """A milestone that the payment terms do not allow."""


@dataclass(frozen=True, slots=True)
class Milestone:
    key: str
    label: str
    amount_cents: int

    def __post_init__(self) -> None:
        if self.amount_cents <= 0:
            raise MilestoneError(f"milestone {self.key!r} must have a positive amount")
        if not self.key or len(self.key) > 60:
            raise MilestoneError("a milestone key is 1–60 characters")


def mvp_milestones(price_cents: int) -> tuple[Milestone, Milestone]:
    """The two halves of a fixed-price MVP: on quote acceptance and on customer acceptance."""
    deposit = price_cents * MVP_DEPOSIT_PERCENT // 100
    return (
        Milestone("mvp-deposit", "MVP development: 50 % on quote acceptance", deposit),
        Milestone("mvp-acceptance", "MVP development: 50 % on customer acceptance", price_cents - deposit),
    )


def assessment_milestone(price_cents: int) -> Milestone:
    return Milestone("assessment", "Legacy modernization: assessment", price_cents)


def phase_milestone(number: int, price_cents: int) -> Milestone:
    """Implementation phase ``number`` (1–5), charged when it passes its gates."""
    if not 1 <= number <= PHASE_COUNT:
        raise MilestoneError(f"a modernization has phases 1–{PHASE_COUNT}, not {number}")
    if not PHASE_PRICE.contains(price_cents):
        raise MilestoneError(f"a phase is priced within {PHASE_PRICE.label}")
    return Milestone(f"phase-{number}", f"Legacy modernization: implementation phase {number}", price_cents)


def sprint_milestone(number: int) -> Milestone:
    """Sprint ``number`` of a sprint augmentation, charged before the sprint starts."""
    assert SPRINT_AUGMENTATION.price_cents is not None
    if number < 1:
        raise MilestoneError("sprints are numbered from 1")
    return Milestone(f"sprint-{number}", f"Team augmentation: sprint {number}", SPRINT_AUGMENTATION.price_cents)


def custom_milestones(*, amount_cents: int, deposit_percent: int) -> tuple[Milestone, ...]:
    """A custom quote: its deposit on acceptance, the rest on completion (none when 100 % up front)."""
    deposit = amount_cents * deposit_percent // 100
    milestones = []
    if deposit:
        milestones.append(Milestone("custom-deposit", "Custom engagement: deposit on acceptance", deposit))
    if amount_cents - deposit:
        milestones.append(Milestone("custom-completion", "Custom engagement: on completion", amount_cents - deposit))
    return tuple(milestones)


def acceptance_milestone(*, service: str, price_cents: int, outcome: str = "") -> Milestone | None:
    """What is charged when a quote of ``service`` is accepted; None when a subscription pays instead.

    ``outcome`` is the augmentation engagement kind (sprint / continuous).
    """
    code = ServiceCode(service)
    if code is ServiceCode.MVP:
        return mvp_milestones(price_cents)[0]
    if code is ServiceCode.MODERNIZATION:
        return assessment_milestone(price_cents)
    if outcome == AugmentationPlanCode.CONTINUOUS:
        return None
    if outcome == AugmentationPlanCode.SPRINT:
        return sprint_milestone(1)
    raise MilestoneError("project-based augmentation is paid by its custom quote")
