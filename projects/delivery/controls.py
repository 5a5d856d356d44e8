"""What an account manager may do to a delivery, by name: the project controls (pause, resume,
cancel) and the task controls (hold, release, re-run, cancel). The portal's project page and the
staff admin's project page both offer them through this module, each control only where it
applies (the services refuse the others with a reason anyway). And which agents do the work:
``workflow_configure`` sets the project's provider, model and budget."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from agents import pools
from projects.delivery.acceptance_guard import acceptance_blockers, blockers_message
from projects.delivery.dispatch import current_schema, dispatch_on_commit
from projects.delivery.events import event_append
from projects.delivery.orchestration import (
    RERUN_ATTEMPTS,
    UNFINISHED,
    WorkflowError,
    actor_label,
    advance,
    preview_stop_on_commit,
    workflow_lock,
)
from projects.delivery.uat import UatReport
from projects.delivery.workflow import ACCEPT, APPROVE_PLAN, CONNECT_STEP, UAT_STEP
from projects.models import Event, Phase, Project, RepositoryConnection, Run, Task, Workflow
from tenants.audit import Action, audit_record
from tenants.models import User

PROVIDER_CHOICES = [("", "Platform default"), ("builtin", "Built-in (offline)"), ("llm", "Language model")]
LLM_SETTINGS = ("model", "budget_tokens", "budget_cost")

LABELS = {"pause": "Pause", "resume": "Resume", "hold": "Hold", "release": "Release", "rerun": "Re-run"}


@dataclass(frozen=True)
class Control:
    name: str
    label: str


@dataclass(frozen=True)
class TaskControls:
    task: Task
    controls: list[Control]


def _controls(applies: dict[str, bool], cancel_label: str) -> list[Control]:
    labels = {**LABELS, "cancel": cancel_label}
    return [Control(name, labels[name]) for name, ok in applies.items() if ok]


def project_controls_open(workflow: Workflow) -> list[Control]:
    return _controls(
        {
            "pause": workflow.status == Workflow.Status.RUNNING,
            "resume": workflow.status == Workflow.Status.PAUSED,
            "cancel": workflow.is_active,
        },
        "Cancel project",
    )


def task_controls_open(task: Task) -> list[Control]:
    waiting = task.status not in {*Task.FINISHED, Task.Status.RUNNING}
    return _controls(
        {
            "hold": waiting and not task.held,
            "release": task.held,
            "rerun": task.kind == Task.Kind.AGENT and task.status in {Task.Status.BLOCKED, *Task.FINISHED},
            "cancel": task.status not in Task.FINISHED,
        },
        "Cancel",
    )


def tasks_to_control(project: Project, *, limit: int = 50) -> list[TaskControls]:
    """The project's unfinished tasks in workflow order, each with the controls that apply."""
    tasks = (
        Task.objects.filter(project=project)
        .exclude(status__in=Task.FINISHED)
        .select_related("phase")
        .order_by("phase__position", "position")[:limit]
    )
    return [TaskControls(task, task_controls_open(task)) for task in tasks]


@transaction.atomic
def workflow_configure(*, project: Project, provider: str, llm: dict[str, Any], user: User) -> Workflow:
    """Which provider does the project's work from now on (tasks not yet running), and its model
    and budget for the llm provider; empty values fall back to the deployment's settings."""
    if provider not in dict(PROVIDER_CHOICES):
        raise WorkflowError(f"There is no provider named “{provider}”.")
    unknown = set(llm) - set(LLM_SETTINGS)
    if unknown:
        raise WorkflowError(f"Unknown model settings: {', '.join(sorted(unknown))}.")
    workflow = workflow_lock(project.pk)
    if not workflow.is_active:
        raise WorkflowError("The delivery is over; there is nothing to configure.")
    workflow.provider = provider
    workflow.llm = {key: value for key, value in llm.items() if value not in (None, "")}
    workflow.save(update_fields=["provider", "llm"])
    described = ", ".join(f"{key} {value}" for key, value in workflow.llm.items())
    event_append(
        project_id=project.pk,
        kind=Event.Kind.PROJECT_CONFIGURED,
        actor=user.email,
        message=f"agents: {provider or 'platform default'}{f' ({described})' if described else ''}",
        data={"provider": provider, "llm": workflow.llm},
    )
    return workflow


# --- the human controls ----------------------------------------------------------------------


def _locked_task(task: Task) -> tuple[Workflow, Task]:
    """The task's workflow and the task, locked in that order (its project is read, not locked)."""
    workflow = workflow_lock(task.project_id)
    return workflow, Task.objects.select_for_update(no_key=True, of=("self",)).select_related("project").get(pk=task.pk)


# Which audit action an approval step records (projects.delivery.workflow's approval step keys).
APPROVAL_ACTIONS = {APPROVE_PLAN: Action.PLAN_APPROVED, ACCEPT: Action.DELIVERY_ACCEPTED}


@transaction.atomic
def task_approve(*, task: Task, user: User | None, actor: str = "", uat: UatReport | None = None) -> Task:
    """The customer approves (the plan, the preview, the delivery); the workflow moves on.

    ``actor`` names an approver without an account: only the demo's automatic approvals use it.
    The user acceptance testing step is given only with its report (``uat``, see
    ``projects.delivery.uat``): its number is what the UAT gate measures.
    """
    if user is None and not actor:
        raise WorkflowError("An approval names who approved.")
    who = user.email if user is not None else actor
    workflow, task = _locked_task(task)
    if task.status != Task.Status.AWAITING_APPROVAL:
        raise WorkflowError(f"“{task.title}” is not waiting for an approval.")
    if task.key == CONNECT_STEP and not RepositoryConnection.objects.filter(project_id=task.project_id).exists():
        raise WorkflowError("This step waits for the team's repository: connect it on the project's Repository page.")
    if task.key == ACCEPT and (blockers := acceptance_blockers(task.project)):
        raise WorkflowError(blockers_message(blockers))
    if task.key == UAT_STEP and uat is None:
        raise WorkflowError(
            "Report the result of user acceptance testing (how many testers, how many satisfied) on its decision page."
        )
    now = timezone.now()
    task.status, task.finished_at = Task.Status.DONE, now
    task.output = {"approved_by": who, "approved_at": now.isoformat(), **(uat.output() if uat else {})}
    task.save(update_fields=["status", "finished_at", "output"])
    event_append(
        project_id=task.project_id,
        kind=Event.Kind.APPROVAL_GRANTED,
        task=task,
        actor=who,
        message=f"{who} reported “{task.title}”: {uat.sentence()}" if uat else f"{who} approved “{task.title}”",
    )
    audit_record(
        action=APPROVAL_ACTIONS.get(task.key, Action.APPROVAL_GRANTED),
        user=user,
        actor_label="" if user is not None else who,
        obj=task,
        detail={
            "project_id": task.project_id,
            "project": task.project.name,
            **({"uat": uat.sentence()} if uat else {}),
        },
    )
    dispatch_on_commit(advance(task.project_id, now=now, workflow=workflow))
    return task


def _release_agents(tasks: Iterable[Task]) -> set[str]:
    roles: set[str] = set()
    schema = current_schema()
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
    pools.lease_requests_withdraw(schema_name=current_schema(), task_ids=[task.pk for task in waiting])
    event_append(
        project_id=project.pk,
        kind=Event.Kind.PROJECT_PAUSED,
        actor=actor_label(user),
        message=f"paused by {actor_label(user)}",
    )
    dispatch_on_commit(roles)
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
    pools.lease_requests_file(schema_name=current_schema(), tasks=ready)
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
        actor=actor_label(user),
        message=f"resumed by {actor_label(user)}",
    )
    roles = _request_ready(project.pk) | advance(project.pk, workflow=workflow)
    dispatch_on_commit(roles)
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
        status=Run.Status.CANCELLED, finished_at=now, error=f"cancelled by {actor_label(user)}"
    )
    roles = _release_agents(unfinished)
    pools.lease_requests_withdraw(schema_name=current_schema(), task_ids=ids)
    Task.objects.filter(pk__in=ids).update(status=Task.Status.CANCELLED, finished_at=now)
    event_append(
        project_id=project.pk,
        kind=Event.Kind.PROJECT_CANCELLED,
        actor=actor_label(user),
        message=f"cancelled by {actor_label(user)}; {len(ids)} unfinished tasks cancelled",
    )
    audit_record(action=Action.PROJECT_CANCELLED, user=user, obj=project, detail={"tasks_cancelled": len(ids)})
    preview_stop_on_commit(project.pk)
    dispatch_on_commit(roles)
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
    pools.lease_requests_withdraw(schema_name=current_schema(), task_ids=[task.pk])
    task.held = True
    task.save(update_fields=["held", "status", "agent", "queued_at"])
    event_append(project_id=task.project_id, kind=Event.Kind.TASK_HELD, task=task, actor=actor_label(user))
    dispatch_on_commit(roles)
    return task


@transaction.atomic
def task_release(*, task: Task, user: User | None) -> Task:
    workflow, task = _locked_task(task)
    if not task.held:
        raise WorkflowError(f"“{task.title}” is not on hold.")
    task.held = False
    task.save(update_fields=["held"])
    event_append(project_id=task.project_id, kind=Event.Kind.TASK_RELEASED, task=task, actor=actor_label(user))
    roles: set[str] = set()
    if task.status == Task.Status.READY and workflow.status == Workflow.Status.RUNNING:
        assert task.ready_at is not None
        pools.lease_request(role=task.role, schema_name=current_schema(), task_id=task.pk, ready_at=task.ready_at)
        roles.add(task.role)
    dispatch_on_commit(roles)
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
        actor=actor_label(user),
        message=f"re-run requested by {actor_label(user)}",
    )
    roles: set[str] = set()
    if not task.held and workflow.status == Workflow.Status.RUNNING:
        pools.lease_request(role=task.role, schema_name=current_schema(), task_id=task.pk, ready_at=now)
        roles.add(task.role)
    dispatch_on_commit(roles)
    return task


@transaction.atomic
def task_cancel(*, task: Task, user: User | None) -> Task:
    """Drop one task; tasks that wait for it go ahead without it."""
    workflow, task = _locked_task(task)
    if task.status in Task.FINISHED:
        raise WorkflowError(f"“{task.title}” is already {task.get_status_display().lower()}.")
    now = timezone.now()
    Run.objects.filter(task=task, status=Run.Status.RUNNING).update(
        status=Run.Status.CANCELLED, finished_at=now, error=f"cancelled by {actor_label(user)}"
    )
    roles = _release_agents([task])
    pools.lease_requests_withdraw(schema_name=current_schema(), task_ids=[task.pk])
    task.status, task.finished_at, task.agent = Task.Status.CANCELLED, now, None
    task.save(update_fields=["status", "finished_at", "agent"])
    event_append(
        project_id=task.project_id,
        kind=Event.Kind.TASK_CANCELLED,
        task=task,
        actor=actor_label(user),
        message=f"cancelled by {actor_label(user)}",
    )
    audit_record(
        action=Action.TASK_CANCELLED,
        user=user,
        obj=task,
        detail={"project_id": task.project_id, "project": task.project.name},
    )
    dispatch_on_commit(roles | advance(task.project_id, now=now, workflow=workflow))
    return task


PROJECT_CONTROLS: dict[str, Callable[..., Workflow]] = {
    "pause": project_pause,
    "resume": project_resume,
    "cancel": project_cancel,
}
TASK_CONTROLS: dict[str, Callable[..., Task]] = {
    "hold": task_hold,
    "release": task_release,
    "rerun": task_rerun,
    "cancel": task_cancel,
}
