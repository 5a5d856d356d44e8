"""The people in the loop: an owner approves what waits for approval; an account manager pauses,
resumes and cancels deliveries and holds, re-runs or cancels tasks — each recorded with who."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from projects.delivery.planning import project_start
from projects.models import Event, Project, Service, Story, Task, Workflow
from tests.world import World

pytestmark = pytest.mark.django_db


def _delivery(slug: str = "alpha") -> tuple[Project, Task]:
    with schema_context(slug):
        project = Project.objects.create(name="Controlled", service=Service.MVP, status=Project.Status.IN_DELIVERY)
        Story.objects.create(project=project, title="List", as_a="user", i_want="list things")
        project_start(project=project)
        approval = Task.objects.filter(project=project, kind=Task.Kind.APPROVAL).order_by("phase__position").first()
        assert approval is not None
        Task.objects.filter(pk=approval.pk).update(status=Task.Status.AWAITING_APPROVAL)
        return project, approval


def test_an_owner_approves_the_plan_and_it_is_recorded(world: World) -> None:
    project, approval = _delivery()
    page = world.client("alpha_owner", on="alpha").get(f"/projects/{project.pk}/")
    assert b"Waiting for your approval" in page.content and approval.title.encode() in page.content

    response = world.client("alpha_owner", on="alpha").post(f"/projects/{project.pk}/tasks/{approval.pk}/approve/")

    assert response.status_code == 302
    with schema_context("alpha"):
        approval.refresh_from_db()
        assert approval.status == Task.Status.DONE
        event = Event.objects.get(project=project, kind=Event.Kind.APPROVAL_GRANTED)
        assert event.actor == "alpha-owner@example.test"


def test_the_delivery_acceptance_is_refused_without_its_confirmation(world: World) -> None:
    project, _ = _delivery()
    with schema_context("alpha"):
        accept = Task.objects.get(project=project, key="accept")
        Task.objects.filter(pk=accept.pk).update(status=Task.Status.AWAITING_APPROVAL)
        # The delivery is accepted once everything before it has ended (acceptance_guard).
        Task.objects.filter(project=project).exclude(pk=accept.pk).update(status=Task.Status.DONE)
    owner = world.client("alpha_owner", on="alpha")
    path = f"/projects/{project.pk}/tasks/{accept.pk}/approve/"
    for unconfirmed in ({}, {"confirm": "no"}, {"confirm": "true"}):
        response = owner.post(path, unconfirmed, follow=True)
        assert "confirm it before approving" in response.content.decode(), unconfirmed
        with schema_context("alpha"):
            assert Task.objects.get(pk=accept.pk).status == Task.Status.AWAITING_APPROVAL
    assert world.client("beta_owner", on="alpha").post(path, {"confirm": "yes"}).status_code == 404
    assert owner.post(path, {"confirm": "yes"}).status_code == 302
    with schema_context("alpha"):
        assert Task.objects.get(pk=accept.pk).status == Task.Status.DONE


@pytest.mark.parametrize("user", ["alpha_member", "alpha_viewer"])
def test_only_owners_approve(world: World, user: str) -> None:
    project, approval = _delivery()
    response = world.client(user, on="alpha").post(f"/projects/{project.pk}/tasks/{approval.pk}/approve/")
    assert response.status_code == 403
    with schema_context("alpha"):
        approval.refresh_from_db()
        assert approval.status == Task.Status.AWAITING_APPROVAL


def test_an_account_manager_pauses_resumes_and_cancels_with_a_record(world: World) -> None:
    project, _ = _delivery()
    staff = world.client("staff", on="alpha")
    assert b"Account manager controls" in staff.get(f"/projects/{project.pk}/").content

    for action, status in (("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")):
        assert staff.post(f"/projects/{project.pk}/control/{action}/").status_code == 302
        with schema_context("alpha"):
            assert Workflow.objects.get(project=project).status == status
    with schema_context("alpha"):
        actors = set(
            Event.objects.filter(
                project=project,
                kind__in=[Event.Kind.PROJECT_PAUSED, Event.Kind.PROJECT_RESUMED, Event.Kind.PROJECT_CANCELLED],
            ).values_list("actor", flat=True)
        )
    assert actors == {"staff@hive.test"}


def test_an_account_manager_holds_and_releases_a_task(world: World) -> None:
    project, _ = _delivery()
    with schema_context("alpha"):
        task = Task.objects.filter(project=project, kind=Task.Kind.AGENT).exclude(status=Task.Status.DONE).first()
        assert task is not None
    staff = world.client("staff", on="alpha")
    assert staff.post(f"/projects/{project.pk}/tasks/{task.pk}/control/hold/").status_code == 302
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.held
    assert staff.post(f"/projects/{project.pk}/tasks/{task.pk}/control/release/").status_code == 302
    with schema_context("alpha"):
        task.refresh_from_db()
        assert not task.held


@pytest.mark.parametrize("user", ["alpha_owner", "alpha_member"])
def test_customers_cannot_use_the_account_manager_controls(world: World, user: str) -> None:
    project, approval = _delivery()
    client = world.client(user, on="alpha")
    assert client.post(f"/projects/{project.pk}/control/cancel/").status_code == 403
    assert client.post(f"/projects/{project.pk}/tasks/{approval.pk}/control/cancel/").status_code == 403
    with schema_context("alpha"):
        assert Workflow.objects.get(project=project).status == Workflow.Status.RUNNING
    assert b"Account manager controls" not in client.get(f"/projects/{project.pk}/").content


def test_an_unknown_control_is_not_found(world: World) -> None:
    project, _ = _delivery()
    assert world.client("staff", on="alpha").post(f"/projects/{project.pk}/control/explode/").status_code == 404


def test_controlling_a_delivery_that_has_not_started_says_so(world: World) -> None:
    with schema_context("alpha"):
        project = Project.objects.create(name="Not started", service=Service.MVP, status=Project.Status.IN_DELIVERY)
    response = world.client("staff", on="alpha").post(f"/projects/{project.pk}/control/pause/", follow=True)
    assert response.status_code == 200
    assert "The delivery has not started" in response.content.decode()
    with schema_context("alpha"):
        assert not Workflow.objects.filter(project=project).exists()
