"""Acceptance criteria as checks (success.criteria, success.outcomes): results reported by the agents
are stored with their evidence, the latest wins and the earlier ones are kept; unverified is
unknown and never pass; the account manager waives with a reason the customer reads or attaches
evidence (audit-logged, staff only); the guarantee's "acceptance criteria met" reads the gate."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.models import Story, Task
from success.criteria import acceptance_gate
from success.guarantee import conditions_check
from success.models import CriterionCheck, Escalation
from tenants.models import AuditEntry
from tests.success.success_world import committed, finish, run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]


def result(story: int, index: int, status: str, **extra: object) -> dict[str, object]:
    return {
        "story": story,
        "index": index + 1,  # the criterion's number; ``index`` is its position
        "criterion": f"criterion {index}",
        "status": status,
        "test": f"tests/test_story_{story:03d}.py::test_{index}",
        "output": f"{status} output",
        "commit": "abc123def456",
        **extra,
    }


def in_quality(world: World, name: str) -> tuple[int, Task, list[Story]]:
    with schema_context("alpha"):
        project = started_mvp(name, world.users["alpha_owner"], stories=2)
        phase = run_until(project, "quality", world.users["alpha_owner"])
        qa = Task.objects.get(phase=phase, key="quality")
        return project.pk, qa, list(Story.objects.filter(project=project).order_by("position"))


def test_checks_are_stored_with_evidence_and_unverified_is_never_pass(managed: World, mailbox) -> None:
    project_id, qa, (first, second) = in_quality(managed, "Checked")
    with schema_context("alpha"):
        finish(
            qa,
            {
                "acceptance_checks": [
                    result(1, 0, "pass"),
                    result(1, 1, "pass"),
                    result(2, 0, "fail"),
                    result(2, 9, "bogus"),  # malformed: skipped, the criterion stays unverified
                    "not a mapping",
                ]
            },
        )
        checks = {(c.story_id, c.index): c for c in CriterionCheck.objects.filter(project_id=project_id)}
        assert set(checks) == {(first.pk, 0), (first.pk, 1), (second.pk, 0)}
        failed = checks[(second.pk, 0)]
        assert (failed.status, failed.test, failed.output, failed.commit) == (
            "fail",
            "tests/test_story_002.py::test_0",
            "fail output",
            "abc123def456",
        )
        gate = acceptance_gate(first.project)
        assert (gate.total, gate.passed, gate.count("fail"), gate.count("unverified"), gate.state) == (
            4,
            2,
            1,
            1,
            "open",
        )
        escalation = Escalation.objects.get(project_id=project_id, kind=Escalation.Kind.ACCEPTANCE_OPEN)
        assert "2 of 4 acceptance criteria verified" in escalation.reason
        conditions = {c.code: c for c in conditions_check(first.project)}
        assert conditions["acceptance_criteria_met"].state == "not_met"  # a failure, whatever the coverage

        # A later run: the latest result wins, the earlier one is kept.
        finish(qa, {"acceptance_checks": [result(2, 0, "pass", commit="fff000"), result(2, 1, "unverified")]})
        failed.refresh_from_db()
        assert failed.status == "pass" and failed.history[-1]["status"] == "fail" and failed.commit == "fff000"
        gate = acceptance_gate(first.project)
        assert (gate.passed, gate.count("unverified"), gate.state) == (3, 1, "open")
        conditions = {c.code: c for c in conditions_check(first.project)}
        assert conditions["acceptance_criteria_met"].state == "pending"  # unknown is not pass
    page = managed.client("alpha_viewer", on="alpha").get(f"/projects/{project_id}/success/").content.decode()
    assert f'data-testid="criterion-result-{second.pk}-1">Unverified<' in page
    assert f'data-testid="criterion-result-{second.pk}-0">Verified: pass<' in page
    assert "tests/test_story_002.py::test_0" in page and "3 of 4 acceptance criteria verified" in page
    assert f'data-testid="waive-{second.pk}-1"' not in page  # customers do not decide checks


def test_the_account_manager_waives_with_a_reason_the_customer_sees_or_attaches_evidence(world: World) -> None:
    project_id, qa, (first, second) = in_quality(world, "Decided")
    with schema_context("alpha"):
        finish(qa, {"acceptance_checks": [result(1, 0, "pass"), result(1, 1, "pass"), result(2, 0, "fail")]})
    base = f"/projects/{project_id}/success/stories/{second.pk}/criteria"
    customer = world.client("alpha_owner", on="alpha")
    assert customer.post(f"{base}/0/waive/", {"reason": "fine"}).status_code == 403
    staff = world.client("staff", on="alpha")
    page = staff.get(f"/projects/{project_id}/success/").content.decode()
    assert f'data-testid="waive-{second.pk}-1"' in page
    with committed():
        staff.post(f"{base}/0/waive/", {"reason": "  "})  # refused: no reason
        staff.post(f"{base}/1/evidence/", {"evidence": "Recorded walkthrough: https://example.test/v/1"})
    with schema_context("alpha"):
        waived = CriterionCheck.objects.get(story=second, index=0)
        assert waived.waived_reason == "" and waived.outcome == "fail"
    with committed():
        staff.post(f"{base}/0/waive/", {"reason": "Slots are released by the clinic by hand for now; agreed."})
    with schema_context("alpha"):
        gate = acceptance_gate(first.project)
        assert (gate.passed, gate.count("waived"), gate.state) == (3, 1, "passed_with_waivers")
        assert CriterionCheck.objects.get(story=second, index=1).outcome == "evidenced"
    actions = set(AuditEntry.objects.filter(actor=world.users["staff"]).values_list("action", flat=True))
    assert {"acceptance.criterion_waived", "acceptance.criterion_evidenced"} <= actions
    page = customer.get(f"/projects/{project_id}/success/").content.decode()
    assert "Slots are released by the clinic by hand for now; agreed." in page
    assert "Recorded walkthrough" in page and f'data-testid="criterion-result-{second.pk}-0">Waived<' in page
    assert world.client("staff", on="alpha").post(f"{base}/7/waive/", {"reason": "x"}).status_code == 404
