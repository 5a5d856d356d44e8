"""The job spec: what a provider gets for one task — the task's inputs plus what only the database
knows at run time (the artifacts to check, where the legacy code is, the event log, the agent's
name, what the project's model budget has left)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery, Sum

from agents.providers import JobSpec
from projects.delivery.repository import repository_job_inputs
from projects.delivery.workflow import EVENT_LOG_STEPS
from projects.models import Event, Run, Service, Task
from projects.storage import project_storage

# Data keys of agent reports the audit trail cross-checks against the repository.
_AUDITED_DATA = ("report", "branch", "commit")


@dataclass(frozen=True, slots=True)
class Spent:
    """What the project's runs have used so far (its model budget is per project)."""

    tokens: int = 0
    cost: Decimal = Decimal(0)


def project_runs_sum(field: str) -> Subquery:
    runs = Run.objects.filter(task__project_id=OuterRef("project_id")).order_by().values("task__project_id")
    return Subquery(runs.annotate(total=Sum(field)).values("total"))


def project_spent(project_id: int) -> Spent:
    spent = Run.objects.filter(task__project_id=project_id).aggregate(
        tokens=Sum("usage_tokens"), cost=Sum("usage_cost")
    )
    return Spent(tokens=int(spent["tokens"] or 0), cost=spent["cost"] or Decimal(0))


def job_spec(task: Task, *, agent: str = "", spent: Spent | None = None) -> JobSpec:
    """What the provider gets: the task's inputs, plus what only the database knows at run time
    (the artifacts to check, where the legacy code is, the event log, the agent's name, what the
    project has spent; ``spent`` when the caller read it already)."""
    inputs: dict[str, Any] = dict(task.inputs)
    if inputs.pop("check_artifacts", False):
        outputs = Task.objects.filter(project_id=task.project_id, status=Task.Status.DONE).values_list(
            "output", flat=True
        )
        inputs["expect"] = sorted({path for output in outputs for path in output.get("artifacts", [])})
    if task.project.service == Service.MODERNIZATION:
        inputs["legacy_dir"] = str(project_storage(task.project) / "legacy")
    if task.project.service == Service.AUGMENTATION:
        repository = repository_job_inputs(task.project_id)  # the credential stays encrypted
        if repository is not None:
            inputs["repository"] = repository
    if task.key in EVENT_LOG_STEPS:
        rows = Event.objects.filter(project_id=task.project_id).values_list(
            "created_at", "actor", "kind", "message", "data"
        )
        inputs["events"] = [
            {
                "created_at": created_at.isoformat(timespec="seconds"),
                "actor": actor,
                "kind": kind,
                "message": message,
                **{key: data[key] for key in _AUDITED_DATA if key in data},
            }
            for created_at, actor, kind, message, data in rows
        ]
    if agent:
        inputs["agent"] = agent
    # The model and budget are the project's (its workflow's settings, a task's own over them);
    # tell the provider what earlier runs already spent.
    spent = spent or project_spent(task.project_id)
    workflow = getattr(task.project, "workflow", None)
    llm = {**(workflow.llm if workflow is not None else {}), **dict(inputs.get("llm") or {})}
    llm.setdefault("spent_tokens", spent.tokens)
    llm.setdefault("spent_cost", str(spent.cost))
    inputs["llm"] = llm
    return JobSpec(role=task.role, key=task.key, title=task.title, inputs=inputs)
