"""Approvals, cancellations and scope changes land in the audit trail (projects → tenants.audit)
with the person, the customer, the address and the object, inside the action's transaction."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Project, Quote, Service, Story, Task
from tenants.audit import Action
from tenants.models import AuditEntry
from tests.projects.portal import card_on_file, new_project, submit_requirements, url
from tests.world import World

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.33"


def _delivery() -> tuple[Project, Task]:
    with schema_context("alpha"):
        project = Project.objects.create(name="Audited", service=Service.MVP, status=Project.Status.IN_DELIVERY)
        Story.objects.create(project=project, title="List", as_a="user", i_want="list things")
        project_start(project=project)
        plan = Task.objects.get(project=project, key="approve_plan")
        Task.objects.filter(pk=plan.pk).update(status=Task.Status.AWAITING_APPROVAL)
        return project, plan


def _only(action: str) -> AuditEntry:
    (entry,) = AuditEntry.objects.filter(action=action)
    return entry


def test_the_plan_approval_and_the_delivery_acceptance_are_recorded(world: World) -> None:
    project, plan = _delivery()
    owner = world.client("alpha_owner", on="alpha")

    assert owner.post(url("task_approve", project.pk, plan.pk), REMOTE_ADDR=ADDRESS).status_code == 302
    with schema_context("alpha"):
        accept = Task.objects.get(project=project, key="accept")
        Task.objects.filter(pk=accept.pk).update(status=Task.Status.AWAITING_APPROVAL)
        # The delivery is accepted once everything before it has ended (acceptance_guard).
        Task.objects.filter(project=project).exclude(pk=accept.pk).update(status=Task.Status.DONE)
    assert owner.post(url("task_approve", project.pk, accept.pk), REMOTE_ADDR=ADDRESS).status_code == 302
    assert not AuditEntry.objects.filter(action=Action.DELIVERY_ACCEPTED).exists()  # not confirmed: refused
    confirmed = {"confirm": "yes"}
    assert owner.post(url("task_approve", project.pk, accept.pk), confirmed, REMOTE_ADDR=ADDRESS).status_code == 302

    for action, task in ((Action.PLAN_APPROVED, plan), (Action.DELIVERY_ACCEPTED, accept)):
        entry = _only(action)
        assert (entry.actor, entry.tenant, entry.ip) == (world.users["alpha_owner"], world.customers["alpha"], ADDRESS)
        assert (entry.object_type, entry.object_id) == ("projects.task", str(task.pk))
        assert entry.detail == {"project_id": project.pk, "project": "Audited"}


def test_a_refused_approval_leaves_no_entry(world: World) -> None:
    project, plan = _delivery()
    assert world.client("alpha_member", on="alpha").post(url("task_approve", project.pk, plan.pk)).status_code == 403
    assert not AuditEntry.objects.filter(action=Action.PLAN_APPROVED).exists()


def test_cancelling_a_task_and_the_project_is_recorded_with_the_account_manager(world: World) -> None:
    project, _ = _delivery()
    with schema_context("alpha"):
        task = Task.objects.filter(project=project, kind=Task.Kind.AGENT).exclude(status__in=Task.FINISHED).first()
        assert task is not None
    staff = world.client("staff", on="alpha")

    # Cancelling a task drops scope: it takes a reason (projects.views_scope.task_drop).
    reason = {"reason": "The customer no longer needs it."}
    assert staff.post(f"/projects/{project.pk}/tasks/{task.pk}/drop/", reason, REMOTE_ADDR=ADDRESS).status_code == 302
    assert staff.post(f"/projects/{project.pk}/control/cancel/", REMOTE_ADDR=ADDRESS).status_code == 302

    cancelled = _only(Action.TASK_CANCELLED)
    assert (cancelled.actor, cancelled.tenant, cancelled.ip) == (
        world.users["staff"],
        world.customers["alpha"],
        ADDRESS,
    )
    assert cancelled.object_id == str(task.pk)
    stopped = _only(Action.PROJECT_CANCELLED)
    assert (stopped.actor, stopped.object_type, stopped.object_id) == (
        world.users["staff"],
        "projects.project",
        str(project.pk),
    )
    assert stopped.detail["tasks_cancelled"] > 0


def test_story_edits_additions_and_drops_are_recorded_with_what_changed(world: World) -> None:
    member = world.client("alpha_member", on="alpha")
    project = new_project(member, Service.MVP)
    submit_requirements(member, project, "pawwalk_10_stories.md")
    with schema_context("alpha"):
        story = Story.objects.filter(project=project).order_by("position").first()
        assert story is not None
    form = {
        "epic": story.epic,
        "title": "Walkers see =cmd() their schedule",
        "as_a": story.as_a,
        "i_want": story.i_want,
        "so_that": story.so_that,
        "priority": story.priority,
        "acceptance_criteria": "\n".join(story.acceptance_criteria),
        "points": "",
    }

    member.post(url("story_edit", project.pk, story.pk), form, REMOTE_ADDR=ADDRESS)
    member.post(url("story_drop", project.pk, story.pk), {"dropped": "1"}, REMOTE_ADDR=ADDRESS)
    member.post(url("story_add", project.pk), {**form, "title": "A brand new story"}, REMOTE_ADDR=ADDRESS)

    edited = _only(Action.STORY_EDITED)
    assert (edited.actor, edited.tenant, edited.ip) == (world.users["alpha_member"], world.customers["alpha"], ADDRESS)
    assert edited.detail["changed"]["title"] == {"from": story.title, "to": "Walkers see =cmd() their schedule"}
    dropped = _only(Action.STORY_DROPPED)
    assert dropped.object_id == str(story.pk) and dropped.detail["dropped"] is True
    added = _only(Action.STORY_ADDED)
    assert added.object_label == "A brand new story" and added.actor == world.users["alpha_member"]


def test_accepting_a_quote_is_recorded(world: World) -> None:
    member = world.client("alpha_member", on="alpha")
    project = new_project(member, Service.MVP)
    submit_requirements(member, project, "pawwalk_10_stories.md")
    assert member.post(url("quote_create", project.pk)).status_code == 302
    owner = world.client("alpha_owner", on="alpha")
    card_on_file(world.customers["alpha"])
    page = owner.get(url("quote_accept", project.pk, 1)).content.decode()
    consent = page.split('name="consent" value="', 1)[1].split('"', 1)[0]

    response = owner.post(
        url("quote_accept", project.pk, 1), {"consent": consent, "authorise": "yes"}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 302
    with schema_context("alpha"):
        quote = Quote.objects.get(project=project, number=1)
    entry = _only(Action.QUOTE_ACCEPTED)
    assert (entry.actor, entry.tenant, entry.ip) == (world.users["alpha_owner"], world.customers["alpha"], ADDRESS)
    assert (entry.object_type, entry.object_id) == ("projects.quote", str(quote.pk))
    assert entry.detail == {
        "project_id": project.pk,
        "price_cents": quote.price_cents,
        "authorised_now_cents": (quote.price_cents or 0) // 2,
        "authorised_card": "Visa •••• 4242",
    }
