"""The recovery sweeps across every tenant (Celery beat), which make the database, not the broker,
the truth:

* **Reaper** (``runs_reap``): runs whose heartbeat is older than ``HIVE_RUN_STALE_SECONDS`` are
  marked lost and their tasks re-queued (a killed worker loses no work).
* **Re-dispatch** (``tasks_redispatch``): queued tasks whose message may have been lost (a Redis
  flush, a crash between commit and send) are sent again; ready tasks without a lease request get
  one; roles with due requests are dispatched.
* **Escalation** (``tasks_escalate``): blocked tasks older than ``HIVE_BLOCKED_ESCALATION_SECONDS``
  are escalated.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from agents import pools
from agents.models import Agent, LeaseRequest
from projects.broker import task_execute_send
from projects.delivery.dispatch import (
    dispatch_on_commit,
    roles_dispatch,
)
from projects.delivery.events import event_append
from projects.delivery.execution import task_retry_or_block
from projects.delivery.orchestration import workflow_lock
from projects.models import Event, Run, Task, Workflow
from projects.signals import task_escalated


def tenant_schemas() -> list[str]:
    return list(
        get_tenant_model()
        .objects.exclude(schema_name=get_public_schema_name())
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )


def in_every_schema() -> Iterator[str]:
    for schema in tenant_schemas():
        with schema_context(schema):
            yield schema


def runs_reap(*, stale_after: timedelta | None = None) -> int:
    """Mark runs whose heartbeat stopped as lost and put their tasks back in the queue."""
    cutoff = timezone.now() - (stale_after or timedelta(seconds=settings.HIVE_RUN_STALE_SECONDS))
    reaped = 0
    for _schema_name in in_every_schema():
        for run in Run.objects.filter(status=Run.Status.RUNNING, heartbeat_at__lt=cutoff).select_related("task"):
            reaped += run_reap(run, cutoff)
    return reaped


def run_reap(run: Run, cutoff: datetime) -> int:
    now = timezone.now()
    with transaction.atomic():
        workflow = workflow_lock(run.task.project_id)  # the lock order: workflow, task, run
        task = Task.objects.select_for_update(no_key=True).get(pk=run.task_id)
        lost = Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, heartbeat_at__lt=cutoff).update(
            status=Run.Status.LOST, finished_at=now, error="the worker stopped sending heartbeats"
        )
        if not lost:
            return 0
        event_append(
            project_id=task.project_id,
            kind=Event.Kind.RUN_LOST,
            task=task,
            run=run,
            message=f"{run.agent_name or 'the agent'} stopped responding on {run.worker or 'its worker'}; re-queued",
        )
        dispatch_on_commit(task_retry_or_block(task, workflow, "the worker stopped sending heartbeats", now))
    return 1


def tasks_redispatch(*, queued_for: timedelta | None = None) -> int:
    """Re-send tasks whose broker message may be lost, and dispatch every due lease request."""
    cutoff = timezone.now() - (queued_for or timedelta(seconds=settings.HIVE_TASK_REDISPATCH_SECONDS))
    resent = 0
    for schema in in_every_schema():
        stuck = Task.objects.filter(status=Task.Status.QUEUED, queued_at__lt=cutoff)
        for task in stuck:
            holds = task.agent_id is not None and (
                Agent.objects.filter(pk=task.agent_id, lease_schema=schema, lease_task=task.pk).exists()
            )
            if holds:
                task_execute_send(schema, task.pk)
                resent += 1
                continue
            with transaction.atomic():  # the lease is gone: ask for an agent again
                if Task.objects.filter(pk=task.pk, status=Task.Status.QUEUED).update(
                    status=Task.Status.READY, agent=None, queued_at=None
                ):
                    assert task.ready_at is not None
                    pools.lease_request(role=task.role, schema_name=schema, task_id=task.pk, ready_at=task.ready_at)
        ready = Task.objects.filter(
            status=Task.Status.READY, held=False, project__workflow__status=Workflow.Status.RUNNING
        ).exclude(pk__in=LeaseRequest.objects.filter(schema_name=schema).values("task_id"))
        for task in ready:
            assert task.ready_at is not None
            pools.lease_request(role=task.role, schema_name=schema, task_id=task.pk, ready_at=task.ready_at)
    roles_dispatch(roles=pools.roles_waiting())
    return resent


def tasks_escalate(*, blocked_for: timedelta | None = None) -> int:
    """Raise an escalation event (once) for every task blocked longer than the limit."""
    cutoff = timezone.now() - (blocked_for or timedelta(seconds=settings.HIVE_BLOCKED_ESCALATION_SECONDS))
    escalated = 0
    for schema in in_every_schema():
        for task in Task.objects.filter(
            status=Task.Status.BLOCKED, blocked_since__lt=cutoff, escalated_at__isnull=True
        ):
            with transaction.atomic():
                if not Task.objects.filter(pk=task.pk, escalated_at__isnull=True).update(escalated_at=timezone.now()):
                    continue
                assert task.blocked_since is not None
                hours = (timezone.now() - task.blocked_since).total_seconds() / 3600
                event_append(
                    project_id=task.project_id,
                    kind=Event.Kind.TASK_ESCALATED,
                    task=task,
                    message=f"blocked for {hours:.1f} hours: {task.blocked_reason}",
                )
                transaction.on_commit(
                    partial(
                        task_escalated.send,
                        sender=Task,
                        schema_name=schema,
                        project_id=task.project_id,
                        task_id=task.pk,
                        reason=task.blocked_reason,
                    )
                )
            escalated += 1
    return escalated
