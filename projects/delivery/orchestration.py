"""The state machine of a project's delivery: advancing phases and tasks, the lock order, adding work.

Planning and the start are ``projects.delivery.planning``, dispatching is
``projects.delivery.dispatch``, the human controls are ``projects.delivery.controls`` and the
gate contract ``success`` calls is ``projects.delivery.gates``.

This module owns the state machine of phases and tasks (``projects.delivery.execution`` owns what happens
on a worker). The rules:

* Phases run one after another. A phase opens when the one before it is done; inside it, a task
  becomes ready when every task it depends on is finished (done or cancelled).
* A ready agent task files a lease request with ``agents.pools``; the dispatcher matches
  requests to free agents, marks the tasks queued with their agent in the same transaction as
  the lease, and only after its commit sends ``execute_task`` to the broker. A lost message
  therefore loses nothing: the sweep in ``projects.delivery.execution`` re-sends queued tasks. A worker
  finishing a task dispatches inside its finishing transaction, so a successor is queued in the
  commit that makes it ready and its message is the first thing sent after that commit; every
  other change dispatches right after its commit (see "dispatch" below).
* Approval tasks wait for a person (``task_approve``); a gated phase waits for the quality gates
  (``phase_ready_for_gates`` → ``phase_gates_pass`` / ``phase_gates_block``; once a blocked
  phase's remediation is done, ``phase_gates_retry`` asks for them again). Work found later (gate
  remediation, the fix of a rejected story) joins an open phase through ``task_add``.
* Pausing a project stops new dispatches and hands its queued agents back to the pools; running
  work finishes. Cancelling stops everything, running runs included (their providers see the
  cancellation through the heartbeat). Every human action is an event naming who and when.
* Progress and timeline adherence are derived from these rows, never stored: ``projects.delivery.progress``.

Locks. Transactions that change several rows of a delivery take their row locks in one order, so
that no two of them ever wait for each other in a circle (PostgreSQL would abort one of them: a
worker's result, or a person's action, lost):

    Project → Workflow → Phase → Task → Run → pool rows (agents, lease requests, the matcher's lock)

* The workflow row comes first (``workflow_lock``) in every transaction that changes more than
  one of the project's phases, tasks and runs: a worker finishing a task (its outcome, the next
  tasks, the successors' dispatch), the reaper, every person's control (pause, resume, cancel;
  hold, release, re-run, cancel and approve a task), passing a phase's gates and ``task_add``.
  They therefore change a delivery one after another; a person's cancellation that comes first
  leaves the worker's result discarded, a finish that comes first is recorded and the control
  applies to what is left.
* What does not take the workflow row locks at most one of the project's rows and pool rows
  after it: the claim (its task; its new Run), the heartbeat (its run), the sweeps (a task, then
  its lease request). The matcher is the one exception — it holds pool rows when it marks a task
  queued — so it skips a locked task row instead of waiting for it (``_task_queue``).
* Rows are locked ``FOR NO KEY UPDATE`` (``no_key=True``), as plain updates lock them: the
  foreign keys of the rows a transaction inserts (events, runs, tasks) take ``KEY SHARE`` locks
  on the rows they name when it commits (Django's constraints are deferred), and a ``FOR UPDATE``
  lock held elsewhere would make that commit wait.
* Callers from other apps must not hold a phase, task or run of the delivery when they call in;
  those that lock one first take ``workflow_lock`` before it (``success.gates`` does). A lock
  taker outside this order that still deadlocks with a worker's finish is absorbed by the
  finishing transaction's retry (``projects.delivery.execution``) on the worker's side.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from agents import pools
from agents.previews import preview_stop
from projects.delivery.dispatch import current_schema, dispatch_on_commit
from projects.delivery.events import event_append
from projects.models import Event, Phase, Project, Task, Workflow
from projects.signals import phase_ready_for_gates
from projects.storage import project_storage
from tenants.models import User

UNFINISHED = [s for s in Task.Status if s not in Task.FINISHED]

RERUN_ATTEMPTS = 3  # what an account manager's re-run grants a task


class WorkflowError(Exception):
    """A workflow action is not possible in the current state; the message says why."""


def actor_label(user: User | None) -> str:
    return user.email if user is not None else "system"


def workflow_lock(project_id: int) -> Workflow:
    """The project's workflow row, locked until the end of the transaction: the first lock of
    every transaction that changes several of the project's rows (see "Locks" above).
    WorkflowError when the project's delivery has not started."""
    workflow = Workflow.objects.select_for_update(no_key=True).filter(project_id=project_id).first()
    if workflow is None:
        raise WorkflowError("The delivery has not started; there is nothing to control yet.")
    return workflow


def advance(project_id: int, *, now: datetime | None = None, workflow: Workflow | None = None) -> set[str]:
    """Move the project as far as its finished tasks allow; returns the roles to dispatch.

    Runs in the caller's transaction under the workflow row's lock (``workflow``, when the caller
    took it already, as it does before locking anything else), so two tasks of the project
    finishing at once advance it one after the other. The open phases and the unfinished tasks
    are read once, with whether each task still waits on another: only a holder of that lock moves
    phases on, and the tasks it makes ready or awaiting approval do not finish any.
    """
    now = now or timezone.now()
    workflow = workflow or workflow_lock(project_id)
    if workflow.status != Workflow.Status.RUNNING:
        return set()
    phases = list(open_phases(project_id))
    waiting_on = Task.depends_on.through.objects.filter(from_task=OuterRef("pk")).exclude(
        to_task__status__in=Task.FINISHED
    )
    unfinished: dict[int, list[Task]] = defaultdict(list)
    waiting: set[int] = set()  # tasks with an unfinished dependency
    for task in (
        Task.objects.filter(project_id=project_id, status__in=UNFINISHED)
        .annotate(waits=Exists(waiting_on))
        .only("project_id", "phase_id", "title", "kind", "role", "status", "held")
        .order_by("position", "pk")
    ):
        unfinished[task.phase_id].append(task)
        if task.waits:
            waiting.add(task.pk)
    return phases_advance(workflow, phases, unfinished, waiting, now=now)


def phases_advance(
    workflow: Workflow,
    phases: list[Phase],
    unfinished: dict[int, list[Task]],
    waiting: set[int],
    *,
    now: datetime,
) -> set[str]:
    """``_advance`` on what it read: the locked running workflow, its open phases in order, their
    unfinished tasks by phase and the ids of those that wait on another."""
    project_id = workflow.project_id
    roles: set[str] = set()
    schema = current_schema()
    for phase in phases:
        if phase.status in {Phase.Status.GATING, Phase.Status.BLOCKED}:
            return roles
        if phase.status == Phase.Status.PENDING:
            phase.status, phase.started_at = Phase.Status.RUNNING, now
            phase.save(update_fields=["status", "started_at"])
            event_append(project_id=project_id, kind=Event.Kind.PHASE_STARTED, phase=phase, message=phase.name)
        if _phase_tasks_advance(phase, unfinished[phase.pk], waiting, schema=schema, now=now, roles=roles):
            return roles
        if phase.gated and not phase.gate_note:
            if phase_ready_for_gates.has_listeners():
                phase.status = Phase.Status.GATING
                phase.save(update_fields=["status"])
                event_append(project_id=project_id, kind=Event.Kind.PHASE_GATES_REQUESTED, phase=phase)
                transaction.on_commit(
                    partial(gates_request, schema_name=schema, project_id=project_id, phase_id=phase.pk)
                )
                return roles
            phase.gate_note = "passed: no gate policy is installed"
            event_append(project_id=project_id, kind=Event.Kind.PHASE_PASSED, phase=phase, message=phase.gate_note)
        phase.status, phase.finished_at = Phase.Status.DONE, now
        phase.save(update_fields=["status", "finished_at", "gate_note"])
        event_append(project_id=project_id, kind=Event.Kind.PHASE_COMPLETED, phase=phase, message=phase.name)
    workflow.status, workflow.finished_at = Workflow.Status.COMPLETED, now
    workflow.save(update_fields=["status", "finished_at"])
    event_append(project_id=project_id, kind=Event.Kind.PROJECT_COMPLETED, message="every phase is done")
    # The preview stays for HIVE_PREVIEW_GRACE_SECONDS after acceptance: projects.delivery.previews' sweep stops it.
    return roles


def open_phases(project_id: int) -> QuerySet[Phase]:
    """The project's phases neither done nor cancelled, in order."""
    return (
        Phase.objects.filter(project_id=project_id)
        .exclude(status__in=[Phase.Status.DONE, Phase.Status.CANCELLED])
        .order_by("position")
    )


def _phase_tasks_advance(
    phase: Phase, unfinished: list[Task], waiting: set[int], *, schema: str, now: datetime, roles: set[str]
) -> bool:
    """Make the phase's pending tasks that wait on nothing ready (agent work asks for an agent,
    whose role joins ``roles``) or awaiting approval; True while any task is unfinished.

    ``unfinished`` are the phase's unfinished tasks, ``waiting`` the ids of tasks with an
    unfinished dependency. The agent tasks that become ready are updated, and request their
    agents, in one statement each.
    """
    ready: list[Task] = []
    for task in unfinished:
        if task.status != Task.Status.PENDING or task.pk in waiting:
            continue
        task.ready_at = now
        if task.kind == Task.Kind.APPROVAL:
            task.status = Task.Status.AWAITING_APPROVAL
            task.save(update_fields=["status", "ready_at"])
            event_append(project_id=phase.project_id, kind=Event.Kind.APPROVAL_REQUESTED, task=task, message=task.title)
            continue
        task.status = Task.Status.READY
        ready.append(task)
    if ready:
        Task.objects.filter(pk__in=[each.pk for each in ready]).update(status=Task.Status.READY, ready_at=now)
        for each in ready:
            event_append(project_id=phase.project_id, kind=Event.Kind.TASK_READY, task=each, message=each.title)
        asking = [(each.role, each.pk, now) for each in ready if not each.held]
        pools.lease_requests_file(schema_name=schema, tasks=asking)
        roles.update(role for role, _, _ in asking)
    return bool(unfinished)


def preview_stop_on_commit(project_id: int) -> None:
    """A cancelled project's preview stops (after the commit: it is a process, not a row)."""
    home = project_storage(Project.objects.get(pk=project_id)) / "preview"
    transaction.on_commit(partial(preview_stop, home))


def gates_request(*, schema_name: str, project_id: int, phase_id: int) -> None:
    phase_ready_for_gates.send(sender=Phase, schema_name=schema_name, project_id=project_id, phase_id=phase_id)


def open_phase(project: Project) -> Phase | None:
    """The phase the project is in now: the first one neither done nor cancelled."""
    return open_phases(project.pk).first()


def _open_phase_locked(phase: Phase) -> tuple[Workflow, Phase]:
    """The workflow and the phase, locked in that order, refused when nothing can be added to it."""
    workflow = workflow_lock(phase.project_id)
    phase = Phase.objects.select_for_update(no_key=True, of=("self",)).select_related("project").get(pk=phase.pk)
    if phase.status in {Phase.Status.DONE, Phase.Status.CANCELLED}:
        raise WorkflowError(f"{phase.name} is {phase.get_status_display().lower()}; no work can be added to it.")
    if not workflow.is_active:
        raise WorkflowError(f"The project is {workflow.get_status_display().lower()}; no work can be added.")
    return workflow, phase


def _task_append(phase: Phase, **fields: Any) -> Task:
    """A new task at the end of ``phase``."""
    last = Task.objects.filter(phase=phase).order_by("-position").values_list("position", flat=True).first()
    title = str(fields.pop("title"))[:300]
    return Task.objects.create(
        project_id=phase.project_id,
        phase=phase,
        position=(last or 0) + 1,
        title=title,
        ready_at=timezone.now(),
        **fields,
    )


@transaction.atomic
def task_add(
    *, phase: Phase, key: str, title: str, role: str, inputs: dict[str, object] | None = None, actor: str = "system"
) -> Task:
    """Add agent work to an open phase of an active workflow (gate remediation, a fix for a
    rejected story). The task is ready at once and asks for an agent while the workflow runs;
    the phase does not finish before it does."""
    workflow, phase = _open_phase_locked(phase)
    task = _task_append(
        phase,
        key=key,
        title=title,
        kind=Task.Kind.AGENT,
        role=role,
        inputs={"project": phase.project.name, **(inputs or {})},
        status=Task.Status.READY,
    )
    event_append(project_id=phase.project_id, kind=Event.Kind.TASK_READY, task=task, actor=actor, message=task.title)
    if workflow.status == Workflow.Status.RUNNING and phase.status != Phase.Status.PENDING:
        assert task.ready_at is not None
        pools.lease_request(role=task.role, schema_name=current_schema(), task_id=task.pk, ready_at=task.ready_at)
        dispatch_on_commit({task.role})
    return task


@transaction.atomic
def approval_add(*, phase: Phase, key: str, title: str, actor: str = "system") -> Task:
    """Ask the customer again for a decision of an open phase (user acceptance testing after a
    gate that did not pass): an approval step awaiting the customer at once."""
    _, phase = _open_phase_locked(phase)
    task = _task_append(phase, key=key, title=title, kind=Task.Kind.APPROVAL, status=Task.Status.AWAITING_APPROVAL)
    event_append(project_id=phase.project_id, kind=Event.Kind.APPROVAL_REQUESTED, task=task, actor=actor, message=title)
    return task
