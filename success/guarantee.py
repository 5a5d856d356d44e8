"""The 30-day success guarantee: its window, its conditions, assessments, claims and the refund.

**Window.** Opens when the project is delivered (``project.completed``: the workflow's finish
time) and closes ``GUARANTEE_DAYS`` (30) days later.

**Conditions** are the catalog's (``billing.catalog.guarantee_conditions``): the general four and
the service's own. Each is *met*, *not met* or *pending*, always with its evidence:

* timeline adherence / delivered in the timeline — the delivery time against the plan of the
  accepted quote (``projects.delivery.progress.project_timeline``); no plan: pending;
* quality standards kept — every gated phase passed its gates on measurements; a waived gate is
  not "kept" (the waiver and its reason are the evidence); without gated phases, an account
  manager's judgement;
* customer / stakeholder satisfaction ≥ 8/10 — the mean of the answered surveys;
* working product delivered within the timeline — the paid scope delivered and verified
  (``success.delivery_status``: open capability gaps and drops without the owner's consent are not
  delivered), then the timeline;
* acceptance criteria met — the acceptance gate (``success.criteria``: every criterion verified;
  unverified keeps it pending, a failure fails it) and 100 % of the stories accepted by the
  customer; user acceptance (acceptance rate ≥ 90 %) — the story decisions
  (``success.acceptance``); undecided stories keep them pending;
* performance benchmarks met — the latest p95 page load of the preview within the project's
  target (< 2 s, or the stricter one its requirements ask for), only from a measurement (none:
  pending);
* functional parity, performance improvement (≥ 20 % better than legacy: the benchmark ratio
  − 100) — the agents' latest measurements;
* security findings reduction (≥ 90 %) and velocity improvement (≥ 40 %) — the latest
  measurement against the metric's baseline (no baseline: pending);
* zero disruption incidents — incidents recorded by account managers; met once the window closed
  without one;
* measurable improvement in the agreed metrics — the service's measurable conditions together;
* anything else the seed leaves to judgement (team integration, quality kept for augmentation) —
  an account manager's recorded judgement, pending until there is one.

**Assessment** is recorded at the end of the window (``guarantees_due_assess``, beat) or at once
when the customer claims. Every condition met: the guarantee passed. Any not met: it failed, and
the account manager is asked (escalation and email) to confirm the full refund, which
``billing.services.refund_full`` sends to Stripe; declining it needs a written reason, shown to the
customer. Nothing not met but evidence missing: the assessment says so and the account manager is
asked for the evidence, then assesses again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from billing.catalog import GUARANTEE_DAYS, Criterion, guarantee_conditions
from billing.services import BillingError, refund_full
from projects.delivery.progress import project_timeline
from projects.models import Event, Phase, Project, Task, Workflow
from projects.scoping.scope_snapshot import project_quality_standards
from success.acceptance import acceptance_summary
from success.criteria import acceptance_gate
from success.delivery_status import project_scope_facts
from success.escalations import escalation_raise
from success.measurements import reading_latest, records_read
from success.metrics import latest_measurements, metrics_ensure, metrics_snapshot
from success.models import (
    CriterionCheck,
    Escalation,
    GateRun,
    GateWaiver,
    Guarantee,
    GuaranteeAssessment,
    Measurement,
    SuccessMetric,
    Survey,
)
from success.satisfaction import satisfaction_summary
from tenants.models import User
from tenants.quality import PAGE_LOAD_MAX, Measure

MET, NOT_MET, PENDING = "met", "not_met", "pending"
STATE_LABELS = {MET: "Met", NOT_MET: "Not met", PENDING: "Pending"}


class GuaranteeError(Exception):
    """The guarantee action is not possible; the message says why."""


@dataclass(frozen=True, slots=True)
class ConditionCheck:
    code: str
    description: str
    target: str
    state: str
    value: str
    evidence: str

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(slots=True)
class Facts:
    """What the conditions are judged on, read once per assessment."""

    project: Project
    now: datetime
    window_closed: bool
    workflow: Workflow | None
    latest: dict[str, Measurement]
    numbers: dict[str, tuple[Decimal, str]]  # derived values to snapshot: code → (value, source)


Judge = Callable[[Facts, Criterion], tuple[str, str, str]]  # (state, value shown, evidence)


def _judged(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    """An account manager's recorded judgement (1 met, 0 not met), or pending."""
    measurement = facts.latest.get(criterion.code)
    if measurement is None or measurement.recorded_by_email == "system":
        return PENDING, "—", "no judgement recorded yet by the account manager"
    state = MET if measurement.value >= 1 else NOT_MET
    return (
        state,
        "yes" if state == MET else "no",
        f"{measurement.source} ({measurement.recorded_by_email}, {measurement.measured_at:%Y-%m-%d})",
    )


def _threshold(
    facts: Facts, criterion: Criterion, value: Decimal | None, unit: str, source: str
) -> tuple[str, str, str]:
    if value is None:
        return PENDING, "—", source
    facts.numbers[criterion.code] = (value, source)
    shown = f"{value.normalize():f}{unit}"
    return (MET if criterion.is_met(value) else NOT_MET), shown, source


def _timeline(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    workflow = facts.workflow
    if workflow is None or workflow.finished_at is None or workflow.planned_end is None:
        judged = _judged(facts, criterion)
        if judged[0] != PENDING:
            return judged
        return PENDING, "—", "no planned delivery date (no accepted quote with a timeline)"
    delay = project_timeline(facts.project, now=facts.now).delay or timedelta(0)
    days = Decimal(delay.total_seconds() / 86400).quantize(Decimal("0.1"))
    facts.numbers[criterion.code] = (days, "days late against the accepted plan (negative: early)")
    evidence = f"delivered {workflow.finished_at:%Y-%m-%d %H:%M}, planned {workflow.planned_end:%Y-%m-%d %H:%M} UTC"
    shown = f"{abs(days)} days {'late' if delay > timedelta(0) else 'early'}" if days else "on the day"
    return (NOT_MET if delay > timedelta(0) else MET), shown, evidence


def _quality(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    gated = list(Phase.objects.filter(project=facts.project, gated=True).order_by("position"))
    if not gated:
        return _judged(facts, criterion)
    runs = {run.phase_id: run for run in GateRun.objects.filter(project=facts.project).order_by("number")}
    missing = [phase.name for phase in gated if phase.pk not in runs or not runs[phase.pk].passed]
    if missing:
        return PENDING, "—", f"gates not passed yet: {', '.join(missing)}"
    waived = [
        f"{waiver.description} in {waiver.phase.name} (waived by {waiver.waived_by_email}: {waiver.reason})"
        for waiver in GateWaiver.objects.filter(project=facts.project).select_related("phase")
        if runs[waiver.phase_id].verdict == GateRun.Verdict.PASSED_WITH_WAIVERS
    ]
    if waived:
        return NOT_MET, "waived", "; ".join(waived)
    return MET, "all passed", "; ".join(f"{phase.name}: gate run #{runs[phase.pk].number} passed" for phase in gated)


def _satisfaction(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    scores = list(
        Survey.objects.filter(project=facts.project, score__isnull=False)
        .order_by("answered_at")
        .values_list("score", flat=True)
    )
    summary = satisfaction_summary(score for score in scores if score is not None)
    source = f"mean of {summary.answered} answered survey{'s' if summary.answered != 1 else ''}"
    return _threshold(facts, criterion, summary.mean, "/10", source if summary.answered else "no survey answered yet")


def _acceptance_criteria(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    """Every criterion verified (the acceptance gate: unverified is unknown, never pass) and every
    story accepted by the customer — never coverage alone."""
    gate = acceptance_gate(facts.project)
    summary = acceptance_summary(facts.project)
    evidence = f"{gate.text}; {summary.accepted} of {summary.stories} stories accepted, {summary.rejected} rejected"
    if summary.stories == 0:
        return PENDING, "—", "the project has no stories in scope"
    if gate.count("fail"):
        return NOT_MET, f"{gate.passed}/{gate.total} criteria", evidence
    if gate.state == "open":
        return PENDING, f"{gate.passed}/{gate.total} criteria", evidence + " (unverified criteria are unknown, not met)"
    if gate.count("waived"):
        waived = "; ".join(
            f"“{c.criterion}” waived by {c.decided_by_email}: {c.waived_reason}"
            for c in CriterionCheck.objects.filter(project=facts.project, story__dropped=False).exclude(
                waived_reason=""
            )
        )
        evidence = f"{evidence}; {waived}"
    if summary.rejected == 0 and summary.decided < summary.stories:
        return (
            PENDING,
            f"{summary.accepted}/{summary.stories}",
            f"{evidence}, {summary.stories - summary.decided} not decided yet",
        )
    return _threshold(facts, criterion, summary.criteria_met, "%", evidence)


def _working_product(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    """The paid scope delivered and verified (``success.delivery_status``), then the timeline."""
    scope = project_scope_facts(facts.project)
    finished = facts.workflow is not None and facts.workflow.finished_at is not None
    missing = scope.open_gaps + scope.unconsented
    if missing or scope.delivered < scope.paid:
        evidence = f"{scope.delivered} of {scope.paid} paid stories delivered and verified"
        if missing:
            evidence += "; not delivered: " + ", ".join(missing)
        return (NOT_MET if finished or missing else PENDING), f"{scope.delivered}/{scope.paid} stories", evidence
    state, shown, evidence = _timeline(facts, criterion)
    if scope.consented:
        evidence += "; reduced scope agreed by the owner: " + ", ".join(scope.consented)
    return state, shown, evidence


def _user_acceptance(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    summary = acceptance_summary(facts.project)
    evidence = f"{summary.accepted} of {summary.decided} decided stories accepted"
    return _threshold(facts, criterion, summary.rate, "%", evidence if summary.decided else "no story decided yet")


def _agent_value(facts: Facts, key: str) -> tuple[Decimal | None, str]:
    reading = reading_latest(records_read(facts.project, {key}), (key,))
    if reading is None:
        return None, f"no measurement of “{key}” was recorded"
    return reading.values[key], f"{reading.source}, {reading.at:%Y-%m-%d %H:%M} UTC"


def _performance_benchmarks(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    value, source = _agent_value(facts, "page_load_p95_ms")
    if value is None:  # only a measurement says a benchmark was achieved
        return PENDING, "—", source
    facts.numbers[criterion.code] = (value, source)
    # The project's own target (a stricter page load from its non-functional requirements).
    target = (
        next(c.threshold for c in project_quality_standards(facts.project) if c.code == "page_load") or PAGE_LOAD_MAX
    )
    met = target.is_met(value / 1000)
    return (MET if met else NOT_MET), f"{value.normalize():f} ms p95 (target {target.label})", source


def _parity(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    value, source = _agent_value(facts, Measure.PARITY)
    return _threshold(facts, criterion, value, "%", source)


def _performance_improvement(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    ratio, source = _agent_value(facts, Measure.PERFORMANCE)
    improvement = ratio - 100 if ratio is not None else None
    return _threshold(
        facts, criterion, improvement, "%", f"benchmark at {ratio}% of legacy: {source}" if ratio else source
    )


def _reduction_from_baseline(
    facts: Facts, criterion: Criterion, current: Decimal | None, source: str
) -> tuple[str, str, str]:
    metric = metrics_ensure(facts.project)[criterion.code]
    if metric.baseline is None:
        return PENDING, "—", "no baseline recorded yet"
    if current is None:
        return PENDING, "—", source
    baseline = metric.baseline
    change = (
        Decimal(100)
        if baseline == 0 and current == 0
        else (baseline - current) * 100 / baseline
        if baseline
        else Decimal(-100)
    )
    change = change.quantize(Decimal("0.1"))
    return _threshold(
        facts,
        criterion,
        change,
        "%",
        f"{current} now against a baseline of {baseline} ({metric.baseline_source}); {source}",
    )


def _security_reduction(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    current, source = _agent_value(facts, "security_findings_total")
    return _reduction_from_baseline(facts, criterion, current, source)


def _velocity_baseline(facts: Facts, metric: SuccessMetric) -> tuple[Decimal | None, str]:
    """The velocity before the engagement: an account manager's recorded baseline, else the one
    the team assessment measured from the customer repository's history (with its method)."""
    if metric.baseline is not None:
        return metric.baseline, metric.baseline_source
    rows = records_read(facts.project, {"velocity_baseline_per_week"})
    reading = reading_latest(rows, ("velocity_baseline_per_week",))
    if reading is None:
        return None, ""
    method = (
        Event.objects.filter(
            project=facts.project, kind=Event.Kind.TASK_REPORT, data__has_key="velocity_baseline_method"
        )
        .order_by("-created_at", "-pk")
        .values_list("data__velocity_baseline_method", flat=True)
        .first()
    )
    return reading.values["velocity_baseline_per_week"], f"{method or 'measured'} — {reading.source}"


def _velocity(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    metric = metrics_ensure(facts.project)[criterion.code]
    baseline, baseline_source = _velocity_baseline(facts, metric)
    execution = Phase.objects.filter(project=facts.project, key="execution").first()
    if baseline is None or baseline <= 0:
        return PENDING, "—", "no baseline velocity measured or recorded yet"
    if execution is None or execution.started_at is None:
        return PENDING, "—", f"the backlog work has not started; baseline {baseline}/week ({baseline_source})"
    end = execution.finished_at or facts.now
    weeks = Decimal(max((end - execution.started_at).total_seconds(), 86400) / (7 * 86400))
    done = Task.objects.filter(phase=execution, status=Task.Status.DONE).count()
    velocity = (Decimal(done) / weeks).quantize(Decimal("0.01"))
    improvement = ((velocity - baseline) * 100 / baseline).quantize(Decimal("0.1"))
    source = (
        f"{done} backlog items delivered in {weeks:.1f} weeks = {velocity}/week against a baseline of "
        f"{baseline}/week ({baseline_source})"
    )
    return _threshold(facts, criterion, improvement, "%", source)


def _disruptions(facts: Facts, criterion: Criterion) -> tuple[str, str, str]:
    incidents = Measurement.objects.filter(metric__project=facts.project, metric__code=criterion.code).exclude(
        recorded_by_email="system"
    )
    worst = max((m.value for m in incidents), default=None)
    if worst is not None and worst > 0:
        noted = "; ".join(f"{m.value} on {m.measured_at:%Y-%m-%d}: {m.source}" for m in incidents if m.value > 0)
        return NOT_MET, f"{worst}", noted
    if not facts.window_closed:
        return PENDING, "0 so far", "the window is still open"
    return MET, "0", "no disruption incident recorded during the window"


JUDGES: dict[str, Judge] = {
    "quality_standards_kept": _quality,
    "timeline_adherence": _timeline,
    "customer_satisfaction": _satisfaction,
    "delivered_in_timeline": _working_product,
    "acceptance_criteria_met": _acceptance_criteria,
    "performance_benchmarks_met": _performance_benchmarks,
    "user_acceptance": _user_acceptance,
    "functional_parity": _parity,
    "performance_improvement": _performance_improvement,
    "security_findings_reduction": _security_reduction,
    "disruption_incidents": _disruptions,
    "velocity_improvement": _velocity,
    "quality_kept": _quality,
    "stakeholder_satisfaction": _satisfaction,
}
# Judged together from the others: the service's own measurable conditions.
SUMMARY_CODE = "metrics_improved"


def conditions_check(project: Project, *, now: datetime | None = None) -> list[ConditionCheck]:
    """Every guarantee condition of the project with its state and evidence (no writes but the
    project's metric rows on first use)."""
    checks, _ = _conditions(project, now=now or timezone.now())
    return checks


def _conditions(project: Project, *, now: datetime) -> tuple[list[ConditionCheck], dict[str, tuple[Decimal, str]]]:
    guarantee = Guarantee.objects.filter(project=project).first()
    facts = Facts(
        project=project,
        now=now,
        window_closed=guarantee is not None and now >= guarantee.closes_at,
        workflow=Workflow.objects.filter(project=project).first(),
        latest=latest_measurements(project),
        numbers={},
    )
    metrics_ensure(project)
    criteria = guarantee_conditions(project.service)
    results: dict[str, ConditionCheck] = {}
    for criterion in criteria:
        if criterion.code == SUMMARY_CODE:
            continue
        state, value, evidence = JUDGES.get(criterion.code, _judged)(facts, criterion)
        target = criterion.threshold.label if criterion.threshold else "met"
        results[criterion.code] = ConditionCheck(criterion.code, criterion.description, target, state, value, evidence)
    own = [
        results[c.code]
        for c in criteria
        if c.threshold is not None and c.code in results and c.code not in {"customer_satisfaction"}
    ]
    summary = next(c for c in criteria if c.code == SUMMARY_CODE)
    states = {check.state for check in own}
    state = NOT_MET if NOT_MET in states else PENDING if PENDING in states or not own else MET
    met = sum(1 for check in own if check.state == MET)
    results[SUMMARY_CODE] = ConditionCheck(
        SUMMARY_CODE,
        summary.description,
        "met",
        state,
        f"{met}/{len(own)}",
        "; ".join(f"{check.description}: {check.state_label.lower()}" for check in own),
    )
    return [results[c.code] for c in criteria], facts.numbers


def _outcome(checks: list[ConditionCheck]) -> str:
    states = {check.state for check in checks}
    if NOT_MET in states:
        return GuaranteeAssessment.Outcome.NOT_MET
    if PENDING in states:
        return GuaranteeAssessment.Outcome.PENDING
    return GuaranteeAssessment.Outcome.MET


# --- lifecycle ----------------------------------------------------------------------------------


def guarantee_open(*, project: Project) -> Guarantee | None:
    """Open the window at delivery (once); None while the project is not delivered."""
    workflow = Workflow.objects.filter(project=project, status=Workflow.Status.COMPLETED).first()
    if workflow is None or workflow.finished_at is None:
        return None
    guarantee, _ = Guarantee.objects.get_or_create(
        project=project,
        defaults={
            "opened_at": workflow.finished_at,
            "closes_at": workflow.finished_at + timedelta(days=GUARANTEE_DAYS),
        },
    )
    metrics_ensure(project)
    return guarantee


@transaction.atomic
def guarantee_assess(
    *, guarantee: Guarantee, trigger: GuaranteeAssessment.Trigger, actor: str = "system", now: datetime | None = None
) -> GuaranteeAssessment:
    """Judge every condition now, record the assessment and act on it."""
    now = now or timezone.now()
    guarantee = Guarantee.objects.select_for_update(of=("self",)).select_related("project").get(pk=guarantee.pk)
    if guarantee.status not in {Guarantee.Status.OPEN, Guarantee.Status.PENDING}:
        raise GuaranteeError(f"The guarantee is already decided: {guarantee.get_status_display().lower()}.")
    project = guarantee.project
    checks, numbers = _conditions(project, now=now)
    metrics_snapshot(project, numbers)
    outcome = _outcome(checks)
    assessment = GuaranteeAssessment.objects.create(
        guarantee=guarantee,
        assessed_at=now,
        trigger=trigger,
        outcome=outcome,
        checks=[asdict(check) for check in checks],
        actor=actor,
    )
    failing = [check for check in checks if check.state == NOT_MET]
    if outcome == GuaranteeAssessment.Outcome.MET:
        guarantee.status = Guarantee.Status.PASSED
    elif outcome == GuaranteeAssessment.Outcome.NOT_MET:
        guarantee.status = Guarantee.Status.FAILED
        escalation_raise(
            project=project,
            kind=Escalation.Kind.GUARANTEE_FAILED,
            subject=f"guarantee:{guarantee.pk}",
            reason=(
                f"The 30-day guarantee of {project.name} is not met ({assessment.get_trigger_display().lower()}): "
                + "; ".join(f"{c.description}: {c.value} (target {c.target}; {c.evidence})" for c in failing)
                + ". Confirm the full refund, or decline it with the reason, in the admin."
            ),
        )
    elif (
        trigger != GuaranteeAssessment.Trigger.REVIEW
        or now >= guarantee.closes_at
        or guarantee.status == Guarantee.Status.PENDING
    ):
        # An account manager's look during the open window changes nothing; otherwise the
        # guarantee waits for the missing evidence.
        guarantee.status = Guarantee.Status.PENDING
        pending = [check for check in checks if check.state == PENDING]
        escalation_raise(
            project=project,
            kind=Escalation.Kind.GUARANTEE_PENDING,
            subject=f"guarantee:{guarantee.pk}",
            reason=(
                f"The guarantee of {project.name} cannot be decided: evidence is missing for "
                + "; ".join(f"{c.description} ({c.evidence})" for c in pending)
                + ". Record it in the admin and assess again."
            ),
        )
    guarantee.save(update_fields=["status"])
    if guarantee.status in {Guarantee.Status.PASSED, Guarantee.Status.FAILED}:
        # The evidence that was missing is in: the request for it is answered.
        Escalation.objects.filter(kind=Escalation.Kind.GUARANTEE_PENDING, subject=f"guarantee:{guarantee.pk}").exclude(
            status=Escalation.Status.RESOLVED
        ).update(
            status=Escalation.Status.RESOLVED,
            resolved_at=now,
            resolved_by_email=actor if "@" in actor else "",
            resolution=f"assessed again: {assessment.get_outcome_display().lower()}",
        )
    return assessment


def guarantee_claim(*, guarantee: Guarantee, user: User, reason: str) -> GuaranteeAssessment:
    """The customer claims the guarantee within the window: it is assessed at once."""
    reason = reason.strip()
    if not reason:
        raise GuaranteeError("Tell us why you claim the guarantee.")
    if not guarantee.is_window_open():
        raise GuaranteeError("The guarantee can be claimed while its 30-day window is open.")
    with transaction.atomic():
        Guarantee.objects.filter(pk=guarantee.pk).update(
            claimed_at=timezone.now(), claimed_by_email=user.email, claim_reason=reason
        )
        return guarantee_assess(guarantee=guarantee, trigger=GuaranteeAssessment.Trigger.CLAIM, actor=user.email)


def guarantees_due_assess(*, now: datetime | None = None) -> list[GuaranteeAssessment]:
    """Assess every guarantee of this schema whose window has closed (beat)."""
    now = now or timezone.now()
    return [
        guarantee_assess(guarantee=guarantee, trigger=GuaranteeAssessment.Trigger.WINDOW_END, now=now)
        for guarantee in Guarantee.objects.filter(status=Guarantee.Status.OPEN, closes_at__lte=now)
    ]


def guarantee_refund_confirm(*, guarantee: Guarantee, user: User, note: str = "") -> Guarantee:
    """An account manager confirms the failed guarantee: everything paid for the project is
    refunded through Stripe (``billing.services.refund_full``)."""
    if not user.is_staff:
        raise GuaranteeError("Only an account manager may confirm a guarantee refund.")
    if guarantee.status != Guarantee.Status.FAILED:
        raise GuaranteeError("Only a failed guarantee is refunded.")
    schema: str = connection.schema_name  # type: ignore[attr-defined]
    reason = f"30-day guarantee not met for {guarantee.project.name}; confirmed by {user.email}"
    try:
        refunds = refund_full(schema_name=schema, project_id=guarantee.project_id, reason=reason, user=user)
    except BillingError as error:
        raise GuaranteeError(str(error)) from error
    now = timezone.now()
    guarantee.status, guarantee.decided_at = Guarantee.Status.REFUNDED, now
    guarantee.decided_by, guarantee.decided_by_email = user, user.email
    guarantee.decision_note = note.strip() or "Full refund confirmed."
    guarantee.refunded_cents += sum(refund.amount_cents for refund in refunds)
    guarantee.save(
        update_fields=["status", "decided_at", "decided_by", "decided_by_email", "decision_note", "refunded_cents"]
    )
    Escalation.objects.filter(kind=Escalation.Kind.GUARANTEE_FAILED, subject=f"guarantee:{guarantee.pk}").exclude(
        status=Escalation.Status.RESOLVED
    ).update(
        status=Escalation.Status.RESOLVED, resolved_at=now, resolved_by_email=user.email, resolution="refund confirmed"
    )
    return guarantee


def guarantee_refund_decline(*, guarantee: Guarantee, user: User, reason: str) -> Guarantee:
    """An account manager declines the refund of a failed guarantee, with the reason the customer sees."""
    if not user.is_staff:
        raise GuaranteeError("Only an account manager may decide a guarantee.")
    if guarantee.status != Guarantee.Status.FAILED:
        raise GuaranteeError("Only a failed guarantee awaits this decision.")
    if len(reason.strip()) < 20:
        raise GuaranteeError(
            "Write the reason for declining the refund (at least 20 characters); the customer sees it."
        )
    guarantee.status, guarantee.decided_at = Guarantee.Status.DECLINED, timezone.now()
    guarantee.decided_by, guarantee.decided_by_email, guarantee.decision_note = user, user.email, reason.strip()
    guarantee.save(update_fields=["status", "decided_at", "decided_by", "decided_by_email", "decision_note"])
    return guarantee
