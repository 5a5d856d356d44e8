"""Automatic gate re-runs are capped and never loop (success.gates, issue #18): a measurement that
cannot be taken stays unknown, opens one escalation for a person's decision, and after run #3
(run #1 plus ``HIVE_GATE_AUTO_RERUNS`` = 2) nothing runs the gates again by itself."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_tenants.utils import schema_context

from projects.models import Phase, Task
from success.gates import gates_sweep, remediation_advance
from success.models import Escalation, GateRun
from tests.success.success_world import finish, run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]


def _ready_measuring(phase: Phase) -> Task | None:
    return Task.objects.filter(phase=phase, key="quality", status=Task.Status.READY).first()


@pytest.mark.parametrize("reruns", [2, 0])
def test_an_unmeasurable_gate_is_escalated_once_and_the_gates_stop_after_the_capped_reruns(
    world: World, reruns: int
) -> None:
    with override_settings(HIVE_GATE_AUTO_RERUNS=reruns), schema_context("alpha"):
        project = started_mvp(f"Never measured {reruns}", world.users["alpha_owner"])
        phase = run_until(project, "quality", world.users["alpha_owner"])
        # Each measuring step reports coverage only: tests and security can never be measured.
        for _ in range(10):
            task = _ready_measuring(phase)
            if task is None:
                break
            finish(task, {"coverage_percent": 99.0})
        phase.refresh_from_db()
        assert phase.status == Phase.Status.BLOCKED
        assert GateRun.objects.filter(phase=phase).count() == 1 + reruns
        # The sweep and the remediation step do not start another run: a person decides now.
        assert remediation_advance(phase=phase) == "waiting"
        gates_sweep(older_than_seconds=0)
        assert GateRun.objects.filter(phase=phase).count() == 1 + reruns
        assert _ready_measuring(phase) is None
        decisions = Escalation.objects.filter(project=project, subject=f"gate-decision:{phase.pk}")
        assert decisions.count() == 1
        reason = decisions.get().reason
        assert "could not be measured (unknown)" in reason and "A person decides" in reason
        assert f"at most {reruns}" in reason
        # Only that one escalation: no per-gate "failed twice" ones for unknown gates.
        assert Escalation.objects.filter(project=project).count() == 1
