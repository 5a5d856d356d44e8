"""Milestone charges (PaymentIntents on the saved card), their recovery and their receipts.

Billing sits below projects: it never imports them. A caller names the project by
``customer`` (the tenant) + ``project_id`` + ``project_name`` + ``service``.

**A milestone is charged at most once.** ``milestone_charge`` first claims the ledger row
(unique per schema, project and milestone) and commits it, then takes the row for one attempt with
a conditional update, so a double click, a retry or two workers at once cannot both call Stripe.
The PaymentIntent is created with an idempotency key derived from the row and attempt, and with
the row's key in its metadata: when a worker dies after calling Stripe, the next call finds the
stale attempt, looks for that PaymentIntent among the customer's charges and adopts it, and only
when Stripe has none sends the same request again (same idempotency key). Only a *failed* attempt
may be followed by a new one.

The same transition (``_charge_apply``) records what the synchronous answer, a webhook and a
recovery learn, in any order: a success is final, an older attempt's failure never overrides a
newer attempt, and ``milestone_paid`` / ``milestone_failed`` go out once per outcome, after commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from billing import gateway
from billing.catalog import ServiceCode, format_usd
from billing.milestones import Milestone
from billing.models import Charge, StripeCustomer
from billing.services.customers import stripe_customer_ensure
from billing.services.notices import BillingError, announce, notice_taken, owner_emails
from billing.signals import milestone_failed, milestone_paid
from tenants.audit import Action, audit_record
from tenants.emails import send_templated_email
from tenants.links import portal_link
from tenants.models import Customer

logger = logging.getLogger(__name__)

# How far before a lost attempt's start its Stripe charge may have been stamped (clock skew).
_RECOVERY_SKEW_SECONDS = 120


# --- the Stripe customer and the billing contact ------------------------------------------------


# --- cards on file ------------------------------------------------------------------------------


# --- milestone charges --------------------------------------------------------------------------


def _milestone_claim(
    *, customer: Customer, project_id: int, project_name: str, service: str, milestone: Milestone
) -> Charge:
    lookup = {"schema_name": customer.schema_name, "project_id": project_id, "milestone": milestone.key}
    charge = Charge.objects.filter(kind=Charge.Kind.MILESTONE, **lookup).first()
    if charge is None:
        try:
            with transaction.atomic():
                charge = Charge.objects.create(
                    customer=customer,
                    kind=Charge.Kind.MILESTONE,
                    project_name=project_name[:160],
                    service=ServiceCode(service).value,
                    description=f"{project_name[:120]} — {milestone.label}"[:200],
                    amount_cents=milestone.amount_cents,
                    statement_descriptor=_statement_descriptor(milestone),
                    **lookup,
                )
        except IntegrityError:
            charge = Charge.objects.get(kind=Charge.Kind.MILESTONE, **lookup)
    if charge.amount_cents != milestone.amount_cents:
        raise BillingError(
            f"{milestone.label} was already billed at {format_usd(charge.amount_cents)}; "
            f"it cannot be charged again at {format_usd(milestone.amount_cents)}."
        )
    return charge


def _statement_descriptor(milestone: Milestone) -> str:
    """The suffix on the card statement, e.g. ``MVP DEPOSIT`` (Stripe allows 22 characters in all)."""
    words = milestone.key.replace("-", " ").upper()
    return words[:22]


def milestone_charge(
    *, customer: Customer, project_id: int, project_name: str, service: str, milestone: Milestone
) -> Charge:
    """Charge ``milestone`` of a project on the tenant's default card, at most once.

    Returns the ledger row: ``succeeded``, ``failed`` (with the reason), or ``processing`` when
    another attempt is running or Stripe's answer is not known yet. Calling it again after a
    failure makes a new attempt; after a success it returns the paid row and charges nothing.
    """
    stripe_customer = stripe_customer_ensure(customer=customer)
    charge = _milestone_claim(
        customer=customer, project_id=project_id, project_name=project_name, service=service, milestone=milestone
    )
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.STRIPE_CHARGE_STALE_SECONDS)
    if charge.status == Charge.Status.SUCCEEDED:
        return charge
    if charge.status == Charge.Status.PROCESSING:
        if charge.call_started_at is not None and charge.call_started_at >= stale_before:
            return charge  # another attempt is running right now
        return charge_recover(charge, stripe_customer, now=now)
    attempt = charge.attempts + 1
    key = f"charge-{charge.schema_name}-{charge.project_id}-{charge.milestone}-{charge.pk}-attempt-{attempt}"
    taken = Charge.objects.filter(pk=charge.pk, status=charge.status, attempts=charge.attempts).update(
        status=Charge.Status.PROCESSING,
        attempts=attempt,
        idempotency_key=key,
        call_started_at=now,
        failure_code="",
        failure_message="",
        signalled_at=None,
        # The new attempt gets a PaymentIntent of its own: keeping the failed one's id made the
        # answer to this attempt look like news of an older one, and a second decline was never
        # recorded (the row stayed "processing").
        stripe_payment_intent_id="",
    )
    charge.refresh_from_db()
    if not taken:
        return charge  # someone else took this attempt
    return _charge_send(charge, stripe_customer)


def _charge_metadata(charge: Charge) -> dict[str, str]:
    return {
        "ledger_id": str(charge.pk),
        "ledger_key": charge.idempotency_key,
        "tenant": charge.customer.name,
        "schema_name": charge.schema_name,
        "project_id": str(charge.project_id),
        "project": charge.project_name,
        "milestone": charge.milestone,
    }


def _charge_send(charge: Charge, stripe_customer: StripeCustomer) -> Charge:
    card = stripe_customer.default_payment_method
    if card is None:
        return _charge_fail(charge, code="no_payment_method", message="There is no card on file to charge.")
    try:
        intent = gateway.payment_intent_create_off_session(
            amount_cents=charge.amount_cents,
            currency=charge.currency,
            customer_id=stripe_customer.stripe_id,
            payment_method_id=card.stripe_id,
            metadata=_charge_metadata(charge),
            description=charge.description,
            statement_descriptor_suffix=charge.statement_descriptor,
            idempotency_key=charge.idempotency_key,
        )
    except stripe.CardError as exc:
        failed_charge = exc.error.charge if exc.error else None
        if failed_charge:
            remote_charge = gateway.charge_retrieve(failed_charge)
            intent_id = gateway.object_id(remote_charge.payment_intent)
            if intent_id:
                return _charge_apply(charge, gateway.payment_intent_retrieve(intent_id))
        return _charge_fail(charge, code=exc.code or "card_declined", message=exc.user_message or str(exc))
    except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as exc:
        # The outcome is unknown: the row stays processing and the next call (or a webhook) settles it.
        logger.warning("charge %s: Stripe's answer was lost (%s); it will be recovered", charge.pk, exc)
        return charge
    except stripe.StripeError as exc:
        return _charge_fail(charge, code=exc.code or "stripe_error", message=exc.user_message or str(exc))
    return _charge_apply(charge, intent)


def charge_recover(charge: Charge, stripe_customer: StripeCustomer, *, now: datetime) -> Charge:
    """Settle an attempt whose worker stopped after (perhaps) calling Stripe."""
    started = charge.call_started_at
    taken = Charge.objects.filter(pk=charge.pk, status=Charge.Status.PROCESSING, call_started_at=started).update(
        call_started_at=now
    )
    charge.refresh_from_db()
    if not taken:
        return charge
    if charge.stripe_payment_intent_id:
        return _charge_apply(charge, gateway.payment_intent_retrieve(charge.stripe_payment_intent_id))
    since = int((started or now).timestamp()) - _RECOVERY_SKEW_SECONDS
    for remote_charge in gateway.charges_list(customer_id=stripe_customer.stripe_id, created_after=since):
        intent_id = gateway.object_id(remote_charge.payment_intent)
        if not intent_id:
            continue
        intent = gateway.payment_intent_retrieve(intent_id)
        if intent.metadata and intent.metadata.to_dict().get("ledger_key") == charge.idempotency_key:
            logger.info("charge %s: adopted %s from the lost attempt", charge.pk, intent.id)
            return _charge_apply(charge, intent)
    logger.info("charge %s: Stripe has no payment of the lost attempt; sending it again", charge.pk)
    return _charge_send(charge, stripe_customer)


def _intent_outcome(intent: stripe.PaymentIntent) -> tuple[str, str, str]:
    """(ledger status, failure code, failure message) of a PaymentIntent."""
    if intent.status == "succeeded":
        return Charge.Status.SUCCEEDED, "", ""
    if intent.status in {"processing", "requires_confirmation", "requires_capture"}:
        return Charge.Status.PROCESSING, "", ""
    if intent.status == "requires_action":
        return (
            Charge.Status.FAILED,
            "authentication_required",
            "Your bank asks you to confirm this payment; add the card again or use another card.",
        )
    error = intent.last_payment_error
    code = (error.code if error else None) or "payment_failed"
    message = (error.message if error else None) or "The payment did not go through."
    return Charge.Status.FAILED, code, message


def _charge_apply(charge: Charge, intent: stripe.PaymentIntent) -> Charge:
    """Record what Stripe says about the row's PaymentIntent; signal a new outcome once."""
    status, code, message = _intent_outcome(intent)
    with transaction.atomic():
        row = Charge.objects.select_for_update().select_related("customer").get(pk=charge.pk)
        current_intent = row.stripe_payment_intent_id
        if row.status == Charge.Status.SUCCEEDED:
            return row  # a success is final
        if status != Charge.Status.SUCCEEDED and current_intent and current_intent != intent.id:
            return row  # news of an older attempt
        metadata = intent.metadata.to_dict() if intent.metadata else {}
        if status != Charge.Status.SUCCEEDED and metadata.get("ledger_key", row.idempotency_key) != row.idempotency_key:
            return row  # a failure of an older attempt cannot fail the current one
        row.stripe_payment_intent_id = intent.id
        row.stripe_charge_id = gateway.object_id(intent.latest_charge) or row.stripe_charge_id
        row.status = status
        row.failure_code, row.failure_message = code, message[:500]
        now = timezone.now()
        if status == Charge.Status.SUCCEEDED:
            row.paid_at = now
        if status == Charge.Status.FAILED:
            row.failed_at = now
        final = status in {Charge.Status.SUCCEEDED, Charge.Status.FAILED}
        send = final and row.signalled_at is None
        if send:
            row.signalled_at = now
        row.save()
        if send:
            _charge_announce(row)
    return row


def _charge_fail(charge: Charge, *, code: str, message: str) -> Charge:
    with transaction.atomic():
        row = Charge.objects.select_for_update().select_related("customer").get(pk=charge.pk)
        if row.status == Charge.Status.SUCCEEDED:
            return row
        row.status = Charge.Status.FAILED
        row.failure_code, row.failure_message = code[:60], message[:500]
        row.failed_at = timezone.now()
        send = row.signalled_at is None
        if send:
            row.signalled_at = row.failed_at
        row.save()
        if send:
            _charge_announce(row)
    return row


def _charge_announce(row: Charge) -> None:
    """Send the row's outcome (on commit) to projects, and tell the owners about a failure;
    audit it (once, like the announcement, inside the transaction that records it)."""
    audit_record(
        action=Action.CHARGE_SUCCEEDED if row.status == Charge.Status.SUCCEEDED else Action.CHARGE_FAILED,
        tenant=row.customer,
        obj=row,
        detail=charge_audit_detail(row),
    )
    common = {
        "schema_name": row.schema_name,
        "project_id": row.project_id,
        "milestone": row.milestone,
        "charge_id": row.pk,
        "amount_cents": row.amount_cents,
    }
    owners = owner_emails(row.customer)
    context: dict[str, Any] = {"customer": row.customer, "charge": row, "amount": format_usd(row.amount_cents)}
    if row.status == Charge.Status.SUCCEEDED:
        announce(milestone_paid, Charge, **common)
        receipt_send(row)
        return
    failure = {"failure_code": row.failure_code, "failure_message": row.failure_message}
    announce(milestone_failed, Charge, **common, **failure)
    path = reverse("billing_home", urlconf=settings.ROOT_URLCONF) + f"#charge-{row.pk}"
    context["pay_url"] = portal_link(row.schema_name, path)
    title = f"Payment of {context['amount']} failed: {row.description}"
    if owners and not _charge_notice_taken("failure", row, title=title, path=path, context=context):
        send_templated_email("payment_failed", owners, context)


def _charge_notice_taken(kind: str, row: Charge, *, title: str, path: str, context: dict[str, Any]) -> bool:
    return notice_taken(
        kind,
        schema_name=row.schema_name,
        project_id=row.project_id,
        key=f"charge:{row.pk}:{kind}:{row.attempts}",  # each retry of a failed charge is told again
        title=title,
        path=path,
        template=f"payment_{'receipt' if kind == 'receipt' else 'failed'}",
        context=context,
    )


def receipt_send(charge: Charge) -> None:
    """E-mail the owners the receipt of a paid charge (a milestone or a subscription invoice)."""
    owners = owner_emails(charge.customer)
    if not owners:
        return
    path = reverse("billing_receipt", args=[charge.pk], urlconf=settings.ROOT_URLCONF)
    context: dict[str, Any] = {
        "customer": charge.customer,
        "charge": charge,
        "amount": format_usd(charge.amount_cents),
        "receipt_url": portal_link(charge.schema_name, path),
    }
    title = f"Payment of {context['amount']} received: {charge.description}"
    if not _charge_notice_taken("receipt", charge, title=title, path=path, context=context):
        send_templated_email("payment_receipt", owners, context)


def charge_pay_now(*, charge: Charge) -> Charge:
    """The owner pays a failed milestone now (after choosing another card, say): a new attempt of
    the same ledger row, so it is still charged at most once; projects hears the outcome."""
    if charge.kind != Charge.Kind.MILESTONE or charge.status != Charge.Status.FAILED:
        raise BillingError("Only a failed milestone can be paid again.")
    milestone = Milestone(charge.milestone, charge.description, charge.amount_cents)
    return milestone_charge(
        customer=charge.customer,
        project_id=charge.project_id or 0,
        project_name=charge.project_name,
        service=charge.service,
        milestone=milestone,
    )


def charge_audit_detail(row: Charge) -> dict[str, Any]:
    return {
        "project_id": row.project_id,
        "milestone": row.milestone,
        "amount_cents": row.amount_cents,
        "currency": row.currency,
        "stripe_payment_intent": row.stripe_payment_intent_id,
        "failure": row.failure_message,
    }


def charge_settle(*, payment_intent_id: str) -> Charge | None:
    """Re-read a PaymentIntent from Stripe and record it on its ledger row (webhooks, recovery).

    Returns None for PaymentIntents the ledger did not start (e.g. subscription invoices).
    """
    intent = gateway.payment_intent_retrieve(payment_intent_id)
    metadata = intent.metadata.to_dict() if intent.metadata else {}
    charge = Charge.objects.filter(stripe_payment_intent_id=intent.id).first()
    if charge is None and str(metadata.get("ledger_id", "")).isdigit():
        charge = Charge.objects.filter(pk=int(metadata["ledger_id"]), kind=Charge.Kind.MILESTONE).first()
    if charge is None:
        return None
    return _charge_apply(charge, intent)


# --- continuous augmentation: subscriptions -----------------------------------------------------


# --- refunds ------------------------------------------------------------------------------------


def charges_outstanding_recover() -> int:
    """Settle every attempt left processing past the stale age (beat task); returns how many."""
    stale_before = timezone.now() - timedelta(seconds=settings.STRIPE_CHARGE_STALE_SECONDS)
    count = 0
    stale = Charge.objects.filter(
        Q(kind=Charge.Kind.MILESTONE), Q(status=Charge.Status.PROCESSING), Q(call_started_at__lt=stale_before)
    ).select_related("customer")
    for charge in stale:
        stripe_customer = StripeCustomer.objects.filter(customer=charge.customer).first()
        if stripe_customer is not None:
            charge_recover(charge, stripe_customer, now=timezone.now())
            count += 1
    return count
