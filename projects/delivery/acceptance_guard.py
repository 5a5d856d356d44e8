"""What stands between a delivery and its acceptance.

Accepting the delivery (the workflow's ``accept`` approval) completes the project, opens the
success guarantee, stops the preview and charges the milestone due on acceptance. None of that may
happen while the delivery is not there: ``acceptance_blockers`` lists, in the customer's words,

- every task that is neither done nor cancelled (blocked, waiting, running, or another decision
  still waiting), other than the acceptance itself — wait for it, or drop it with consent;
- every paid story that is neither delivered nor dropped with an owner's consent: a story whose
  development task has not ended done, or ended without building it (it needs the model provider
  or a developer), or that was dropped but the owner has not consented to the drop yet.

``controls.task_approve`` refuses the acceptance while the list is not empty (the service layer,
so no view, API or demo path can give it), and ``projects.delivery.payments`` does not charge
on an acceptance it would have refused. The decision page (``success.decisions``) shows the list
instead of the button.
"""

from __future__ import annotations

from dataclasses import dataclass

from projects.delivery.workflow import ACCEPT
from projects.models import Project, ScopeChange, Story, Task

WAIT = "wait"
DROP = "drop"
CONSENT = "consent"
GAP_WORDS = "needs the model provider or a developer"
STORY_KEY = "story"


@dataclass(frozen=True, slots=True)
class Blocker:
    """One thing in the way, and how it is resolved (``WAIT``, ``DROP`` with consent, ``CONSENT``)."""

    text: str
    resolve: str

    @property
    def how(self) -> str:
        if self.resolve == WAIT:
            return "Wait until it is finished, or drop it from the scope with your consent."
        if self.resolve == CONSENT:
            return "An owner consents to the drop (and its price consequence) on the project's scope page."
        return "Give it to the model provider or a developer, or drop it from the scope with your consent."


def _task_blockers(project: Project) -> list[Blocker]:
    open_tasks = (
        Task.objects.filter(project=project)
        .exclude(status__in=Task.FINISHED)
        .exclude(key=ACCEPT, kind=Task.Kind.APPROVAL)
        .order_by("phase__position", "position", "pk")
        .values_list("title", "status")
    )
    words = dict(Task.Status.choices)
    return [Blocker(f"“{title}” is {words.get(status, status).lower()}.", WAIT) for title, status in open_tasks]


def story_built(story: Story, task: Task | None) -> bool:
    """The story's development ended done and built it (no open gap, not reported ``built: False``)."""
    gap_open = bool(story.gap) and not story.gap.get("resolved")
    if task is None or gap_open or task.status != Task.Status.DONE:
        return False
    data = task.output.get("data") if isinstance(task.output, dict) else None
    return not (isinstance(data, dict) and (data.get("built") is False or isinstance(data.get("gap"), dict)))


def _story_blockers(project: Project) -> list[Blocker]:
    changes = {c.story_id: c for c in ScopeChange.objects.filter(project=project, story__isnull=False)}
    tasks = {
        int(t.inputs["item"]["story_id"]): t
        for t in Task.objects.filter(project=project, key=STORY_KEY, inputs__item__story_id__isnull=False)
        if isinstance(t.inputs.get("item"), dict) and isinstance(t.inputs["item"].get("story_id"), int)
    }
    blockers: list[Blocker] = []
    for story in Story.objects.filter(project=project).order_by("position", "pk"):
        if story.dropped:
            change = changes.get(story.pk)
            if change is not None and change.consented_at is None:
                blockers.append(Blocker(f"“{story.title}” was dropped, and no owner has consented yet.", CONSENT))
            continue
        task = tasks.get(story.pk)
        if story_built(story, task):
            continue
        if story.gap and not story.gap.get("resolved"):
            reason = str(story.gap.get("reason") or "").strip()
            blockers.append(
                Blocker(f"“{story.title}” is not built: it {GAP_WORDS}." + (f" {reason}" if reason else ""), DROP)
            )
        elif task is not None and task.status == Task.Status.DONE:
            blockers.append(Blocker(f"“{story.title}” is not built: it {GAP_WORDS}.", DROP))
        elif task is not None and task.status == Task.Status.CANCELLED:
            blockers.append(Blocker(f"“{story.title}” was cancelled but is still in the paid scope.", DROP))
    return blockers


def acceptance_blockers(project: Project) -> list[Blocker]:
    """Everything that must be resolved before the delivery can be accepted (empty: it can be)."""
    return _task_blockers(project) + _story_blockers(project)


def blockers_message(blockers: list[Blocker]) -> str:
    shown = "; ".join(b.text.rstrip(".") for b in blockers[:5])
    more = f" and {len(blockers) - 5} more" if len(blockers) > 5 else ""
    return f"The delivery cannot be accepted yet, and nothing is charged: {shown}{more}."
