"""User acceptance testing of a modernization (projects.delivery.uat): the customer reports it on
its decision page, the UAT gate reads that number, a plain approval is refused everywhere, bad input
is shown with nothing lost, only an owner of the project's own company reports, and a failed UAT
gives the developers the findings and asks the testers again after the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from api.models import Scope
from projects.delivery.controls import task_approve
from projects.delivery.orchestration import WorkflowError
from projects.delivery.planning import project_start
from projects.delivery.uat import UatReport, UatReportError
from projects.delivery.workflow import UAT_STEP
from projects.models import Assessment, Phase, Project, Service, Task
from success.gates import FIX_KEY, gates_evaluate, remediation_advance
from success.measurements import reading_latest, records_read
from success.models import GateRun, GateState
from tests.api.conftest import api_client, key_make
from tests.world import World

pytestmark = pytest.mark.django_db
URLCONF = "hive.urls_tenant"
PLAN = {"phases": [{"number": 1, "share": 1.0, "modules": ["a"], "depends_on_phases": [], "rollback": "revert"}]}


@pytest.fixture(autouse=True)
def _storage(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path  # type: ignore[attr-defined]


def _url(name: str, *args: int) -> str:
    return reverse(name, urlconf=URLCONF, args=list(args))


def _uat_waiting(slug: str = "alpha") -> tuple[Project, Task]:
    """A modernization in parallel testing: parity measured, the customer's UAT report awaited."""
    with schema_context(slug):
        project = Project.objects.create(name="Ledger", service=Service.MODERNIZATION, status="in_delivery")
        Assessment.objects.create(project=project, source="ledger.zip", result={"plan": PLAN})
        project_start(project=project)
        testing = Phase.objects.get(project=project, key="testing")
        Phase.objects.filter(project=project, position__lt=testing.position).update(status=Phase.Status.DONE)
        Task.objects.filter(project=project, phase__position__lt=testing.position).update(status=Task.Status.DONE)
        Phase.objects.filter(pk=testing.pk).update(status=Phase.Status.RUNNING)
        Task.objects.filter(phase=testing, key="parity").update(
            status=Task.Status.DONE,
            finished_at=timezone.now(),
            output={"data": {"parity_percent": 100, "security_high_findings": 0}},
        )
        task = Task.objects.get(phase=testing, key=UAT_STEP)
        Task.objects.filter(pk=task.pk).update(status=Task.Status.AWAITING_APPROVAL, ready_at=timezone.now())
        task.refresh_from_db()
        return project, task


def test_the_report_is_checked() -> None:
    assert str(UatReport(12, 11).percent) == "91.7"
    for testers, satisfied in [(0, 0), (3, 4), (3, -1), (True, 1)]:
        with pytest.raises(UatReportError):
            UatReport(testers, satisfied)  # type: ignore[arg-type]
    with pytest.raises(UatReportError):
        UatReport(3, 3, "x" * 5000)


def test_a_plain_approval_of_uat_is_refused_by_the_service_the_old_endpoint_and_the_api(world: World) -> None:
    project, task = _uat_waiting()
    with schema_context("alpha"), pytest.raises(WorkflowError, match="user acceptance testing"):
        task_approve(task=task, user=world.users["alpha_owner"])
    owner = world.client("alpha_owner", on="alpha")
    owner.post(_url("task_approve", project.pk, task.pk))
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.AWAITING_APPROVAL


def test_the_owner_reports_uat_on_its_decision_page_and_the_gate_reads_it(world: World) -> None:
    project, task = _uat_waiting()
    owner = world.client("alpha_owner", on="alpha")
    dashboard = owner.get(_url("project_dashboard", project.pk)).content.decode()
    assert f'data-testid="report-uat-{task.pk}"' in dashboard and f'data-testid="approve-{task.pk}"' not in dashboard
    page = owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert 'data-testid="uat-explained"' in page and "90 %" in page
    # More satisfied than tested: shown with the form kept, nothing recorded.
    answer = owner.post(
        _url("decision_approve", project.pk, task.pk), {"testers": "5", "satisfied": "7", "findings": "Keep me"}
    )
    text = answer.content.decode()
    assert answer.status_code == 400 and "More testers satisfied than tested" in text and "Keep me" in text
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.AWAITING_APPROVAL
    answer = owner.post(
        _url("decision_approve", project.pk, task.pk),
        {"testers": "12", "satisfied": "11", "findings": "Month-end export is slower."},
    )
    assert answer.status_code == 302
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.DONE and task.output["findings"] == "Month-end export is slower."
        reading = reading_latest(records_read(project, {"uat_satisfaction_percent"}), ("uat_satisfaction_percent",))
        assert reading is not None and float(reading.values["uat_satisfaction_percent"]) == pytest.approx(91.7)
        assert "User acceptance testing" in reading.source


def test_only_an_owner_of_the_company_reports(world: World) -> None:
    project, task = _uat_waiting()
    form = {"testers": "4", "satisfied": "4"}
    assert (
        world.client("alpha_member", on="alpha").post(_url("decision_approve", project.pk, task.pk), form).status_code
        == 403
    )
    stranger = world.client("beta_owner", on="beta")
    assert stranger.get(_url("decision_page", project.pk, task.pk)).status_code == 404
    assert stranger.post(_url("decision_approve", project.pk, task.pk), form).status_code == 404
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.AWAITING_APPROVAL


def test_a_failed_uat_gives_the_findings_to_the_developers_and_asks_the_testers_again(world: World) -> None:
    project, task = _uat_waiting()
    with schema_context("alpha"):
        task_approve(task=task, user=world.users["alpha_owner"], uat=UatReport(12, 6, "Invoices round wrongly."))
        phase = Phase.objects.get(project=project, key="testing")
        Phase.objects.filter(pk=phase.pk).update(status=Phase.Status.GATING)
        run = gates_evaluate(phase=phase)
        assert run is not None and run.verdict == GateRun.Verdict.BLOCKED
        assert run.results.get(code="uat_satisfaction").state == GateState.FAILED
        fix = Task.objects.get(phase=phase, key=FIX_KEY)
        assert fix.inputs["findings"] == "Invoices round wrongly."
        Task.objects.filter(pk=fix.pk).update(status=Task.Status.DONE, finished_at=timezone.now())
        assert remediation_advance(phase=phase) == "recheck"
        again = Task.objects.get(phase=phase, key=UAT_STEP, status=Task.Status.AWAITING_APPROVAL)
        assert "after gate run #1" in again.title


def test_the_api_reports_uat_with_its_numbers_and_refuses_it_without(world: World) -> None:
    project, task = _uat_waiting()
    owner_key = key_make(world, scope=Scope.WRITE)
    path = f"/api/v1/projects/{project.pk}/tasks/{task.pk}/approve/"

    def post(data: dict[str, object], key: str = owner_key, on: str = "alpha") -> Any:
        return api_client(key, on=on).post(path, data, content_type="application/json")

    assert post({}).status_code == 400
    assert post({"uat_testers": 3, "uat_satisfied": 5}).status_code == 400
    beta_key = key_make(world, "beta", scope=Scope.WRITE)
    assert post({"uat_testers": 3, "uat_satisfied": 3}, beta_key, "beta").status_code == 404
    with schema_context("alpha"):
        assert Task.objects.get(pk=task.pk).status == Task.Status.AWAITING_APPROVAL
    answer = post({"uat_testers": 20, "uat_satisfied": 19, "uat_findings": "Fine."})
    assert answer.status_code == 200, answer.content
    with schema_context("alpha"):
        done = Task.objects.get(pk=task.pk)
        assert done.output["data"]["uat_satisfaction_percent"] == "95.0" and done.output["findings"] == "Fine."
