"""Customer acceptance of user stories: accept or reject each story against its acceptance criteria.

A story can be decided once its development task is done and while the delivery is active (the
final "customer accepts the delivery" approval closes acceptance). A rejection needs a comment,
names the criteria that are not met, and adds a fix task to the phase the project is in; the
customer decides again once the fix is done. Decisions are kept in order and the latest one is the
story's state.

The numbers (``acceptance_summary``):

* **acceptance rate** — stories whose latest decision is "accepted", over the stories decided
  (the seed's target: ≥ 90 %; the MVP guarantee's "customer user acceptance");
* **first-pass rate** — stories accepted at their first decision, over the stories decided;
* **criteria met** — stories accepted, over every story in scope (the MVP guarantee's "all
  acceptance criteria met" needs 100 %).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from agents.roles import Role
from projects.delivery.orchestration import open_phase, task_add
from projects.models import Project, Story, Task, Workflow
from projects.requirements import story_sentence
from success import state_cache
from success.models import StoryDecision
from tenants.audit import Action, audit_record
from tenants.models import User

TARGET_PERCENT = Decimal(90)
FIX_KEY = "story_fix"


class AcceptanceError(Exception):
    """The decision cannot be recorded; the message says why."""


def story_task(story: Story) -> Task | None:
    """The development task that implements ``story`` (the workflow fans out one per story)."""
    return Task.objects.filter(project_id=story.project_id, key="story", inputs__item__story_id=story.pk).first()


def _built_item(story: Story) -> dict[str, Any]:
    task = story_task(story)
    item = task.inputs.get("item") if task is not None else None
    return dict(item) if isinstance(item, dict) else {}


def latest_decision(story: Story) -> StoryDecision | None:
    return StoryDecision.objects.filter(story=story).order_by("-decided_at", "-pk").first()


def _decidable(story: Story) -> None:
    if story.dropped:
        raise AcceptanceError("This story was dropped from the scope.")
    workflow = Workflow.objects.filter(project_id=story.project_id).first()
    if workflow is None or not workflow.is_active:
        raise AcceptanceError("Stories are accepted while the delivery is under way; this project's is not.")
    task = story_task(story)
    if task is None or task.status != Task.Status.DONE or task.not_built:
        raise AcceptanceError("The story is not implemented yet; it can be decided once its work is done.")
    latest = latest_decision(story)
    if latest is not None and latest.fix_task is not None and latest.fix_task.status not in Task.FINISHED:
        raise AcceptanceError("A fix for this story is under way; decide again once it is done.")


@transaction.atomic
def story_accept(*, story: Story, user: User) -> StoryDecision:
    """The customer accepts the story: every acceptance criterion is met."""
    story = Story.objects.select_for_update().get(pk=story.pk)
    _decidable(story)
    decision = StoryDecision.objects.create(
        project_id=story.project_id,
        story=story,
        decision=StoryDecision.Decision.ACCEPTED,
        decided_by=user,
        decided_by_email=user.email,
    )
    audit_record(action=Action.STORY_ACCEPTED, user=user, obj=story, detail={"project_id": story.project_id})
    state_cache.version_bump_on_commit(story.project_id)
    return decision


@transaction.atomic
def story_reject(*, story: Story, user: User, comment: str, unmet_criteria: Iterable[str] = ()) -> StoryDecision:
    """The customer rejects the story with a comment; a fix task joins the current phase."""
    comment = comment.strip()
    if not comment:
        raise AcceptanceError("Say what is wrong: a rejection needs a comment.")
    story = Story.objects.select_for_update(of=("self",)).select_related("project").get(pk=story.pk)
    _decidable(story)
    criteria = [str(c) for c in story.acceptance_criteria]
    unmet = [c for c in unmet_criteria if c in criteria]
    phase = open_phase(story.project)
    if phase is None:
        raise AcceptanceError("The project has no open phase to take the fix.")
    fix = task_add(
        phase=phase,
        key=FIX_KEY,
        title=f"Fix story “{story.title}” after the customer's rejection",
        role=Role.FULLSTACK_DEVELOPER.value,
        inputs={
            "item": {
                **_built_item(story),  # its number and design, as the development step had them
                "story_id": story.pk,
                "title": story.title,
                "sentence": story_sentence(story.as_a, story.i_want, story.so_that),
                "acceptance_criteria": criteria,
            },
            "rejection": {"comment": comment, "unmet_criteria": unmet, "by": user.email},
        },
        actor=user.email,
    )
    decision = StoryDecision.objects.create(
        project=story.project,
        story=story,
        decision=StoryDecision.Decision.REJECTED,
        comment=comment,
        unmet_criteria=unmet,
        decided_by=user,
        decided_by_email=user.email,
        fix_task=fix,
    )
    audit_record(
        action=Action.STORY_REJECTED,
        user=user,
        obj=story,
        detail={"project_id": story.project_id, "comment": comment, "unmet_criteria": unmet},
    )
    state_cache.version_bump_on_commit(story.project_id)
    return decision


# --- numbers ------------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


@dataclass(frozen=True, slots=True)
class AcceptanceSummary:
    stories: int
    decided: int
    accepted: int
    rejected: int
    first_pass_accepted: int

    @property
    def rate(self) -> Decimal | None:
        return _percent(self.accepted, self.decided)

    @property
    def first_pass_rate(self) -> Decimal | None:
        return _percent(self.first_pass_accepted, self.decided)

    @property
    def criteria_met(self) -> Decimal | None:
        return _percent(self.accepted, self.stories)

    @property
    def on_target(self) -> bool | None:
        rate = self.rate
        return None if rate is None else rate >= TARGET_PERCENT


def acceptance_summaries(project_ids: Iterable[int] | None = None) -> dict[int, AcceptanceSummary]:
    """The acceptance numbers of every project of this schema (or of ``project_ids``): two queries."""
    stories = Story.objects.filter(dropped=False)
    decisions = StoryDecision.objects.filter(story__dropped=False)
    if project_ids is not None:
        ids = list(project_ids)
        stories, decisions = stories.filter(project_id__in=ids), decisions.filter(project_id__in=ids)
    in_scope: dict[int, int] = {}
    for project_id in stories.values_list("project_id", flat=True):
        in_scope[project_id] = in_scope.get(project_id, 0) + 1
    first: dict[int, str] = {}
    latest: dict[int, tuple[int, str]] = {}
    for project_id, story_id, decision in decisions.order_by("decided_at", "pk").values_list(
        "project_id", "story_id", "decision"
    ):
        first.setdefault(story_id, decision)
        latest[story_id] = (project_id, decision)
    counts: dict[int, list[int]] = {pid: [0, 0, 0, 0] for pid in in_scope}
    for story_id, (project_id, decision) in latest.items():
        row = counts.setdefault(project_id, [0, 0, 0, 0])
        row[0] += 1
        row[1 if decision == StoryDecision.Decision.ACCEPTED else 2] += 1
        row[3] += first[story_id] == StoryDecision.Decision.ACCEPTED
    return {pid: AcceptanceSummary(in_scope.get(pid, 0), row[0], row[1], row[2], row[3]) for pid, row in counts.items()}


def acceptance_summary(project: Project) -> AcceptanceSummary:
    return acceptance_summaries([project.pk]).get(project.pk) or AcceptanceSummary(0, 0, 0, 0, 0)


def story_acceptance_rows(project: Project) -> list[dict[str, Any]]:
    """Each story in scope with its decisions (oldest first), the latest one, whether its work is
    done and whether a fix is under way — the acceptance matrix of the success page and the API,
    in four queries whatever the number of stories."""
    stories = list(Story.objects.filter(project=project, dropped=False).order_by("position", "pk"))
    decisions: dict[int, list[StoryDecision]] = {}
    for decision in (
        StoryDecision.objects.filter(project=project).select_related("fix_task").order_by("decided_at", "pk")
    ):
        decisions.setdefault(decision.story_id, []).append(decision)
    done = {
        int(story_id)
        for story_id, built in Task.objects.filter(project=project, key="story", status=Task.Status.DONE).values_list(
            "inputs__item__story_id", "output__data__built"
        )
        if story_id is not None and built is not False  # ended without building it: not implemented
    }
    rows = []
    for story in stories:
        history = decisions.get(story.pk, [])
        latest = history[-1] if history else None
        fixing = latest is not None and latest.fix_task is not None and latest.fix_task.status not in Task.FINISHED
        rows.append(
            {"story": story, "history": history, "latest": latest, "implemented": story.pk in done, "fixing": fixing}
        )
    return rows
