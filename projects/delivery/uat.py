"""User acceptance testing of a modernization, as the customer reports it.

The seed's fourth modernization gate is "User acceptance testing (≥ 90 % satisfaction)". Nobody
but the customer's own users can take that measurement, so the platform asks for it: the testing
phase holds an approval step (``projects.delivery.workflow.UAT_STEP``) after the parity check, and
the customer gives it by reporting how many people tested the modernized code and how many of
them were satisfied, with what they found. The report is the step's outcome
(``Task.output["data"]``), which ``success.measurements`` reads like any other measurement, so the
UAT gate passes or fails on that number — never on a plain "approve". A step approved without a
report does not exist: ``projects.delivery.controls.task_approve`` refuses it.

When the gate does not pass (under 90 %), the modernization developer gets the findings as a fix
task and the customer is asked again after the re-check (``success.gates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tenants.quality import Measure

MAX_TESTERS = 100_000
MAX_FINDINGS = 4_000


class UatReportError(ValueError):
    """The report cannot be recorded; the message says why, in the customer's words."""


@dataclass(frozen=True, slots=True)
class UatReport:
    testers: int
    satisfied: int
    findings: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.testers, bool) or not isinstance(self.testers, int) or self.testers < 1:
            raise UatReportError("Say how many people tested the modernized code (at least one).")
        if self.testers > MAX_TESTERS:
            raise UatReportError(f"At most {MAX_TESTERS:,} testers can be reported.")
        if isinstance(self.satisfied, bool) or not isinstance(self.satisfied, int) or self.satisfied < 0:
            raise UatReportError("Say how many of your testers were satisfied (0 or more).")
        if self.satisfied > self.testers:
            raise UatReportError("More testers satisfied than tested: check the two numbers.")
        if len(self.findings) > MAX_FINDINGS:
            raise UatReportError(f"Keep the findings under {MAX_FINDINGS:,} characters (attach the rest to a message).")

    @property
    def percent(self) -> Decimal:
        share = Decimal(self.satisfied * 100) / Decimal(self.testers)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def output(self) -> dict[str, Any]:
        """The approval step's outcome: the measurement the UAT gate reads, and what was found."""
        return {
            "data": {
                Measure.UAT.value: str(self.percent),
                "uat_testers": self.testers,
                "uat_satisfied": self.satisfied,
            },
            "findings": self.findings.strip(),
        }

    def sentence(self) -> str:
        return f"{self.satisfied} of {self.testers} testers satisfied ({self.percent} %)"
