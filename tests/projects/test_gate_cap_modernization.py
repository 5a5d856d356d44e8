"""The gate re-run cap through a whole modernization on real workers.

The legacy code base holds nothing a test can call (modules of constants), so the parity gate and
the performance gate cannot be measured: parity has no baseline test to compare and performance no
test to time. What a customer and an account manager then meet: the testing phase's gates run three
times at most (run #1 and ``HIVE_GATE_AUTO_RERUNS`` = 2 re-checks), one escalation asks a person to
decide, nothing runs again by itself — the beat sweep's move finds it waiting — until the account
manager waives the gate with a reason on the staff page; the same for validation; then the customer
accepts, the project completes, the guarantee opens, and the customer reads both waivers with
their reasons on the success page. The issue's old behaviour (147 re-runs in three minutes) fails
the first wait here.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Phase, Project, Service, Task, Workflow
from projects.scoping import intake
from success.gates import remediation_advance
from success.models import Escalation, GateRun, GateWaiver, Guarantee
from tests.projects.progress import wait_while_progressing
from tests.projects.walker import Walker
from tests.workers import thread_worker
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)

LEGACY = {
    "tariffs/__init__.py": '"""Tariff tables of the billing system."""\n',
    "tariffs/rates.py": "RATES = {\n" + "".join(f'    "zone-{n}": {n * 3 + 1},\n' for n in range(40)) + "}\n",
    "tariffs/labels.py": "LABELS = (\n" + "".join(f'    "Zone {n}",\n' for n in range(40)) + ")\n",
    "tariffs/regions.py": "from tariffs.rates import RATES\n\nREGIONS = sorted(RATES)\n",
}
REASONS = {
    "functional_parity": "The legacy tables have no behaviour to compare: parity was checked by reading the diff.",
    "performance_vs_legacy": "Constant tables only; there is no code path whose speed could change.",
}


def _project() -> Project:
    project = Project.objects.create(name="Tariff tables", service=Service.MODERNIZATION)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, text in LEGACY.items():
            bundle.writestr(name, text)
    intake.assessment_run(project=project, upload=SimpleUploadedFile("tariffs.zip", archive.getvalue()))
    Project.objects.filter(pk=project.pk).update(status=Project.Status.IN_DELIVERY)
    return Project.objects.get(pk=project.pk)


def _waiting_for_a_person(walker: Walker, key: str) -> Phase | None:
    """True once the phase is blocked, its automatic runs used up and nothing of it unfinished."""
    walker.step()
    phase = Phase.objects.get(project=walker.project, key=key)
    runs = GateRun.objects.filter(phase=phase).count()
    assert runs <= 3, f"{phase.name}: {runs} gate runs"
    unfinished = Task.objects.filter(phase=phase).exclude(status__in=Task.FINISHED).exists()
    return phase if phase.status == Phase.Status.BLOCKED and runs == 3 and not unfinished else None


def _decided_by_a_person(world: World, walker: Walker, key: str, code: str) -> None:
    with schema_context("alpha"):
        phase = wait_while_progressing(
            lambda: _waiting_for_a_person(walker, key), project_id=walker.project.pk, what=f"{key} to wait", cap=900
        )
        decisions = Escalation.objects.filter(project=walker.project, subject=f"gate-decision:{phase.pk}")
        assert decisions.count() == 1 and "A person decides" in decisions.get().reason
        # What the beat sweep would do finds it waiting: no fourth run without a person.
        assert remediation_advance(phase=phase) == "waiting"
        assert GateRun.objects.filter(phase=phase).count() == 3
    staff = world.client("staff")
    answer = staff.post(
        f"/admin/success/projects/alpha/{walker.project.pk}/",
        {"action": "waive", "phase": phase.pk, "code": code, "reason": REASONS[code]},
    )
    assert answer.status_code == 302
    with schema_context("alpha"):  # the staff request ran on the public schema
        phase.refresh_from_db()
        assert phase.status == Phase.Status.DONE
        last = GateRun.objects.filter(phase=phase).order_by("-number").first()
        assert last is not None and last.verdict == GateRun.Verdict.PASSED_WITH_WAIVERS


def test_unmeasurable_gates_run_three_times_then_wait_for_a_person(hive: World, settings: Any) -> None:
    settings.HIVE_GATE_AUTO_RERUNS = 2
    with thread_worker(concurrency=4):
        with schema_context("alpha"):
            project = _project()
            walker = Walker(hive, project)
            project_start(project=project, user=hive.users["alpha_owner"])
        _decided_by_a_person(hive, walker, "testing", "functional_parity")
        _decided_by_a_person(hive, walker, "validation", "performance_vs_legacy")
        with schema_context("alpha"):
            wait_while_progressing(walker.step, project_id=project.pk, what="the delivery to complete", cap=600)
            assert Workflow.objects.get(project=project).status == Workflow.Status.COMPLETED
            assert Guarantee.objects.filter(project=project).exists()
            assert walker.uat_reports == 1  # the customer's testers were asked once: their gate passed
            assert GateWaiver.objects.filter(project=project).count() == 2
    page = hive.client("alpha_viewer", on="alpha").get(f"/projects/{project.pk}/success/").content.decode()
    for reason in REASONS.values():
        assert reason.replace("'", "&#x27;") in page
