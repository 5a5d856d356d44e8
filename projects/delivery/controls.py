"""What an account manager may do to a delivery, by name: the project controls (pause, resume,
cancel) and the task controls (hold, release, re-run, cancel). The portal's project page and the
staff admin's project page both offer them through this module, each control only where it
applies (the services refuse the others with a reason anyway). And which agents do the work:
``workflow_configure`` sets the project's provider, model and budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from projects.delivery import orchestration
from projects.delivery.events import event_append
from projects.models import Event, Project, Task, Workflow
from tenants.models import User

PROVIDER_CHOICES = [("", "Platform default"), ("builtin", "Built-in (offline)"), ("llm", "Language model")]
LLM_SETTINGS = ("model", "budget_tokens", "budget_cost")

PROJECT_CONTROLS: dict[str, Callable[..., Workflow]] = {
    "pause": orchestration.project_pause,
    "resume": orchestration.project_resume,
    "cancel": orchestration.project_cancel,
}
TASK_CONTROLS: dict[str, Callable[..., Task]] = {
    "hold": orchestration.task_hold,
    "release": orchestration.task_release,
    "rerun": orchestration.task_rerun,
    "cancel": orchestration.task_cancel,
}
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
        raise orchestration.WorkflowError(f"There is no provider named “{provider}”.")
    unknown = set(llm) - set(LLM_SETTINGS)
    if unknown:
        raise orchestration.WorkflowError(f"Unknown model settings: {', '.join(sorted(unknown))}.")
    workflow = orchestration.workflow_lock(project.pk)
    if not workflow.is_active:
        raise orchestration.WorkflowError("The delivery is over; there is nothing to configure.")
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
