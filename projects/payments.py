"""A project's money moments, through billing: the first milestone is charged when a quote is
accepted, and billing's answers (paid, failed, renewal failed) start, hold or pause the delivery.

Billing sits below projects and knows projects only by ``(schema_name, project_id)``; it tells
us outcomes through its signals, connected here in ``connect_billing_signals``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django_tenants.utils import schema_context

from billing import services as billing
from billing.milestones import acceptance_milestone
from billing.signals import milestone_failed, milestone_paid, subscription_renewal_failed
from projects.events import event_append
from projects.models import Engagement, Event, Project, Quote, Workflow
from projects.orchestration import project_pause, project_start
from tenants.models import Customer

log = logging.getLogger(__name__)


def acceptance_charge(*, schema_name: str, project_id: int) -> None:
    """Charge what accepting the project's quote costs up front (or start its subscription)."""
    customer = Customer.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        project = Project.objects.get(pk=project_id)
        quote = Quote.objects.filter(project=project, accepted_at__isnull=False).order_by("-number").first()
        if quote is None or quote.price_cents is None:
            return
        outcome = str(quote.snapshot.get("outcome", ""))
        if project.service == "augmentation" and outcome == Engagement.Kind.CONTINUOUS:
            billing.subscription_start(customer=customer, project_id=project.pk, project_name=project.name)
            _start(schema_name, project.pk, reason="subscription started")
            return
        milestone = acceptance_milestone(service=project.service, price_cents=quote.price_cents, outcome=outcome)
        if milestone is None:
            return
        name = project.name
    try:
        billing.milestone_charge(
            customer=customer, project_id=project_id, project_name=name, service=project.service, milestone=milestone
        )
    except billing.BillingError as exc:
        _payment_failed(schema_name=schema_name, project_id=project_id, failure_message=str(exc))


def _start(schema_name: str, project_id: int, *, reason: str) -> None:
    with schema_context(schema_name), transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        if project is None:
            return
        if project.payment_issue or project.status != Project.Status.IN_DELIVERY:
            project.payment_issue = ""
            project.status = Project.Status.IN_DELIVERY
            project.save(update_fields=["payment_issue", "status"])
        if not Workflow.objects.filter(project=project).exists():
            project_start(project=project)
        event_append(project_id=project.pk, kind=Event.Kind.PAYMENT_RECEIVED, message=reason)


def _on_milestone_paid(sender: Any, *, schema_name: str, project_id: int, milestone: str, **kwargs: Any) -> None:
    amount = kwargs.get("amount_cents")
    _start(
        schema_name,
        project_id,
        reason=f"Payment received for {milestone}" + (f" ({amount / 100:,.2f} USD)" if amount else ""),
    )


def _payment_failed(*, schema_name: str, project_id: int, failure_message: str) -> None:
    with schema_context(schema_name), transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        if project is None:
            return
        project.payment_issue = failure_message[:500]
        project.save(update_fields=["payment_issue"])
        event_append(project_id=project.pk, kind=Event.Kind.PAYMENT_FAILED, message=failure_message)


def _on_milestone_failed(sender: Any, *, schema_name: str, project_id: int, **kwargs: Any) -> None:
    _payment_failed(
        schema_name=schema_name, project_id=project_id, failure_message=str(kwargs.get("failure_message", ""))
    )


def _on_renewal_failed(sender: Any, *, schema_name: str, project_id: int, **kwargs: Any) -> None:
    _payment_failed(
        schema_name=schema_name,
        project_id=project_id,
        failure_message=f"Subscription renewal failed: {kwargs.get('failure_message', '')}",
    )
    with schema_context(schema_name):
        project = Project.objects.filter(pk=project_id).first()
        if project is not None and Workflow.objects.filter(project=project, status=Workflow.Status.RUNNING).exists():
            project_pause(project=project, user=None)


def connect_billing_signals() -> None:
    milestone_paid.connect(_on_milestone_paid, dispatch_uid="projects.payments.paid")
    milestone_failed.connect(_on_milestone_failed, dispatch_uid="projects.payments.failed")
    subscription_renewal_failed.connect(_on_renewal_failed, dispatch_uid="projects.payments.renewal_failed")
