"""The smallest code base a modernization's fixed phase schedule is offered for, and what happens
below it: the quote says so plainly, nothing fixed can be accepted, and the account manager is
asked once for a custom quote.

Why: the seed prices migration at "$500K–2M per phase" with "20 % system segments migrated per
phase", so every migration costs at least five phases at the floor — $2,500,000
(``billing.milestones.MIGRATION_FLOOR_CENTS``) — however small the code. A tryout of a 1,230-line
library was quoted $2.56M. The price tables are product rules; what changes is that they are not
put in front of a customer for a code base they were not made for.

Where the line is (``HIVE_MODERNIZATION_MIN_LINES``, default 25,000 code lines), from the seed's
own numbers:

- the seed's price of an agent-month is continuous augmentation's "$75K per month" for "3+
  specialized agents": at most $25,000 (``billing.milestones.agent_month_cents``);
- the floor of $2,500,000 therefore buys 100 agent-months;
- the assessment's effort model (COCOMO II.2000, nominal, ``agents.legacy.effort``) puts 100
  person-months at about 24,700 lines of code — to *build* the code base anew, not just migrate it.

Below that size, five phases at the floor cost more than the seed's own rate charges for writing
the whole system from scratch, so a careful operator does not offer the fixed schedule; 24,700
rounded to 25,000. The seed's "Small system (< 100K LOC)" band keeps its schedule from 25,000
lines up (``tests/projects/test_migration_minimum.py`` recomputes the rule from those constants).

The refusal is the service's (``fixed_schedule_refusal``, called by ``quotes.quote_acceptable``),
so the portal, the API and a quote frozen before the rule existed are refused alike. A size that
cannot be read is not taken for large enough: unknown is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from billing.catalog import PHASE_COUNT, PHASE_PRICE, format_usd
from billing.milestones import MIGRATION_FLOOR_CENTS
from projects.models import Assessment, Project, Quote, Service
from tenants.emails import send_templated_email
from tenants.links import portal_link
from tenants.models import Customer, User

# The outcome of a quote version that asks the account manager to price a small code base.
CUSTOM_MIGRATION = "custom_migration"


def min_lines() -> int:
    return max(0, int(settings.HIVE_MODERNIZATION_MIN_LINES))


def code_lines_of(value: Any) -> int | None:
    """A count of code lines read from stored JSON, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


@dataclass(frozen=True, slots=True)
class BelowMinimum:
    """A code base the fixed schedule is not offered for; ``code_lines`` is None when unknown."""

    code_lines: int | None
    min_lines: int

    @property
    def paragraph(self) -> str:
        """The one plain paragraph the assessment and the quote pages show."""
        floor, phase_floor = format_usd(MIGRATION_FLOOR_CENTS), format_usd(PHASE_PRICE.low_cents)
        arithmetic = f"{PHASE_COUNT} phases at the {phase_floor} floor = {floor}"
        if self.code_lines is None:
            size = "We could not read the size of your code base, so we cannot tell whether"
            return (
                f"{size} this service's per-phase pricing fits it ({arithmetic} at the least). "
                "No fixed-price migration is offered for it: your account manager prepares a custom quote, "
                "which you can accept here once it is ready."
            )
        per_line = format_usd((MIGRATION_FLOOR_CENTS // max(1, self.code_lines) + 50) // 100 * 100)  # whole dollars
        return (
            f"Your code base ({self.code_lines:,} lines) is smaller than this service's per-phase pricing is made for. "
            f"The fixed schedule migrates it in {PHASE_COUNT} phases of about 20 % each, and no phase costs less than "
            f"{phase_floor}: {arithmetic}, about {per_line} per line of your code. That schedule starts at "
            f"{self.min_lines:,} lines, so no fixed-price migration is offered for this code base: your account "
            "manager prepares a custom quote for it, which you can accept here once it is ready."
        )

    @property
    def refusal(self) -> str:
        """Why a fixed schedule cannot be accepted, as an error message."""
        size = "of unknown size" if self.code_lines is None else f"of {self.code_lines:,} lines"
        return (
            f"No fixed-price migration is offered for a code base {size} (the fixed schedule starts at "
            f"{self.min_lines:,} lines): your account manager prepares a custom quote for you to accept."
        )


def below_minimum(code_lines: Any) -> BelowMinimum | None:
    """None when ``code_lines`` is a size the fixed schedule is offered for."""
    lines, minimum = code_lines_of(code_lines), min_lines()
    if lines is not None and lines >= minimum:
        return None
    return BelowMinimum(lines, minimum)


def assessment_below_minimum(result: Mapping[str, Any]) -> BelowMinimum | None:
    """By the lines of code to migrate (an uploaded repository's tests, packaging, docs and examples
    are not migrated, ``agents.legacy.kinds``); an older assessment without that split by all its code."""
    for key in ("migrated", "totals"):
        counted = result.get(key)
        if isinstance(counted, Mapping):
            return below_minimum(counted.get("code"))
    return below_minimum(None)


def assessment_notice(*, project: Project, result: Any) -> BelowMinimum | None:
    """The assessment page's notice: while the customer waits for the account manager's custom
    quote (none once it is issued, or once a quote is accepted)."""
    if not isinstance(result, Mapping) or project.is_locked:
        return None
    if project.quotes.filter(snapshot__outcome="custom_quote").exists():
        return None
    return assessment_below_minimum(result)


def fixed_schedule_refusal(*, quote: Quote, project: Project) -> BelowMinimum | None:
    """Why ``quote`` of a modernization cannot be accepted as a fixed schedule, or None.

    An account manager's custom quote is not the fixed schedule; any other quote of a
    modernization is judged by the size it was priced on (its snapshot's ``code_loc``), or by
    the project's assessment when the snapshot does not say."""
    if project.service != Service.MODERNIZATION or quote.snapshot.get("outcome") == "custom_quote":
        return None
    if "code_loc" in quote.snapshot:
        return below_minimum(quote.snapshot["code_loc"])
    assessment = Assessment.objects.filter(project=project).only("result").first()
    return assessment_below_minimum(assessment.result) if assessment is not None else below_minimum(None)


def custom_quote_request(*, project: Project, below: BelowMinimum, customer: Customer) -> list[str]:
    """E-mail the customer's account manager (every active staff user when it has none) that this
    project needs a custom quote; returns the addresses. The caller sends it once per project."""
    manager = customer.account_manager
    if manager is not None and manager.is_active:
        recipients = [manager.email]
    else:
        manager = None
        staff = User.objects.filter(is_staff=True, is_active=True).order_by("email")
        recipients = list(staff.values_list("email", flat=True))
    if recipients:
        query = urlencode({"customer": customer.pk, "project_id": project.pk, "service": project.service})
        add = f"/admin/billing/customquote/add/?{query}"
        send_templated_email(
            "custom_quote_request",
            recipients,
            {
                "customer": customer,
                "project": project,
                "manager": manager,
                "reason": below.paragraph,
                "admin_link": settings.HIVE_SITE_URL.rstrip("/") + add,
                "project_link": portal_link(customer.schema_name, f"/projects/{project.pk}/"),
            },
        )
    return recipients
