"""Running a project's workflow: start, advance, dispatch, human controls, progress and timeline.

This module owns the state machine of phases and tasks (``projects.execution`` owns what happens
on a worker). The rules:

* Phases run one after another. A phase opens when the one before it is done; inside it, a task
  becomes ready when every task it depends on is finished (done or cancelled).
* A ready agent task files a lease request with ``agents.pools``; the dispatcher matches
  requests to free agents, marks the tasks queued with their agent in the same transaction as
  the lease, and only after its commit sends ``execute_task`` to the broker. A lost message
  therefore loses nothing: the sweep in ``projects.execution`` re-sends queued tasks. A worker
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
* Progress and timeline adherence are derived from these rows, never stored: ``projects.progress``.

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
  finishing transaction's retry (``projects.execution``) on the worker's side.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from agents import pools
from agents.previews import preview_stop
from projects.events import event_append
from projects.models import Engagement, Event, Phase, Project, Quote, RepositoryConnection, Run, Service, Task, Workflow
from projects.services import project_storage
from projects.signals import phase_ready_for_gates
from projects.workflow import CONNECT_STEP, Step, WorkflowTemplate, workflow_template
from tenants.audit import Action, audit_record
from tenants.models import User

UNFINISHED = [s for s in Task.Status if s not in Task.FINISHED]
RERUN_ATTEMPTS = 3  # what an account manager's re-run grants a task


class WorkflowError(Exception):
    """A workflow action is not possible in the current state; the message says why."""


def _schema() -> str:
    return connection.schema_name  # type: ignore[attr-defined, no-any-return]


def _actor(user: User | None) -> str:
    return user.email if user is not None else "system"


# --- planning -------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+)\s*(?:[–-]\s*(\d+))?\s*(week|month)s?", re.IGNORECASE)


def duration_of(label: str) -> timedelta | None:
    """The committed (upper) end of a timeline label such as "2–3 weeks" or "6–12 months"."""
    match = _DURATION.search(label or "")
    if match is None:
        return None
    amount = int(match.group(2) or match.group(1))
    return timedelta(weeks=amount) if match.group(3).lower() == "week" else timedelta(days=30 * amount)


def planned_duration(project: Project) -> timedelta | None:
    """The delivery time the customer accepted: the latest accepted quote's timeline."""
    quote = Quote.objects.filter(project=project, accepted_at__isnull=False).order_by("-number").first()
    if quote is None:
        return None
    snapshot = quote.snapshot
    if project.service == Service.AUGMENTATION:
        engagement = Engagement.objects.filter(project=project).first()
        if engagement is None:
            return None
        if engagement.kind == Engagement.Kind.SPRINT:
            return timedelta(weeks=engagement.sprints * engagement.sprint_weeks)
        return timedelta(days=30 * engagement.months)
    tier = snapshot.get("tier") or {}
    return duration_of(str(tier.get("timeline") or snapshot.get("timeline") or ""))


# --- start ----------------------------------------------------------------------------------


@transaction.atomic
def project_start(
    *,
    project: Project,
    user: User | None = None,
    template: WorkflowTemplate | None = None,
    provider: str = "",
    now: datetime | None = None,
) -> Workflow:
    """Lay out the project's phases and tasks from its service's template and start the first phase."""
    now = now or timezone.now()
    project = Project.objects.select_for_update(no_key=True).get(pk=project.pk)
    existing = Workflow.objects.filter(project=project).first()
    if existing is not None:
        return existing
    roles = roles_on_commit()  # ahead of the events' after-commit work: the first tasks go out first
    template = template or workflow_template(project)
    duration = planned_duration(project)
    workflow = Workflow.objects.create(
        project=project,
        template=template.name,
        provider=provider,
        started_at=now,
        planned_end=now + duration if duration else None,
    )
    total_weight = sum(phase.weight for phase in template.phases) or 1
    elapsed = 0
    phases: list[Phase] = []
    for position, phase_template in enumerate(template.phases, 1):
        planned_start = now + duration * elapsed / total_weight if duration else None
        elapsed += phase_template.weight
        phases.append(
            Phase(
                project=project,
                position=position,
                key=phase_template.key,
                name=phase_template.name,
                weight=phase_template.weight,
                gated=phase_template.gated,
                planned_start=planned_start,
                planned_end=now + duration * elapsed / total_weight if duration else None,
            )
        )
    # A workflow is laid out in three statements (phases, tasks, dependencies), however many
    # stories it fans out to; nothing listens to the creation of these rows.
    Phase.objects.bulk_create(phases)
    tasks: list[Task] = []
    dependencies: list[tuple[Task, Task]] = []
    for phase, phase_template in zip(phases, template.phases, strict=True):
        _tasks_plan(project, phase, phase_template.steps, template, tasks=tasks, dependencies=dependencies)
    Task.objects.bulk_create(tasks)
    pairs = {(task.pk, needed.pk) for task, needed in dependencies}
    Task.depends_on.through.objects.bulk_create(
        [Task.depends_on.through(from_task_id=task_id, to_task_id=needed_id) for task_id, needed_id in sorted(pairs)]
    )
    event_append(
        project_id=project.pk,
        kind=Event.Kind.PROJECT_STARTED,
        actor=_actor(user),
        message=f"{project.name} started ({template.name} workflow, {len(template.phases)} phases)",
        data={"planned_end": workflow.planned_end.isoformat() if workflow.planned_end else None},
    )
    # Nobody else sees this workflow before the commit: advance it on the layout in hand.
    by_phase: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        by_phase[task.phase_id].append(task)
    roles |= _phases_advance(workflow, phases, by_phase, {task.pk for task, _ in dependencies}, now=now)
    return workflow


def _tasks_plan(
    project: Project,
    phase: Phase,
    steps: Iterable[Step],
    template: WorkflowTemplate,
    *,
    tasks: list[Task],
    dependencies: list[tuple[Task, Task]],
) -> None:
    """The phase's tasks (added to ``tasks``, unsaved) and what each waits for (``(task, needed)``)."""
    by_key: dict[str, list[Task]] = {}
    by_item: dict[int, Task] = {}
    position = 0
    for step in steps:
        items = list(template.items) if step.fan_out else [None]
        for item in items:
            position += 1
            inputs: dict[str, object] = {"project": project.name}
            title = step.title
            if item is not None:
                inputs["item"] = dict(item)
                title = f"{step.title} {item.get('number')}: {item.get('title', '')}"[:300]
            elif step.key in {"requirements", "sprint_plan", "architecture"}:
                inputs["stories"] = list(template.items)
            elif step.key in {"team_assessment", "pickup"}:
                inputs["items"] = list(template.items)
            if step.key == "architecture":
                inputs["features"] = project.context_features
            if step.checks_artifacts:
                inputs["check_artifacts"] = True
            task = Task(
                project=project,
                phase=phase,
                position=position,
                key=step.key,
                title=title,
                kind=Task.Kind.APPROVAL if step.is_approval else Task.Kind.AGENT,
                role=step.role.value if step.role else "",
                inputs=inputs,
            )
            tasks.append(task)
            by_key.setdefault(step.key, []).append(task)
            if item is not None:
                by_item[int(item.get("number", 0))] = task
            for after in step.after:
                dependencies.extend((task, needed) for needed in by_key.get(after, []))
    # Fanned-out items may depend on each other (a migration segment after the ones it imports).
    for number, task in by_item.items():
        item = task.inputs.get("item", {})
        dependencies.extend((task, by_item[n]) for n in item.get("depends_on", []) if n in by_item and n != number)


# --- advancing --------------------------------------------------------------------------------


def workflow_lock(project_id: int) -> Workflow:
    """The project's workflow row, locked until the end of the transaction: the first lock of
    every transaction that changes several of the project's rows (see "Locks" above).
    WorkflowError when the project's delivery has not started."""
    workflow = Workflow.objects.select_for_update(no_key=True).filter(project_id=project_id).first()
    if workflow is None:
        raise WorkflowError("The delivery has not started; there is nothing to control yet.")
    return workflow


def _advance(project_id: int, *, now: datetime | None = None, workflow: Workflow | None = None) -> set[str]:
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
    return _phases_advance(workflow, phases, unfinished, waiting, now=now)


def _phases_advance(
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
    schema = _schema()
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
                    partial(_gates_request, schema_name=schema, project_id=project_id, phase_id=phase.pk)
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
    # The preview stays for HIVE_PREVIEW_GRACE_SECONDS after acceptance: projects.previews' sweep stops it.
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


def _preview_stop_on_commit(project_id: int) -> None:
    """A cancelled project's preview stops (after the commit: it is a process, not a row)."""
    home = project_storage(Project.objects.get(pk=project_id)) / "preview"
    transaction.on_commit(partial(preview_stop, home))


def _gates_request(*, schema_name: str, project_id: int, phase_id: int) -> None:
    phase_ready_for_gates.send(sender=Phase, schema_name=schema_name, project_id=project_id, phase_id=phase_id)


# --- dispatch ---------------------------------------------------------------------------------
#
# Dispatching leases free agents to waiting tasks (``agents.pools.leases_match``), marks those
# tasks queued with their agent in the same transaction and sends ``execute_task`` after its
# commit. A worker finishing a task dispatches inside its own finishing transaction
# (``roles_dispatch_now``): the successor is queued in the commit that made it ready, and its
# message is the first thing sent after that commit. Everything else (a start, a person's action,
# the sweeps) dispatches right after its commit, in a transaction of its own (``roles_dispatch``).

Job = tuple[str, int]  # (schema name, task id) of an execute_task message


def _send_all(jobs: list[Job]) -> None:
    from projects.tasks import execute_task_send

    for schema_name, task_id in jobs:
        execute_task_send(schema_name, task_id)


def jobs_on_commit() -> list[Job]:
    """A list of jobs sent to the workers once the current transaction commits. Made at the start
    of a transaction, its hook runs before those registered later (other apps' reactions to the
    events), so the workers get their jobs first."""
    jobs: list[Job] = []
    transaction.on_commit(partial(_send_all, jobs))
    return jobs


def _dispatch_on_commit(roles: set[str]) -> None:
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
    if lease.schema_name == _schema():  # no schema switch (and no extra SET search_path) for the own tenant
        return bool(claim.update(**fields))
    with schema_context(lease.schema_name):
        return bool(claim.update(**fields))


# --- human in the loop --------------------------------------------------------------------------


def _locked_task(task: Task) -> tuple[Workflow, Task]:
    """The task's workflow and the task, locked in that order (its project is read, not locked)."""
    workflow = workflow_lock(task.project_id)
    return workflow, Task.objects.select_for_update(no_key=True, of=("self",)).select_related("project").get(pk=task.pk)


# Which audit action an approval step records (projects.workflow's approval step keys).
APPROVAL_ACTIONS = {"approve_plan": Action.PLAN_APPROVED, "accept": Action.DELIVERY_ACCEPTED}


@transaction.atomic
def task_approve(*, task: Task, user: User | None, actor: str = "") -> Task:
    """The customer approves (the plan, the preview, the delivery); the workflow moves on.

    ``actor`` names an approver without an account: only the demo's automatic approvals use it.
    """
    if user is None and not actor:
        raise WorkflowError("An approval names who approved.")
    who = user.email if user is not None else actor
    workflow, task = _locked_task(task)
    if task.status != Task.Status.AWAITING_APPROVAL:
        raise WorkflowError(f"“{task.title}” is not waiting for an approval.")
    if task.key == CONNECT_STEP and not RepositoryConnection.objects.filter(project_id=task.project_id).exists():
        raise WorkflowError("This step waits for the team's repository: connect it on the project's Repository page.")
    now = timezone.now()
    task.status, task.finished_at = Task.Status.DONE, now
    task.output = {"approved_by": who, "approved_at": now.isoformat()}
    task.save(update_fields=["status", "finished_at", "output"])
    event_append(
        project_id=task.project_id,
        kind=Event.Kind.APPROVAL_GRANTED,
        task=task,
        actor=who,
        message=f"{who} approved “{task.title}”",
    )
    audit_record(
        action=APPROVAL_ACTIONS.get(task.key, Action.APPROVAL_GRANTED),
        user=user,
        actor_label="" if user is not None else who,
        obj=task,
        detail={"project_id": task.project_id, "project": task.project.name},
    )
    _dispatch_on_commit(_advance(task.project_id, now=now, workflow=workflow))
    return task


def _release_agents(tasks: Iterable[Task]) -> set[str]:
    roles: set[str] = set()
    schema = _schema()
    for task in tasks:
        if task.agent_id is not None:
            pools.agent_release(agent_id=task.agent_id, schema_name=schema, task_id=task.pk)
            roles.add(task.role)
    return roles


@transaction.atomic
def project_pause(*, project: Project, user: User | None) -> Workflow:
    """Stop dispatching the project's tasks; queued ones give their agents back. Running work finishes."""
    workflow = workflow_lock(project.pk)
    if workflow.status != Workflow.Status.RUNNING:
        raise WorkflowError(f"The project is {workflow.get_status_display().lower()}, not running.")
    workflow.status = Workflow.Status.PAUSED
    workflow.save(update_fields=["status"])
    # Ready tasks are locked too: a dispatcher serving their requests right now (it does not take
    # this workflow's row) skips them instead of queueing them on a paused project.
    waiting = list(_tasks_lock(project, status__in=[Task.Status.QUEUED, Task.Status.READY]))
    queued = [task for task in waiting if task.status == Task.Status.QUEUED]
    roles = _release_agents(queued)
    Task.objects.filter(pk__in=[t.pk for t in queued]).update(status=Task.Status.READY, agent=None, queued_at=None)
    pools.lease_requests_withdraw(schema_name=_schema(), task_ids=[task.pk for task in waiting])
    event_append(
        project_id=project.pk,
        kind=Event.Kind.PROJECT_PAUSED,
        actor=_actor(user),
        message=f"paused by {_actor(user)}",
    )
    _dispatch_on_commit(roles)
    return workflow


def _tasks_lock(project: Project, **where: object) -> QuerySet[Task]:
    """The project's tasks that match, locked (only the task rows, in one order)."""
    return Task.objects.select_for_update(no_key=True, of=("self",)).filter(project=project, **where).order_by("pk")


def _request_ready(project_id: int) -> set[str]:
    ready: list[tuple[str, int, datetime]] = []
    for role, pk, ready_at in Task.objects.filter(
        project_id=project_id, status=Task.Status.READY, held=False
    ).values_list("role", "pk", "ready_at"):
        assert ready_at is not None
        ready.append((role, pk, ready_at))
    pools.lease_requests_file(schema_name=_schema(), tasks=ready)
    return {role for role, _, _ in ready}


@transaction.atomic
def project_resume(*, project: Project, user: User | None) -> Workflow:
    workflow = workflow_lock(project.pk)
    if workflow.status != Workflow.Status.PAUSED:
        raise WorkflowError("The project is not paused.")
    workflow.status = Workflow.Status.RUNNING
    workflow.save(update_fields=["status"])
    event_append(
        project_id=project.pk,
        kind=Event.Kind.PROJECT_RESUMED,
        actor=_actor(user),
        message=f"resumed by {_actor(user)}",
    )
    roles = _request_ready(project.pk) | _advance(project.pk, workflow=workflow)
    _dispatch_on_commit(roles)
    return workflow


@transaction.atomic
def project_cancel(*, project: Project, user: User | None) -> Workflow:
    """Stop the project for good: unfinished tasks and running runs are cancelled, agents freed."""
    workflow = workflow_lock(project.pk)
    if not workflow.is_active:
        raise WorkflowError(f"The project is already {workflow.get_status_display().lower()}.")
    now = timezone.now()
    workflow.status, workflow.finished_at = Workflow.Status.CANCELLED, now
    workflow.save(update_fields=["status", "finished_at"])
    Phase.objects.filter(project=project).exclude(status=Phase.Status.DONE).update(status=Phase.Status.CANCELLED)
    unfinished = list(_tasks_lock(project, status__in=UNFINISHED))
    ids = [task.pk for task in unfinished]
    Run.objects.filter(task_id__in=ids, status=Run.Status.RUNNING).update(
        status=Run.Status.CANCELLED, finished_at=now, error=f"cancelled by {_actor(user)}"
    )
    roles = _release_agents(unfinished)
    pools.lease_requests_withdraw(schema_name=_schema(), task_ids=ids)
    Task.objects.filter(pk__in=ids).update(status=Task.Status.CANCELLED, finished_at=now)
    event_append(
        project_id=project.pk,
        kind=Event.Kind.PROJECT_CANCELLED,
        actor=_actor(user),
        message=f"cancelled by {_actor(user)}; {len(ids)} unfinished tasks cancelled",
    )
    audit_record(action=Action.PROJECT_CANCELLED, user=user, obj=project, detail={"tasks_cancelled": len(ids)})
    _preview_stop_on_commit(project.pk)
    _dispatch_on_commit(roles)
    return workflow


@transaction.atomic
def task_hold(*, task: Task, user: User | None) -> Task:
    """Keep a task from being dispatched (an account manager's hold) until ``task_release``."""
    _, task = _locked_task(task)
    if task.status in {*Task.FINISHED, Task.Status.RUNNING}:
        raise WorkflowError(f"“{task.title}” is {task.get_status_display().lower()}; only waiting tasks can be held.")
    roles: set[str] = set()
    if task.status == Task.Status.QUEUED:
        roles = _release_agents([task])
        task.status, task.agent, task.queued_at = Task.Status.READY, None, None
    pools.lease_requests_withdraw(schema_name=_schema(), task_ids=[task.pk])
    task.held = True
    task.save(update_fields=["held", "status", "agent", "queued_at"])
    event_append(project_id=task.project_id, kind=Event.Kind.TASK_HELD, task=task, actor=_actor(user))
    _dispatch_on_commit(roles)
    return task


@transaction.atomic
def task_release(*, task: Task, user: User | None) -> Task:
    workflow, task = _locked_task(task)
    if not task.held:
        raise WorkflowError(f"“{task.title}” is not on hold.")
    task.held = False
    task.save(update_fields=["held"])
    event_append(project_id=task.project_id, kind=Event.Kind.TASK_RELEASED, task=task, actor=_actor(user))
    roles: set[str] = set()
    if task.status == Task.Status.READY and workflow.status == Workflow.Status.RUNNING:
        assert task.ready_at is not None
        pools.lease_request(role=task.role, schema_name=_schema(), task_id=task.pk, ready_at=task.ready_at)
        roles.add(task.role)
    _dispatch_on_commit(roles)
    return task


@transaction.atomic
def task_rerun(*, task: Task, user: User | None) -> Task:
    """Run a blocked, finished or cancelled agent task again, with a fresh set of attempts."""
    workflow, task = _locked_task(task)
    if task.kind != Task.Kind.AGENT:
        raise WorkflowError("Only agent work can be re-run.")
    if task.status not in {Task.Status.BLOCKED, *Task.FINISHED}:
        raise WorkflowError(f"“{task.title}” is {task.get_status_display().lower()}; it cannot be re-run now.")
    if not workflow.is_active:
        raise WorkflowError(
            f"The delivery is {workflow.get_status_display().lower()}; re-running one task would not reopen it."
        )
    now = timezone.now()
    # A fresh set of attempts; runs keep their numbers (attempt 4 follows attempt 3).
    task.status, task.ready_at, task.max_attempts = Task.Status.READY, now, task.attempts + RERUN_ATTEMPTS
    task.blocked_since, task.blocked_reason, task.escalated_at, task.finished_at = None, "", None, None
    task.save(
        update_fields=[
            "status",
            "ready_at",
            "max_attempts",
            "blocked_since",
            "blocked_reason",
            "escalated_at",
            "finished_at",
        ]
    )
    event_append(
        project_id=task.project_id,
        kind=Event.Kind.TASK_RERUN,
        task=task,
        actor=_actor(user),
        message=f"re-run requested by {_actor(user)}",
    )
    roles: set[str] = set()
    if not task.held and workflow.status == Workflow.Status.RUNNING:
        pools.lease_request(role=task.role, schema_name=_schema(), task_id=task.pk, ready_at=now)
        roles.add(task.role)
    _dispatch_on_commit(roles)
    return task


@transaction.atomic
def task_cancel(*, task: Task, user: User | None) -> Task:
    """Drop one task; tasks that wait for it go ahead without it."""
    workflow, task = _locked_task(task)
    if task.status in Task.FINISHED:
        raise WorkflowError(f"“{task.title}” is already {task.get_status_display().lower()}.")
    now = timezone.now()
    Run.objects.filter(task=task, status=Run.Status.RUNNING).update(
        status=Run.Status.CANCELLED, finished_at=now, error=f"cancelled by {_actor(user)}"
    )
    roles = _release_agents([task])
    pools.lease_requests_withdraw(schema_name=_schema(), task_ids=[task.pk])
    task.status, task.finished_at, task.agent = Task.Status.CANCELLED, now, None
    task.save(update_fields=["status", "finished_at", "agent"])
    event_append(
        project_id=task.project_id,
        kind=Event.Kind.TASK_CANCELLED,
        task=task,
        actor=_actor(user),
        message=f"cancelled by {_actor(user)}",
    )
    audit_record(
        action=Action.TASK_CANCELLED,
        user=user,
        obj=task,
        detail={"project_id": task.project_id, "project": task.project.name},
    )
    _dispatch_on_commit(roles | _advance(task.project_id, now=now, workflow=workflow))
    return task


@transaction.atomic
def phase_gates_pass(*, phase: Phase, actor: str, note: str = "") -> Phase:
    """The quality gates passed (or were waived); the next phase opens."""
    workflow = workflow_lock(phase.project_id)
    phase = Phase.objects.select_for_update(no_key=True).get(pk=phase.pk)
    if phase.status not in {Phase.Status.GATING, Phase.Status.BLOCKED}:
        raise WorkflowError(f"{phase.name} is not waiting for its gates.")
    phase.status, phase.gate_note = Phase.Status.RUNNING, f"passed: {note}" if note else "passed"
    phase.save(update_fields=["status", "gate_note"])
    event_append(project_id=phase.project_id, kind=Event.Kind.PHASE_PASSED, phase=phase, actor=actor, message=note)
    _dispatch_on_commit(_advance(phase.project_id, workflow=workflow))
    return phase


@transaction.atomic
def phase_gates_block(*, phase: Phase, actor: str, reason: str) -> Phase:
    """A gate failed: the phase stays blocked until its tasks are re-run and the gates pass."""
    phase = Phase.objects.select_for_update(no_key=True).get(pk=phase.pk)
    if phase.status != Phase.Status.GATING:
        raise WorkflowError(f"{phase.name} is not waiting for its gates.")
    phase.status, phase.gate_note = Phase.Status.BLOCKED, ""
    phase.save(update_fields=["status", "gate_note"])
    event_append(project_id=phase.project_id, kind=Event.Kind.PHASE_BLOCKED, phase=phase, actor=actor, message=reason)
    return phase


@transaction.atomic
def phase_gates_retry(*, phase: Phase, actor: str, reason: str = "") -> Phase:
    """Ask for the gates of a blocked phase again (its remediation is done): the phase goes back to
    gating and ``phase_ready_for_gates`` is sent after the commit."""
    phase = Phase.objects.select_for_update(no_key=True).get(pk=phase.pk)
    if phase.status != Phase.Status.BLOCKED:
        raise WorkflowError(f"{phase.name} is not blocked by its gates.")
    phase.status = Phase.Status.GATING
    phase.save(update_fields=["status"])
    event_append(
        project_id=phase.project_id, kind=Event.Kind.PHASE_GATES_REQUESTED, phase=phase, actor=actor, message=reason
    )
    transaction.on_commit(
        partial(_gates_request, schema_name=_schema(), project_id=phase.project_id, phase_id=phase.pk)
    )
    return phase


def open_phase(project: Project) -> Phase | None:
    """The phase the project is in now: the first one neither done nor cancelled."""
    return open_phases(project.pk).first()


@transaction.atomic
def task_add(
    *, phase: Phase, key: str, title: str, role: str, inputs: dict[str, object] | None = None, actor: str = "system"
) -> Task:
    """Add agent work to an open phase of an active workflow (gate remediation, a fix for a
    rejected story). The task is ready at once and asks for an agent while the workflow runs;
    the phase does not finish before it does."""
    workflow = workflow_lock(phase.project_id)
    phase = Phase.objects.select_for_update(no_key=True, of=("self",)).select_related("project").get(pk=phase.pk)
    if phase.status in {Phase.Status.DONE, Phase.Status.CANCELLED}:
        raise WorkflowError(f"{phase.name} is {phase.get_status_display().lower()}; no work can be added to it.")
    if not workflow.is_active:
        raise WorkflowError(f"The project is {workflow.get_status_display().lower()}; no work can be added.")
    now = timezone.now()
    last = Task.objects.filter(phase=phase).order_by("-position").values_list("position", flat=True).first()
    task = Task.objects.create(
        project_id=phase.project_id,
        phase=phase,
        position=(last or 0) + 1,
        key=key,
        title=title[:300],
        kind=Task.Kind.AGENT,
        role=role,
        inputs={"project": phase.project.name, **(inputs or {})},
        status=Task.Status.READY,
        ready_at=now,
    )
    event_append(project_id=phase.project_id, kind=Event.Kind.TASK_READY, task=task, actor=actor, message=task.title)
    if workflow.status == Workflow.Status.RUNNING and phase.status != Phase.Status.PENDING:
        pools.lease_request(role=task.role, schema_name=_schema(), task_id=task.pk, ready_at=now)
        _dispatch_on_commit({task.role})
    return task
