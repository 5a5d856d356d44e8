"""Celery tasks of projects: the agent work itself and the periodic recovery sweeps.

Queues: ``agents`` carries ``execute_task`` only (long work); ``control`` carries dispatching,
the reaper, the re-dispatch sweep and escalations, so a flood of agent work never delays them.
Each task takes the tenant's ``schema_name`` explicitly and runs inside ``schema_context``;
retries are kept in the database (``projects.delivery.execution``), not in the broker.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import shared_task
from django_tenants.utils import schema_context

from projects.delivery import execution, sweeps
from projects.delivery.dispatch import roles_dispatch

logger = logging.getLogger(__name__)


@shared_task(name="projects.execute_task", acks_late=True, bind=True, ignore_result=True)
def execute_task(self: Any, schema_name: str, task_id: int) -> str:
    worker = f"{self.request.hostname or 'local'} pid {os.getpid()}"
    with schema_context(schema_name):
        return execution.task_execute(schema_name=schema_name, task_id=task_id, worker=worker)


@shared_task(name="projects.dispatch_roles", ignore_result=True)
def dispatch_roles(roles: list[str]) -> int:
    return roles_dispatch(roles=roles)


@shared_task(name="projects.reap_stalled_runs")
def reap_stalled_runs() -> int:
    return sweeps.runs_reap()


@shared_task(name="projects.redispatch_lost_tasks")
def redispatch_lost_tasks() -> int:
    return sweeps.tasks_redispatch()


@shared_task(name="projects.escalate_blocked_tasks")
def escalate_blocked_tasks() -> int:
    return sweeps.tasks_escalate()


@shared_task(name="projects.payments_charge", ignore_result=True)
def payments_charge(schema_name: str, project_id: int) -> None:
    from projects.delivery.payments import payments_charge as charge

    charge(schema_name=schema_name, project_id=project_id)


@shared_task(name="projects.payments_sweep", ignore_result=True)
def payments_sweep() -> int:
    from projects.delivery.payments import payments_sweep as sweep

    return sweep()


@shared_task(name="projects.demo_approvals", ignore_result=True)
def demo_approvals() -> int:
    from projects.delivery.demo import demo_approvals as grant

    return grant()


@shared_task(name="projects.preview_start", ignore_result=True)
def preview_start(schema_name: str, project_id: int) -> None:
    """The customer's "Start preview": bring back the preview last deployed (agents.previews)."""
    from agents.previews import PreviewError, preview_restart
    from projects.delivery.previews import project_preview_home
    from projects.models import Project

    with schema_context(schema_name):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            return
        try:
            preview_restart(project_preview_home(project))
        except PreviewError:
            logger.exception("the preview of project %s in %s did not start", project_id, schema_name)


@shared_task(name="projects.previews_sweep")
def previews_sweep() -> int:
    """Stop idle previews and those of projects accepted longer than the grace ago (beat, every minute)."""
    from projects.delivery.previews import previews_sweep as sweep

    return len(sweep())
