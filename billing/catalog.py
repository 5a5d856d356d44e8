"""The service catalog: every price, tier, quality standard and guarantee condition Agent Hive sells.

This module owns the product rules of the seed (`service-delivery-framework.md`, DESIGN §3) as
typed, frozen data in code, so that scoping, the landing page, quotes and billing all read the
same numbers. It holds no state and touches no database.

Money is integer US cents throughout, because Stripe charges in cents; `format_usd` and
`format_usd_range` turn cents into display strings.

The assessment price of a legacy modernization is the one computed price here
(`assessment_price_cents`); its rule is documented on the function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

CENTS_PER_DOLLAR = 100


def dollars(amount: int) -> int:
    """Return whole dollars as cents (`dollars(75_000) == 7_500_000`)."""
    return amount * CENTS_PER_DOLLAR


# ---------------------------------------------------------------------------------------------
# Display helpers
# ---------------------------------------------------------------------------------------------


def format_usd(cents: int) -> str:
    """Format cents as US dollars: `$75,000`, or `$1,851.75` when there are cents."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), CENTS_PER_DOLLAR)
    if rest:
        return f"{sign}${whole:,}.{rest:02d}"
    return f"{sign}${whole:,}"


def format_usd_compact(cents: int) -> str:
    """Format whole-thousand amounts the way the seed writes them: `$75K`, `$2M`, `$1.5M`."""
    whole = cents // CENTS_PER_DOLLAR
    if cents % CENTS_PER_DOLLAR == 0 and whole >= 1_000_000 and whole % 100_000 == 0:
        millions = Decimal(whole) / Decimal(1_000_000)
        return f"${millions.normalize():f}M"
    if cents % CENTS_PER_DOLLAR == 0 and whole >= 1_000 and whole % 1_000 == 0:
        return f"${whole // 1_000}K"
    return format_usd(cents)


def format_usd_range(low_cents: int, high_cents: int, *, compact: bool = False) -> str:
    """Format a price range with an en dash: `$50,000–$150,000` (or `$50K–$150K` compact)."""
    fmt = format_usd_compact if compact else format_usd
    return f"{fmt(low_cents)}–{fmt(high_cents)}"


# ---------------------------------------------------------------------------------------------
# Shared value types
# ---------------------------------------------------------------------------------------------


class ServiceCode(StrEnum):
    MVP = "mvp"
    MODERNIZATION = "modernization"
    AUGMENTATION = "augmentation"

    @property
    def label(self) -> str:
        """The name customers and finance read ("MVP development"), never the stored key."""
        return _SERVICE_LABELS[self]


_SERVICE_LABELS = {
    ServiceCode.MVP: "MVP development",
    ServiceCode.MODERNIZATION: "Legacy modernization",
    ServiceCode.AUGMENTATION: "Team augmentation",
}


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


class Comparison(StrEnum):
    AT_LEAST = ">="
    AT_MOST = "<="
    LESS_THAN = "<"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A measurable target: `value <comparison> limit`, in `unit`."""

    comparison: Comparison
    limit: Decimal
    unit: str

    def is_met(self, value: Decimal | int | float) -> bool:
        measured = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if self.comparison is Comparison.AT_LEAST:
            return measured >= self.limit
        if self.comparison is Comparison.AT_MOST:
            return measured <= self.limit
        return measured < self.limit

    @property
    def label(self) -> str:
        symbol = {"<=": "≤", ">=": "≥", "<": "<"}[self.comparison.value]
        spacer = "" if self.unit in {"%", "/10"} else " "
        unit = f"{spacer}{self.unit}" if self.unit else ""
        return f"{symbol} {self.limit.normalize():f}{unit}"


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


def _at_least(limit: str, unit: str) -> Threshold:
    return Threshold(Comparison.AT_LEAST, Decimal(limit), unit)


def _at_most(limit: str, unit: str) -> Threshold:
    return Threshold(Comparison.AT_MOST, Decimal(limit), unit)


def _less_than(limit: str, unit: str) -> Threshold:
    return Threshold(Comparison.LESS_THAN, Decimal(limit), unit)


# ---------------------------------------------------------------------------------------------
# MVP development
# ---------------------------------------------------------------------------------------------


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
    Criterion("test_coverage", "Automated test coverage", _at_least("95", "%")),
    Criterion("page_load", "Page load time", _less_than("2", "s")),
    Criterion("high_security_findings", "HIGH security findings", _at_most("0", "")),
    Criterion("uptime", "Uptime", _at_least("99.9", "%")),
    Criterion("blocking_issue_age", "Age of any blocking issue", _at_most("4", "hours")),
)


# ---------------------------------------------------------------------------------------------
# Legacy modernization
# ---------------------------------------------------------------------------------------------


class SizeClassCode(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class SizeClass:
    """A legacy-system size class: `min_loc <= loc`, and `loc <= max_loc` unless it is None."""

    code: SizeClassCode
    name: str
    min_loc: int
    max_loc: int | None
    timeline: DurationRange

    def contains(self, code_loc: int) -> bool:
        return code_loc >= self.min_loc and (self.max_loc is None or code_loc <= self.max_loc)


# The seed says "< 100K", "100K–500K" and "500K+"; DESIGN §3 says "> 500K". A system of exactly
# 500,000 lines is therefore medium, and exactly 100,000 lines is medium too.
SMALL_SYSTEM = SizeClass(SizeClassCode.SMALL, "Small system", 0, 99_999, DurationRange(3, 6, "months"))
MEDIUM_SYSTEM = SizeClass(SizeClassCode.MEDIUM, "Medium system", 100_000, 500_000, DurationRange(6, 12, "months"))
LARGE_SYSTEM = SizeClass(SizeClassCode.LARGE, "Large system", 500_001, None, DurationRange(12, 24, "months"))
SIZE_CLASSES: tuple[SizeClass, ...] = (SMALL_SYSTEM, MEDIUM_SYSTEM, LARGE_SYSTEM)

ASSESSMENT_PRICE = PriceRange(dollars(50_000), dollars(150_000))
PHASE_PRICE = PriceRange(dollars(500_000), dollars(2_000_000))
PHASE_SHARE_PERCENT = 20
PHASE_COUNT = 100 // PHASE_SHARE_PERCENT
PHASE_WARRANTY_MONTHS = 6
ROLLBACK_HOURS = 4
MIGRATION_UPTIME_PERCENT = Decimal("99.95")

# The assessment price rule, in cents. See `assessment_price_cents`.
_ASSESSMENT_BASE_CENTS = dollars(50_000)
_ASSESSMENT_CENTS_PER_LOC = 15  # $0.15 a line ...
_ASSESSMENT_LOC_CAP = 500_000  # ... for the first 500K lines: at most $75,000
_ASSESSMENT_SIMPLE_COMPLEXITY = 5.0  # radon rank A (1–5) is "simple": no surcharge
_ASSESSMENT_CENTS_PER_COMPLEXITY_POINT = dollars(5_000)
_ASSESSMENT_COMPLEXITY_SURCHARGE_CAP = dollars(25_000)  # reached at mean complexity 10
_ASSESSMENT_ROUNDING_CENTS = dollars(100)


def modernization_size_class(code_loc: int) -> SizeClass:
    """Return the seed's size class for a legacy system of `code_loc` lines of code.

    < 100,000 lines: small (3–6 months); 100,000–500,000: medium (6–12 months);
    more than 500,000: large (12–24 months). Raises ValueError for a negative count.
    """
    if code_loc < 0:
        raise ValueError("lines of code cannot be negative")
    for size_class in SIZE_CLASSES:
        if size_class.contains(code_loc):
            return size_class
    raise AssertionError("size classes cover every non-negative line count")  # pragma: no cover


def assessment_price_cents(*, code_loc: int, mean_complexity: float) -> int:
    """Return the fixed price of a modernization assessment, in cents, within $50K–$150K.

    The rule, stated so a customer can check it:

    - a base of $50,000 (the seed's floor: every assessment covers the whole analysis);
    - plus $0.15 for each line of code, counted up to 500,000 lines (at most $75,000) — size
      drives the reading and mapping work, and beyond 500K lines the analysis is automated
      per module so the marginal cost flattens;
    - plus $5,000 for each point of mean cyclomatic complexity per function above 5 (radon's
      rank A, "simple"), at most $25,000 (reached at a mean of 10, the top of rank B) —
      complex code needs more business-logic extraction;
    - rounded to the nearest $100 and clamped to $50,000–$150,000.

    Raises ValueError for a negative line count or a negative or non-finite complexity.
    """
    if code_loc < 0:
        raise ValueError("lines of code cannot be negative")
    if not math.isfinite(mean_complexity) or mean_complexity < 0:
        raise ValueError("mean complexity must be a finite, non-negative number")
    size_cents = min(code_loc, _ASSESSMENT_LOC_CAP) * _ASSESSMENT_CENTS_PER_LOC
    excess_complexity = max(0.0, mean_complexity - _ASSESSMENT_SIMPLE_COMPLEXITY)
    complexity_cents = min(
        _ASSESSMENT_COMPLEXITY_SURCHARGE_CAP,
        round(excess_complexity * _ASSESSMENT_CENTS_PER_COMPLEXITY_POINT),
    )
    total = _ASSESSMENT_BASE_CENTS + size_cents + complexity_cents
    # Round half up to whole hundreds of dollars, in integers to stay exact.
    step = _ASSESSMENT_ROUNDING_CENTS
    rounded = (total + step // 2) // step * step
    return ASSESSMENT_PRICE.clamp(rounded)


MODERNIZATION_PHASE_GATES: tuple[Criterion, ...] = (
    Criterion("functional_parity", "Functional parity with the legacy system", _at_least("100", "%")),
    Criterion("performance_vs_legacy", "Performance relative to legacy", _at_least("95", "%")),
    Criterion("high_security_findings", "HIGH security findings", _at_most("0", "")),
    Criterion("uat_satisfaction", "User acceptance testing satisfaction", _at_least("90", "%")),
    Criterion("rollback_time", "Time to roll the phase back", _at_most("4", "hours")),
)


# ---------------------------------------------------------------------------------------------
# Team augmentation
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# The 30-day success guarantee
# ---------------------------------------------------------------------------------------------

GUARANTEE_DAYS = 30
GUARANTEE_REFUND_PERCENT = 100  # a failed guarantee means a full refund

GENERAL_GUARANTEE_CONDITIONS: tuple[Criterion, ...] = (
    Criterion("metrics_improved", "Measurable improvement in the agreed success metrics"),
    Criterion("quality_standards_kept", "Quality standards maintained or exceeded"),
    Criterion("timeline_adherence", "Timeline kept within the agreed parameters"),
    Criterion("customer_satisfaction", "Customer satisfaction score", _at_least("8", "/10")),
)

_SERVICE_GUARANTEE_CONDITIONS: dict[ServiceCode, tuple[Criterion, ...]] = {
    ServiceCode.MVP: (
        Criterion("delivered_in_timeline", "Working product delivered within the timeline"),
        Criterion("acceptance_criteria_met", "Acceptance criteria met", _at_least("100", "%")),
        Criterion("performance_benchmarks_met", "Performance benchmarks achieved"),
        Criterion("user_acceptance", "Customer user acceptance", _at_least("90", "%")),
    ),
    ServiceCode.MODERNIZATION: (
        Criterion("functional_parity", "Functional parity with the legacy system", _at_least("100", "%")),
        Criterion("performance_improvement", "Performance improvement", _at_least("20", "%")),
        Criterion(
            "security_findings_reduction",
            "Reduction of security vulnerabilities",
            _at_least("90", "%"),
        ),
        Criterion("disruption_incidents", "Business disruption incidents", _at_most("0", "")),
    ),
    ServiceCode.AUGMENTATION: (
        Criterion("velocity_improvement", "Velocity improvement", _at_least("40", "%")),
        Criterion("quality_kept", "Quality metrics maintained or improved"),
        Criterion("team_integration", "Seamless team integration achieved"),
        Criterion("stakeholder_satisfaction", "Stakeholder satisfaction", _at_least("8", "/10")),
    ),
}

_SERVICE_QUALITY_STANDARDS: dict[ServiceCode, tuple[Criterion, ...]] = {
    ServiceCode.MVP: MVP_QUALITY_STANDARDS,
    ServiceCode.MODERNIZATION: MODERNIZATION_PHASE_GATES,
    ServiceCode.AUGMENTATION: AUGMENTATION_QUALITY_STANDARDS,
}


def quality_standards(service: ServiceCode | str, *, page_load_seconds: Decimal | None = None) -> tuple[Criterion, ...]:
    """Return the quality standards a delivery of `service` is gated on.

    For modernization these are the per-phase gates. `page_load_seconds` is the page-load target
    the customer's requirements ask for: it replaces the standard's when it is stricter (a looser
    wish never lowers the standard).
    """
    standards = _SERVICE_QUALITY_STANDARDS[ServiceCode(service)]
    if page_load_seconds is None or page_load_seconds <= 0:
        return standards
    return tuple(
        Criterion(c.code, f"{c.description} (your requirements)", _less_than(str(page_load_seconds), "s"))
        if c.code == "page_load" and c.threshold is not None and page_load_seconds < c.threshold.limit
        else c
        for c in standards
    )


def guarantee_conditions(service: ServiceCode | str) -> tuple[Criterion, ...]:
    """Return every 30-day guarantee condition for `service`: the general ones, then its own."""
    return GENERAL_GUARANTEE_CONDITIONS + _SERVICE_GUARANTEE_CONDITIONS[ServiceCode(service)]
