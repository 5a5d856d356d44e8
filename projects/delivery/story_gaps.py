"""Stories the built-in developers cannot build, and plan items staff correct.

The planning and architecture steps report what the built-in developers cannot build
(``agents.appgen.capabilities``) as ``data["gaps"]`` — ``[{"story": <number>, "capability",
"reason"}]`` — and a story's development step that built nothing reports ``data["gap"]``.
``gaps_record`` marks each such story (``Story.gap``) and appends a ``story.gap`` event, so that
the plan the customer approves says "needs the model provider or a developer" with the reason,
the success app escalates it to the account manager at once, and the story counts as not
delivered until it is built and verified.

Staff then give the story to the ``llm`` provider (``story_to_llm``: its development task runs on
that provider, re-run if it already ended), or correct the plan item — the story's title, wording
or criteria — and re-run its work (``story_correct``). Attaching a person's branch to a story is
not built yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects.delivery import controls
from projects.delivery.events import event_append
from projects.delivery.scope_changes import story_task_of
from projects.models import Event, Story, Task
from projects.requirements import story_sentence
from tenants.audit import Action, audit_record
from tenants.models import User

GAP_WORDS = "needs the model provider or a developer"


class PlanItemError(Exception):
    """The plan item cannot be changed so; the message says why."""


def story_numbers(task: Task) -> dict[int, int]:
    """The workflow's story numbers (``story_items``) → story ids, from the items ``task`` was given,
    else from the planning task of its project (a QA step reports by number without the list)."""
    items: list[Mapping[str, Any]] = list(task.inputs.get("stories") or task.inputs.get("items") or [])
    if isinstance(task.inputs.get("item"), Mapping):
        items.append(task.inputs["item"])
    numbers = {int(i["number"]): int(i["story_id"]) for i in items if "number" in i and "story_id" in i}
    if numbers:
        return numbers
    planning = Task.objects.filter(project_id=task.project_id, key="requirements").only("inputs").first()
    listed = planning.inputs.get("stories") or [] if planning is not None else []
    return {int(i["number"]): int(i["story_id"]) for i in listed if "number" in i and "story_id" in i}


def _story_id(entry: Mapping[str, Any], numbers: Mapping[int, int]) -> int | None:
    try:
        return int(entry["story_id"]) if "story_id" in entry else numbers.get(int(entry.get("story", 0)))
    except (TypeError, ValueError):
        return None


@transaction.atomic
def gaps_record(*, task: Task, gaps: Iterable[Mapping[str, Any]]) -> list[Story]:
    """Mark the stories ``task`` found it cannot build (once each) and say so on the stream."""
    numbers, flagged = story_numbers(task), []
    item = task.inputs.get("item") if isinstance(task.inputs.get("item"), Mapping) else {}
    for entry in gaps:
        if not isinstance(entry, Mapping):
            continue
        story_id = _story_id(entry, numbers) or (item.get("story_id") if "story" not in entry else None)
        if not isinstance(story_id, int):
            continue
        story = Story.objects.select_for_update().filter(pk=story_id, project_id=task.project_id).first()
        if story is None or story.gap:
            continue
        capability = str(entry.get("capability") or "a capability")[:200]
        reason = str(entry.get("reason") or "")[:2000]
        story.gap = {"capability": capability, "reason": reason, "flagged_at": timezone.now().isoformat()}
        story.save(update_fields=["gap"])
        event_append(
            project_id=task.project_id,
            kind=Event.Kind.STORY_GAP,
            task=task,
            message=f"“{story.title}” {GAP_WORDS} ({capability}): {reason}",
            data={"story_id": story.pk, "capability": capability},
        )
        flagged.append(story)
    return flagged


def _rerun_if_ended(task: Task | None, user: User) -> None:
    if task is not None and task.status in {Task.Status.BLOCKED, *Task.FINISHED}:
        controls.task_rerun(task=task, user=user)


@transaction.atomic
def story_to_llm(*, story: Story, user: User) -> Story:
    """The story's development task runs on the ``llm`` provider from now on."""
    story = Story.objects.select_for_update().get(pk=story.pk)
    if story.dropped:
        raise PlanItemError("This story is out of the scope.")
    task = story_task_of(story)
    story.gap = {**story.gap, "assignee": "llm"}
    story.save(update_fields=["gap"])
    if task is not None:
        Task.objects.filter(pk=task.pk).update(inputs={**task.inputs, "provider": "llm"})
        task.refresh_from_db()
        _rerun_if_ended(task, user)
    audit_record(
        action=Action.STORY_REASSIGNED, user=user, obj=story, detail={"project_id": story.project_id, "to": "llm"}
    )
    return story


@transaction.atomic
def story_correct(*, story: Story, user: User, title: str, i_want: str, criteria: list[str]) -> Story:
    """Staff correct a story of the running plan and its work runs again on the corrected text."""
    title, i_want = title.strip(), i_want.strip()
    criteria = [c.strip() for c in criteria if c.strip()]
    if not title or not i_want:
        raise PlanItemError("A story needs a title and what the user wants.")
    story = Story.objects.select_for_update().get(pk=story.pk)
    before = {"title": story.title, "i_want": story.i_want, "acceptance_criteria": list(story.acceptance_criteria)}
    story.title, story.i_want, story.acceptance_criteria = title[:300], i_want, criteria
    story.save(update_fields=["title", "i_want", "acceptance_criteria"])
    task = story_task_of(story)
    if task is not None:
        item = {
            **task.inputs.get("item", {}),
            "title": story.title,
            "i_want": story.i_want,
            "sentence": story_sentence(story.as_a, story.i_want, story.so_that),
            "acceptance_criteria": criteria,
        }
        Task.objects.filter(pk=task.pk).update(inputs={**task.inputs, "item": item})
        task.refresh_from_db()
    event_append(
        project_id=story.project_id,
        kind=Event.Kind.PLAN_CORRECTED,
        task=task,
        actor=user.email,
        message=f"{user.email} corrected the story “{story.title}”",
        data={"story_id": story.pk},
    )
    audit_record(
        action=Action.PLAN_CORRECTED,
        user=user,
        obj=story,
        detail={"project_id": story.project_id, "before": before, "after": {"title": title, "i_want": i_want}},
    )
    _rerun_if_ended(task, user)
    return story
