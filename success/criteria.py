"""Acceptance criteria as checks, and the acceptance gate over them.

The contract of a story is its acceptance criteria. The built-in developers (and the QA step)
report one result per criterion in their outcome, ``data["acceptance_checks"]``:
``{"story", "index", "criterion", "derived", "status": pass|fail|unverified, "test", "output",
"commit", "reason"}`` (``story`` is the story's number in the workflow's items, or ``story_id``;
``index`` is the criterion's 1-based number, as in the generated test's name and
``docs/acceptance.md`` — stored as its 0-based position, ``CriterionCheck.index``).
``checks_record`` keeps the latest result of each criterion as a ``CriterionCheck`` and the
earlier ones in its history.

**The acceptance gate** (``acceptance_gate``) is over every criterion of every story in scope —
a criterion nobody reported on is unverified, a story the agents could not build has all its
criteria unverified. Only a verified pass counts as pass; unverified is unknown, never pass. A
check that is not a verified pass goes to a person: the account manager waives it with a reason
the customer sees (``check_waive``), or attaches evidence (``check_evidence_attach``); both are
audit-logged. The gate is *passed* when every criterion passed, *passed with waivers* when the
rest were decided by a person, and *open* otherwise (the account manager is escalated to).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects.delivery.story_gaps import story_numbers
from projects.models import Project, Story, Task
from success.models import CriterionCheck
from tenants.audit import Action, audit_record
from tenants.models import User

OUTPUT_LIMIT = 4000
STATUSES = {str(s) for s in CriterionCheck.Status}


class CriterionError(Exception):
    """The decision on a check is not possible; the message says why."""


def _story_of(entry: Mapping[str, Any], numbers: Mapping[int, int], stories: Mapping[int, Story]) -> Story | None:
    try:
        story_id = int(entry["story_id"]) if "story_id" in entry else numbers.get(int(entry.get("story", 0)))
    except (TypeError, ValueError):
        return None
    return stories.get(story_id) if story_id is not None else None


def _check_fields(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    status = str(entry.get("status", ""))
    try:
        number = int(entry.get("index", 0))
    except (TypeError, ValueError):
        return None
    if status not in STATUSES or number < 1:
        return None
    return {
        "index": number - 1,
        "criterion": str(entry.get("criterion", ""))[:2000],
        "derived": bool(entry.get("derived", False)),
        "status": status,
        "test": str(entry.get("test") or "")[:500],
        "output": str(entry.get("output") or "")[-OUTPUT_LIMIT:],
        "commit": str(entry.get("commit") or "")[:64],
        "reason": str(entry.get("reason") or "")[:2000],
    }


@transaction.atomic
def checks_record(*, task: Task, entries: Iterable[Mapping[str, Any]]) -> list[CriterionCheck]:
    """Store the latest result of each criterion ``task`` reported (malformed entries are skipped:
    the criterion then stays unverified). A new result clears a person's earlier decision."""
    numbers = story_numbers(task)
    stories = {s.pk: s for s in Story.objects.filter(project_id=task.project_id)}
    now, recorded = timezone.now(), []
    for entry in entries:
        story = _story_of(entry, numbers, stories) if isinstance(entry, Mapping) else None
        fields = _check_fields(entry) if story is not None else None
        if story is None or fields is None:
            continue
        index = fields.pop("index")
        check = CriterionCheck.objects.select_for_update().filter(story=story, index=index).first()
        if check is None:
            check = CriterionCheck(project_id=task.project_id, story=story, index=index)
        else:
            check.history = [
                *check.history,
                {
                    "status": check.status,
                    "test": check.test,
                    "commit": check.commit,
                    "checked_at": check.checked_at.isoformat(),
                    "task_id": check.task_id,
                },
            ][-20:]
        for name, value in fields.items():
            setattr(check, name, value)
        check.task, check.checked_at = task, now
        check.waived_reason = check.evidence = check.decided_by_email = ""
        check.decided_at = None
        check.save()
        recorded.append(check)
    return recorded


# --- the matrix and the gate --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CriterionRow:
    story: Story
    index: int
    criterion: str
    derived: bool
    check: CriterionCheck | None

    @property
    def outcome(self) -> str:
        return self.check.outcome if self.check is not None else "unverified"

    @property
    def label(self) -> str:
        return {
            "pass": "Verified: pass",
            "fail": "Verified: fail",
            "unverified": "Unverified",
            "waived": "Waived",
            "evidenced": "Evidence attached",
        }[self.outcome]

    @property
    def tone(self) -> str:
        return {"pass": "ok", "evidenced": "ok", "fail": "bad", "waived": "warn"}.get(self.outcome, "info")


@dataclass(frozen=True, slots=True)
class StoryCriteria:
    story: Story
    rows: list[CriterionRow]

    @property
    def gap(self) -> dict[str, Any]:
        return dict(self.story.gap or {})

    @property
    def verified(self) -> bool:
        """Delivered and verified: built (no open gap) and every criterion passed or evidenced."""
        return bool(self.rows) and all(row.outcome in {"pass", "evidenced"} for row in self.rows)


def criteria_matrix(project: Project) -> list[StoryCriteria]:
    """story → criterion → check → result, over every story in scope (two queries)."""
    checks: dict[int, dict[int, CriterionCheck]] = {}
    for check in CriterionCheck.objects.filter(project=project, story__dropped=False):
        checks.setdefault(check.story_id, {})[check.index] = check
    matrix = []
    for story in Story.objects.filter(project=project, dropped=False).order_by("position", "pk"):
        own = checks.get(story.pk, {})
        written = [str(c) for c in story.acceptance_criteria if str(c).strip()]
        if written:
            rows = [CriterionRow(story, i, text, False, own.get(i)) for i, text in enumerate(written)]
        else:  # the criteria a product owner would write, labelled as derived
            rows = [CriterionRow(story, i, c.criterion, True, c) for i, c in sorted(own.items())]
        if not rows:
            rows = [CriterionRow(story, 0, "(no acceptance criteria yet)", True, None)]
        matrix.append(StoryCriteria(story, rows))
    return matrix


@dataclass(frozen=True, slots=True)
class AcceptanceGate:
    total: int
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)

    @property
    def passed(self) -> int:
        return self.count("pass") + self.count("evidenced")

    @property
    def open(self) -> int:
        return self.count("fail") + self.count("unverified")

    @property
    def state(self) -> str:
        if self.total == 0 or self.open:
            return "open"
        return "passed_with_waivers" if self.count("waived") else "passed"

    @property
    def text(self) -> str:
        parts = [f"{self.passed} of {self.total} acceptance criteria verified"]
        for outcome, words in (("fail", "failed"), ("unverified", "unverified"), ("waived", "waived")):
            if self.count(outcome):
                parts.append(f"{self.count(outcome)} {words}")
        return ", ".join(parts)


def gate_of(matrix: Iterable[StoryCriteria]) -> AcceptanceGate:
    counts: dict[str, int] = {}
    total = 0
    for story in matrix:
        for row in story.rows:
            total += 1
            counts[row.outcome] = counts.get(row.outcome, 0) + 1
    return AcceptanceGate(total, counts)


def acceptance_gate(project: Project) -> AcceptanceGate:
    return gate_of(criteria_matrix(project))


# --- a person's decisions -----------------------------------------------------------------------


def _undecided(check: CriterionCheck) -> CriterionCheck:
    locked = CriterionCheck.objects.select_for_update().get(pk=check.pk)
    if locked.status == CriterionCheck.Status.PASS:
        raise CriterionError("This criterion passed its check; there is nothing to decide.")
    return locked


def _decide(check: CriterionCheck, user: User, *, waived_reason: str, evidence: str, action: str) -> CriterionCheck:
    """Record a person's decision on a check that did not pass: exactly one of a waiver's reason or
    evidence, who and when; audited with what was decided."""
    check = _undecided(check)
    check.waived_reason, check.evidence = waived_reason, evidence
    check.decided_by_email, check.decided_at = user.email, timezone.now()
    check.save(update_fields=["waived_reason", "evidence", "decided_by_email", "decided_at"])
    decided = {"reason": waived_reason} if waived_reason else {"evidence": evidence}
    audit_record(
        action=action,
        user=user,
        obj=check,
        detail={"project_id": check.project_id, "story_id": check.story_id, **decided},
    )
    return check


@transaction.atomic
def check_waive(*, check: CriterionCheck, user: User, reason: str) -> CriterionCheck:
    """The account manager accepts an unverified or failed criterion without a passing check; the
    reason is shown to the customer next to it."""
    if not reason.strip():
        raise CriterionError("A waiver needs a reason the customer can read.")
    return _decide(check, user, waived_reason=reason.strip(), evidence="", action=Action.CRITERION_WAIVED)


@transaction.atomic
def check_evidence_attach(*, check: CriterionCheck, user: User, evidence: str) -> CriterionCheck:
    """The account manager attaches evidence that the criterion is met (a test run, a recording,
    a link to a review)."""
    if not evidence.strip():
        raise CriterionError("Attach the evidence: say what shows the criterion is met.")
    return _decide(check, user, waived_reason="", evidence=evidence.strip(), action=Action.CRITERION_EVIDENCED)


def check_for_row(*, project: Project, story: Story, index: int) -> CriterionCheck:
    """The check of a criterion nobody reported on yet, made unverified so that a person can decide
    it (the criterion text from the story)."""
    written = [str(c) for c in story.acceptance_criteria]
    text = written[index] if 0 <= index < len(written) else ""
    check, _ = CriterionCheck.objects.get_or_create(
        story=story,
        index=index,
        defaults={"project": project, "criterion": text, "reason": "no check reported yet"},
    )
    return check
