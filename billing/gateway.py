"""All traffic with Stripe, through the official SDK (``stripe`` 16): one function per call.

Every write takes an idempotency key, so a retried request (a double click, a Celery retry, a
worker that died after Stripe answered) returns Stripe's first answer instead of doing the
thing twice. The client points at ``STRIPE_API_BASE`` when it is set — localstripe, the emulator
that ``make run`` and the tests start — and at api.stripe.com otherwise.

localstripe is stricter than Stripe about unknown parameters and answers in 2017-era shapes:
PaymentIntents there take no ``description`` / ``statement_descriptor_suffix`` and Refunds no
``reason``, so those are sent to real Stripe only and always kept in ``metadata`` as well;
``latest_charge`` comes back embedded rather than as an id (``object_id`` reads both). stripe-python
objects are not dicts: read them by attribute, or ``to_dict()``.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import urllib.request
from typing import Any, cast
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from stripe.params import CustomerUpdateParams, PaymentIntentCreateParams, RefundCreateParams

logger = logging.getLogger(__name__)

StripeError = stripe.StripeError
CardError = stripe.CardError
SignatureVerificationError = stripe.SignatureVerificationError


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    base = {"api": api_base.rstrip("/")} if api_base else None
    return stripe.StripeClient(api_key, base_addresses=base, max_network_retries=2)  # type: ignore[arg-type]


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ImproperlyConfigured("STRIPE_SECRET_KEY is not set: billing cannot reach Stripe")
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def is_emulated() -> bool:
    """True when the portal talks to localstripe rather than Stripe itself."""
    return bool(settings.STRIPE_API_BASE) and urlsplit(settings.STRIPE_API_BASE).hostname != "api.stripe.com"


def is_test_mode() -> bool:
    """Test mode: the emulator, or a Stripe test key. The portal shows a banner then."""
    return is_emulated() or str(settings.STRIPE_SECRET_KEY).startswith(("sk_test_", "rk_test_"))


def _options(idempotency_key: str) -> stripe.RequestOptions:
    return {"idempotency_key": idempotency_key}


def object_id(value: Any) -> str:
    """The id of an expandable field, whether Stripe sent an id or (localstripe) the object."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value.id)


# --- customers and payment methods --------------------------------------------------------------


def customer_create(*, name: str, email: str, metadata: dict[str, str], idempotency_key: str) -> stripe.Customer:
    return client().v1.customers.create(
        params={"name": name, "email": email, "metadata": metadata}, options=_options(idempotency_key)
    )


def customer_update(
    customer_id: str, *, name: str, email: str, address: dict[str, str], idempotency_key: str
) -> stripe.Customer:
    params: CustomerUpdateParams = {"name": name, "email": email}
    if address:
        # Our address dict has exactly Stripe's keys (line1, city, …), all strings.
        params["address"] = cast(Any, address)
    return client().v1.customers.update(customer_id, params=params, options=_options(idempotency_key))


def customer_set_default_payment_method(customer_id: str, payment_method_id: str, *, idempotency_key: str) -> None:
    client().v1.customers.update(
        customer_id,
        params={"invoice_settings": {"default_payment_method": payment_method_id}},
        options=_options(idempotency_key),
    )


def payment_method_create_test_card(
    *, number: str, exp_month: int, exp_year: int, cvc: str, idempotency_key: str
) -> stripe.PaymentMethod:
    """A card PaymentMethod made on the server: only with test keys (cards never touch us live)."""
    if not is_test_mode():
        raise ImproperlyConfigured("card numbers are only accepted server-side in test mode")
    return client().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc},
        },
        options=_options(idempotency_key),
    )


def payment_method_attach(payment_method_id: str, *, customer_id: str, idempotency_key: str) -> stripe.PaymentMethod:
    return client().v1.payment_methods.attach(
        payment_method_id, params={"customer": customer_id}, options=_options(idempotency_key)
    )


def payment_method_detach(payment_method_id: str, *, idempotency_key: str) -> stripe.PaymentMethod:
    return client().v1.payment_methods.detach(payment_method_id, options=_options(idempotency_key))


def payment_method_retrieve(payment_method_id: str) -> stripe.PaymentMethod:
    return client().v1.payment_methods.retrieve(payment_method_id)


def payment_methods_list(customer_id: str) -> list[stripe.PaymentMethod]:
    listing = client().v1.payment_methods.list(params={"customer": customer_id, "type": "card"})
    return list(listing.auto_paging_iter())


def setup_intent_create(*, customer_id: str, idempotency_key: str) -> stripe.SetupIntent:
    return client().v1.setup_intents.create(
        params={"customer": customer_id, "usage": "off_session"}, options=_options(idempotency_key)
    )


def setup_intent_retrieve(setup_intent_id: str) -> stripe.SetupIntent:
    return client().v1.setup_intents.retrieve(setup_intent_id)


# --- payments -----------------------------------------------------------------------------------


def payment_intent_create_off_session(
    *,
    amount_cents: int,
    currency: str,
    customer_id: str,
    payment_method_id: str,
    metadata: dict[str, str],
    description: str,
    statement_descriptor_suffix: str,
    idempotency_key: str,
) -> stripe.PaymentIntent:
    """Charge a saved card now, customer not present. A decline raises ``CardError``."""
    params: PaymentIntentCreateParams = {
        "amount": amount_cents,
        "currency": currency,
        "customer": customer_id,
        "payment_method": payment_method_id,
        "off_session": True,
        "confirm": True,
        "metadata": {**metadata, "description": description, "statement_descriptor": statement_descriptor_suffix},
    }
    if not is_emulated():
        params["description"] = description
        params["statement_descriptor_suffix"] = statement_descriptor_suffix
    return client().v1.payment_intents.create(params=params, options=_options(idempotency_key))


def payment_intent_retrieve(payment_intent_id: str) -> stripe.PaymentIntent:
    return client().v1.payment_intents.retrieve(payment_intent_id)


def charge_retrieve(charge_id: str) -> stripe.Charge:
    return client().v1.charges.retrieve(charge_id)


def charges_list(*, customer_id: str | None = None, created_after: int | None = None) -> list[stripe.Charge]:
    params: dict[str, Any] = {"limit": 100}
    if customer_id:
        params["customer"] = customer_id
    if created_after is not None:
        params["created"] = {"gt": created_after}
    return list(client().v1.charges.list(params=params).auto_paging_iter())  # type: ignore[arg-type]


def refund_create(
    *, payment_intent_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
) -> stripe.Refund:
    params: RefundCreateParams = {
        "payment_intent": payment_intent_id,
        "amount": amount_cents,
        "metadata": metadata,
    }
    if not is_emulated():
        params["reason"] = "requested_by_customer"
    return client().v1.refunds.create(params=params, options=_options(idempotency_key))


def refund_retrieve(refund_id: str) -> stripe.Refund:
    return client().v1.refunds.retrieve(refund_id)


# --- subscriptions ------------------------------------------------------------------------------


def plan_ensure(*, plan_id: str, product_name: str, amount_cents: int, currency: str) -> stripe.Plan:
    """The monthly Plan ``plan_id``, made once (Plans are the recurring prices localstripe has)."""
    try:
        return client().v1.plans.retrieve(plan_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise
    product = client().v1.products.create(params={"name": product_name}, options=_options(f"product-for-{plan_id}"))
    return client().v1.plans.create(
        params={
            "id": plan_id,
            "amount": amount_cents,
            "currency": currency,
            "interval": "month",
            "product": product.id,
        },
        options=_options(f"plan-{plan_id}"),
    )


def subscription_create(
    *, customer_id: str, plan_id: str, metadata: dict[str, str], idempotency_key: str
) -> stripe.Subscription:
    return client().v1.subscriptions.create(
        params={"customer": customer_id, "items": [{"plan": plan_id}], "metadata": metadata},
        options=_options(idempotency_key),
    )


def subscription_cancel_at_period_end(subscription_id: str, *, idempotency_key: str) -> stripe.Subscription:
    return client().v1.subscriptions.update(
        subscription_id, params={"cancel_at_period_end": True}, options=_options(idempotency_key)
    )


def subscription_retrieve(subscription_id: str) -> stripe.Subscription:
    return client().v1.subscriptions.retrieve(subscription_id)


def invoice_retrieve(invoice_id: str) -> stripe.Invoice:
    return client().v1.invoices.retrieve(invoice_id)


# --- events -------------------------------------------------------------------------------------


def event_construct(*, payload: bytes, signature: str) -> stripe.Event:
    """Verify a webhook's signature and age; raises ``SignatureVerificationError`` otherwise."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET is not set: webhooks cannot be verified")
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    event: stripe.Event = stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=tolerance
    )
    # The SDK refuses only timestamps older than the tolerance; a signature dated ahead (a leaked
    # or forged clock) would stay replayable until that future date, so refuse that side too.
    signed_at = _signed_timestamp(signature)
    if signed_at > time.time() + tolerance:
        raise SignatureVerificationError(  # type: ignore[no-untyped-call]
            "Timestamp outside the tolerance zone (it is in the future)", signature, payload.decode("utf-8", "replace")
        )
    return event


def _signed_timestamp(signature: str) -> int:
    """The ``t=`` of a Stripe-Signature header, read as the SDK reads it (the first ``t`` item)."""
    for item in signature.split(","):
        parts = item.split("=", 2)
        if parts[0] == "t":
            return int(parts[1])
    raise SignatureVerificationError("Unable to extract timestamp from header", signature)  # type: ignore[no-untyped-call]


def emulator_webhook_register(*, url: str, name: str = "hive") -> None:
    """Tell localstripe where to deliver signed events (real Stripe is configured in its dashboard)."""
    if not is_emulated():
        raise ImproperlyConfigured("webhook endpoints are registered with localstripe only")
    base = settings.STRIPE_API_BASE.rstrip("/")
    if urlsplit(base).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(f"STRIPE_API_BASE must be an http(s) URL, not {base!r}")
    body = json.dumps({"url": url, "secret": settings.STRIPE_WEBHOOK_SECRET}).encode()
    request = urllib.request.Request(  # noqa: S310  (scheme checked above)
        f"{base}/_config/webhooks/{name}", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
    logger.info("localstripe delivers webhooks to %s", url)
