"""What the success app hears from the layers below and what it does about it.

* ``projects.signals.phase_ready_for_gates`` → ``success.gates.on_phase_ready_for_gates``;
* ``projects.signals.task_escalated`` → ``success.escalations.on_task_escalated``;
* ``projects.signals.payment_overdue`` → ``success.escalations.on_payment_overdue``;
* a task's run failing with a platform fault (``task.failed`` with ``data["platform_fault"]``) →
  ``success.escalations.on_platform_fault``, at once;
* a task succeeding → ``success.outcomes.on_task_succeeded`` (capability gaps, criterion checks);
* committed events of the project stream (``post_save`` of ``projects.Event``): a task finishing
  in a blocked phase moves its remediation on, a completed milestone phase (the plan, the
  preview) opens its satisfaction survey, a delivered project opens its delivery survey and its
  30-day guarantee; and every event whose kind is in ``success.notifications.RULES`` tells the
  people it names;
* ``billing.signals.payment_notice`` and the success records that notify (surveys, the
  guarantee): ``success.notifications.sources_connect``.

Each reaction runs after the event's commit, in the event's schema.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_save
from django_tenants.utils import schema_context

from projects.models import Event, Phase, Project
from projects.signals import payment_overdue, phase_ready_for_gates, platform_unavailable, task_escalated
from success.escalations import on_payment_overdue, on_platform_fault, on_platform_unavailable, on_task_escalated
from success.gates import FINISHING, on_phase_ready_for_gates, on_task_finished
from success.guarantee import guarantee_open
from success.notifications import event_notify, event_wants_notice, sources_connect, sources_disconnect
from success.outcomes import on_task_succeeded
from success.satisfaction import milestone_of, survey_open


def phase_completed(*, schema_name: str, phase_id: int) -> None:
    with schema_context(schema_name):
        phase = Phase.objects.select_related("project").filter(pk=phase_id).first()
        milestone = milestone_of(phase) if phase is not None else None
        if phase is not None and milestone is not None:
            survey_open(project=phase.project, occasion=milestone, phase=phase)


def project_delivered(*, schema_name: str, project_id: int) -> None:
    with schema_context(schema_name):
        project = Project.objects.filter(pk=project_id).first()
        if project is not None:
            survey_open(project=project)
            guarantee_open(project=project)


def _event_saved(sender: type[Event], instance: Event, created: bool, **_: Any) -> None:
    if not created:
        return
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    if instance.kind == Event.Kind.TASK_FAILED and instance.data.get("platform_fault") and instance.run_id:
        transaction.on_commit(partial(on_platform_fault, schema_name=schema, run_id=instance.run_id))
    if instance.kind == Event.Kind.TASK_SUCCEEDED and instance.task_id is not None:
        transaction.on_commit(partial(on_task_succeeded, schema_name=schema, task_id=instance.task_id))
    if event_wants_notice(instance.kind):
        # robust: a notification that cannot be sent (mail server down) is logged, and never
        # fails the workflow step that appended the event.
        transaction.on_commit(partial(event_notify, schema_name=schema, event_id=instance.pk), robust=True)
    if instance.kind in FINISHING and instance.phase_id is not None:
        transaction.on_commit(partial(on_task_finished, schema_name=schema, phase_id=instance.phase_id))
    elif instance.kind == Event.Kind.PHASE_COMPLETED and instance.phase_id is not None:
        transaction.on_commit(partial(phase_completed, schema_name=schema, phase_id=instance.phase_id))
    elif instance.kind == Event.Kind.PROJECT_COMPLETED:
        transaction.on_commit(partial(project_delivered, schema_name=schema, project_id=instance.project_id))


def connect_receivers() -> None:
    phase_ready_for_gates.connect(on_phase_ready_for_gates, dispatch_uid="success.gates")
    task_escalated.connect(on_task_escalated, dispatch_uid="success.escalations")
    payment_overdue.connect(on_payment_overdue, dispatch_uid="success.escalations.payment")
    platform_unavailable.connect(on_platform_unavailable, dispatch_uid="success.escalations.unavailable")
    post_save.connect(_event_saved, sender=Event, dispatch_uid="success.lifecycle")
    sources_connect()


def disconnect_receivers() -> None:
    """For tests of the layers below that must run without a gate policy."""
    phase_ready_for_gates.disconnect(dispatch_uid="success.gates")
    task_escalated.disconnect(dispatch_uid="success.escalations")
    payment_overdue.disconnect(dispatch_uid="success.escalations.payment")
    platform_unavailable.disconnect(dispatch_uid="success.escalations.unavailable")
    post_save.disconnect(sender=Event, dispatch_uid="success.lifecycle")
    sources_disconnect()
