"""The service catalog: team augmentation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing.catalog.money import dollars, format_usd
from billing.catalog.terms import Criterion, DurationRange


class AugmentationPlanCode(StrEnum):
    SPRINT = "sprint"
    CONTINUOUS = "continuous"
    PROJECT = "project"


@dataclass(frozen=True, slots=True)
class AugmentationPlan:
    """An augmentation engagement model. `price_cents` is None for a custom quote."""

    code: AugmentationPlanCode
    name: str
    price_cents: int | None
    per: str  # what one price buys: "sprint", "month", or "" for a custom quote
    min_agents: int
    sprint_weeks: DurationRange | None
    includes: tuple[str, ...]

    @property
    def is_custom_quote(self) -> bool:
        return self.price_cents is None

    @property
    def price_label(self) -> str:
        if self.price_cents is None:
            return "Custom quote"
        return f"{format_usd(self.price_cents)} per {self.per}"


SPRINT_AUGMENTATION = AugmentationPlan(
    code=AugmentationPlanCode.SPRINT,
    name="Sprint augmentation",
    price_cents=dollars(25_000),
    per="sprint",
    min_agents=1,
    sprint_weeks=DurationRange(2, 4, "weeks"),
    includes=(
        "Temporary capacity for specific sprints",
        "Specific skill set targeting",
        "Team integration training",
    ),
)
CONTINUOUS_AUGMENTATION = AugmentationPlan(
    code=AugmentationPlanCode.CONTINUOUS,
    name="Continuous augmentation",
    price_cents=dollars(75_000),
    per="month",
    min_agents=3,
    sprint_weeks=None,
    includes=(
        "Ongoing capacity increase",
        "3+ specialized agents",
        "Full team integration",
        "Monthly performance optimization",
    ),
)
PROJECT_AUGMENTATION = AugmentationPlan(
    code=AugmentationPlanCode.PROJECT,
    name="Project-based augmentation",
    price_cents=None,
    per="",
    min_agents=1,
    sprint_weeks=None,
    includes=(
        "Specific project completion",
        "Dedicated agent team",
        "Success-based milestones",
        "Knowledge transfer",
    ),
)
AUGMENTATION_PLANS: tuple[AugmentationPlan, ...] = (
    SPRINT_AUGMENTATION,
    CONTINUOUS_AUGMENTATION,
    PROJECT_AUGMENTATION,
)


def augmentation_plan(code: AugmentationPlanCode | str) -> AugmentationPlan:
    """Return the plan for `code`; raises KeyError for an unknown code."""
    for plan in AUGMENTATION_PLANS:
        if plan.code == code:
            return plan
    raise KeyError(f"unknown augmentation plan {code!r}")


# The seed sets no numeric standard for augmentation work: it follows the customer's own.
AUGMENTATION_QUALITY_STANDARDS: tuple[Criterion, ...] = (
    Criterion(
        "team_standards",
        "Work follows the team's code style, review process and CI pipeline",
    ),
)
