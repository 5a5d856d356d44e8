"""Continuous augmentation: monthly Subscriptions on Plans, and the invoices Stripe raises for them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import gateway
from billing.catalog import CONTINUOUS_AUGMENTATION, ServiceCode
from billing.models import Charge, Subscription
from billing.services.charges import charge_audit_detail, receipt_send
from billing.services.customers import stripe_customer_ensure
from billing.services.notices import BillingError, announce, notice_taken, owner_emails
from billing.signals import subscription_canceled, subscription_renewal_failed
from tenants.audit import Action, audit_record
from tenants.emails import send_templated_email
from tenants.models import Customer


def from_timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def _plan_id(amount_cents: int) -> str:
    return f"hive-continuous-{amount_cents}-usd-monthly"


_SUBSCRIPTION_STATUS = {
    "active": Subscription.Status.ACTIVE,
    "trialing": Subscription.Status.ACTIVE,
    "past_due": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.PAST_DUE,
    "canceled": Subscription.Status.CANCELED,
    "incomplete_expired": Subscription.Status.CANCELED,
    "incomplete": Subscription.Status.INCOMPLETE,
}


def subscription_start(*, customer: Customer, project_id: int, project_name: str) -> Subscription:
    """Start continuous augmentation: a monthly Subscription on the tenant's default card."""
    plan = CONTINUOUS_AUGMENTATION
    assert plan.price_cents is not None
    stripe_customer = stripe_customer_ensure(customer=customer)
    if stripe_customer.default_payment_method is None:
        raise BillingError("Add a card before starting continuous augmentation.")
    try:
        with transaction.atomic():
            subscription, _ = Subscription.objects.get_or_create(
                schema_name=customer.schema_name,
                project_id=project_id,
                defaults={
                    "customer": customer,
                    "project_name": project_name[:160],
                    "plan_code": plan.code.value,
                    "amount_cents": plan.price_cents,
                },
            )
    except IntegrityError:
        subscription = Subscription.objects.get(schema_name=customer.schema_name, project_id=project_id)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.stripe_subscription_id:
            return subscription
        remote_plan = gateway.plan_ensure(
            plan_id=_plan_id(subscription.amount_cents),
            product_name=plan.name,
            amount_cents=subscription.amount_cents,
            currency=subscription.currency,
        )
        try:
            remote = gateway.subscription_create(
                customer_id=stripe_customer.stripe_id,
                plan_id=remote_plan.id,
                metadata={
                    "subscription_id": str(subscription.pk),
                    "tenant": customer.name,
                    "schema_name": customer.schema_name,
                    "project_id": str(project_id),
                    "project": project_name,
                },
                idempotency_key=f"subscription-{subscription.pk}",
            )
        except stripe.StripeError as exc:
            raise BillingError(f"Stripe did not start the subscription: {exc.user_message or exc}") from exc
        subscription.stripe_subscription_id = remote.id
        subscription.stripe_plan_id = remote_plan.id
        subscription.save(update_fields=["stripe_subscription_id", "stripe_plan_id"])
    subscription = subscription_sync(stripe_subscription_id=remote.id) or subscription
    if remote.latest_invoice:
        invoice_record(invoice_id=gateway.object_id(remote.latest_invoice))
    return subscription


def subscription_cancel(*, subscription: Subscription) -> Subscription:
    """Cancel at the end of the paid month: the engagement runs until then."""
    if not subscription.stripe_subscription_id or subscription.status == Subscription.Status.CANCELED:
        return subscription
    try:
        remote = gateway.subscription_cancel_at_period_end(
            subscription.stripe_subscription_id, idempotency_key=f"subscription-cancel-{subscription.pk}"
        )
    except stripe.StripeError as exc:
        raise BillingError(f"Stripe did not cancel the subscription: {exc.user_message or exc}") from exc
    return _subscription_apply(subscription, remote)


def _subscription_apply(subscription: Subscription, remote: stripe.Subscription) -> Subscription:
    data = remote.to_dict()
    status = _SUBSCRIPTION_STATUS.get(str(data.get("status")), Subscription.Status.INCOMPLETE)
    period_end = data.get("current_period_end")
    items = (data.get("items") or {}).get("data") or []
    if period_end is None and items:
        period_end = items[0].get("current_period_end")
    with transaction.atomic():
        row = Subscription.objects.select_for_update().get(pk=subscription.pk)
        before = row.status
        row.status = status
        row.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
        row.current_period_end = from_timestamp(period_end) or row.current_period_end
        if status == Subscription.Status.CANCELED and row.canceled_at is None:
            row.canceled_at = from_timestamp(data.get("ended_at") or data.get("canceled_at")) or timezone.now()
        row.save()
        details = {"schema_name": row.schema_name, "project_id": row.project_id, "subscription_id": row.pk}
        if status == Subscription.Status.CANCELED and before != status:
            announce(subscription_canceled, Subscription, **details)
    return row


def subscription_sync(*, stripe_subscription_id: str) -> Subscription | None:
    """Re-read a subscription from Stripe and record its state (webhooks call this)."""
    subscription = Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
    if subscription is None:
        return None
    return _subscription_apply(subscription, gateway.subscription_retrieve(stripe_subscription_id))


def _invoice_fields(invoice: stripe.Invoice) -> dict[str, Any]:
    """The parts of an invoice the ledger needs, from either API shape (localstripe's or today's)."""
    data = invoice.to_dict()
    subscription_id = gateway.object_id(data.get("subscription"))
    parent = data.get("parent") or {}
    if not subscription_id and parent.get("subscription_details"):
        subscription_id = gateway.object_id(parent["subscription_details"].get("subscription"))
    charge = data.get("charge")
    return {
        "subscription_id": subscription_id,
        "status": data.get("status"),
        "amount_paid": int(data.get("amount_paid") or 0),
        "currency": str(data.get("currency") or "usd"),
        "payment_intent": gateway.object_id(data.get("payment_intent")),
        "charge": charge["id"] if isinstance(charge, dict) else gateway.object_id(charge),
        "paid_at": from_timestamp((data.get("status_transitions") or {}).get("paid_at")),
    }


def invoice_record(*, invoice_id: str) -> Charge | None:
    """Put a paid subscription invoice in the ledger, once per invoice."""
    fields = _invoice_fields(gateway.invoice_retrieve(invoice_id))
    subscription = Subscription.objects.filter(stripe_subscription_id=fields["subscription_id"]).first()
    if subscription is None or fields["status"] != "paid" or fields["amount_paid"] <= 0:
        return None
    with transaction.atomic():
        charge, created = _invoice_charge_get_or_create(invoice_id, subscription, fields)
        if created:
            audit_record(
                action=Action.CHARGE_SUCCEEDED,
                tenant=charge.customer,
                obj=charge,
                detail=charge_audit_detail(charge),
            )
            receipt_send(charge)
    return charge


def _invoice_charge_get_or_create(
    invoice_id: str, subscription: Subscription, fields: dict[str, Any]
) -> tuple[Charge, bool]:
    return Charge.objects.get_or_create(
        stripe_invoice_id=invoice_id,
        defaults={
            "customer_id": subscription.customer_id,
            "kind": Charge.Kind.SUBSCRIPTION,
            "schema_name": subscription.schema_name,
            "project_id": subscription.project_id,
            "project_name": subscription.project_name,
            "service": ServiceCode.AUGMENTATION.value,
            "milestone": f"invoice-{invoice_id}"[:60],
            "description": f"{subscription.project_name} — {CONTINUOUS_AUGMENTATION.name}, monthly"[:200],
            "amount_cents": fields["amount_paid"],
            "currency": fields["currency"],
            "status": Charge.Status.SUCCEEDED,
            "stripe_payment_intent_id": fields["payment_intent"],
            "stripe_charge_id": fields["charge"],
            "stripe_subscription_id": subscription.stripe_subscription_id,
            "paid_at": fields["paid_at"] or timezone.now(),
            "signalled_at": timezone.now(),
        },
    )


def invoice_payment_failed(*, invoice_id: str) -> Subscription | None:
    """A subscription invoice failed. On a renewal (not the first month) the engagement pauses:
    the subscription is marked past due and ``subscription_renewal_failed`` goes out once.

    Decided from the re-read invoice (still unpaid) and subscription (past its first payment),
    not from the event: a late event for an invoice paid since changes nothing.
    """
    fields = _invoice_fields(gateway.invoice_retrieve(invoice_id))
    subscription = Subscription.objects.filter(stripe_subscription_id=fields["subscription_id"]).first()
    if subscription is None or fields["status"] == "paid":
        return subscription
    remote = gateway.subscription_retrieve(subscription.stripe_subscription_id)
    if remote.status in {"incomplete", "incomplete_expired", "canceled"}:
        return _subscription_apply(subscription, remote)  # the first month failed, or it has ended
    message = "The monthly payment for continuous augmentation failed."
    with transaction.atomic():
        # Once per failed invoice, whichever of Stripe's retries or events tells us first.
        taken = (
            Subscription.objects.filter(pk=subscription.pk)
            .exclude(failed_invoice_id=invoice_id)
            .update(status=Subscription.Status.PAST_DUE, failed_invoice_id=invoice_id)
        )
        row = Subscription.objects.select_related("customer").get(pk=subscription.pk)
        if not taken:
            return row
        details = {
            "schema_name": row.schema_name,
            "project_id": row.project_id,
            "subscription_id": row.pk,
            "failure_message": message,
        }
        announce(subscription_renewal_failed, Subscription, **details)
        owners = owner_emails(row.customer)
        context = {"customer": row.customer, "subscription": row, "message": message}
        taken_over = notice_taken(
            "failure",
            schema_name=row.schema_name,
            project_id=row.project_id,
            key=f"subscription:{row.pk}:{invoice_id}",
            title=f"{message} {row.project_name} is paused until the payment succeeds.",
            path=reverse("billing_home", urlconf=settings.ROOT_URLCONF),
            template="subscription_renewal_failed",
            context=context,
        )
        if owners and not taken_over:
            send_templated_email("subscription_renewal_failed", owners, context)
    return row
