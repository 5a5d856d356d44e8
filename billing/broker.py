"""The one module of billing that talks to the Celery broker: jobs are sent by task name, so no
module of billing imports ``billing.tasks`` (which sits on top and wraps services); queues are
named only in the settings' ``CELERY_TASK_ROUTES``."""

from __future__ import annotations

from celery import current_app

PROCESS_WEBHOOK_EVENT = "billing.process_webhook_event"


def webhook_process_send(event_pk: int) -> None:
    """Process the stored webhook event on a worker (``billing.tasks.process_webhook_event``)."""
    current_app.send_task(PROCESS_WEBHOOK_EVENT, args=[event_pk])
