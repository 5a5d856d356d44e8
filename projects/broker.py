"""The one module of projects that talks to the Celery broker.

Jobs are sent by task name (``send_task``), so nothing here imports ``projects.tasks`` and no
module of projects imports it either: ``tasks.py`` sits on top and only wraps service functions.
Which queue a job goes to is decided in one place, the ``CELERY_TASK_ROUTES`` of the settings
(agent work on ``agents``, everything else of projects on ``control``); no caller names a queue.
Callers send after their transaction commits (``transaction.on_commit``), as the database is the
source of truth and a message must never name a row that is not there yet.
"""

from __future__ import annotations

from datetime import timedelta

from celery import current_app

EXECUTE_TASK = "projects.execute_task"
DISPATCH_ROLES = "projects.dispatch_roles"
PAYMENTS_CHARGE = "projects.payments_charge"
PREVIEW_START = "projects.preview_start"


def task_execute_send(schema_name: str, task_id: int) -> None:
    """Have a worker execute the task (``projects.tasks.execute_task``)."""
    current_app.send_task(EXECUTE_TASK, args=[schema_name, task_id])


def roles_dispatch_send(roles: list[str], *, delay: timedelta | None = None) -> None:
    """Dispatch waiting tasks of these roles on a worker, after ``delay`` if given."""
    countdown = delay.total_seconds() if delay is not None else None
    current_app.send_task(DISPATCH_ROLES, args=[roles], countdown=countdown)


def payments_charge_send(schema_name: str, project_id: int) -> None:
    """Charge the project's due milestones on a worker."""
    current_app.send_task(PAYMENTS_CHARGE, args=[schema_name, project_id])


def preview_start_send(schema_name: str, project_id: int) -> None:
    """Start the project's last deployed preview again on a worker."""
    current_app.send_task(PREVIEW_START, args=[schema_name, project_id])
