"""The service catalog: mVP development."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing.catalog.money import dollars, format_usd
from billing.catalog.terms import Criterion, DurationRange
from tenants.quality import (
    COVERAGE_MIN,
    HIGH_FINDINGS_MAX,
    PAGE_LOAD_MAX,
    at_least,
    at_most,
)


class MvpTierCode(StrEnum):
    SIMPLE = "simple"
    STANDARD = "standard"
    COMPLEX = "complex"


class SupportKind(StrEnum):
    SUPPORT = "support"
    SUPPORT_AND_OPTIMIZATION = "support and optimization"
    MANAGED_SERVICE = "managed service"


@dataclass(frozen=True, slots=True)
class SupportTerm:
    """Post-delivery support: `days` for the day-counted terms, `months` for managed service."""

    kind: SupportKind
    days: int = 0
    months: int = 0

    @property
    def label(self) -> str:
        length = f"{self.months}-month" if self.months else f"{self.days}-day"
        return f"{length} {self.kind.value}"


@dataclass(frozen=True, slots=True)
class HostingTerm:
    level: str  # "Standard", "Premium", "Enterprise"
    months: int

    @property
    def label(self) -> str:
        return f"{self.level} hosting for {self.months} months"


@dataclass(frozen=True, slots=True)
class MvpTier:
    """One fixed-price MVP tier. `max_integrations` is None when integrations are unlimited."""

    code: MvpTierCode
    name: str
    summary: str
    price_cents: int
    max_stories: int
    max_integrations: int | None
    timeline: DurationRange
    hosting: HostingTerm
    support: SupportTerm

    def fits(self, *, story_count: int, integration_count: int) -> bool:
        return story_count <= self.max_stories and (
            self.max_integrations is None or integration_count <= self.max_integrations
        )

    @property
    def price_label(self) -> str:
        return format_usd(self.price_cents)

    @property
    def integrations_label(self) -> str:
        if self.max_integrations is None:
            return "unlimited integrations"
        return f"{self.max_integrations} integrations"


SIMPLE_MVP = MvpTier(
    code=MvpTierCode.SIMPLE,
    name="Simple MVP",
    summary="CRUD + auth",
    price_cents=dollars(75_000),
    max_stories=15,
    max_integrations=3,
    timeline=DurationRange(2, 3, "weeks"),
    hosting=HostingTerm("Standard", 6),
    support=SupportTerm(SupportKind.SUPPORT, days=30),
)
STANDARD_MVP = MvpTier(
    code=MvpTierCode.STANDARD,
    name="Standard MVP",
    summary="Multi-user + integrations",
    price_cents=dollars(150_000),
    max_stories=30,
    max_integrations=8,
    timeline=DurationRange(4, 6, "weeks"),
    hosting=HostingTerm("Premium", 12),
    support=SupportTerm(SupportKind.SUPPORT_AND_OPTIMIZATION, days=90),
)
COMPLEX_MVP = MvpTier(
    code=MvpTierCode.COMPLEX,
    name="Complex MVP",
    summary="AI/ML + real-time",
    price_cents=dollars(300_000),
    max_stories=50,
    max_integrations=None,
    timeline=DurationRange(6, 8, "weeks"),
    hosting=HostingTerm("Enterprise", 24),
    support=SupportTerm(SupportKind.MANAGED_SERVICE, months=6),
)

# Smallest first: scoping walks this order and takes the first tier that fits.
MVP_TIERS: tuple[MvpTier, ...] = (SIMPLE_MVP, STANDARD_MVP, COMPLEX_MVP)
MVP_MAX_STORIES = COMPLEX_MVP.max_stories


def mvp_tier(code: MvpTierCode | str) -> MvpTier:
    """Return the tier for `code`; raises KeyError for an unknown code."""
    for tier in MVP_TIERS:
        if tier.code == code:
            return tier
    raise KeyError(f"unknown MVP tier {code!r}")


MVP_QUALITY_STANDARDS: tuple[Criterion, ...] = (
    Criterion("test_coverage", "Automated test coverage", COVERAGE_MIN),
    Criterion("page_load", "Page load time", PAGE_LOAD_MAX),
    Criterion("high_security_findings", "HIGH security findings", HIGH_FINDINGS_MAX),
    Criterion("uptime", "Uptime", at_least("99.9", "%")),
    Criterion("blocking_issue_age", "Age of any blocking issue", at_most("4", "hours")),
)
