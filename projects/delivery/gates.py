"""The gate contract: how the quality gates (``success.gates``) answer a phase that is ready for them.

``projects`` sends ``projects.signals.phase_ready_for_gates`` when a gated phase's work is done;
``success`` runs the gates and calls exactly these three services: ``phase_gates_pass`` (passed or
waived: the next phase opens), ``phase_gates_block`` (failed: the phase waits for remediation) and
``phase_gates_retry`` (the remediation is done: ask for the gates again). Callers holding a row
of the delivery take ``workflow_lock`` first (the lock order of ``projects.delivery.orchestration``).
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from projects.delivery.dispatch import current_schema, dispatch_on_commit
from projects.delivery.events import event_append
from projects.delivery.orchestration import WorkflowError, advance, gates_request, workflow_lock
from projects.models import Event, Phase


@transaction.atomic
def phase_gates_pass(*, phase: Phase, actor: str, note: str = "") -> Phase:
    """The quality gates passed (or were waived); the next phase opens."""
    workflow = workflow_lock(phase.project_id)
    phase = Phase.objects.select_for_update(no_key=True).get(pk=phase.pk)
    if phase.status not in {Phase.Status.GATING, Phase.Status.BLOCKED}:
        raise WorkflowError(f"{phase.name} is not waiting for its gates.")
    phase.status, phase.gate_note = Phase.Status.RUNNING, f"passed: {note}" if note else "passed"
    phase.save(update_fields=["status", "gate_note"])
    event_append(project_id=phase.project_id, kind=Event.Kind.PHASE_PASSED, phase=phase, actor=actor, message=note)
    dispatch_on_commit(advance(phase.project_id, workflow=workflow))
    return phase


@transaction.atomic
def phase_gates_block(*, phase: Phase, actor: str, reason: str) -> Phase:
    """A gate failed: the phase stays blocked until its tasks are re-run and the gates pass."""
    phase = Phase.objects.select_for_update(no_key=True).get(pk=phase.pk)
    if phase.status != Phase.Status.GATING:
        raise WorkflowError(f"{phase.name} is not waiting for its gates.")
    phase.status, phase.gate_note = Phase.Status.BLOCKED, ""
    phase.save(update_fields=["status", "gate_note"])
    event_append(project_id=phase.project_id, kind=Event.Kind.PHASE_BLOCKED, phase=phase, actor=actor, message=reason)
    return phase


@transaction.atomic
def phase_gates_retry(*, phase: Phase, actor: str, reason: str = "") -> Phase:
    """Ask for the gates of a blocked phase again (its remediation is done): the phase goes back to
    gating and ``phase_ready_for_gates`` is sent after the commit."""
    phase = Phase.objects.select_for_update(no_key=True).get(pk=phase.pk)
    if phase.status != Phase.Status.BLOCKED:
        raise WorkflowError(f"{phase.name} is not blocked by its gates.")
    phase.status = Phase.Status.GATING
    phase.save(update_fields=["status"])
    event_append(
        project_id=phase.project_id, kind=Event.Kind.PHASE_GATES_REQUESTED, phase=phase, actor=actor, message=reason
    )
    transaction.on_commit(
        partial(gates_request, schema_name=current_schema(), project_id=phase.project_id, phase_id=phase.pk)
    )
    return phase
