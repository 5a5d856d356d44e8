"""The decisions waiting on the customer, next to what they decide.

Every approval step of a workflow (``Task.Kind.APPROVAL`` waiting in ``AWAITING_APPROVAL``) is a
decision: approving the plan (read the plan: the repository's ``docs/`` rendered by
``success.plan_docs``), reviewing a preview, accepting the delivery (read the acceptance matrix of
``success.acceptance``) and open the preview. ``decisions_read`` gives them with what each one needs beside it, for the
dashboard (a live fragment, ``success/_decisions.html``), the project page and the decision page.

An approval that *closes* something says so before it is given: accepting the delivery ends the
workflow, which closes story acceptance for good (``success.acceptance`` accepts decisions only
while the workflow is active), opens the 30-day guarantee window (``success.guarantee``), stops
the preview and charges the milestone due on acceptance. Such an approval is only given from its
decision page, with the consequences listed and confirmed (``CLOSING_KEYS``), and only once nothing
stands in its way (``Decision.blockers``: unfinished or blocked tasks, paid stories neither
delivered nor dropped with consent) — until then the page lists them and how to resolve each.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from billing.catalog import GUARANTEE_DAYS
from projects.delivery.acceptance_guard import Blocker, acceptance_blockers
from projects.delivery.previews import project_preview_state
from projects.delivery.workflow import UAT_STEP
from projects.models import Project, ScheduledPayment, Task, Workflow
from success.acceptance import acceptance_summary

PLAN_KEYS = frozenset({"approve_plan"})
UAT_KEYS = frozenset({UAT_STEP})  # given with a report of user acceptance testing (projects.delivery.uat)
CLOSING_KEYS = frozenset({"accept"})
_ACCEPTANCE_TRIGGER = "delivery_accepted"


@dataclass(frozen=True, slots=True)
class Decision:
    task_id: int
    key: str
    title: str
    phase: str
    consequences: tuple[str, ...] = field(default=())
    preview: str = ""  # "running", "stopped", or "" when the project has no preview to look at
    # What stands in the way of a closing approval (``projects.delivery.acceptance_guard``): while
    # any is left, the approval is not offered and nothing is charged.
    blockers: tuple[Blocker, ...] = field(default=())

    @property
    def about_preview(self) -> bool:
        return "preview" in self.key

    @property
    def about_plan(self) -> bool:
        return self.key in PLAN_KEYS

    @property
    def about_uat(self) -> bool:
        return self.key in UAT_KEYS

    @property
    def closes(self) -> bool:
        return self.key in CLOSING_KEYS


def _closing_consequences(project: Project) -> tuple[str, ...]:
    summary = acceptance_summary(project)
    undecided = max(summary.stories - summary.decided, 0)
    lines = [
        "Story acceptance closes for good: no story can be accepted or rejected after this"
        + (f" ({undecided} of {summary.stories} stories are still undecided)." if summary.stories else "."),
        f"The {GUARANTEE_DAYS}-day success guarantee starts now; a claim is made within that window.",
        "The delivery ends: the agents stop and the preview is stopped.",
    ]
    due = ScheduledPayment.objects.filter(
        project=project, trigger=_ACCEPTANCE_TRIGGER, status=ScheduledPayment.Status.SCHEDULED
    )
    lines += [f"{row.amount_label} ({row.label}) is charged to your card on file." for row in due]
    return tuple(lines)


def decisions_read(project: Project) -> list[Decision]:
    """The approvals waiting on the customer, in workflow order (one query, more only for a
    closing one)."""
    waiting = (
        Task.objects.filter(project=project, kind=Task.Kind.APPROVAL, status=Task.Status.AWAITING_APPROVAL)
        .order_by("phase__position", "position", "pk")
        .values_list("pk", "key", "title", "phase__name")
    )
    decisions = [
        Decision(pk, key, title, phase, _closing_consequences(project) if key in CLOSING_KEYS else ())
        for pk, key, title, phase in waiting
    ]
    if any(decision.closes for decision in decisions):
        blockers = tuple(acceptance_blockers(project))
        decisions = [replace(d, blockers=blockers) if d.closes else d for d in decisions]
    if any(decision.closes or decision.about_preview for decision in decisions):
        state = project_preview_state(project, Workflow.objects.filter(project=project).first())
        preview = "" if state is None else "running" if state["running"] else "stopped"
        decisions = [replace(decision, preview=preview) for decision in decisions]
    return decisions


def decision_find(project: Project, task_id: int) -> Decision | None:
    return next((decision for decision in decisions_read(project) if decision.task_id == task_id), None)
