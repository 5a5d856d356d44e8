"""What finance reads from the ledger: the CSV of a period, revenue by service and MRR.

Every text cell of the CSV goes through ``spreadsheet_text``: tenant, project and story names are
customer text, and a cell such as ``=HYPERLINK(...)`` would run as a formula when finance opens
the file in a spreadsheet (OWASP "CSV injection"). Amounts are numbers in dollars with their
currency in the next column.

A period is whole UTC days, ``start`` to ``end`` inclusive. A charge counts on the day it was
paid and a refund (negative) on the day it was made, the way Stripe's balance counts them, so the
CSV's total for a period equals what Stripe took in that period.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet, Sum

from billing.catalog import ServiceCode, format_usd
from billing.models import Charge, Refund, Subscription
from tenants.spreadsheet import spreadsheet_text

CSV_COLUMNS = [
    "date",
    "entry",
    "tenant",
    "schema",
    "project_id",
    "project",
    "service",
    "milestone",
    "description",
    "amount_usd",
    "currency",
    "status",
    "stripe_payment_intent",
    "stripe_charge",
    "stripe_refund",
    "stripe_invoice",
    "reason",
]


def period_default(today: date) -> tuple[date, date]:
    """The period finance sees before choosing one: this month so far."""
    return today.replace(day=1), today


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC)."""
    return datetime.combine(start, time.min, tzinfo=UTC), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=UTC
    )


def _dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def _paid_charges(start: date, end: date) -> QuerySet[Charge]:
    low, high = period_bounds(start, end)
    return Charge.objects.filter(status=Charge.Status.SUCCEEDED, paid_at__gte=low, paid_at__lt=high)


def _refunds(start: date, end: date) -> QuerySet[Refund]:
    low, high = period_bounds(start, end)
    return Refund.objects.filter(status=Refund.Status.SUCCEEDED, created_at__gte=low, created_at__lt=high)


def _charge_cells(charge: Charge) -> list[str]:
    """The charge's tenant, project, service and milestone columns, safe for a spreadsheet."""
    return [
        spreadsheet_text(charge.customer.name),
        spreadsheet_text(charge.schema_name),
        str(charge.project_id or ""),
        spreadsheet_text(charge.project_name),
        spreadsheet_text(charge.service),
        spreadsheet_text(charge.milestone),
        spreadsheet_text(charge.description),
    ]


def ledger_csv(*, start: date, end: date) -> str:
    """The ledger of a period as CSV: one line per charge and refund, then the net total."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    total = 0
    for charge in _paid_charges(start, end).select_related("customer").order_by("paid_at", "pk"):
        assert charge.paid_at is not None
        total += charge.amount_cents
        writer.writerow(
            [
                charge.paid_at.date().isoformat(),
                "charge",
                *_charge_cells(charge),
                _dollars(charge.amount_cents),
                charge.currency,
                charge.status,
                *map(spreadsheet_text, (charge.stripe_payment_intent_id, charge.stripe_charge_id, "")),
                spreadsheet_text(charge.stripe_invoice_id),
                "",
            ]
        )
    for refund in _refunds(start, end).select_related("charge__customer").order_by("created_at", "pk"):
        charge = refund.charge
        total -= refund.amount_cents
        writer.writerow(
            [
                refund.created_at.date().isoformat(),
                f"refund ({refund.kind})",
                *_charge_cells(charge),
                _dollars(-refund.amount_cents),
                charge.currency,
                refund.status,
                *map(
                    spreadsheet_text,
                    (charge.stripe_payment_intent_id, charge.stripe_charge_id, refund.stripe_refund_id),
                ),
                spreadsheet_text(charge.stripe_invoice_id),
                spreadsheet_text(refund.reason),
            ]
        )
    writer.writerow(["TOTAL", "", "", "", "", "", "", "", "", _dollars(total), "usd", "", "", "", "", "", ""])
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class ServiceRevenue:
    service: str
    charged_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.charged_cents - self.refunded_cents

    @property
    def service_label(self) -> str:
        return ServiceCode(self.service).label

    @property
    def charged_label(self) -> str:
        return format_usd(self.charged_cents)

    @property
    def refunded_label(self) -> str:
        return format_usd(self.refunded_cents)

    @property
    def net_label(self) -> str:
        return format_usd(self.net_cents)


def revenue_by_service(*, start: date, end: date) -> list[ServiceRevenue]:
    rows = []
    for code in ServiceCode:
        charged = _paid_charges(start, end).filter(service=code.value).aggregate(total=Sum("amount_cents"))["total"]
        refunded = _refunds(start, end).filter(charge__service=code.value).aggregate(total=Sum("amount_cents"))["total"]
        rows.append(ServiceRevenue(code.value, int(charged or 0), int(refunded or 0)))
    return rows


def mrr_cents() -> int:
    """Monthly recurring revenue: the monthly amount of every subscription that still renews."""
    live = Subscription.objects.filter(status=Subscription.Status.ACTIVE, cancel_at_period_end=False)
    return int(live.aggregate(total=Sum("amount_cents"))["total"] or 0)
