"""Writes that move money: Stripe customers, cards on file, milestone charges, subscriptions and
refunds. Each records its outcome in the ledger and tells the apps above through
``billing.signals``.

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
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone

from billing import gateway
from billing.catalog import CONTINUOUS_AUGMENTATION, ServiceCode, format_usd
from billing.milestones import Milestone
from billing.models import Charge, PaymentMethod, Refund, StripeCustomer, Subscription
from billing.signals import (
    milestone_failed,
    milestone_paid,
    payment_notice,
    subscription_canceled,
    subscription_renewal_failed,
)
from tenants.audit import Action, audit_record
from tenants.emails import send_templated_email
from tenants.links import portal_link
from tenants.models import Customer, Membership, Role, User

logger = logging.getLogger(__name__)

# How far before a lost attempt's start its Stripe charge may have been stamped (clock skew).
_RECOVERY_SKEW_SECONDS = 120


class BillingError(Exception):
    """A billing step refused or failed; the message is for the customer or account manager."""


def _owner_emails(customer: Customer) -> list[str]:
    return list(
        Membership.objects.filter(customer=customer, role=Role.OWNER)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def _from_timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


# --- the Stripe customer and the billing contact ------------------------------------------------


def stripe_customer_ensure(*, customer: Customer) -> StripeCustomer:
    """The tenant's Stripe customer, made on first need with the tenant in its metadata."""
    existing = StripeCustomer.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        # One creator per tenant: the lock on the tenant row serialises first needs.
        Customer.objects.select_for_update().get(pk=customer.pk)
        existing = StripeCustomer.objects.filter(customer=customer).first()
        if existing is not None:
            return existing
        emails = _owner_emails(customer)
        email = emails[0] if emails else ""
        remote = gateway.customer_create(
            name=customer.name,
            email=email,
            metadata={"schema_name": customer.schema_name, "tenant_id": str(customer.pk), "tenant": customer.name},
            idempotency_key=f"customer-{customer.schema_name}-{customer.pk}",
        )
        return StripeCustomer.objects.create(
            customer=customer, stripe_id=remote.id, billing_name=customer.name, billing_email=email
        )


def billing_contact_update(
    *,
    stripe_customer: StripeCustomer,
    billing_name: str,
    billing_email: str,
    address_line1: str = "",
    address_line2: str = "",
    city: str = "",
    state: str = "",
    postal_code: str = "",
    country: str = "",
) -> StripeCustomer:
    """Change the billing contact and address, in Stripe first and then here."""
    stripe_customer.billing_name = billing_name.strip()
    stripe_customer.billing_email = billing_email.strip()
    stripe_customer.address_line1 = address_line1.strip()
    stripe_customer.address_line2 = address_line2.strip()
    stripe_customer.city = city.strip()
    stripe_customer.state = state.strip()
    stripe_customer.postal_code = postal_code.strip()
    stripe_customer.country = country.strip().upper()
    try:
        gateway.customer_update(
            stripe_customer.stripe_id,
            name=stripe_customer.billing_name,
            email=stripe_customer.billing_email,
            address=stripe_customer.address,
            idempotency_key=f"customer-update-{stripe_customer.pk}-{uuid.uuid4()}",
        )
    except stripe.StripeError as exc:
        raise BillingError(f"Stripe did not accept the billing contact: {exc.user_message or exc}") from exc
    stripe_customer.updated_at = timezone.now()
    stripe_customer.save()
    return stripe_customer


# --- cards on file ------------------------------------------------------------------------------


def _card_record(stripe_customer: StripeCustomer, remote: stripe.PaymentMethod) -> PaymentMethod:
    card = remote.card
    with transaction.atomic():
        StripeCustomer.objects.select_for_update().get(pk=stripe_customer.pk)
        has_default = stripe_customer.payment_methods.filter(is_default=True).exists()
        method, _ = PaymentMethod.objects.update_or_create(
            stripe_id=remote.id,
            defaults={
                "stripe_customer": stripe_customer,
                "brand": card.brand if card else "",
                "last4": card.last4 if card else "",
                "exp_month": card.exp_month if card else 0,
                "exp_year": card.exp_year if card else 0,
            },
        )
        if not has_default:
            method.is_default = True
            method.save(update_fields=["is_default"])
            gateway.customer_set_default_payment_method(
                stripe_customer.stripe_id,
                method.stripe_id,
                idempotency_key=f"default-{method.stripe_id}-{uuid.uuid4()}",
            )
    return method


def payment_method_attach(*, customer: Customer, payment_method_id: str) -> PaymentMethod:
    """Attach a Stripe PaymentMethod (made by Stripe.js or in tests) to the tenant and keep it on file.

    The first card becomes the default that charges use.
    """
    stripe_customer = stripe_customer_ensure(customer=customer)
    try:
        remote = gateway.payment_method_attach(
            payment_method_id, customer_id=stripe_customer.stripe_id, idempotency_key=f"attach-{payment_method_id}"
        )
    except stripe.CardError as exc:
        raise BillingError(exc.user_message or "Your card was declined.") from exc
    except stripe.InvalidRequestError as exc:
        raise BillingError(f"The card was not accepted: {exc.user_message or exc}") from exc
    return _card_record(stripe_customer, remote)


def payment_method_add_test_card(
    *, customer: Customer, number: str, exp_month: int, exp_year: int, cvc: str
) -> PaymentMethod:
    """Test mode only: make a card PaymentMethod server-side from a Stripe test card number."""
    if not gateway.is_test_mode():
        raise BillingError("Card numbers are entered through Stripe's secure form, never on our server.")
    try:
        remote = gateway.payment_method_create_test_card(
            number=number.replace(" ", ""),
            exp_month=exp_month,
            exp_year=exp_year,
            cvc=cvc,
            idempotency_key=f"test-card-{uuid.uuid4()}",
        )
    except stripe.StripeError as exc:
        raise BillingError(f"The card details were not accepted: {exc.user_message or exc}") from exc
    return payment_method_attach(customer=customer, payment_method_id=remote.id)


def setup_intent_begin(*, customer: Customer) -> str:
    """Start adding a card with Stripe.js: returns the SetupIntent's client secret for the page."""
    stripe_customer = stripe_customer_ensure(customer=customer)
    intent = gateway.setup_intent_create(
        customer_id=stripe_customer.stripe_id, idempotency_key=f"setup-{stripe_customer.pk}-{uuid.uuid4()}"
    )
    return str(intent.client_secret)


def setup_intent_finish(*, customer: Customer, setup_intent_id: str) -> PaymentMethod:
    """Keep the card of a SetupIntent that Stripe.js confirmed, after checking it is this tenant's."""
    stripe_customer = stripe_customer_ensure(customer=customer)
    try:
        intent = gateway.setup_intent_retrieve(setup_intent_id)
    except stripe.InvalidRequestError as exc:
        raise BillingError("That card setup is unknown to Stripe.") from exc
    if gateway.object_id(intent.customer) != stripe_customer.stripe_id:
        raise BillingError("That card setup belongs to someone else.")
    if intent.status != "succeeded" or not intent.payment_method:
        raise BillingError("The card was not confirmed; please try again.")
    remote = gateway.payment_method_retrieve(gateway.object_id(intent.payment_method))
    return _card_record(stripe_customer, remote)


def payment_method_set_default(*, payment_method: PaymentMethod) -> PaymentMethod:
    stripe_customer = payment_method.stripe_customer
    gateway.customer_set_default_payment_method(
        stripe_customer.stripe_id,
        payment_method.stripe_id,
        idempotency_key=f"default-{payment_method.stripe_id}-{uuid.uuid4()}",
    )
    with transaction.atomic():
        StripeCustomer.objects.select_for_update().get(pk=stripe_customer.pk)
        stripe_customer.payment_methods.filter(is_default=True).update(is_default=False)
        PaymentMethod.objects.filter(pk=payment_method.pk).update(is_default=True)
    payment_method.is_default = True
    return payment_method


def payment_method_remove(*, payment_method: PaymentMethod) -> None:
    """Detach the card in Stripe and forget it; the oldest other card becomes the default."""
    try:
        gateway.payment_method_detach(payment_method.stripe_id, idempotency_key=f"detach-{payment_method.stripe_id}")
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise BillingError(f"Stripe did not remove the card: {exc.user_message or exc}") from exc
    stripe_customer = payment_method.stripe_customer
    with transaction.atomic():
        StripeCustomer.objects.select_for_update().get(pk=stripe_customer.pk)
        was_default = payment_method.is_default
        payment_method.delete()
        successor = stripe_customer.payment_methods.order_by("created_at").first()
    if was_default and successor is not None:
        payment_method_set_default(payment_method=successor)


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
        return _charge_recover(charge, stripe_customer, now=now)
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


def _charge_recover(charge: Charge, stripe_customer: StripeCustomer, *, now: datetime) -> Charge:
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


def _announce(signal: Signal, sender: type[Any], **details: Any) -> None:
    """Send ``signal`` once the ledger row is committed. A receiver's failure is logged, never
    turned into a billing failure: the money is recorded either way."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **details):
            if isinstance(result, Exception):
                logger.error("receiver %r of a billing signal failed", receiver, exc_info=result)

    transaction.on_commit(send)


def _charge_announce(row: Charge) -> None:
    """Send the row's outcome (on commit) to projects, and tell the owners about a failure;
    audit it (once, like the announcement, inside the transaction that records it)."""
    audit_record(
        action=Action.CHARGE_SUCCEEDED if row.status == Charge.Status.SUCCEEDED else Action.CHARGE_FAILED,
        tenant=row.customer,
        obj=row,
        detail=_charge_audit_detail(row),
    )
    common = {
        "schema_name": row.schema_name,
        "project_id": row.project_id,
        "milestone": row.milestone,
        "charge_id": row.pk,
        "amount_cents": row.amount_cents,
    }
    owners = _owner_emails(row.customer)
    context = {"customer": row.customer, "charge": row, "amount": format_usd(row.amount_cents)}
    if row.status == Charge.Status.SUCCEEDED:
        _announce(milestone_paid, Charge, **common)
        _receipt_send(row)
        return
    failure = {"failure_code": row.failure_code, "failure_message": row.failure_message}
    _announce(milestone_failed, Charge, **common, **failure)
    path = reverse("billing_home", urlconf=settings.ROOT_URLCONF) + f"#charge-{row.pk}"
    context["pay_url"] = portal_link(row.schema_name, path)
    title = f"Payment of {context['amount']} failed: {row.description}"
    if owners and not _charge_notice_taken("failure", row, title=title, path=path, context=context):
        send_templated_email("payment_failed", owners, context)


def _notice_taken(kind: str, *, schema_name: str, project_id: int | None, key: str, **notice: Any) -> bool:
    """True when a receiver of ``payment_notice`` mails this by the people's preferences."""
    answers = payment_notice.send(
        sender=Charge, kind=kind, schema_name=schema_name, project_id=project_id, key=key, **notice
    )
    return any(bool(result) for _, result in answers)


def _charge_notice_taken(kind: str, row: Charge, *, title: str, path: str, context: dict[str, Any]) -> bool:
    return _notice_taken(
        kind,
        schema_name=row.schema_name,
        project_id=row.project_id,
        key=f"charge:{row.pk}:{kind}:{row.attempts}",  # each retry of a failed charge is told again
        title=title,
        path=path,
        template=f"payment_{'receipt' if kind == 'receipt' else 'failed'}",
        context=context,
    )


def _receipt_send(charge: Charge) -> None:
    """E-mail the owners the receipt of a paid charge (a milestone or a subscription invoice)."""
    owners = _owner_emails(charge.customer)
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


def _charge_audit_detail(row: Charge) -> dict[str, Any]:
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
        row.current_period_end = _from_timestamp(period_end) or row.current_period_end
        if status == Subscription.Status.CANCELED and row.canceled_at is None:
            row.canceled_at = _from_timestamp(data.get("ended_at") or data.get("canceled_at")) or timezone.now()
        row.save()
        details = {"schema_name": row.schema_name, "project_id": row.project_id, "subscription_id": row.pk}
        if status == Subscription.Status.CANCELED and before != status:
            _announce(subscription_canceled, Subscription, **details)
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
        "paid_at": _from_timestamp((data.get("status_transitions") or {}).get("paid_at")),
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
                detail=_charge_audit_detail(charge),
            )
            _receipt_send(charge)
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
        _announce(subscription_renewal_failed, Subscription, **details)
        owners = _owner_emails(row.customer)
        context = {"customer": row.customer, "subscription": row, "message": message}
        taken_over = _notice_taken(
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


# --- refunds ------------------------------------------------------------------------------------


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
            _charge_recover(charge, stripe_customer, now=timezone.now())
            count += 1
    return count
