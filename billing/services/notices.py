"""What every money write shares: the refusal it raises (``BillingError``), who hears about it (the
tenant's owners) and how the apps above learn of an outcome (``announce``: a ``billing.signals``
signal sent once the ledger row is committed)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from billing.models import Charge
from billing.signals import payment_notice
from tenants.models import Customer, Membership, Role

logger = logging.getLogger(__name__)


class BillingError(Exception):
    """A billing step refused or failed; the message is for the customer or account manager."""


def owner_emails(customer: Customer) -> list[str]:
    return list(
        Membership.objects.filter(customer=customer, role=Role.OWNER)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def announce(signal: Signal, sender: type[Any], **details: Any) -> None:
    """Send ``signal`` once the ledger row is committed. A receiver's failure is logged, never
    turned into a billing failure: the money is recorded either way."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **details):
            if isinstance(result, Exception):
                logger.error("receiver %r of a billing signal failed", receiver, exc_info=result)

    transaction.on_commit(send)


def notice_taken(kind: str, *, schema_name: str, project_id: int | None, key: str, **notice: Any) -> bool:
    """True when a receiver of ``payment_notice`` mails this by the people's preferences."""
    answers = payment_notice.send(
        sender=Charge, kind=kind, schema_name=schema_name, project_id=project_id, key=key, **notice
    )
    return any(bool(result) for _, result in answers)
