"""Customer decisions and account-manager waivers land in the audit trail (success → tenants.audit):
story acceptance and rejection, gate waivers — each with the person, customer, address, object."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.models import Phase, Story, Task
from success.models import GateWaiver
from tenants.audit import Action
from tenants.models import AuditEntry
from tests.success.success_world import committed, finish, run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]

ADDRESS = "192.0.2.91"


def _in_quality(world: World, name: str) -> tuple[int, Phase, list[Story]]:
    with schema_context("alpha"):
        project = started_mvp(name, world.users["alpha_owner"], stories=2)
        phase = run_until(project, "quality", world.users["alpha_owner"])
        return project.pk, phase, list(Story.objects.filter(project=project).order_by("position"))


def test_run_until_approvals_are_recorded_as_plan_approvals_of_the_owner(world: World) -> None:
    _in_quality(world, "Approved plan")
    (entry,) = AuditEntry.objects.filter(action=Action.PLAN_APPROVED)
    assert (entry.actor, entry.tenant, entry.object_type) == (
        world.users["alpha_owner"],
        world.customers["alpha"],
        "projects.task",
    )


def test_accepting_and_rejecting_stories_is_recorded(world: World) -> None:
    project_id, _, (first, second) = _in_quality(world, "Decided")
    member = world.client("alpha_member", on="alpha")

    with committed():
        member.post(
            f"/projects/{project_id}/success/stories/{first.pk}/", {"decision": "accepted"}, REMOTE_ADDR=ADDRESS
        )
        member.post(
            f"/projects/{project_id}/success/stories/{second.pk}/",
            {"decision": "rejected", "comment": "=HYPERLINK() is shown raw", "unmet": ["thing 2 works"]},
            REMOTE_ADDR=ADDRESS,
        )

    (accepted,) = AuditEntry.objects.filter(action=Action.STORY_ACCEPTED)
    (rejected,) = AuditEntry.objects.filter(action=Action.STORY_REJECTED)
    for entry, story in ((accepted, first), (rejected, second)):
        assert (entry.actor, entry.tenant, entry.ip) == (world.users["alpha_member"], world.customers["alpha"], ADDRESS)
        assert (entry.object_type, entry.object_id) == ("projects.story", str(story.pk))
    assert rejected.detail == {
        "project_id": project_id,
        "comment": "=HYPERLINK() is shown raw",
        "unmet_criteria": ["thing 2 works"],
    }


def test_a_gate_waiver_is_recorded_with_the_account_manager_and_the_reason(world: World) -> None:
    project_id, phase, _ = _in_quality(world, "Waived")
    with schema_context("alpha"):
        quality = Task.objects.get(phase=phase, key="quality", status=Task.Status.READY)
        finish(quality, {"coverage_percent": 91.5, "tests_passed": 30, "tests_failed": 0, "security_high_findings": 0})
    reason = "The uncovered code is generated migration glue, covered by the integration suite instead."

    with committed():
        response = world.client("staff").post(
            f"/admin/success/projects/alpha/{project_id}/",
            {"action": "waive", "phase": phase.pk, "code": "test_coverage", "reason": reason},
            REMOTE_ADDR=ADDRESS,
        )

    assert response.status_code == 302
    with schema_context("alpha"):
        waiver = GateWaiver.objects.get(phase=phase)
    (entry,) = AuditEntry.objects.filter(action=Action.GATE_WAIVED)
    assert (entry.actor, entry.tenant, entry.ip) == (world.users["staff"], world.customers["alpha"], ADDRESS)
    assert (entry.object_type, entry.object_id) == ("success.gatewaiver", str(waiver.pk))
    assert entry.detail == {"project_id": project_id, "phase": phase.name, "gate": "test_coverage", "reason": reason}
