"""What the success app reads from a finished task's outcome (``Task.output["data"]``):

* ``gaps`` (planning, architecture) and ``gap`` (a story's development that built nothing): the
  stories are marked (``projects.delivery.story_gaps.gaps_record``) and each is escalated to the account
  manager at once — counted as not delivered until built and verified;
* ``acceptance_checks`` (QA, a story's development): stored as criterion checks
  (``success.criteria.checks_record``); once the QA step reported, an acceptance gate with failed
  or unverified criteria is escalated, so that a person waives them or attaches evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_tenants.utils import schema_context

from projects.delivery.story_gaps import GAP_WORDS, gaps_record
from projects.models import Project, Story, Task
from success.criteria import acceptance_gate, checks_record
from success.escalations import escalation_raise
from success.models import Escalation

QA_KEYS = frozenset({"quality", "test", "qa"})


def gap_escalate(*, story: Story) -> Escalation | None:
    gap = story.gap or {}
    return escalation_raise(
        project=story.project,
        kind=Escalation.Kind.CAPABILITY_GAP,
        subject=f"gap:story:{story.pk}",
        reason=(
            f"“{story.title}” {GAP_WORDS} ({gap.get('capability', 'unknown capability')}): {gap.get('reason', '')} "
            "Give it to the llm provider, correct the story, or agree with the customer to drop it."
        ),
    )


def acceptance_escalate(*, project: Project) -> Escalation | None:
    gate = acceptance_gate(project)
    if gate.state != "open":
        return None
    return escalation_raise(
        project=project,
        kind=Escalation.Kind.ACCEPTANCE_OPEN,
        subject=f"acceptance:{project.pk}",
        reason=f"{gate.text}. Unverified is not pass: waive each with a reason the customer sees, or attach evidence.",
    )


def outcome_read(*, task: Task) -> None:
    data: Mapping[str, Any] = (task.output or {}).get("data") or {}
    gaps = list(data.get("gaps") or [])
    if isinstance(data.get("gap"), Mapping):
        item = task.inputs.get("item") or {}
        gaps.append({**data["gap"], "story_id": item.get("story_id")})
    for story in gaps_record(task=task, gaps=gaps) if gaps else []:
        gap_escalate(story=story)
    checks = data.get("acceptance_checks")
    if isinstance(checks, list):
        checks_record(task=task, entries=checks)
        if task.key in QA_KEYS:
            acceptance_escalate(project=task.project)


def on_task_succeeded(*, schema_name: str, task_id: int) -> None:
    with schema_context(schema_name):
        task = Task.objects.select_related("project").filter(pk=task_id).first()
        if task is not None:
            outcome_read(task=task)
