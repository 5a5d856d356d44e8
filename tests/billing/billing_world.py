"""Helpers of the billing tests: a project with an accepted quote, cards, signed events."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from billing import gateway, services
from billing.models import PaymentMethod
from projects.models import Project, Quote, Service
from projects.scoping.payment_schedule import payment_offer
from projects.scoping.quotes import quote_accept
from tenants.models import Customer, User

SECRET_KEY = "sk_test_hive_billing"
WEBHOOK_SECRET = "whsec_hive_billing_tests"
GOOD_CARD = "4242424242424242"
DECLINES_CHARGES = "4000000000000341"  # attaches, then every charge is declined
DECLINED_AT_ONCE = "4000000000000002"


def card_add(customer: Customer, number: str = GOOD_CARD) -> PaymentMethod:
    return services.payment_method_add_test_card(
        customer=customer, number=number, exp_month=12, exp_year=2030, cvc="123"
    )


def accepted_project(slug: str, user: User, *, service: Service = Service.MVP, price_cents: int = 7_500_000) -> Project:
    """A project of ``slug`` whose quote ``user`` accepted: it now awaits payment.

    With a card on file the acceptance goes through the consent step (the token the payment page
    shows); without one — which the portal no longer allows — the quote is recorded as accepted
    directly, for the billing-level tests of what a charge without a card does."""
    with schema_context(slug), transaction.atomic():
        project = Project.objects.create(name=f"{slug} billing {time.monotonic_ns()}", service=service)
        snapshot: dict[str, object] = {"service": service.value}
        if service == Service.MODERNIZATION:  # a fixed schedule is quoted from 25,000 lines (migration_minimum)
            snapshot["code_loc"] = 120_000
        quote = Quote.objects.create(project=project, number=1, snapshot=snapshot, price_cents=price_cents)
        offer = payment_offer(quote=quote, customer=Customer.objects.get(schema_name=slug))
        if offer.card is not None:
            quote_accept(quote=quote, user=user, consent=offer.token)
        else:
            Quote.objects.filter(pk=quote.pk).update(accepted_at=timezone.now(), accepted_by_email=user.email)
            Project.objects.filter(pk=project.pk).update(status=Project.Status.AWAITING_PAYMENT)
        project.refresh_from_db()
    assert project.status == Project.Status.AWAITING_PAYMENT
    return project


def signed(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={signature}"


def event_payload(event_type: str, obj: dict[str, Any]) -> bytes:
    """An event as Stripe sends it (used where localstripe sends none, or to replay/forge)."""
    event = {
        "id": f"evt_test_{time.monotonic_ns()}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2017-08-15",
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def stripe_charges(customer_id: str | None = None) -> list[Any]:
    return [c for c in gateway.charges_list(customer_id=customer_id) if c.status == "succeeded"]
