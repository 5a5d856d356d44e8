"""The quality vocabulary: the measurement keys of a delivered artifact and the thresholds the
product promises for them, declared once.

Agents report measurements under these keys (``agents.work``), the quality gates compare them
with these thresholds (``success.gates``), the dashboard shows them (``success.dashboard``), the
catalog prints them on the landing page and quotes (``billing.catalog``) and the guarantee judges
by them (``success.guarantee``). It lives in the lowest app because every one of those readers may
import it and none may import another's copy; it holds no state and touches no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Measure(StrEnum):
    """A measurement key, as it appears in an agent report's data and in a gate's reading."""

    COVERAGE = "coverage_percent"
    TESTS_PASSED = "tests_passed"
    TESTS_FAILED = "tests_failed"
    HIGH_FINDINGS = "security_high_findings"
    SECRET_FINDINGS = "secret_findings"  # noqa: S105 (a measurement key, not a secret)
    PAGE_LOAD_P95 = "page_load_p95_ms"  # the 95th percentile, in milliseconds
    PARITY = "parity_percent"
    PERFORMANCE = "performance_percent"  # the new system's benchmark as a percentage of the legacy one
    UAT = "uat_satisfaction_percent"


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
        if self.comparison.value == "<=" and self.limit == 0:
            return "none"  # "HIGH security findings: none", not "≤ 0"
        symbol = {"<=": "≤", ">=": "≥", "<": "<"}[self.comparison.value]
        spacer = "" if self.unit in {"%", "/10"} else " "
        unit = f"{spacer}{self.unit}" if self.unit else ""
        return f"{symbol} {self.limit.normalize():f}{unit}"


def at_least(limit: str, unit: str) -> Threshold:
    return Threshold(Comparison.AT_LEAST, Decimal(limit), unit)


def at_most(limit: str, unit: str) -> Threshold:
    return Threshold(Comparison.AT_MOST, Decimal(limit), unit)


def less_than(limit: str, unit: str) -> Threshold:
    return Threshold(Comparison.LESS_THAN, Decimal(limit), unit)


# The thresholds of the seed's quality standards (service-delivery-framework.md).
COVERAGE_MIN = at_least("95", "%")  # automated test coverage of a delivered MVP
TESTS_PASSING_MIN = at_least("100", "%")  # every automated test passes
HIGH_FINDINGS_MAX = at_most("0", "")  # no HIGH security finding
SECRET_FINDINGS_MAX = at_most("0", "")  # no committed secret
PAGE_LOAD_MAX = less_than("2", "s")  # page load, 95th percentile
PARITY_MIN = at_least("100", "%")  # functional parity with the legacy system
PERFORMANCE_MIN = at_least("95", "%")  # performance relative to the legacy system
UAT_MIN = at_least("90", "%")  # user acceptance testing satisfaction
