"""Escalations (success.escalations): a task blocked for more than four hours (the clock moved by the
test), a timeline slip past the threshold; once per problem, emailed to the customer's account
manager (or every account manager when there is none), listed in the admin until resolved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from projects.delivery.sweeps import tasks_escalate
from projects.models import Task, Workflow
from success.escalations import timeline_watch
from success.models import Escalation
from tests.success.delivery import delivery_make
from tests.success.success_world import committed
from tests.world import World

pytestmark = pytest.mark.django_db


def blocked_task(name: str, *, hours: float) -> Task:
    delivery = delivery_make(name, tasks=6)
    task = Task.objects.filter(project=delivery.project, status=Task.Status.BLOCKED).first()
    assert task is not None
    Task.objects.filter(pk=task.pk).update(
        blocked_since=timezone.now() - timedelta(hours=hours), blocked_reason="the test database is unreachable"
    )
    return task


def test_a_task_blocked_more_than_30_minutes_is_escalated_once_to_the_account_manager(managed: World, mailbox) -> None:
    with schema_context("alpha"):
        fresh = blocked_task("Blocked 20m", hours=1 / 3)
        old = blocked_task("Blocked 5h", hours=5)
    with committed():
        tasks_escalate()
    with committed():
        tasks_escalate()  # the sweep runs again: nothing new
    with schema_context("alpha"):
        escalation = Escalation.objects.get(project_id=old.project_id)
        assert (escalation.kind, escalation.subject, escalation.project_id) == (
            Escalation.Kind.BLOCKED_TASK,
            f"task:{old.pk}",
            old.project_id,
        )
        assert "the test database is unreachable" in escalation.reason and "more than 30 minutes" in escalation.reason
        assert escalation.assigned_to_email == "staff@hive.test" and escalation.emailed_to == ["staff@hive.test"]
        assert not Escalation.objects.filter(subject=f"task:{fresh.pk}").exists()
    sent = [m for m in mailbox.to("staff@hive.test") if "Blocked 5h" in m.subject]
    assert len(sent) == 1
    assert sent[0].subject == "[Escalation] Alpha Industries · Blocked 5h: Task blocked past the escalation limit"
    assert "the test database is unreachable" in sent[0].text
    assert f"/admin/success/escalations/alpha/{escalation.pk}/" in sent[0].text
    assert f"alpha.hive.localhost:8000/projects/{old.project_id}/dashboard/" in sent[0].text


def test_without_an_account_manager_every_account_manager_is_emailed(world: World, mailbox) -> None:
    with schema_context("beta"):
        task = blocked_task("Unmanaged", hours=6)
    with committed():
        tasks_escalate()
    with schema_context("beta"):
        escalation = Escalation.objects.get(project_id=task.project_id)
        assert escalation.assigned_to_email == "" and escalation.emailed_to == ["staff@hive.test"]
    [sent] = [m for m in mailbox.to("staff@hive.test") if "Unmanaged" in m.subject]
    assert "no account manager assigned" in sent.text


def test_a_timeline_slip_past_the_threshold_is_escalated(managed: World, mailbox, settings) -> None:
    settings.HIVE_TIMELINE_SLIP_ESCALATION_HOURS = 48
    with schema_context("alpha"):
        on_plan = delivery_make("On plan", tasks=4)
        late = delivery_make("Late", tasks=4, now=timezone.now() - timedelta(days=8))
        with committed():
            raised = timeline_watch()
            assert late.project.pk not in {e.project_id for e in timeline_watch()}
        mine = [e for e in raised if e.project_id in {late.project.pk, on_plan.project.pk}]
        assert [e.project_id for e in mine] == [late.project.pk]
        assert "hours behind its plan" in mine[0].reason
        assert not Escalation.objects.filter(project=on_plan.project).exists()
    [sent] = [m for m in mailbox.to("staff@hive.test") if "Late" in m.subject]
    assert "Timeline slipped past the threshold" in sent.subject


def test_account_managers_resolve_escalations_in_the_admin_with_a_note(managed: World, mailbox) -> None:
    with schema_context("alpha"):
        task = blocked_task("Resolve me", hours=5)
    with committed():
        tasks_escalate()
    with schema_context("alpha"):
        escalation = Escalation.objects.get(project_id=task.project_id)
    staff = managed.client("staff")
    listing = staff.get("/admin/success/escalations/").content.decode()
    assert f'data-testid="escalation-alpha-{escalation.pk}"' in listing and "Resolve me" in listing
    url = f"/admin/success/escalations/alpha/{escalation.pk}/"
    assert staff.post(url, {"action": "acknowledge"}).status_code == 302
    assert staff.post(url, {"action": "resolve", "resolution": ""}).status_code == 200
    assert (
        staff.post(url, {"action": "resolve", "resolution": "Restarted the database; re-ran the task."}).status_code
        == 302
    )
    with schema_context("alpha"):
        escalation.refresh_from_db()
        assert escalation.status == Escalation.Status.RESOLVED and escalation.resolved_by_email == "staff@hive.test"
        assert Workflow.objects.filter(project_id=task.project_id).exists()
    assert f"escalation-alpha-{escalation.pk}" not in staff.get("/admin/success/escalations/").content.decode()
    assert (
        f"escalation-alpha-{escalation.pk}" in staff.get("/admin/success/escalations/?status=resolved").content.decode()
    )
    assert managed.client("alpha_owner").get("/admin/success/escalations/").status_code == 302  # staff only
