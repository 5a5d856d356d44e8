"""Cards on file: attaching (SetupIntents), the default card, removal."""

from __future__ import annotations

import uuid

import stripe
from django.db import transaction

from billing import gateway
from billing.models import PaymentMethod, StripeCustomer
from billing.services.customers import stripe_customer_ensure
from billing.services.notices import BillingError
from tenants.models import Customer


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
