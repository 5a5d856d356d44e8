"""When each service is paid: the milestones of the seed's payment terms, as values.

- MVP: 50 % when the quote is accepted (``mvp-deposit``), the rest when the customer accepts the
  delivery (``mvp-acceptance``); an odd cent goes to the second half.
- Legacy modernization: the assessment up front (``assessment``), then each implementation phase
  when it passes its gates (``phase-<n>``, success-based).
- Team augmentation: each sprint up front (``sprint-<n>``), the first when the customer connects
  the repository (its work cannot start before); continuous augmentation is a monthly
  subscription, not milestones; project-based work follows its custom quote (``custom-deposit`` on
  acceptance, ``custom-completion`` at the end).

A milestone's ``key`` is unique within its project: the ledger refuses a second charge of it.

**The payment schedule** (``*_schedule``) is what a quote shows and the customer authorises: every
milestone with its amount and its trigger, summing to the quoted price. It is frozen into the
quote as JSON (``schedule_to_json``) and read back by projects, which charges each milestone when
its trigger happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from billing.catalog import (
    CONTINUOUS_AUGMENTATION,
    PHASE_COUNT,
    PHASE_PRICE,
    SPRINT_AUGMENTATION,
    AugmentationPlanCode,
    ServiceCode,
    dollars,
    format_usd,
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


# --- the payment schedule -------------------------------------------------------------------------


class Trigger(StrEnum):
    """What makes a scheduled milestone due."""

    ACCEPTANCE = "acceptance"  # the customer accepts the quote and authorises the schedule
    DELIVERY_ACCEPTED = "delivery_accepted"  # the customer accepts the delivered MVP
    PHASE_PASSED = "phase_passed"  # migration phase ``number`` passes its quality gates
    SPRINT_START = "sprint_start"  # sprint ``number`` starts
    # The customer connected the repository the sprint works in: before that no work can start.
    REPOSITORY_CONNECTED = "repository_connected"
    COMPLETION = "completion"  # the engagement's last step is done
    MONTHLY = "monthly"  # a monthly subscription, the first month on acceptance


@dataclass(frozen=True, slots=True)
class ScheduledMilestone:
    milestone: Milestone
    trigger: Trigger
    number: int = 0  # the phase or sprint the trigger is about
    when: str = ""  # the trigger as the customer reads it

    @property
    def due_on_acceptance(self) -> bool:
        return self.trigger in {Trigger.ACCEPTANCE, Trigger.MONTHLY}


# The rule a migration phase is priced by, stated on the quote: the seed prices implementation at
# $500K–2M per phase "based on system complexity and size"; size is what the assessment measures
# per phase, so a phase costs the floor plus a price per line of its code, within the band.
_PHASE_BASE_CENTS = PHASE_PRICE.low_cents
_PHASE_CENTS_PER_LINE = 750  # $7.50 a line: a 200K-line phase (20 % of 1M lines) reaches the cap
_PHASE_ROUNDING_CENTS = dollars(1_000)
PHASE_PRICE_RULE = (
    f"each phase costs {format_usd(_PHASE_BASE_CENTS)} plus $7.50 per line of code it migrates, "
    f"rounded to the nearest $1,000, within {PHASE_PRICE.label}"
)


def phase_price_cents(code_lines: int) -> int:
    """The price of a migration phase of ``code_lines`` lines (see ``PHASE_PRICE_RULE``)."""
    if code_lines < 0:
        raise MilestoneError("a phase cannot have a negative number of lines")
    total = _PHASE_BASE_CENTS + code_lines * _PHASE_CENTS_PER_LINE
    step = _PHASE_ROUNDING_CENTS
    return PHASE_PRICE.clamp((total + step // 2) // step * step)


def mvp_schedule(price_cents: int) -> tuple[ScheduledMilestone, ...]:
    deposit, final = mvp_milestones(price_cents)
    return (
        ScheduledMilestone(deposit, Trigger.ACCEPTANCE, when="when you accept this quote"),
        ScheduledMilestone(final, Trigger.DELIVERY_ACCEPTED, when="when you accept the delivery"),
    )


def modernization_schedule(*, assessment_cents: int, phase_lines: Sequence[int]) -> tuple[ScheduledMilestone, ...]:
    """The assessment up front, then each migration phase when it passes its gates."""
    rows = [ScheduledMilestone(assessment_milestone(assessment_cents), Trigger.ACCEPTANCE, when="when you accept")]
    for number, lines in enumerate(phase_lines, 1):
        rows.append(
            ScheduledMilestone(
                phase_milestone(number, phase_price_cents(lines)),
                Trigger.PHASE_PASSED,
                number,
                when=f"when phase {number} ({lines:,} lines) passes its quality gates",
            )
        )
    return tuple(rows)


def sprint_schedule(*, sprints: int, sprint_weeks: int) -> tuple[ScheduledMilestone, ...]:
    """Each sprint at its start: the first when the customer connects the repository the agents
    work in (no sprint is charged before its work can start), sprint n (n - 1) sprints after that."""
    if sprints < 1:
        raise MilestoneError("an engagement has at least one sprint")
    first = "when you connect your repository (sprint 1 starts then)"
    rows = [ScheduledMilestone(sprint_milestone(1), Trigger.REPOSITORY_CONNECTED, 1, when=first)]
    for number in range(2, sprints + 1):
        week = (number - 1) * sprint_weeks
        rows.append(
            ScheduledMilestone(
                sprint_milestone(number),
                Trigger.SPRINT_START,
                number,
                when=f"when sprint {number} starts ({week} weeks after the repository is connected)",
            )
        )
    return tuple(rows)


def continuous_schedule(*, months: int = 1) -> tuple[ScheduledMilestone, ...]:
    """The monthly subscription: the quote's price is one month; ``months`` is the commitment."""
    assert CONTINUOUS_AUGMENTATION.price_cents is not None
    month = Milestone("subscription", "Continuous augmentation: monthly", CONTINUOUS_AUGMENTATION.price_cents)
    commitment = f"for the first commitment of {months} month(s), then until you cancel"
    when = f"the first month when you accept, then every month {commitment}"
    return (ScheduledMilestone(month, Trigger.MONTHLY, when=when),)


def custom_schedule(*, amount_cents: int, deposit_percent: int) -> tuple[ScheduledMilestone, ...]:
    rows = []
    for milestone in custom_milestones(amount_cents=amount_cents, deposit_percent=deposit_percent):
        if milestone.key == "custom-deposit":
            rows.append(ScheduledMilestone(milestone, Trigger.ACCEPTANCE, when="when you accept this quote"))
        else:
            rows.append(ScheduledMilestone(milestone, Trigger.COMPLETION, when="when the engagement is completed"))
    return tuple(rows)


def schedule_total(schedule: Iterable[ScheduledMilestone]) -> int:
    return sum(row.milestone.amount_cents for row in schedule)


def schedule_to_json(schedule: Iterable[ScheduledMilestone]) -> list[dict[str, Any]]:
    return [
        {
            "key": row.milestone.key,
            "label": row.milestone.label,
            "amount_cents": row.milestone.amount_cents,
            "amount": format_usd(row.milestone.amount_cents),
            "trigger": row.trigger.value,
            "number": row.number,
            "when": row.when,
        }
        for row in schedule
    ]


def schedule_from_json(rows: Iterable[dict[str, Any]]) -> tuple[ScheduledMilestone, ...]:
    return tuple(
        ScheduledMilestone(
            Milestone(str(row["key"]), str(row["label"]), int(row["amount_cents"])),
            Trigger(row["trigger"]),
            int(row.get("number") or 0),
            str(row.get("when", "")),
        )
        for row in rows
    )


# --- the smallest code base the fixed phase schedule is made for -----------------------------------
# (``projects.scoping.migration_minimum`` explains the rule and applies ``HIVE_MODERNIZATION_MIN_LINES``.)

# The least a whole migration costs on the fixed schedule: every phase at the per-phase floor.
MIGRATION_FLOOR_CENTS = PHASE_COUNT * PHASE_PRICE.low_cents


def agent_month_cents() -> int:
    """What the seed charges for one agent working one month: continuous augmentation's monthly
    price divided by the agents it promises at least ("$75K per month", "3+ specialized agents")."""
    assert CONTINUOUS_AUGMENTATION.price_cents is not None
    return CONTINUOUS_AUGMENTATION.price_cents // CONTINUOUS_AUGMENTATION.min_agents
