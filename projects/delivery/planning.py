"""Planning a delivery: the committed duration of the accepted quote, and laying out a project's
phases, tasks and dependencies from its service's workflow template when it starts (``project_start``)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from projects.delivery.dispatch import roles_on_commit
from projects.delivery.events import event_append
from projects.delivery.orchestration import actor_label, phases_advance
from projects.delivery.workflow import (
    BACKLOG_STEPS,
    FEATURES_STEPS,
    STORIES_STEPS,
    Step,
    WorkflowTemplate,
    workflow_template,
)
from projects.models import Engagement, Event, Phase, Project, Quote, Service, Task, Workflow
from tenants.models import User

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
        actor=actor_label(user),
        message=f"{project.name} started ({template.name} workflow, {len(template.phases)} phases)",
        data={"planned_end": workflow.planned_end.isoformat() if workflow.planned_end else None},
    )
    # Nobody else sees this workflow before the commit: advance it on the layout in hand.
    by_phase: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        by_phase[task.phase_id].append(task)
    roles |= phases_advance(workflow, phases, by_phase, {task.pk for task, _ in dependencies}, now=now)
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
            elif step.key in STORIES_STEPS:
                inputs["stories"] = list(template.items)
            elif step.key in BACKLOG_STEPS:
                inputs["items"] = list(template.items)
            if step.key in FEATURES_STEPS:
                inputs["features"] = project.context_features
                inputs["non_functional"] = project.non_functional
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
