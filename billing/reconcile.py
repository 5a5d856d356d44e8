"""Reconciliation: compare the ledger with Stripe, the source of truth, and list every difference.

Checked both ways: each ledger charge against its PaymentIntent and Stripe charge (amount,
status, amount refunded), and each Stripe charge of our customers against the ledger (a payment
Stripe took that the ledger does not know). Nothing is changed; finance decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import stripe

from billing import gateway
from billing.catalog import format_usd
from billing.models import Charge, StripeCustomer

_STRIPE_STATUS = {"succeeded": Charge.Status.SUCCEEDED, "requires_payment_method": Charge.Status.FAILED}


@dataclass(frozen=True, slots=True)
class Difference:
    ledger_id: int | None
    stripe_id: str
    problem: str

    def __str__(self) -> str:
        where = f"ledger #{self.ledger_id}" if self.ledger_id else "not in the ledger"
        return f"{where} / {self.stripe_id or 'not in Stripe'}: {self.problem}"


def _ledger_side(charge: Charge) -> list[Difference]:
    try:
        intent = gateway.payment_intent_retrieve(charge.stripe_payment_intent_id)
    except stripe.InvalidRequestError:
        return [Difference(charge.pk, charge.stripe_payment_intent_id, "the PaymentIntent does not exist in Stripe")]
    found: list[Difference] = []
    if intent.amount != charge.amount_cents:
        found.append(
            Difference(
                charge.pk,
                intent.id,
                f"amount: ledger {format_usd(charge.amount_cents)}, Stripe {format_usd(intent.amount)}",
            )
        )
    stripe_status = _STRIPE_STATUS.get(intent.status, Charge.Status.PROCESSING)
    if stripe_status != charge.status:
        found.append(Difference(charge.pk, intent.id, f"status: ledger {charge.status}, Stripe {intent.status}"))
    charge_id = gateway.object_id(intent.latest_charge) or charge.stripe_charge_id
    if charge_id and charge.status == Charge.Status.SUCCEEDED:
        remote_charge = gateway.charge_retrieve(charge_id)
        if remote_charge.amount_refunded != charge.refunded_cents:
            found.append(
                Difference(
                    charge.pk,
                    charge_id,
                    f"refunded: ledger {format_usd(charge.refunded_cents)}, "
                    f"Stripe {format_usd(remote_charge.amount_refunded)}",
                )
            )
    return found


def ledger_reconcile(*, since: datetime | None = None) -> list[Difference]:
    """Every difference between the ledger and Stripe (charges created since ``since``, or all)."""
    charges = Charge.objects.exclude(stripe_payment_intent_id="").order_by("pk")
    if since is not None:
        charges = charges.filter(created_at__gte=since)
    differences: list[Difference] = []
    known_intents: set[str] = set()
    for charge in charges:
        known_intents.add(charge.stripe_payment_intent_id)
        differences += _ledger_side(charge)
    created_after = int(since.timestamp()) - 1 if since is not None else None
    for stripe_customer in StripeCustomer.objects.order_by("pk"):
        for remote in gateway.charges_list(customer_id=stripe_customer.stripe_id, created_after=created_after):
            intent_id = gateway.object_id(remote.payment_intent)
            if remote.status == "succeeded" and intent_id not in known_intents:
                differences.append(
                    Difference(
                        None, remote.id, f"Stripe took {format_usd(remote.amount)} that the ledger does not record"
                    )
                )
    return differences
