"""Status that cannot lie: what the dashboard, the overview, the success page, the probability and
the reports say about a delivery, from the same records.

* **Delivered, verified scope.** The paid scope is the stories in scope plus those dropped without
  the owner's recorded consent. A story is *delivered* when its development task is done, no
  capability gap is open on it, and either every acceptance criterion passed its check (or a
  person attached evidence) or the customer accepted it. Progress is the tasks' progress (as
  ``projects.progress`` computes it) but never more than the share of the paid scope that is
  delivered and verified once verification has started (a check reported, or the delivery
  finished), and never more than the share that can still be delivered (open gaps and
  unconsented drops are not) — so a project with undelivered paid scope never reads 100 %.
* **Blocked.** A project with a blocked task is "Blocked for <how long>", never "On plan".
* **Completed** only when no paid scope was dropped without consent and none is left undelivered:
  otherwise "Delivered — paid scope missing, awaiting your decision"; with the owner's consent to
  a drop, "Completed with reduced scope".

``scope_facts`` reads all of it for many projects in five queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Min
from django.utils import timezone

from projects.delivery.faults import skipped_words
from projects.models import Project, ScopeChange, Story, Task, Workflow
from success.models import CriterionCheck, StoryDecision

VERIFIED = {"pass", "evidenced"}


@dataclass(slots=True)
class ScopeFacts:
    paid: int = 0  # stories in scope + dropped without consent
    delivered: int = 0  # built, no open gap, verified or accepted
    implemented: int = 0  # development done
    checked: int = 0  # stories with at least one check reported
    open_gaps: list[str] = field(default_factory=list)
    unconsented: list[str] = field(default_factory=list)
    consented: list[str] = field(default_factory=list)
    criteria_total: int = 0
    criteria_failed: int = 0
    criteria_unverified: int = 0  # of implemented stories
    blocked: int = 0
    blocked_since: datetime | None = None
    skipped: list[str] = field(default_factory=list)  # steps that did nothing, with what they leave open
    # (story id, decision) of the stories not dropped, oldest first: the acceptance factor of the
    # success probability reads them from here, so the dashboard asks for them once.
    decisions: list[tuple[int, str]] = field(default_factory=list)

    def blocked_for(self, now: datetime) -> timedelta | None:
        if not self.blocked:
            return None
        return max(now - self.blocked_since, timedelta(0)) if self.blocked_since else timedelta(0)

    @property
    def verified_share(self) -> float | None:
        return self.delivered / self.paid if self.paid else None

    @property
    def deliverable_share(self) -> float | None:
        if not self.paid:
            return None
        return (self.paid - len(self.open_gaps) - len(self.unconsented)) / self.paid

    def progress(self, task_progress: float, workflow: Workflow | None) -> float:
        """``task_progress`` capped by the delivered, verified scope."""
        value = task_progress
        if self.deliverable_share is not None:
            value = min(value, self.deliverable_share)
        finished = workflow is not None and workflow.status == Workflow.Status.COMPLETED
        if self.verified_share is not None and (self.checked or finished):
            value = min(value, self.verified_share)
        if self.blocked:
            value = min(value, 0.99)
        return value


def _story_rows(ids: list[int]) -> list[Story]:
    return list(
        Story.objects.filter(project_id__in=ids).only(
            "pk", "project_id", "title", "dropped", "gap", "acceptance_criteria"
        )
    )


def scope_facts(project_ids: Iterable[int]) -> dict[int, ScopeFacts]:
    ids = list(project_ids)
    facts = {pid: ScopeFacts() for pid in ids}
    changes = {
        c.story_id: c
        for c in ScopeChange.objects.filter(project_id__in=ids, story__isnull=False).only(
            "story_id", "consented_at", "title"
        )
    }
    done: set[int] = set()
    not_built: set[int] = set()  # ended without building it: not implemented, an open gap
    for sid, built in Task.objects.filter(project_id__in=ids, key="story", status=Task.Status.DONE).values_list(
        "inputs__item__story_id", "output__data__built"
    ):
        if sid is not None:
            (not_built if built is False else done).add(int(sid))
    checks: dict[int, list[str]] = {}
    for check in CriterionCheck.objects.filter(project_id__in=ids).only(
        "story_id", "status", "evidence", "waived_reason"
    ):
        checks.setdefault(check.story_id, []).append(check.outcome)
    decided = list(
        StoryDecision.objects.filter(project_id__in=ids)
        .order_by("decided_at", "pk")
        .values_list("project_id", "story_id", "decision")
    )
    accepted = {story_id: decision == StoryDecision.Decision.ACCEPTED for _, story_id, decision in decided}
    stories = _story_rows(ids)
    for story in stories:
        if story.pk in not_built and not story.gap:  # built nothing, whether or not the gap was recorded
            story.gap = {"capability": "a capability", "reason": ""}
        _story_count(facts[story.project_id], story, changes.get(story.pk), story.pk in done, checks, accepted)
    in_scope = {story.pk for story in stories if not story.dropped}
    for project_id, story_id, decision in decided:
        if story_id in in_scope:
            facts[project_id].decisions.append((story_id, decision))
    for project_id, title, data in Task.objects.filter(
        project_id__in=ids, status=Task.Status.DONE, output__data__has_key="skipped"
    ).values_list("project_id", "title", "output__data"):
        facts[project_id].skipped.append(f"{title}: {skipped_words(data)}")
    for row in (
        Task.objects.filter(project_id__in=ids, status=Task.Status.BLOCKED)
        .values("project_id")
        .annotate(since=Min("blocked_since"), count=Count("pk"))
        .order_by()
    ):
        fact = facts[row["project_id"]]
        fact.blocked_since = row["since"]
        fact.blocked = row["count"]
    return facts


def _story_count(
    fact: ScopeFacts,
    story: Story,
    change: ScopeChange | None,
    built: bool,
    checks: dict[int, list[str]],
    accepted: dict[int, bool],
) -> None:
    if story.dropped:
        if change is not None and change.consented_at is not None:
            fact.consented.append(story.title)
            return
        if change is None:  # dropped while scoping, before any quote: never paid scope
            return
        fact.unconsented.append(story.title)
        fact.paid += 1
        return
    fact.paid += 1
    outcomes = checks.get(story.pk, [])
    written = len([c for c in story.acceptance_criteria if str(c).strip()])
    total = max(written, len(outcomes)) or 1
    verified = sum(1 for o in outcomes if o in VERIFIED)
    fact.criteria_total += total
    fact.checked += bool(outcomes)
    gap_open = bool(story.gap) and not story.gap.get("resolved")
    if gap_open:
        fact.open_gaps.append(story.title)
    if built:
        fact.implemented += 1
        fact.criteria_failed += sum(1 for o in outcomes if o == "fail")
        fact.criteria_unverified += total - verified - sum(1 for o in outcomes if o in {"fail", "waived"})
    if built and not gap_open and (accepted.get(story.pk) or (outcomes and verified == total)):
        fact.delivered += 1


def project_scope_facts(project: Project) -> ScopeFacts:
    return scope_facts([project.pk])[project.pk]


# --- words ----------------------------------------------------------------------------------------


def duration_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    if seconds >= 120:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def status_words(workflow: Workflow | None, facts: ScopeFacts, *, now: datetime | None = None) -> str:
    """The project's status as every page says it."""
    if workflow is None:
        return ""
    now = now or timezone.now()
    blocked_for = facts.blocked_for(now)
    if workflow.is_active and blocked_for is not None:
        return f"Blocked for {duration_text(blocked_for)}"
    if workflow.status == Workflow.Status.COMPLETED and (facts.unconsented or facts.open_gaps):
        return "Delivered — paid scope missing, awaiting your decision"
    if workflow.status == Workflow.Status.COMPLETED and facts.consented:
        return "Completed with reduced scope"
    return str(workflow.get_status_display())


def scope_lines(facts: ScopeFacts) -> list[str]:
    """What is missing from the paid scope, one line each, for pages and reports."""
    lines = [f"Needs the model provider or a developer: {title}" for title in facts.open_gaps]
    lines += [f"Dropped, awaiting the owner's consent: {title}" for title in facts.unconsented]
    lines += [f"Dropped with the owner's consent: {title}" for title in facts.consented]
    return lines + facts.skipped
