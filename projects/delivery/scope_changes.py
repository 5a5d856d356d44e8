"""Scope changes during a delivery are the customer's decision.

Staff may take paid scope out of a running delivery — cancel a story's work, a task, or a story
the built-in developers cannot build — but only with a reason (``scope_drop``, ``story_drop``).
Each drop is a ``ScopeChange``: an event (``scope.dropped``) on the project's stream — from which
``success.notifications`` tells the customer's owners, once each, by their notification
preferences (this module sends no e-mail itself) — and the price
consequence proposed to the owner — a credit in proportion to the story's points of the accepted
quote. Until an owner consents (``scope_consent``: who, when, the credit), the drop counts as
dropped scope everywhere and the project does not read "Completed" (``drops_unconsented``).
On consent the credit is applied against the milestones not yet charged (the latest first); what
the unpaid milestones cannot absorb stays recorded as owed, for the account manager to refund.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from projects.delivery import controls
from projects.delivery.events import event_append
from projects.models import Event, Project, Quote, ScheduledPayment, ScopeChange, Story, Task
from tenants.audit import Action, audit_record
from tenants.models import User


class ScopeChangeError(Exception):
    """The scope change is not possible; the message says why."""


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ScopeChangeError("Say why: dropping paid scope needs a reason the customer can read.")
    return reason[:2000]


def story_credit_cents(story: Story) -> int:
    """The share of the accepted quote's price the story's points stand for."""
    quote = Quote.objects.filter(project_id=story.project_id, accepted_at__isnull=False).order_by("-number").first()
    if quote is None or not quote.price_cents:
        return 0
    total = int(quote.snapshot.get("total_points") or 0)
    if total <= 0:
        return 0
    return int(quote.price_cents * min(story.points, total) // total)


def story_task_of(story: Story) -> Task | None:
    return Task.objects.filter(project_id=story.project_id, key="story", inputs__item__story_id=story.pk).first()


def _story_of(task: Task) -> Story | None:
    item = task.inputs.get("item") if isinstance(task.inputs, dict) else None
    story_id = item.get("story_id") if isinstance(item, dict) else None
    if task.key != "story" or story_id is None:
        return None
    return Story.objects.filter(pk=story_id, project_id=task.project_id).first()


def _record(*, project: Project, story: Story | None, task: Task | None, user: User, reason: str) -> ScopeChange:
    change = ScopeChange.objects.create(
        project=project,
        story=story,
        task=task,
        title=story.title if story is not None else (task.title if task is not None else ""),
        reason=reason,
        dropped_by_email=user.email,
        credit_cents=story_credit_cents(story) if story is not None else 0,
    )
    event_append(
        project_id=project.pk,
        kind=Event.Kind.SCOPE_DROPPED,
        task=task,
        actor=user.email,
        message=f"“{change.title}” was taken out of the scope: {reason}",
        data={
            "scope_change_id": change.pk,
            "story_id": story.pk if story else None,
            "credit_cents": change.credit_cents,
        },
    )
    return change


@transaction.atomic
def story_drop(*, story: Story, user: User, reason: str) -> ScopeChange:
    """Take a story out of a running delivery (its work is cancelled if under way)."""
    reason = _reason(reason)
    story = Story.objects.select_for_update().select_related("project").get(pk=story.pk)
    if story.dropped:
        raise ScopeChangeError("This story is already out of the scope.")
    task = story_task_of(story)
    if task is not None and task.status not in Task.FINISHED:
        controls.task_cancel(task=task, user=user)
    story.dropped = True
    story.save(update_fields=["dropped"])
    audit_record(
        action=Action.STORY_CANCELLED, user=user, obj=story, detail={"project_id": story.project_id, "reason": reason}
    )
    return _record(project=story.project, story=story, task=task, user=user, reason=reason)


@transaction.atomic
def scope_drop(*, task: Task, user: User, reason: str) -> ScopeChange:
    """Cancel a task with a reason; a story's development task drops the story with it."""
    reason = _reason(reason)
    story = _story_of(task)
    if story is not None and not story.dropped:
        return story_drop(story=story, user=user, reason=reason)
    controls.task_cancel(task=task, user=user)
    return _record(project=task.project, story=story, task=task, user=user, reason=reason)


def drops_unconsented(project: Project) -> list[ScopeChange]:
    return list(ScopeChange.objects.filter(project=project, consented_at__isnull=True))


def _credit_apply(change: ScopeChange) -> int:
    """Lower the milestones not yet charged by the credit, the latest first; returns what was applied."""
    left = change.credit_cents
    unpaid = ScheduledPayment.objects.select_for_update().filter(
        project_id=change.project_id, status=ScheduledPayment.Status.SCHEDULED, amount_cents__gt=0
    )
    for payment in unpaid.order_by("-position"):
        if left <= 0:
            break
        take = min(left, payment.amount_cents)
        ScheduledPayment.objects.filter(pk=payment.pk).update(amount_cents=F("amount_cents") - take)
        left -= take
    return change.credit_cents - left


@transaction.atomic
def scope_consent(*, change: ScopeChange, user: User) -> ScopeChange:
    """An owner agrees to the drop and its price consequence."""
    change = ScopeChange.objects.select_for_update().get(pk=change.pk)
    if change.consented:
        raise ScopeChangeError("The owner's consent to this change is already recorded.")
    change.consented_by_email, change.consented_at = user.email, timezone.now()
    change.credit_applied_cents = _credit_apply(change)
    change.save(update_fields=["consented_by_email", "consented_at", "credit_applied_cents"])
    owed = change.credit_cents - change.credit_applied_cents
    event_append(
        project_id=change.project_id,
        kind=Event.Kind.SCOPE_CONSENTED,
        actor=user.email,
        message=(
            f"{user.email} agreed to drop “{change.title}”; credit ${change.credit_cents / 100:,.2f}"
            + (f" (${owed / 100:,.2f} to be refunded)" if owed else "")
        ),
        data={"scope_change_id": change.pk, "credit_cents": change.credit_cents, "owed_cents": owed},
    )
    audit_record(
        action=Action.SCOPE_CONSENTED,
        user=user,
        obj=change,
        detail={"project_id": change.project_id, "credit_cents": change.credit_cents, "owed_cents": owed},
    )
    return change
