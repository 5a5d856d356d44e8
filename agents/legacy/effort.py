"""Effort and schedule to rebuild a code base, by the COCOMO II Post-Architecture model.

This module owns the effort estimate of an assessment. Every parameter is returned with the
result so the customer sees how the number was made:

- size: KSLOC = code lines (``loc``: not blank, not comment) / 1000;
- effort: PM = A × KSLOC^E × ΠEM with A = 2.94 and E = B + 0.01 × ΣSF, B = 0.91;
- schedule: TDEV = C × PM^F months with C = 3.67 and F = D + 0.2 × (E − B), D = 0.28;
- scale factors at their nominal ratings (PREC 3.72, FLEX 3.04, RESL 4.24, TEAM 3.29,
  PMAT 4.68; ΣSF = 18.97, E = 1.0997) and the 17 effort multipliers nominal (1.0), unless the
  caller states others.

Values are those of the COCOMO II.2000 calibration (Boehm et al., *Software Cost Estimation with
COCOMO II*, 2000).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

MODEL = "COCOMO II.2000 Post-Architecture"
A = 2.94
B = 0.91
C = 3.67
D = 0.28
NOMINAL_SCALE_FACTORS: Mapping[str, float] = {
    "PREC": 3.72,
    "FLEX": 3.04,
    "RESL": 4.24,
    "TEAM": 3.29,
    "PMAT": 4.68,
}
NOMINAL_EFFORT_MULTIPLIERS: Mapping[str, float] = dict.fromkeys(
    (
        "RELY",
        "DATA",
        "CPLX",
        "RUSE",
        "DOCU",
        "TIME",
        "STOR",
        "PVOL",
        "ACAP",
        "PCAP",
        "PCON",
        "APEX",
        "PLEX",
        "LTEX",
        "TOOL",
        "SITE",
        "SCED",
    ),
    1.0,
)


@dataclass(frozen=True)
class CocomoEstimate:
    """The estimate and every parameter that produced it."""

    model: str
    ksloc: float
    a: float
    b: float
    c: float
    d: float
    scale_factors: dict[str, float]
    scale_factor_sum: float
    exponent: float
    effort_multipliers: dict[str, float]
    effort_multiplier_product: float
    person_months: float
    schedule_exponent: float
    schedule_months: float
    average_staff: float


def estimate_effort(
    code_lines: int,
    *,
    scale_factors: Mapping[str, float] | None = None,
    effort_multipliers: Mapping[str, float] | None = None,
) -> CocomoEstimate:
    """COCOMO II effort for ``code_lines``; factors not given stay nominal."""
    factors = _override(NOMINAL_SCALE_FACTORS, scale_factors, "scale factor")
    multipliers = _override(NOMINAL_EFFORT_MULTIPLIERS, effort_multipliers, "effort multiplier")
    ksloc = code_lines / 1000
    factor_sum = sum(factors.values())
    exponent = B + 0.01 * factor_sum
    product = math.prod(multipliers.values())
    person_months = A * ksloc**exponent * product if ksloc > 0 else 0.0
    schedule_exponent = D + 0.2 * (exponent - B)
    schedule = C * person_months**schedule_exponent if person_months > 0 else 0.0
    return CocomoEstimate(
        model=MODEL,
        ksloc=round(ksloc, 3),
        a=A,
        b=B,
        c=C,
        d=D,
        scale_factors=factors,
        scale_factor_sum=round(factor_sum, 2),
        exponent=round(exponent, 4),
        effort_multipliers=multipliers,
        effort_multiplier_product=round(product, 4),
        person_months=round(person_months, 1),
        schedule_exponent=round(schedule_exponent, 4),
        schedule_months=round(schedule, 1),
        average_staff=round(person_months / schedule, 1) if schedule else 0.0,
    )


def _override(nominal: Mapping[str, float], given: Mapping[str, float] | None, kind: str) -> dict[str, float]:
    values = dict(nominal)
    for name, value in (given or {}).items():
        if name not in values:
            raise ValueError(f"unknown COCOMO II {kind}: {name}")
        values[name] = float(value)
    return values


@dataclass(frozen=True)
class Timeline:
    """The one timeline the quote commits to, and why (size class band or COCOMO II schedule)."""

    low: int
    high: int
    unit: str
    label: str
    basis: str  # "size class" or "COCOMO II"
    reason: str
    band: str
    cocomo_months: float


def reconcile_timeline(*, band_low: int, band_high: int, band_name: str, schedule_months: float) -> Timeline:
    """The size class band and the COCOMO II schedule made into one commitment.

    The band (the catalog's commitment for a system of this size) is kept when the COCOMO II
    schedule of *this* code lies within it or below it (a gated, phased migration is not planned
    shorter than the band's low end). When COCOMO II says the work takes longer than the band's
    high end, the band would be a promise the estimate itself contradicts: the quote commits to
    the COCOMO II schedule, rounded up to whole months.
    """
    band = f"{band_low}–{band_high} months"
    if schedule_months <= band_high:
        where = "inside" if schedule_months >= band_low else "below"
        return Timeline(
            band_low,
            band_high,
            "months",
            band,
            "size class",
            f"the COCOMO II schedule of this code ({schedule_months:g} months) lies {where} the {band_name} size "
            f"class band, so the quote commits to the band ({band}); a phased, gated migration is not planned "
            f"shorter than {band_low} months",
            band,
            schedule_months,
        )
    high = math.ceil(schedule_months)
    low = max(band_low, math.floor(schedule_months * 0.85))
    label = f"{low}–{high} months"
    return Timeline(
        low,
        high,
        "months",
        label,
        "COCOMO II",
        f"the COCOMO II schedule of this code ({schedule_months:g} months) is longer than the {band_name} size class "
        f"band ({band}), so the quote commits to the COCOMO II schedule rounded up ({label}) instead of the band",
        band,
        schedule_months,
    )
