"""Started projects of any size for the dashboard tests, written straight into a tenant schema.

Rows are bulk-created (a 1,000-task project in a fraction of a second) in the shape the workflow
leaves them: a workflow with a planned end, phases in order (the first done, the second running,
the rest pending), tasks spread over the board's statuses, a running run per running task, and a
few events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from projects.models import Event, Phase, Project, Run, Service, Task, Workflow

PHASES = (("requirements", "Requirements analysis", 1), ("development", "Development", 4), ("deploy", "Deployment", 1))


@dataclass
class Delivery:
    project: Project
    workflow: Workflow
    phases: list[Phase]
    tasks: list[Task]


def delivery_make(name: str, *, tasks: int = 10, now: datetime | None = None, planned: bool = True) -> Delivery:
    """A running project with ``tasks`` tasks (call inside ``schema_context``)."""
    now = now or timezone.now()
    start = now - timedelta(days=2)
    project = Project.objects.create(name=name, service=Service.MVP)
    workflow = Workflow.objects.create(
        project=project, template="mvp", started_at=start, planned_end=start + timedelta(days=12) if planned else None
    )
    phases = Phase.objects.bulk_create(
        [
            Phase(
                project=project,
                position=position,
                key=key,
                name=label,
                weight=weight,
                status=[Phase.Status.DONE, Phase.Status.RUNNING, Phase.Status.PENDING][position - 1],
                planned_start=start + timedelta(days=2 * (position - 1)) if planned else None,
                planned_end=start + timedelta(days=2 * position) if planned else None,
                started_at=start + timedelta(days=position - 1) if position <= 2 else None,
                finished_at=start + timedelta(days=1) if position == 1 else None,
            )
            for position, (key, label, weight) in enumerate(PHASES, 1)
        ]
    )
    first, development, last = phases
    rows = [
        Task(
            project=project,
            phase=first,
            position=1,
            key="requirements",
            title="Analyse requirements",
            role="requirements_analyst",
            status=Task.Status.DONE,
            started_at=start,
            finished_at=start + timedelta(hours=3),
        )
    ]
    cycle = [Task.Status.DONE, Task.Status.RUNNING, Task.Status.READY, Task.Status.PENDING, Task.Status.BLOCKED]
    for number in range(1, max(tasks - 2, 1) + 1):
        status = cycle[number % len(cycle)] if number > 1 else Task.Status.RUNNING
        rows.append(
            Task(
                project=project,
                phase=development,
                position=number,
                key="story",
                title=f"Story {number}",
                role="fullstack_developer",
                status=status,
                started_at=now - timedelta(minutes=number % 50)
                if status in (Task.Status.RUNNING, Task.Status.DONE)
                else None,
                finished_at=start + timedelta(hours=number % 40 + 4) if status == Task.Status.DONE else None,
            )
        )
    rows.append(Task(project=project, phase=last, position=1, key="deploy", title="Deploy", role="devops"))
    created = Task.objects.bulk_create(rows)
    Run.objects.bulk_create(
        [
            Run(
                task=task,
                attempt=1,
                agent_name=f"dev-{task.pk % 5}",
                provider="builtin",
                started_at=task.started_at or now,
                status=Run.Status.RUNNING if task.status == Task.Status.RUNNING else Run.Status.SUCCEEDED,
                usage_seconds=12.5,
                usage_tokens=0,
            )
            for task in created
            if task.status in (Task.Status.RUNNING, Task.Status.DONE)
        ]
    )
    Event.objects.bulk_create(
        [
            Event(project=project, kind=Event.Kind.PROJECT_STARTED, created_at=start, message=f"{name} started"),
            Event(
                project=project,
                phase=first,
                kind=Event.Kind.PHASE_COMPLETED,
                created_at=start + timedelta(days=1),
                message="Requirements analysis",
            ),
            Event(
                project=project,
                phase=development,
                kind=Event.Kind.PHASE_STARTED,
                created_at=start + timedelta(days=1),
                message="Development",
            ),
        ]
    )
    return Delivery(project=project, workflow=workflow, phases=phases, tasks=created)
