"""A project's money moments, through billing: each milestone of the authorised schedule is
charged when it becomes due, billing's answers start, hold, pause or resume the delivery, and a
failed later charge goes through dunning.

- ``payments_charge`` charges the project's due rows in schedule order (the up-front ones after
  the quote's acceptance, the others when ``projects.scoping.payment_schedule.payments_trigger`` made them
  due), plus the failed ones whose retry time has come; the first that fails stops the rest, so
  milestones are paid in order. A continuous engagement starts its subscription instead.
- Triggers are read from the project's event stream (``_event_saved``): the MVP's "Customer
  accepts the delivery" approval, a modernization's parallel-testing gates passing (every
  migration phase then has passed its parity, performance and security gates), the workflow
  completing; sprints start by the calendar (``payments_sweep``, a beat task).
- Dunning: a failed *later* charge is retried ``HIVE_DUNNING_RETRY_DAYS`` after each failure
  (billing e-mails the owners a pay-now link each time); the first failure escalates to the account
  manager (``projects.signals.payment_overdue``); after the last retry the delivery pauses, and
  paying (retry or the billing page's "Pay now") resumes it.

Billing sits below projects and knows projects only by ``(schema_name, project_id)``; it tells
us outcomes through its signals, connected here in ``connect_billing_signals``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone
from django_tenants.utils import schema_context

from billing import services as billing
from billing.milestones import Milestone, Trigger
from billing.models import CustomQuote, Subscription
from billing.signals import custom_quote_issued, milestone_failed, milestone_paid, subscription_renewal_failed
from projects.broker import payments_charge_send
from projects.delivery.acceptance_guard import acceptance_blockers
from projects.delivery.controls import project_pause, project_resume
from projects.delivery.events import event_append
from projects.delivery.planning import project_start
from projects.delivery.workflow import ACCEPT, TESTING_PHASE
from projects.models import Event, Phase, Project, ScheduledPayment, Service, Workflow
from projects.scoping.payment_schedule import payments_trigger, sprint_start_due
from projects.signals import payment_overdue
from tenants.models import Customer

log = logging.getLogger(__name__)

_OVERDUE = "Payment overdue"


def _due_rows(project: Project, *, by_customer: bool = False) -> list[ScheduledPayment]:
    """The rows to charge now, in order: the due ones and the failed ones whose retry has come —
    or, when the customer asks to pay (``by_customer``), every failed one."""
    now = timezone.now()
    failed = Q(status=ScheduledPayment.Status.FAILED)
    retry = failed if by_customer else failed & Q(next_attempt_at__lte=now)
    return list(
        ScheduledPayment.objects.filter(Q(status=ScheduledPayment.Status.DUE) | retry, project=project).order_by(
            "position"
        )
    )


def payments_charge(*, schema_name: str, project_id: int, by_customer: bool = False) -> None:
    """Charge the project's due milestones, in schedule order, each at most once. A project whose
    schedule asks nothing up front (a custom quote without a deposit) starts at once."""
    customer = Customer.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            return
        rows = _due_rows(project, by_customer=by_customer)
        name, service = project.name, project.service
        upfront = ScheduledPayment.objects.filter(
            project=project, trigger__in=[Trigger.ACCEPTANCE, Trigger.MONTHLY]
        ).exists()
        waiting = project.status == Project.Status.AWAITING_PAYMENT
    if waiting and not upfront:
        _start(schema_name, project_id, reason="Nothing is due before the work starts")
    for row in rows:
        if row.trigger == Trigger.MONTHLY:
            if not _subscription_start(schema_name, customer, project_id, name, row):
                return
            continue
        try:
            charge = billing.milestone_charge(
                customer=customer,
                project_id=project_id,
                project_name=name,
                service=service,
                milestone=Milestone(row.key, row.label, row.amount_cents),
            )
        except billing.BillingError as exc:
            _charge_refused(schema_name=schema_name, project_id=project_id, key=row.key, message=str(exc))
            return
        if charge.status != charge.Status.SUCCEEDED:
            return  # later milestones wait for this one (failed: dunning; processing: its answer)


def _subscription_start(schema_name: str, customer: Customer, project_id: int, name: str, row: Any) -> bool:
    """Start the monthly subscription; the row is paid only once its first invoice is."""
    try:
        subscription = billing.subscription_start(customer=customer, project_id=project_id, project_name=name)
    except billing.BillingError as exc:
        _charge_refused(schema_name=schema_name, project_id=project_id, key=row.key, message=str(exc))
        return False
    if subscription.status != Subscription.Status.ACTIVE:
        message = "The first month of the subscription was not paid: add or choose another card, then pay."
        _charge_refused(schema_name=schema_name, project_id=project_id, key=row.key, message=message)
        return False
    _start(schema_name, project_id, reason="Subscription started: the first month is paid", paid=row.key)
    return True


def payments_sweep() -> int:
    """Every tenant: make sprints that have started due, and charge what is due (retries included)."""
    charged = 0
    for customer in Customer.objects.exclude(schema_name="public").only("schema_name"):
        with schema_context(customer.schema_name):
            projects = Project.objects.filter(scheduled_payments__isnull=False).distinct()
            now = timezone.now()
            for project in projects:
                workflow = Workflow.objects.filter(project=project).first()
                running = workflow is not None and workflow.status in {Workflow.Status.RUNNING, Workflow.Status.PAUSED}
                if running and workflow is not None and workflow.started_at is not None:
                    numbers = sprint_start_due(project=project, started_at=workflow.started_at, now=now)
                    if numbers:
                        payments_trigger(project_id=project.pk, trigger=Trigger.SPRINT_START, numbers=numbers)
                if _due_rows(project):
                    payments_charge_send(customer.schema_name, project.pk)
                    charged += 1
    return charged


# --- triggers from the event stream ---------------------------------------------------------------


def _trigger_of(event: Event) -> tuple[Trigger, list[int] | None] | None:
    if event.kind == Event.Kind.PROJECT_COMPLETED:
        return Trigger.COMPLETION, None
    if event.kind == Event.Kind.APPROVAL_GRANTED and event.task_id is not None:
        task = event.task
        if task is not None and task.key == ACCEPT and task.project.service == Service.MVP:
            if acceptance_blockers(task.project):  # an acceptance task_approve would refuse charges nothing
                return None
            return Trigger.DELIVERY_ACCEPTED, None
    if event.kind == Event.Kind.PHASE_PASSED and event.phase_id is not None:
        phase = Phase.objects.filter(pk=event.phase_id).select_related("project").first()
        if phase is not None and phase.key == TESTING_PHASE and phase.project.service == Service.MODERNIZATION:
            return Trigger.PHASE_PASSED, None  # the parity gate covers every migration phase
    return None


def _event_saved(sender: type[Event], instance: Event, created: bool, **_: Any) -> None:
    if not created or instance.kind not in _TRIGGER_KINDS:
        return
    found = _trigger_of(instance)
    if found is None:
        return
    trigger, numbers = found
    if payments_trigger(project_id=instance.project_id, trigger=trigger, numbers=numbers):
        schema: str = connection.schema_name  # type: ignore[attr-defined]
        transaction.on_commit(partial(payments_charge_send, schema, instance.project_id))


_TRIGGER_KINDS = {Event.Kind.PROJECT_COMPLETED, Event.Kind.APPROVAL_GRANTED, Event.Kind.PHASE_PASSED}


# --- billing's answers -------------------------------------------------------------------------------


def _start(schema_name: str, project_id: int, *, reason: str, paid: str = "", charge_id: int | None = None) -> None:
    """Record a payment: the schedule row ``paid`` (a key) is paid, the project is in delivery (its
    workflow started on the first payment, resumed when an overdue one is paid) — one commit."""
    with schema_context(schema_name), transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        if project is None:
            return
        if paid:
            ScheduledPayment.objects.filter(project=project, key=paid).update(
                status=ScheduledPayment.Status.PAID,
                paid_at=timezone.now(),
                charge_id=charge_id,
                next_attempt_at=None,
                failure_message="",
            )
        resumed = project.payment_issue.startswith(_OVERDUE)
        if project.payment_issue or project.status != Project.Status.IN_DELIVERY:
            project.payment_issue = ""
            project.status = Project.Status.IN_DELIVERY
            project.save(update_fields=["payment_issue", "status"])
        event_append(project_id=project.pk, kind=Event.Kind.PAYMENT_RECEIVED, message=reason)
        workflow = Workflow.objects.filter(project=project).first()
        if workflow is None:
            project_start(project=project)
        elif resumed and workflow.status == Workflow.Status.PAUSED:
            project_resume(project=project, user=None)


def _on_milestone_paid(sender: Any, *, schema_name: str, project_id: int, milestone: str, **kwargs: Any) -> None:
    amount = kwargs.get("amount_cents")
    with schema_context(schema_name):
        row = ScheduledPayment.objects.filter(project_id=project_id, key=milestone).first()
        label = row.label if row is not None else milestone
    _start(
        schema_name,
        project_id,
        reason=f"Payment received for {label}" + (f" ({amount / 100:,.2f} USD)" if amount else ""),
        paid=milestone,
        charge_id=kwargs.get("charge_id"),
    )
    payments_charge(schema_name=schema_name, project_id=project_id)  # the next due one, in order


def _payment_failed(*, schema_name: str, project_id: int, failure_message: str, key: str = "") -> None:
    """An up-front payment failed: the project keeps waiting and says why. Its row is marked
    failed without a retry date, so nothing charges it again until the customer pays (no sweep
    declines a card every few minutes)."""
    with schema_context(schema_name), transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        if project is None:
            return
        if key:
            ScheduledPayment.objects.filter(project=project, key=key).exclude(
                status=ScheduledPayment.Status.PAID
            ).update(status=ScheduledPayment.Status.FAILED, next_attempt_at=None, failure_message=failure_message[:500])
        project.payment_issue = failure_message[:500]
        project.save(update_fields=["payment_issue"])
        event_append(project_id=project.pk, kind=Event.Kind.PAYMENT_FAILED, message=failure_message)


def _dunning(*, schema_name: str, project_id: int, key: str, message: str) -> None:
    """A later milestone failed: schedule the next retry, escalate once, pause after the last."""
    retry_days: list[int] = list(settings.HIVE_DUNNING_RETRY_DAYS)
    with schema_context(schema_name), transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        row = ScheduledPayment.objects.select_for_update().filter(project_id=project_id, key=key).first()
        if project is None or row is None or row.status == ScheduledPayment.Status.PAID:
            return
        now = timezone.now()
        scheduled = row.failures == 0 or (row.next_attempt_at is not None and row.next_attempt_at <= now)
        if not scheduled:
            # The customer's own "Pay now" failed: the dunning schedule stays as it was.
            row.failure_message = message[:500]
            row.save(update_fields=["failure_message"])
            event_append(
                project_id=project_id,
                kind=Event.Kind.PAYMENT_FAILED,
                message=f"Paying {row.label} ({row.amount_label}) did not go through: {message}",
            )
            return
        row.failures += 1
        row.status, row.failure_message = ScheduledPayment.Status.FAILED, message[:500]
        last = row.failures > len(retry_days)
        row.next_attempt_at = None if last else now + timedelta(days=retry_days[row.failures - 1])
        row.save(update_fields=["failures", "status", "failure_message", "next_attempt_at"])
        if last:
            text = (
                f"{_OVERDUE}: {row.label} ({row.amount_label}) failed {row.failures} times; "
                "the delivery is paused until it is paid."
            )
        else:
            text = (
                f"The charge of {row.label} ({row.amount_label}) failed: {message} "
                f"We will try again on {row.next_attempt_at:%Y-%m-%d}; you can pay now from the Billing page."
            )
        project.payment_issue = text[:500]
        project.save(update_fields=["payment_issue"])
        event_append(project_id=project_id, kind=Event.Kind.PAYMENT_FAILED, message=text)
        first, paused = row.failures == 1, last
        reason = text
    if first or paused:
        payment_overdue.send_robust(
            sender=ScheduledPayment, schema_name=schema_name, project_id=project_id, reason=reason
        )
    if paused:
        with schema_context(schema_name):
            project = Project.objects.get(pk=project_id)
            if Workflow.objects.filter(project=project, status=Workflow.Status.RUNNING).exists():
                project_pause(project=project, user=None)


def _charge_refused(*, schema_name: str, project_id: int, key: str, message: str) -> None:
    with schema_context(schema_name):
        row = ScheduledPayment.objects.filter(project_id=project_id, key=key).first()
        later = row is not None and row.trigger not in {Trigger.ACCEPTANCE, Trigger.MONTHLY}
    if later:
        _dunning(schema_name=schema_name, project_id=project_id, key=key, message=message)
    else:
        _payment_failed(schema_name=schema_name, project_id=project_id, failure_message=message, key=key)


def _on_milestone_failed(sender: Any, *, schema_name: str, project_id: int, milestone: str = "", **kwargs: Any) -> None:
    _charge_refused(
        schema_name=schema_name,
        project_id=project_id,
        key=milestone,
        message=str(kwargs.get("failure_message", "")),
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


def _on_custom_quote_issued(sender: Any, *, schema_name: str, project_id: int, custom_quote_id: int, **_: Any) -> None:
    from projects.scoping.quotes import quote_from_custom

    custom = CustomQuote.objects.select_related("customer").get(pk=custom_quote_id)
    with schema_context(schema_name):
        project = Project.objects.get(pk=project_id)
        quote_from_custom(project=project, custom=custom)


def connect_billing_signals() -> None:
    milestone_paid.connect(_on_milestone_paid, dispatch_uid="projects.delivery.payments.paid")
    milestone_failed.connect(_on_milestone_failed, dispatch_uid="projects.delivery.payments.failed")
    subscription_renewal_failed.connect(_on_renewal_failed, dispatch_uid="projects.delivery.payments.renewal_failed")
    post_save.connect(_event_saved, sender=Event, dispatch_uid="projects.delivery.payments.triggers")
    custom_quote_issued.connect(_on_custom_quote_issued, dispatch_uid="projects.delivery.payments.custom_quote")
