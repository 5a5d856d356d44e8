"""The service catalog: legacy modernization."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from billing.catalog.money import dollars
from billing.catalog.terms import Criterion, DurationRange, PriceRange
from tenants.quality import (
    HIGH_FINDINGS_MAX,
    PARITY_MIN,
    PERFORMANCE_MIN,
    UAT_MIN,
    at_most,
)


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
    Criterion("functional_parity", "Functional parity with the legacy system", PARITY_MIN),
    Criterion("performance_vs_legacy", "Performance relative to legacy", PERFORMANCE_MIN),
    Criterion("high_security_findings", "HIGH security findings", HIGH_FINDINGS_MAX),
    Criterion("uat_satisfaction", "User acceptance testing satisfaction", UAT_MIN),
    Criterion("rollback_time", "Time to roll the phase back", at_most("4", "hours")),
)
