"""Escalations: problems a person must handle, assigned to the customer's account manager.

Raised for an exception in the platform's own code while it ran a task (at once, with the
traceback: ``platform_fault_escalate``), a task blocked longer than
``HIVE_BLOCKED_ESCALATION_SECONDS`` (30 minutes by default) (``projects.signals.task_escalated``), a milestone
charge that failed after the start (``projects.signals.payment_overdue``), a quality
gate that failed twice (``success.gates``), a satisfaction score below 8/10
(``success.satisfaction``), a project late by more than ``HIVE_TIMELINE_SLIP_ESCALATION_HOURS``
(``timeline_watch``, run by the ``success.watch`` beat task) and a guarantee that failed or lacks
evidence (``success.guarantee``).

The same problem is escalated once while it is unresolved (a partial unique constraint on kind and
subject makes that hold under concurrency too). Each new escalation is emailed after the commit to
the customer's account manager; a customer without one has its escalations sent to every active
staff user, so nothing waits unseen. Account managers acknowledge and resolve them in the admin
(``success.admin_views``); resolving needs a written resolution.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from projects.delivery.progress import project_timeline
from projects.models import Project, Run, Task, Workflow
from success.delivery_status import duration_text
from success.links import admin_url, portal_url
from success.models import Escalation
from tenants.emails import send_templated_email
from tenants.models import Customer, User

log = logging.getLogger(__name__)


class EscalationError(Exception):
    """An escalation action is not possible; the message says why."""


def current_customer() -> Customer:
    """The customer whose schema the connection is on."""
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    customer: Customer = Customer.objects.get(schema_name=schema)
    return customer


def _recipients(customer: Customer) -> tuple[User | None, list[str]]:
    manager = customer.account_manager
    if manager is not None and manager.is_active:
        return manager, [manager.email]
    staff = User.objects.filter(is_staff=True, is_active=True).order_by("email").values_list("email", flat=True)
    return None, list(staff)


def escalation_raise(*, project: Project, kind: Escalation.Kind, subject: str, reason: str) -> Escalation | None:
    """Open an escalation and email it, unless the same one is already open (then None)."""
    customer = current_customer()
    manager, recipients = _recipients(customer)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                project=project,
                kind=kind,
                subject=subject[:100],
                reason=reason,
                assigned_to=manager,
                assigned_to_email=manager.email if manager else "",
                emailed_to=recipients,
            )
    except IntegrityError:
        return None
    if recipients:
        send_templated_email(
            "escalation",
            recipients,
            {
                "escalation": escalation,
                "project": project,
                "customer": customer,
                "manager": manager,
                "admin_link": admin_url(f"/admin/success/escalations/{customer.schema_name}/{escalation.pk}/"),
                "dashboard_link": portal_url(customer.schema_name, f"/projects/{project.pk}/dashboard/"),
            },
        )
    else:
        log.warning("escalation %s of %s: no account manager and no staff to email", escalation.pk, customer)
    return escalation


def escalation_acknowledge(*, escalation: Escalation, user: User) -> Escalation:
    if escalation.status != Escalation.Status.OPEN:
        raise EscalationError(f"The escalation is already {escalation.get_status_display().lower()}.")
    escalation.status, escalation.acknowledged_at = Escalation.Status.ACKNOWLEDGED, timezone.now()
    if not escalation.assigned_to_email:
        escalation.assigned_to, escalation.assigned_to_email = user, user.email
    escalation.save(update_fields=["status", "acknowledged_at", "assigned_to", "assigned_to_email"])
    return escalation


def escalation_resolve(*, escalation: Escalation, user: User, resolution: str) -> Escalation:
    """Close an escalation with what was done about it (required)."""
    if escalation.status == Escalation.Status.RESOLVED:
        raise EscalationError("The escalation is already resolved.")
    if not resolution.strip():
        raise EscalationError("Write down how the escalation was resolved.")
    now = timezone.now()
    escalation.status, escalation.resolved_at = Escalation.Status.RESOLVED, now
    escalation.acknowledged_at = escalation.acknowledged_at or now
    escalation.resolved_by_email, escalation.resolution = user.email, resolution.strip()
    escalation.save(update_fields=["status", "resolved_at", "acknowledged_at", "resolved_by_email", "resolution"])
    return escalation


# --- triggers -----------------------------------------------------------------------------------


def blocked_task_escalate(*, task: Task, reason: str) -> Escalation | None:
    """A task has been blocked past the limit (``task_escalated``)."""
    limit = duration_text(timedelta(seconds=settings.HIVE_BLOCKED_ESCALATION_SECONDS))
    since = f" since {task.blocked_since:%Y-%m-%d %H:%M} UTC" if task.blocked_since else ""
    return escalation_raise(
        project=task.project,
        kind=Escalation.Kind.BLOCKED_TASK,
        subject=f"task:{task.pk}",
        reason=f"“{task.title}” has been blocked for more than {limit}{since}: {reason or 'no reason given'}",
    )


def on_task_escalated(sender: Any, *, schema_name: str, task_id: int, reason: str = "", **_: Any) -> None:
    from django_tenants.utils import schema_context

    with schema_context(schema_name):
        task = Task.objects.select_related("project").filter(pk=task_id).first()
        if task is not None:
            blocked_task_escalate(task=task, reason=reason)


def on_payment_overdue(sender: Any, *, schema_name: str, project_id: int, reason: str = "", **_: Any) -> None:
    """A milestone charged after the start failed: the account manager follows the dunning up."""
    from django_tenants.utils import schema_context

    with schema_context(schema_name):
        project = Project.objects.filter(pk=project_id).first()
        if project is not None:
            escalation_raise(
                project=project, kind=Escalation.Kind.PAYMENT_OVERDUE, subject=f"payment:{project.pk}", reason=reason
            )


def on_platform_unavailable(sender: Any, *, schema_name: str, project_id: int, reason: str = "", **_: Any) -> None:
    """Something the platform must provide is not configured and a customer was refused: staff fix it."""
    from django_tenants.utils import schema_context

    with schema_context(schema_name):
        project = Project.objects.filter(pk=project_id).first()
        if project is not None:
            escalation_raise(
                project=project, kind=Escalation.Kind.PLATFORM_FAULT, subject=f"unavailable:{project.pk}", reason=reason
            )


def timeline_watch(*, now: datetime | None = None) -> list[Escalation]:
    """Escalate every active project of this schema later than the slip threshold."""
    now = now or timezone.now()
    threshold = timedelta(hours=settings.HIVE_TIMELINE_SLIP_ESCALATION_HOURS)
    raised = []
    active = Project.objects.filter(
        workflow__status__in=[Workflow.Status.RUNNING, Workflow.Status.PAUSED], workflow__planned_end__isnull=False
    )
    for project in active:
        delay = project_timeline(project, now=now).delay
        if delay is None or delay <= threshold:
            continue
        escalation = escalation_raise(
            project=project,
            kind=Escalation.Kind.TIMELINE_SLIP,
            subject=f"timeline:{project.pk}",
            reason=(
                f"{project.name} is {delay.total_seconds() / 3600:.1f} hours behind its plan "
                f"(threshold {threshold.total_seconds() / 3600:g} hours)."
            ),
        )
        if escalation is not None:
            raised.append(escalation)
    return raised


def platform_fault_escalate(*, run: Run) -> Escalation | None:
    """A run failed with an exception in the platform's code: staff get the traceback at once (the
    customer's stream only says ``projects.delivery.faults.FAULT_SENTENCE``). One escalation per task while
    it is open."""
    task = run.task
    return escalation_raise(
        project=task.project,
        kind=Escalation.Kind.PLATFORM_FAULT,
        subject=f"fault:task:{task.pk}",
        reason=(
            f"Attempt {run.attempt} of “{task.title}” (run {run.pk}, provider {run.provider}, worker "
            f"{run.worker or 'unknown'}) failed with an exception in the platform's code:\n\n{run.error}"
        ),
    )


def on_platform_fault(*, schema_name: str, run_id: int) -> None:
    from django_tenants.utils import schema_context

    with schema_context(schema_name):
        run = Run.objects.select_related("task__project").filter(pk=run_id).first()
        if run is not None:
            platform_fault_escalate(run=run)
