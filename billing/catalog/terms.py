"""The service catalog: shared value types."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models

from billing.catalog.money import format_usd_range
from tenants.quality import (
    Threshold,
)


class ServiceCode(models.TextChoices):
    """The one service enum: what Agent Hive sells. ``projects.models.Service`` is this class (the
    project's ``service`` field stores its value); ``label`` is the name customers and finance read
    ("MVP development"), never the stored key."""

    MVP = "mvp", "MVP development"
    MODERNIZATION = "modernization", "Legacy modernization"
    AUGMENTATION = "augmentation", "Team augmentation"


@dataclass(frozen=True, slots=True)
class PriceRange:
    """An inclusive range of prices in cents."""

    low_cents: int
    high_cents: int

    def __post_init__(self) -> None:
        if self.low_cents > self.high_cents:
            raise ValueError("a price range's low end must not exceed its high end")

    def contains(self, cents: int) -> bool:
        return self.low_cents <= cents <= self.high_cents

    def clamp(self, cents: int) -> int:
        return max(self.low_cents, min(self.high_cents, cents))

    @property
    def label(self) -> str:
        return format_usd_range(self.low_cents, self.high_cents)


@dataclass(frozen=True, slots=True)
class DurationRange:
    """An inclusive duration range, e.g. 2–3 weeks or 6–12 months."""

    low: int
    high: int
    unit: str  # "weeks" or "months"

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("a duration range's low end must not exceed its high end")

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high} {self.unit}"


@dataclass(frozen=True, slots=True)
class Criterion:
    """One quality standard or guarantee condition.

    `threshold` is None for conditions that are judged yes/no by the account manager
    (e.g. "seamless team integration achieved"); otherwise it is the measurable target.
    """

    code: str
    description: str
    threshold: Threshold | None = None

    def is_met(self, value: Decimal | int | float) -> bool:
        if self.threshold is None:
            raise ValueError(f"criterion {self.code!r} is judged, not measured")
        return self.threshold.is_met(value)
