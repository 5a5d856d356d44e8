"""Celery tasks of billing: process a stored webhook event; recover charges whose worker stopped."""

from __future__ import annotations

from celery import shared_task

from billing import services, webhooks


@shared_task(name="billing.process_webhook_event", bind=True, max_retries=8, acks_late=True)
def process_webhook_event(self: object, event_pk: int) -> None:
    try:
        webhooks.event_process(event_pk=event_pk)
    except Exception as exc:
        # Stripe may be briefly unreachable: back off 2, 4, 8 … seconds, then leave it for finance.
        retries = getattr(getattr(self, "request", None), "retries", 0)
        raise self.retry(exc=exc, countdown=2 ** (retries + 1)) from exc  # type: ignore[attr-defined]


@shared_task(name="billing.recover_stale_charges")
def recover_stale_charges() -> int:
    return services.charges_outstanding_recover()
