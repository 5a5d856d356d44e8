"""Dispatching: leasing free agents to waiting tasks and sending the leased tasks to the workers.

Dispatching leases free agents to waiting tasks (``agents.pools.leases_match``), marks those
tasks queued with their agent in the same transaction and sends ``execute_task`` (through
``projects.broker``) after its commit. A worker finishing a task dispatches inside its own
finishing transaction (``roles_dispatch_now``): the successor is queued in the commit that made it
ready, and its message is the first thing sent after that commit. Everything else (a start, a
person's action, the sweeps) dispatches right after its commit, in a transaction of its own
(``roles_dispatch``). The lock order is the one in ``projects.delivery.orchestration``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from agents import pools
from projects.broker import task_execute_send
from projects.models import Task, Workflow


def current_schema() -> str:
    """The tenant schema this connection works in (where lease requests and jobs are filed)."""
    return connection.schema_name  # type: ignore[attr-defined, no-any-return]


Job = tuple[str, int]  # (schema name, task id) of an execute_task message


def _send_all(jobs: list[Job]) -> None:
    for schema_name, task_id in jobs:
        task_execute_send(schema_name, task_id)


def jobs_on_commit() -> list[Job]:
    """A list of jobs sent to the workers once the current transaction commits. Made at the start
    of a transaction, its hook runs before those registered later (other apps' reactions to the
    events), so the workers get their jobs first."""
    jobs: list[Job] = []
    transaction.on_commit(partial(_send_all, jobs))
    return jobs


def dispatch_on_commit(roles: set[str]) -> None:
    if roles:
        transaction.on_commit(lambda: roles_dispatch(roles=sorted(roles)))


def roles_on_commit() -> set[str]:
    """A set of roles dispatched once the current transaction commits; made at its start, so that
    the dispatch runs before the after-commit work registered later."""
    roles: set[str] = set()
    transaction.on_commit(lambda: roles_dispatch(roles=sorted(roles)) if roles else None)
    return roles


def roles_dispatch(*, roles: Iterable[str]) -> int:
    """Lease free agents to waiting tasks of these roles and send the leased tasks to the workers,
    one transaction per role (call outside a transaction)."""
    sent = 0
    for role in roles:
        while True:
            with transaction.atomic():
                jobs = jobs_on_commit()
                rejected = _role_dispatch(role, jobs)
            sent += len(jobs)
            if not rejected:
                break
    return sent


def roles_dispatch_now(roles: Iterable[str], *, jobs: list[Job]) -> None:
    """Dispatch in the caller's transaction: the leased tasks are queued in it and added to
    ``jobs`` (from ``jobs_on_commit``). Roles go in a fixed order, as their matchers' locks are
    held until the commit."""
    for role in sorted(roles):
        while _role_dispatch(role, jobs):
            pass


def _role_dispatch(role: str, jobs: list[Job]) -> int:
    """One round of matching for ``role``; returns how many leases were handed back because their
    task no longer waits (paused, held or cancelled since it asked): those agents go round again."""
    now = timezone.now()
    rejected = 0
    for lease in pools.leases_match(role=role, now=now):
        if _task_queue(lease, now=now):
            jobs.append((lease.schema_name, lease.task_id))
        else:
            pools.agent_release(agent_id=lease.agent_id, schema_name=lease.schema_name, task_id=lease.task_id)
            rejected += 1
    return rejected


def _task_queue(lease: pools.Lease, *, now: datetime) -> bool:
    """Mark the leased task queued with its agent, if it still waits for one.

    A task row locked elsewhere is skipped, not waited for: whoever holds it (a person holding,
    pausing or cancelling) is about to withdraw its request, and the matcher already holds that
    request, so waiting could deadlock. A skipped task counts as no longer waiting; if it still
    is after all, the sweep files its request again.
    """
    waits = (
        Task.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            pk=lease.task_id, status=Task.Status.READY, held=False, project__workflow__status=Workflow.Status.RUNNING
        )
        .order_by()
        .values("pk")
    )
    claim = Task.objects.filter(pk__in=waits)
    fields = {"status": Task.Status.QUEUED, "agent_id": lease.agent_id, "queued_at": now}
    if lease.schema_name == current_schema():  # no schema switch (and no extra SET search_path) for the own tenant
        return bool(claim.update(**fields))
    with schema_context(lease.schema_name):
        return bool(claim.update(**fields))
