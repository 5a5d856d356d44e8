"""Technical-debt estimate of a code base, by a named SQALE-style remediation model.

This module owns the debt figure shown in an assessment. The method (named in every result as
:data:`METHOD`) follows SQALE: each finding costs a fixed remediation time, debt is the sum, and
the debt ratio is debt divided by the cost of writing the code anew.

Remediation costs per finding:

=====================  ======================================================  ==================
rule                   finding                                                  minutes
=====================  ======================================================  ==================
``complex-function``   a function with cyclomatic complexity above 10           10 + 1 per point
                                                                                 above 10
``long-function``      a function longer than 60 lines                          20
``unmaintainable``     a module with maintainability index below 10             120
``hard-to-maintain``   a module with maintainability index from 10 up to 20     60
=====================  ======================================================  ==================

Development cost is 30 minutes per code line (SonarQube's default for the SQALE ratio). The
rating is SQALE's: A ≤ 5 %, B ≤ 10 %, C ≤ 20 %, D ≤ 50 %, E above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agents.legacy.complexity import ModuleComplexity

METHOD = "SQALE-style remediation cost (complexity > 10, functions > 60 lines, MI < 20)"
COMPLEXITY_THRESHOLD = 10
LONG_FUNCTION_LINES = 60
MINUTES_PER_COMPLEX_FUNCTION = 10
MINUTES_PER_EXCESS_COMPLEXITY_POINT = 1
MINUTES_PER_LONG_FUNCTION = 20
MINUTES_PER_UNMAINTAINABLE_MODULE = 120
MINUTES_PER_HARD_TO_MAINTAIN_MODULE = 60
UNMAINTAINABLE_MI = 10.0
HARD_TO_MAINTAIN_MI = 20.0
DEVELOPMENT_MINUTES_PER_LINE = 30
_RATINGS = ((0.05, "A"), (0.10, "B"), (0.20, "C"), (0.50, "D"))

RULES: Mapping[str, str] = {
    "complex-function": (
        f"function with cyclomatic complexity above {COMPLEXITY_THRESHOLD}: "
        f"{MINUTES_PER_COMPLEX_FUNCTION} min + {MINUTES_PER_EXCESS_COMPLEXITY_POINT} min "
        "per point above"
    ),
    "long-function": (f"function longer than {LONG_FUNCTION_LINES} lines: {MINUTES_PER_LONG_FUNCTION} min"),
    "unmaintainable": (
        f"module with maintainability index below {UNMAINTAINABLE_MI:g}: {MINUTES_PER_UNMAINTAINABLE_MODULE} min"
    ),
    "hard-to-maintain": (
        f"module with maintainability index from {UNMAINTAINABLE_MI:g} up to "
        f"{HARD_TO_MAINTAIN_MI:g}: {MINUTES_PER_HARD_TO_MAINTAIN_MODULE} min"
    ),
}


@dataclass(frozen=True)
class DebtItem:
    """One finding and its remediation time."""

    rule: str
    path: str
    subject: str
    minutes: int


@dataclass(frozen=True)
class RuleTotal:
    rule: str
    description: str
    findings: int
    minutes: int


@dataclass(frozen=True)
class DebtEstimate:
    """Total debt, ratio and rating, with the findings that cost most."""

    method: str
    rules: tuple[RuleTotal, ...]
    remediation_minutes: int
    remediation_hours: float
    development_minutes: int
    debt_ratio: float
    rating: str
    largest_items: tuple[DebtItem, ...]


def debt_findings(modules: Sequence[ModuleComplexity]) -> list[DebtItem]:
    """Every finding of the rules in :data:`RULES`."""
    items: list[DebtItem] = []
    for module in modules:
        for function in module.functions:
            if function.complexity > COMPLEXITY_THRESHOLD:
                excess = function.complexity - COMPLEXITY_THRESHOLD
                minutes = MINUTES_PER_COMPLEX_FUNCTION + MINUTES_PER_EXCESS_COMPLEXITY_POINT * excess
                items.append(DebtItem("complex-function", module.path, function.name, minutes))
            if function.length > LONG_FUNCTION_LINES:
                items.append(DebtItem("long-function", module.path, function.name, MINUTES_PER_LONG_FUNCTION))
        index = module.maintainability_index
        if index is None:
            continue
        if index < UNMAINTAINABLE_MI:
            items.append(DebtItem("unmaintainable", module.path, module.path, MINUTES_PER_UNMAINTAINABLE_MODULE))
        elif index < HARD_TO_MAINTAIN_MI:
            items.append(
                DebtItem(
                    "hard-to-maintain",
                    module.path,
                    module.path,
                    MINUTES_PER_HARD_TO_MAINTAIN_MODULE,
                )
            )
    return items


def estimate_debt(modules: Sequence[ModuleComplexity], *, code_lines: int, largest: int = 20) -> DebtEstimate:
    """Sum the remediation cost of all findings and relate it to the development cost."""
    items = debt_findings(modules)
    totals = [
        RuleTotal(
            rule,
            description,
            sum(1 for item in items if item.rule == rule),
            sum(item.minutes for item in items if item.rule == rule),
        )
        for rule, description in RULES.items()
    ]
    minutes = sum(item.minutes for item in items)
    development = code_lines * DEVELOPMENT_MINUTES_PER_LINE
    ratio = minutes / development if development else 0.0
    rating = next((letter for limit, letter in _RATINGS if ratio <= limit), "E")
    ranked = sorted(items, key=lambda item: (-item.minutes, item.path, item.subject))
    return DebtEstimate(
        method=METHOD,
        rules=tuple(totals),
        remediation_minutes=minutes,
        remediation_hours=round(minutes / 60, 1),
        development_minutes=development,
        debt_ratio=round(ratio, 4),
        rating=rating,
        largest_items=tuple(ranked[:largest]),
    )
