"""Quality gates: the policy per service, their evaluation on recorded measurements, remediation,
waivers and re-evaluation.

**Policy.** The thresholds are the seed's, read from ``billing.catalog``, and each gate sits on
the gated phase whose work takes its measurement (``GATE_POLICY``):

* MVP — "Quality gates" (the QA run on the merged code): test coverage ≥ 95 %, every automated
  test passing, zero HIGH security findings; "Customer preview" (DevOps deploys the preview and
  probes it): page load < 2 s as the 95th percentile over the preview's pages.
* Modernization — "Parallel testing": functional parity 100 % (the legacy tests pass against the
  new implementation), zero HIGH findings, UAT satisfaction ≥ 90 % (recorded by the account
  manager from the customer's user acceptance testing); "Validation": performance ≥ 95 % of the
  legacy system on the same benchmark.

The preview and validation phases are therefore gated in ``projects.delivery.workflow`` too. Standards of
the catalog that cannot be measured at a gate are not gated here: uptime (99.9 %) is an operating
figure of the deployed system, the age of blocking issues is watched by the escalations, and the
rollback time of a phase is proven by the rollout step. Augmentation work has no gated phase.

**Evaluation.** ``projects`` sends ``phase_ready_for_gates`` when a gated phase's tasks are done;
``gates_evaluate`` reads the latest measurement of each gate (``success.measurements``), records a
``GateRun`` with one ``GateResult`` per gate (value, target, source) and passes the phase or
blocks it. A gate whose measurement was never recorded is *unknown*, and unknown blocks like a
failure: a gate passes only on a number.

**Remediation.** A blocked phase gets a fix task per failed gate (a developer of the service) and,
once the fixes are done, a re-check task (the phase's own measuring step, run again); when that is
done the gates are requested again (``projects.delivery.gates.phase_gates_retry``). With only
unknown gates the re-check comes at once. A gate that failed in two runs of a phase is escalated
to the account manager. A gate still unknown after its re-check cannot be measured: it opens one
escalation for a person's decision; automatic re-runs are capped (``HIVE_GATE_AUTO_RERUNS``, default 2,
so at most 3 runs per phase without a person) and then the phase waits for that decision.

**Waivers.** An account manager may waive one gate of a blocked phase with a written reason; the
waiver is recorded, the gates are evaluated again at once (a waived gate that still fails counts
as waived) and the customer sees the waiver and its reason on the project's quality page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.roles import Role
from billing.catalog import (
    MODERNIZATION_PHASE_GATES,
    MVP_QUALITY_STANDARDS,
    Criterion,
    ServiceCode,
)
from projects.delivery.controls import task_cancel
from projects.delivery.gates import phase_gates_block, phase_gates_pass, phase_gates_retry
from projects.delivery.orchestration import WorkflowError, approval_add, task_add, workflow_lock
from projects.delivery.uat import MAX_FINDINGS
from projects.delivery.workflow import UAT_STEP
from projects.models import Event, Phase, Project, Service, Task
from projects.scoping.scope_snapshot import project_quality_standards
from success.escalations import escalation_raise
from success.measurements import Reading, reading_latest, records_read
from success.models import Escalation, GateResult, GateRun, GateState, GateWaiver
from tenants.audit import Action, audit_record
from tenants.models import User
from tenants.quality import TESTS_PASSING_MIN, Measure

log = logging.getLogger(__name__)

FIX_KEY = "gate_fix"


def _criterion(criteria: tuple[Criterion, ...], code: str) -> Criterion:
    return next(criterion for criterion in criteria if criterion.code == code)


TESTS_PASSING = Criterion("tests_passing", "Automated tests passing", TESTS_PASSING_MIN)


def _percent_passing(values: Mapping[str, Decimal]) -> Decimal | None:
    total = values[Measure.TESTS_PASSED] + values[Measure.TESTS_FAILED]
    if total <= 0:
        return Decimal(0)  # no test ran: nothing is shown to pass
    return (values[Measure.TESTS_PASSED] * 100 / total).quantize(Decimal("0.01"))


def _seconds(values: Mapping[str, Decimal]) -> Decimal | None:
    return values[Measure.PAGE_LOAD_P95] / 1000


@dataclass(frozen=True, slots=True)
class Gate:
    """One gate: the catalog's criterion, the measurement keys it reads (from one record) and how
    they become the value compared with the threshold."""

    criterion: Criterion
    keys: tuple[str, ...]
    unit: str
    value_of: Callable[[Mapping[str, Decimal]], Decimal | None] | None = None
    fix: str = ""  # what the fix task asks for

    @property
    def code(self) -> str:
        return self.criterion.code

    @property
    def target(self) -> str:
        assert self.criterion.threshold is not None
        return self.criterion.threshold.label

    def value(self, reading: Reading) -> Decimal | None:
        return self.value_of(reading.values) if self.value_of else reading.values[self.keys[0]]


COVERAGE = Gate(
    _criterion(MVP_QUALITY_STANDARDS, "test_coverage"),
    (Measure.COVERAGE,),
    "%",
    fix="Add automated tests for the uncovered code until line coverage is at least 95 %.",
)
TESTS = Gate(
    TESTS_PASSING,
    (Measure.TESTS_PASSED, Measure.TESTS_FAILED),
    "%",
    _percent_passing,
    fix="Make every failing automated test pass (fix the code, not the test's expectation).",
)
SECURITY = Gate(
    _criterion(MVP_QUALITY_STANDARDS, "high_security_findings"),
    (Measure.HIGH_FINDINGS,),
    "",
    fix="Fix every HIGH finding of the security scan.",
)
PAGE_LOAD = Gate(
    _criterion(MVP_QUALITY_STANDARDS, "page_load"),
    (Measure.PAGE_LOAD_P95,),
    "s",
    _seconds,
    fix="Bring the 95th-percentile page load of the preview's pages under 2 seconds.",
)
PARITY = Gate(
    _criterion(MODERNIZATION_PHASE_GATES, "functional_parity"),
    (Measure.PARITY,),
    "%",
    fix="Make every legacy test pass against the new implementation.",
)
PERFORMANCE = Gate(
    _criterion(MODERNIZATION_PHASE_GATES, "performance_vs_legacy"),
    (Measure.PERFORMANCE,),
    "%",
    fix="Bring the benchmark to at least 95 % of the legacy system's performance.",
)
MODERN_SECURITY = Gate(
    _criterion(MODERNIZATION_PHASE_GATES, "high_security_findings"),
    (Measure.HIGH_FINDINGS,),
    "",
    fix="Fix every HIGH finding of the security scan.",
)
UAT = Gate(
    _criterion(MODERNIZATION_PHASE_GATES, "uat_satisfaction"),
    (Measure.UAT,),
    "%",
    fix="Address the findings of user acceptance testing and repeat it.",
)
# Gates per (service, phase key): each gate sits on the phase whose work takes its measurement.
GATE_POLICY: dict[tuple[ServiceCode, str], tuple[Gate, ...]] = {
    (ServiceCode.MVP, "quality"): (COVERAGE, TESTS, SECURITY),
    (ServiceCode.MVP, "preview"): (PAGE_LOAD,),
    (ServiceCode.MODERNIZATION, "testing"): (PARITY, MODERN_SECURITY, UAT),
    (ServiceCode.MODERNIZATION, "validation"): (PERFORMANCE,),
}
FIX_ROLE = {
    ServiceCode.MVP: Role.FULLSTACK_DEVELOPER,
    ServiceCode.MODERNIZATION: Role.MODERNIZATION_DEVELOPER,
    ServiceCode.AUGMENTATION: Role.TASK_EXECUTION,
}


def _project_gates(project: Project, gates: tuple[Gate, ...]) -> tuple[Gate, ...]:
    """The gates with the project's own targets: a stricter page load the customer's
    requirements ask for (``projects.scope_snapshot.project_quality_standards``)."""
    own = {criterion.code: criterion for criterion in project_quality_standards(project)}
    gates = tuple(
        replace(gate, criterion=own[gate.code]) if gate.code in own and own[gate.code].threshold else gate
        for gate in gates
    )
    return tuple(
        replace(gate, fix=f"Bring the 95th-percentile page load of the preview's pages to {gate.target}.")
        if gate.code == PAGE_LOAD.code and gate.criterion is not PAGE_LOAD.criterion
        else gate
        for gate in gates
    )


def gates_for(service: str, phase_key: str) -> tuple[Gate, ...]:
    """The gates a phase is held to; a gated phase without policy has none (and says so)."""
    return GATE_POLICY.get((ServiceCode(service), phase_key), ())


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    gate: Gate
    state: GateState
    value: Decimal | None
    evidence: str
    reading: Reading | None


def checks_read(phase: Phase, waivers: Mapping[str, GateWaiver] | None = None) -> list[Check]:
    """Every gate of the phase on the project's latest measurements (no writes)."""
    project = phase.project
    gates = _project_gates(project, gates_for(project.service, phase.key))
    records = records_read(project, {key for gate in gates for key in gate.keys})
    checks = []
    for gate in gates:
        reading = reading_latest(records, gate.keys)
        value = gate.value(reading) if reading is not None else None
        if value is None:
            names = " and ".join(f"“{key}”" for key in gate.keys)
            state, evidence = GateState.UNKNOWN, f"no measurement of {names} was recorded"
        else:
            assert reading is not None
            met = gate.criterion.is_met(value)
            state, evidence = (
                (GateState.PASSED if met else GateState.FAILED),
                f"{reading.source}, {reading.at:%Y-%m-%d %H:%M} UTC",
            )
        waiver = (waivers or {}).get(gate.code)
        if state != GateState.PASSED and waiver is not None:
            state = GateState.WAIVED
            evidence = f"{evidence}; waived by {waiver.waived_by_email}: {waiver.reason}"
        checks.append(Check(gate, state, value, evidence, reading))
    return checks


def _verdict(checks: list[Check]) -> str:
    states = {check.state for check in checks}
    if states & {GateState.FAILED, GateState.UNKNOWN}:
        return GateRun.Verdict.BLOCKED
    return GateRun.Verdict.PASSED_WITH_WAIVERS if GateState.WAIVED in states else GateRun.Verdict.PASSED


def _summary(checks: list[Check]) -> str:
    parts = []
    for check in checks:
        if check.state in {GateState.FAILED, GateState.UNKNOWN}:
            shown = _value_text(check) if check.value is not None else "not measured"
            parts.append(f"{check.gate.criterion.description} {shown} (target {check.gate.target})")
    return "; ".join(parts)


def _value_text(check: Check) -> str:
    if check.value is None:
        return "not measured"
    number = f"{check.value.normalize():f}"
    return f"{number}{check.gate.unit}" if check.gate.unit == "%" else f"{number} {check.gate.unit}".strip()


@transaction.atomic
def gates_evaluate(*, phase: Phase, actor: str = "system") -> GateRun | None:
    """Run the phase's gates on the latest measurements; pass or block the phase accordingly.

    Returns the recorded run, or None when the phase is not waiting for its gates.
    """
    workflow_lock(phase.project_id)  # the workflow first: the lock order of projects.delivery.orchestration
    phase = Phase.objects.select_for_update(no_key=True, of=("self",)).select_related("project").get(pk=phase.pk)
    if phase.status not in {Phase.Status.GATING, Phase.Status.BLOCKED}:
        return None
    project = phase.project
    waivers = {waiver.code: waiver for waiver in GateWaiver.objects.filter(phase=phase)}
    checks = checks_read(phase, waivers)
    number = (GateRun.objects.filter(phase=phase).aggregate(n=Max("number"))["n"] or 0) + 1
    run = GateRun.objects.create(
        project=project, phase=phase, number=number, service=project.service, verdict=_verdict(checks), actor=actor
    )
    results = GateResult.objects.bulk_create(
        [
            GateResult(
                run=run,
                code=check.gate.code,
                description=check.gate.criterion.description,
                target=check.gate.target,
                value=check.value,
                unit=check.gate.unit,
                state=check.state,
                evidence=check.evidence[:2000],
                measured_at=check.reading.at if check.reading else None,
            )
            for check in checks
        ]
    )
    if run.passed:
        _remediation_cancel(phase, actor)
        waived = [
            f"{c.gate.criterion.description} ({waivers[c.gate.code].reason})"
            for c in checks
            if c.state == GateState.WAIVED
        ]
        note = f"gate run #{number}: every gate passed" if checks else f"gate run #{number}: no gate applies"
        if waived:
            note = f"gate run #{number}: passed with waivers: {'; '.join(waived)}"
        phase_gates_pass(phase=phase, actor=actor, note=note)
        return run
    reason = f"gate run #{number}: {_summary(checks)}"
    if phase.status == Phase.Status.GATING:
        phase_gates_block(phase=phase, actor=actor, reason=reason)
        if _reruns_left(run):
            _remediation_plan(phase, run, checks, results, actor)
    if _unknown_again(phase, run, checks) or not _reruns_left(run):
        _decision_escalate(phase, run, checks)
    _repeated_failures_escalate(phase, run, checks)
    return run


def _reruns_left(run: GateRun) -> bool:
    """Whether the platform may run this phase's gates again by itself: run #1 plus at most
    ``HIVE_GATE_AUTO_RERUNS`` automatic re-runs (default 2); after that only a person's decision
    (a waiver, or a retry someone asks for) runs them again — the gates never loop."""
    return run.number <= int(settings.HIVE_GATE_AUTO_RERUNS)


def _unknown_again(phase: Phase, run: GateRun, checks: list[Check]) -> bool:
    """A gate unknown in this run and in an earlier one: its measurement cannot be taken."""
    unknown = [c.gate.code for c in checks if c.state == GateState.UNKNOWN]
    return bool(unknown) and (
        GateResult.objects.filter(run__phase=phase, code__in=unknown, state=GateState.UNKNOWN).exclude(run=run).exists()
    )


def _decision_escalate(phase: Phase, run: GateRun, checks: list[Check]) -> None:
    """One escalation per phase for a person's decision: a gate that cannot be measured (unknown)
    or the automatic re-runs used up. Opened once; the same open escalation is not raised again."""
    blocked = [c for c in checks if c.state in {GateState.FAILED, GateState.UNKNOWN}]
    unknown = [c.gate.criterion.description for c in blocked if c.state == GateState.UNKNOWN]
    failed = [f"{c.gate.criterion.description} {_value_text(c)}" for c in blocked if c.state == GateState.FAILED]
    why = []
    if unknown:
        why.append(f"could not be measured (unknown): {', '.join(unknown)}")
    if failed:
        why.append(f"failed: {', '.join(failed)}")
    stop = (
        f"automatic re-runs stop after run #{run.number} (at most {settings.HIVE_GATE_AUTO_RERUNS})"
        if not _reruns_left(run)
        else f"at most {settings.HIVE_GATE_AUTO_RERUNS} automatic re-runs follow"
    )
    escalation_raise(
        project=phase.project,
        kind=Escalation.Kind.GATE_FAILED_TWICE,
        subject=f"gate-decision:{phase.pk}",
        reason=(
            f"“{phase.name}” is blocked at gate run #{run.number}: {'; '.join(why) or 'not passed'}. {stop}. "
            "A person decides: waive the gate with a written reason, or have the measurement fixed and run the "
            "gates again."
        ),
    )


def _remediation_cancel(phase: Phase, actor: str) -> None:
    """Gates that pass (or were waived) need no more fixing: drop the fixes still waiting."""
    for task in Task.objects.filter(phase=phase, key=FIX_KEY).exclude(status__in=[*Task.FINISHED, Task.Status.RUNNING]):
        task_cancel(task=task, user=None)


def _remediation_plan(phase: Phase, run: GateRun, checks: list[Check], results: list[GateResult], actor: str) -> None:
    service = ServiceCode(phase.project.service)
    by_code = {result.code: result for result in results}
    fixes = 0
    for check in checks:
        if check.state != GateState.FAILED:
            continue
        task = task_add(
            phase=phase,
            key=FIX_KEY,
            title=f"Fix gate: {check.gate.criterion.description} is {_value_text(check)}, target {check.gate.target}",
            role=FIX_ROLE[service].value,
            inputs={
                "gate": check.gate.code,
                "target": check.gate.target,
                "measured": _value_text(check),
                "evidence": check.evidence,
                "instructions": check.gate.fix,
                **({"findings": _uat_findings(phase)} if check.gate.code == UAT.code else {}),
            },
            actor=actor,
        )
        result = by_code[check.gate.code]
        result.remediation_task = task
        result.save(update_fields=["remediation_task"])
        fixes += 1
    if not fixes:
        _recheck_add(phase, run, actor)


def _uat_findings(phase: Phase) -> str:
    """What the customer's testers found, from their latest report (``projects.delivery.uat``)."""
    output = (
        Task.objects.filter(phase=phase, key=UAT_STEP, status=Task.Status.DONE)
        .order_by("-finished_at", "-pk")
        .values_list("output", flat=True)
        .first()
    )
    return str((output or {}).get("findings") or "")[:MAX_FINDINGS]


def _measuring_task(phase: Phase) -> Task | None:
    """The phase's own measuring step (the first agent task the workflow laid out for it)."""
    return (
        Task.objects.filter(phase=phase, kind=Task.Kind.AGENT).exclude(key=FIX_KEY).order_by("position", "pk").first()
    )


def _recheck_add(phase: Phase, run: GateRun, actor: str) -> Task:
    template = _measuring_task(phase)
    role = (
        template.role
        if template
        else (Role.QA_ENGINEER if phase.project.service == Service.MVP else Role.TESTING_SPECIALIST)
    )
    inputs: dict[str, object] = dict(template.inputs) if template else {}
    checked = [gate.code for gate in gates_for(phase.project.service, phase.key)]
    inputs.update({"recheck_of_gate_run": run.number, "gates": checked})
    task = task_add(
        phase=phase,
        key=template.key if template else "quality",
        title=f"Measure the quality gates again (after gate run #{run.number})",
        role=str(role),
        inputs=inputs,
        actor=actor,
    )
    run.recheck_task = task
    run.save(update_fields=["recheck_task"])
    uat = GateResult.objects.filter(run=run, code=UAT.code).exclude(state__in=[GateState.PASSED, GateState.WAIVED])
    if uat.exists():
        # Only the customer's testers measure it: re-running the parity check does not; ask them again.
        approval_add(
            phase=phase,
            key=UAT_STEP,
            title=f"User acceptance testing again (after gate run #{run.number}): report how your testers found it",
            actor=actor,
        )
    return task


def _repeated_failures_escalate(phase: Phase, run: GateRun, checks: list[Check]) -> None:
    # Unknown gates have their one escalation already (``_decision_escalate``).
    blocked = {GateState.FAILED, GateState.UNKNOWN}
    for check in checks:
        if check.state != GateState.FAILED:
            continue
        misses = GateResult.objects.filter(run__phase=phase, code=check.gate.code, state__in=blocked).count()
        if misses >= 2:
            escalation_raise(
                project=phase.project,
                kind=Escalation.Kind.GATE_FAILED_TWICE,
                subject=f"gate:{phase.pk}:{check.gate.code}",
                reason=(
                    f"{check.gate.criterion.description} did not pass in {misses} gate runs of “{phase.name}” "
                    f"(latest, run #{run.number}: {_value_text(check)}, target {check.gate.target}; {check.evidence})."
                ),
            )


# --- after remediation --------------------------------------------------------------------------


@transaction.atomic
def remediation_advance(*, phase: Phase, actor: str = "system") -> str:
    """Move a blocked phase on once its open work is done: first a re-check, then the gates again.

    Returns what happened: "waiting", "recheck" or "retried".
    """
    workflow_lock(phase.project_id)  # the workflow first: the lock order of projects.delivery.orchestration
    phase = Phase.objects.select_for_update(no_key=True, of=("self",)).select_related("project").get(pk=phase.pk)
    if phase.status != Phase.Status.BLOCKED:
        return "waiting"
    if Task.objects.filter(phase=phase).exclude(status__in=Task.FINISHED).exists():
        return "waiting"
    run = GateRun.objects.filter(phase=phase).order_by("-number").first()
    if run is not None and not run.passed and not _reruns_left(run):
        return "waiting"  # a person decides (the escalation is open): no automatic re-run
    if run is not None and not run.passed and run.recheck_task_id is None:
        _recheck_add(phase, run, actor)
        return "recheck"
    phase_gates_retry(phase=phase, actor=actor, reason="remediation done: measuring the gates again")
    return "retried"


# --- waivers ------------------------------------------------------------------------------------


class GateWaiverError(Exception):
    """The waiver cannot be recorded; the message says why."""


MIN_REASON_LENGTH = 20


def gate_waive(*, phase: Phase, code: str, reason: str, user: User) -> GateWaiver:
    """An account manager waives one gate of a blocked phase with a written reason; the gates
    are evaluated again at once."""
    if not user.is_staff:
        raise GateWaiverError("Only an account manager may waive a quality gate.")
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise GateWaiverError(
            f"Write the reason for the waiver (at least {MIN_REASON_LENGTH} characters); the customer sees it."
        )
    gate = next((gate for gate in gates_for(phase.project.service, phase.key) if gate.code == code), None)
    if gate is None:
        raise GateWaiverError(f"{phase.name} has no gate “{code}”.")
    with transaction.atomic():
        workflow_lock(phase.project_id)  # the workflow first: the lock order of projects.delivery.orchestration
        locked = Phase.objects.select_for_update(no_key=True, of=("self",)).get(pk=phase.pk)
        if locked.status != Phase.Status.BLOCKED:
            raise GateWaiverError(f"{locked.name} is not blocked by its gates.")
        if GateWaiver.objects.filter(phase=phase, code=code).exists():
            raise GateWaiverError(f"{gate.criterion.description} is already waived for {locked.name}.")
        waiver = GateWaiver.objects.create(
            project=phase.project,
            phase=phase,
            code=code,
            description=gate.criterion.description,
            reason=reason,
            waived_by=user,
            waived_by_email=user.email,
        )
        audit_record(
            action=Action.GATE_WAIVED,
            user=user,
            obj=waiver,
            detail={"project_id": phase.project_id, "phase": locked.name, "gate": code, "reason": reason},
        )
        gates_evaluate(phase=locked, actor=user.email)
    return waiver


# --- signal receivers ---------------------------------------------------------------------------


def on_phase_ready_for_gates(sender: Any, *, schema_name: str, phase_id: int, **_: Any) -> None:
    """``projects.signals.phase_ready_for_gates``: evaluate now, in the sender's process.

    A failure here leaves the phase gating; the ``success.watch`` beat task evaluates phases left
    gating, so nothing waits forever on a lost evaluation.
    """
    with schema_context(schema_name):
        phase = Phase.objects.filter(pk=phase_id).first()
        if phase is None:
            return
        try:
            gates_evaluate(phase=phase)
        except Exception:
            log.exception("gates of phase %s:%s could not be evaluated", schema_name, phase_id)


# A task of a blocked phase ended: agent work, or the customer's report of user acceptance testing.
FINISHING = frozenset({Event.Kind.TASK_SUCCEEDED, Event.Kind.TASK_CANCELLED, Event.Kind.APPROVAL_GRANTED})


def on_task_finished(*, schema_name: str, phase_id: int) -> None:
    """A task of a phase finished: if the phase is blocked and quiet, move its remediation on."""
    with schema_context(schema_name):
        phase = Phase.objects.filter(pk=phase_id, status=Phase.Status.BLOCKED).first()
        if phase is None:
            return
        try:
            remediation_advance(phase=phase)
        except WorkflowError:
            log.info("phase %s:%s changed before its remediation moved on", schema_name, phase_id)


def gates_sweep(*, older_than_seconds: float = 300) -> int:
    """Evaluate phases of this schema left gating (a lost evaluation) and move quiet blocked ones on."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    moved = 0
    for phase in Phase.objects.filter(status=Phase.Status.GATING).select_related("project"):
        requested = Event.objects.filter(phase=phase, kind=Event.Kind.PHASE_GATES_REQUESTED).aggregate(
            at=Max("created_at")
        )["at"]
        if requested is None or requested < cutoff:
            gates_evaluate(phase=phase)
            moved += 1
    for phase in Phase.objects.filter(status=Phase.Status.BLOCKED):
        try:
            if remediation_advance(phase=phase) != "waiting":
                moved += 1
        except WorkflowError:  # the project ended meanwhile: one phase never stops the sweep
            log.info("blocked phase %s: its project takes no more work", phase.pk)
    return moved


def gate_rows(project: Project) -> list[dict[str, Any]]:
    """Each gated phase with its gate runs (newest first) and waivers (oldest first), for the
    success page and the API, in three queries."""
    phases = list(Phase.objects.filter(project=project, gated=True).order_by("position"))
    runs: dict[int, list[GateRun]] = {}
    for run in GateRun.objects.filter(project=project).prefetch_related("results").order_by("-number"):
        runs.setdefault(run.phase_id, []).append(run)
    waivers: dict[int, list[GateWaiver]] = {}
    for waiver in GateWaiver.objects.filter(project=project).order_by("created_at", "pk"):
        waivers.setdefault(waiver.phase_id, []).append(waiver)
    return [{"phase": phase, "runs": runs.get(phase.pk, []), "waivers": waivers.get(phase.pk, [])} for phase in phases]
