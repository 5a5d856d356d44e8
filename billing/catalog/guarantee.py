"""The service catalog: the 30-day success guarantee."""

from __future__ import annotations

from decimal import Decimal

from billing.catalog.augmentation import AUGMENTATION_QUALITY_STANDARDS
from billing.catalog.modernization import MODERNIZATION_PHASE_GATES
from billing.catalog.mvp import MVP_QUALITY_STANDARDS
from billing.catalog.terms import Criterion, ServiceCode
from tenants.quality import (
    PARITY_MIN,
    at_least,
    at_most,
    less_than,
)

GUARANTEE_DAYS = 30
GUARANTEE_REFUND_PERCENT = 100  # a failed guarantee means a full refund

GENERAL_GUARANTEE_CONDITIONS: tuple[Criterion, ...] = (
    Criterion("metrics_improved", "Measurable improvement in the agreed success metrics"),
    Criterion("quality_standards_kept", "Quality standards maintained or exceeded"),
    Criterion("timeline_adherence", "Timeline kept within the agreed parameters"),
    Criterion("customer_satisfaction", "Customer satisfaction score", at_least("8", "/10")),
)

_SERVICE_GUARANTEE_CONDITIONS: dict[ServiceCode, tuple[Criterion, ...]] = {
    ServiceCode.MVP: (
        Criterion("delivered_in_timeline", "Working product delivered within the timeline"),
        Criterion("acceptance_criteria_met", "Acceptance criteria met", at_least("100", "%")),
        Criterion("performance_benchmarks_met", "Performance benchmarks achieved"),
        Criterion("user_acceptance", "Customer user acceptance", at_least("90", "%")),
    ),
    ServiceCode.MODERNIZATION: (
        Criterion("functional_parity", "Functional parity with the legacy system", PARITY_MIN),
        Criterion("performance_improvement", "Performance improvement", at_least("20", "%")),
        Criterion(
            "security_findings_reduction",
            "Reduction of security vulnerabilities",
            at_least("90", "%"),
        ),
        Criterion("disruption_incidents", "Business disruption incidents", at_most("0", "")),
    ),
    ServiceCode.AUGMENTATION: (
        Criterion("velocity_improvement", "Velocity improvement", at_least("40", "%")),
        Criterion("quality_kept", "Quality metrics maintained or improved"),
        Criterion("team_integration", "Seamless team integration achieved"),
        Criterion("stakeholder_satisfaction", "Stakeholder satisfaction", at_least("8", "/10")),
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
        Criterion(c.code, f"{c.description} (your requirements)", less_than(str(page_load_seconds), "s"))
        if c.code == "page_load" and c.threshold is not None and page_load_seconds < c.threshold.limit
        else c
        for c in standards
    )


def guarantee_conditions(service: ServiceCode | str) -> tuple[Criterion, ...]:
    """Return every 30-day guarantee condition for `service`: the general ones, then its own."""
    return GENERAL_GUARANTEE_CONDITIONS + _SERVICE_GUARANTEE_CONDITIONS[ServiceCode(service)]
