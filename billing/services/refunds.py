"""Refunds: the full refund of a project's charges (the 30-day guarantee) and partial refunds."""

from __future__ import annotations

import stripe
from django.db import transaction

from billing import gateway
from billing.catalog import format_usd
from billing.models import Charge, Refund
from billing.services.notices import BillingError
from tenants.audit import Action, audit_record
from tenants.models import User


def _refund_send(refund: Refund) -> Refund:
    charge = refund.charge
    try:
        remote = gateway.refund_create(
            payment_intent_id=charge.stripe_payment_intent_id,
            amount_cents=refund.amount_cents,
            metadata={
                "refund_id": str(refund.pk),
                "kind": refund.kind,
                "reason": refund.reason[:500],
                "schema_name": charge.schema_name,
                "project_id": str(charge.project_id),
                "milestone": charge.milestone,
            },
            idempotency_key=refund.idempotency_key,
        )
    except stripe.StripeError as exc:
        refund.status = Refund.Status.FAILED
        refund.failure_message = (exc.user_message or str(exc))[:500]
        refund.save(update_fields=["status", "failure_message"])
        raise BillingError(
            f"Stripe did not refund {format_usd(refund.amount_cents)}: {refund.failure_message}"
        ) from exc
    refund.stripe_refund_id = remote.id
    refund.status = Refund.Status.SUCCEEDED if remote.status == "succeeded" else Refund.Status.PENDING
    if remote.status in {"failed", "canceled"}:
        refund.status = Refund.Status.FAILED
    refund.save(update_fields=["stripe_refund_id", "status"])
    return refund


def _refund_claim(
    *, charge: Charge, amount_cents: int | None, kind: str, reason: str, user: User | None
) -> Refund | None:
    with transaction.atomic():
        row = Charge.objects.select_for_update().get(pk=charge.pk)
        remaining = row.refundable_cents
        amount = remaining if amount_cents is None else amount_cents
        if amount_cents is not None and not 0 < amount_cents <= remaining:
            raise BillingError(f"A refund of this charge must be between $0.01 and {format_usd(remaining)}.")
        if amount <= 0 or not row.stripe_payment_intent_id:
            return None
        refund = Refund.objects.create(charge=row, kind=kind, amount_cents=amount, reason=reason, created_by=user)
        audit_record(
            action=Action.REFUND_ISSUED,
            user=user,
            tenant=row.customer,
            obj=refund,
            detail={
                "charge_id": row.pk,
                "project_id": row.project_id,
                "kind": kind,
                "amount_cents": amount,
                "reason": reason,
            },
        )
        return refund


def refund_full(*, schema_name: str, project_id: int, reason: str, user: User | None = None) -> list[Refund]:
    """Give back everything paid for a project (a failed guarantee). Safe to call again: what is
    already refunded is not refunded twice, and a refund left pending by a crash is sent again."""
    refunds: list[Refund] = []
    charges = Charge.objects.filter(schema_name=schema_name, project_id=project_id, status=Charge.Status.SUCCEEDED)
    for charge in charges.order_by("pk"):
        for pending in charge.refunds.filter(status=Refund.Status.PENDING, stripe_refund_id=""):
            refunds.append(_refund_send(pending))
        refund = _refund_claim(charge=charge, amount_cents=None, kind=Refund.Kind.GUARANTEE, reason=reason, user=user)
        if refund is not None:
            refunds.append(_refund_send(refund))
    return refunds


def refund_partial(*, charge: Charge, amount_cents: int, reason: str, user: User | None) -> Refund:
    """Refund part of one charge; an account manager gives the reason."""
    if not reason.strip():
        raise BillingError("Give the reason for the refund.")
    if charge.status != Charge.Status.SUCCEEDED:
        raise BillingError("Only a paid charge can be refunded.")
    refund = _refund_claim(
        charge=charge, amount_cents=amount_cents, kind=Refund.Kind.PARTIAL, reason=reason.strip(), user=user
    )
    if refund is None:
        raise BillingError("This charge has nothing left to refund.")
    return _refund_send(refund)
