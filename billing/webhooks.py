"""Stripe webhooks: verify, store once, process in Celery.

``event_receive`` runs in the request: it checks the signature and the signed timestamp with
``stripe.Webhook.construct_event`` on the raw body, refuses events of the other mode (a live event
with a test key or the reverse), and stores the event once by its Stripe id; a new event is queued
for ``billing.process_webhook_event`` after commit. A forged or stale delivery is refused (400) and
logged. A replay of an event already stored is logged and acknowledged without being processed
again — answering an error would make Stripe redeliver it for days.

``event_process`` runs in the worker. Events can arrive in any order and more than once, so no
handler trusts the payload's copy of the object: each re-reads the object from Stripe and records
its current state through the services, whose transitions are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing import gateway, services
from billing.broker import webhook_process_send
from billing.models import WebhookEvent

logger = logging.getLogger(__name__)


class WebhookRefused(Exception):
    """The delivery is not a genuine, fresh Stripe event of our mode; the message says why."""


def event_receive(*, payload: bytes, signature: str) -> tuple[WebhookEvent, bool]:
    """Verify and store a delivery; returns the stored event and whether it is new."""
    try:
        event = gateway.event_construct(payload=payload, signature=signature)
    except gateway.SignatureVerificationError as exc:
        logger.warning("webhook refused: %s", exc)
        raise WebhookRefused(str(exc)) from exc
    except ValueError as exc:
        logger.warning("webhook refused: the body is not JSON (%s)", exc)
        raise WebhookRefused("the body is not a Stripe event") from exc
    if bool(event.livemode) == gateway.is_test_mode():
        mode = "live" if event.livemode else "test"
        logger.warning("webhook refused: %s event %s does not match our keys", mode, event.id)
        raise WebhookRefused(f"a {mode}-mode event does not belong to this installation")
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                stripe_event_id=event.id,
                type=event.type,
                livemode=bool(event.livemode),
                payload=event.to_dict(),
                stripe_created_at=datetime.fromtimestamp(int(event.created), tz=UTC),
            )
            transaction.on_commit(lambda: _queue(stored.pk))
    except IntegrityError:
        WebhookEvent.objects.filter(stripe_event_id=event.id).update(deliveries=F("deliveries") + 1)
        logger.warning("webhook replay of %s (%s) ignored: it was received before", event.id, event.type)
        return WebhookEvent.objects.get(stripe_event_id=event.id), False
    return stored, True


def _queue(event_pk: int) -> None:
    webhook_process_send(event_pk)


def _object_id(event: WebhookEvent) -> str:
    data: dict[str, Any] = event.payload.get("data", {}).get("object", {})
    return str(data.get("id", ""))


def _payment_intent(event: WebhookEvent) -> None:
    services.charge_settle(payment_intent_id=_object_id(event))


def _invoice_paid(event: WebhookEvent) -> None:
    services.invoice_record(invoice_id=_object_id(event))


def _invoice_failed(event: WebhookEvent) -> None:
    services.invoice_payment_failed(invoice_id=_object_id(event))


def _subscription(event: WebhookEvent) -> None:
    services.subscription_sync(stripe_subscription_id=_object_id(event))


HANDLERS: dict[str, Callable[[WebhookEvent], None]] = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "payment_intent.processing": _payment_intent,
    "payment_intent.canceled": _payment_intent,
    "invoice.payment_succeeded": _invoice_paid,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
}


def event_process(*, event_pk: int) -> WebhookEvent:
    """Process a stored event once. The row stays locked while its handler runs, so two workers
    given the same event take turns and the second finds it done. A failure is recorded on the
    event and raised for Celery to retry."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
            if event.processed_at is not None:
                return event
            handler = HANDLERS.get(event.type)
            if handler is not None:
                handler(event)
            event.attempts += 1
            event.processed_at = timezone.now()
            event.error = ""
            event.save(update_fields=["attempts", "processed_at", "error"])
    except Exception as exc:
        WebhookEvent.objects.filter(pk=event_pk).update(
            attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"[:5000]
        )
        logger.exception("webhook event #%s failed", event_pk)
        raise
    return event
