"""The demo project of ``make run`` (projects.delivery.demo): created once from the demo requirements,
started without payment, and only its approvals granted by "demo" — the acceptance after a delay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.pools import pools_ensure
from projects.delivery import demo
from projects.models import Event, Project, Service, Task, Workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_tenant(world, monkeypatch, settings):
    """The alpha customer stands in for the demo tenant (making a schema per test is slow)."""
    monkeypatch.setattr(demo, "DEMO_SCHEMA", "alpha")
    settings.HIVE_DEMO_AUTO_APPROVE = True
    settings.HIVE_DEMO_ACCEPT_AFTER_SECONDS = 600
    pools_ensure()
    return world


def _await(project: Project, key: str, *, ready_for: timedelta = timedelta(0)) -> Task:
    task = Task.objects.get(project=project, key=key)
    task.status, task.ready_at = Task.Status.AWAITING_APPROVAL, timezone.now() - ready_for
    task.save(update_fields=["status", "ready_at"])
    return task


def test_the_demo_project_is_created_once_and_started(demo_tenant):
    owner = demo_tenant.users["alpha_owner"]
    project = demo.demo_project_ensure(owner=owner)
    assert demo.demo_project_ensure(owner=owner).pk == project.pk
    with schema_context("alpha"):
        assert Project.objects.filter(name=demo.DEMO_PROJECT).count() == 1
        assert project.service == Service.MVP and project.stories.count() == 10
        assert Workflow.objects.get(project=project).status == Workflow.Status.RUNNING
        assert Task.objects.filter(project=project, key="story").count() == 10


def test_demo_approvals_grant_the_plan_at_once_and_the_acceptance_later(demo_tenant):
    project = demo.demo_project_ensure(owner=demo_tenant.users["alpha_owner"])
    with schema_context("alpha"):
        plan, accept = _await(project, "approve_plan"), _await(project, "accept")
        other = Project.objects.create(name="Not the demo", service=Service.MVP)
    assert demo.demo_approvals() == 1
    with schema_context("alpha"):
        assert Task.objects.get(pk=plan.pk).status == Task.Status.DONE
        event = Event.objects.get(project=project, kind=Event.Kind.APPROVAL_GRANTED)
        assert (event.actor, event.message) == ("demo", f"demo approved “{plan.title}”")
        assert Task.objects.get(pk=accept.pk).status == Task.Status.AWAITING_APPROVAL
        _await(project, "accept", ready_for=timedelta(minutes=11))
        assert not Event.objects.filter(project=other).exists()
    assert demo.demo_approvals() == 0  # the delivery is not accepted while its work is unfinished
    with schema_context("alpha"):
        Task.objects.filter(project=project).exclude(pk=accept.pk).update(status=Task.Status.DONE)
    assert demo.demo_approvals() == 1
    with schema_context("alpha"):
        assert Task.objects.get(pk=accept.pk).output["approved_by"] == "demo"


def test_nothing_is_approved_unless_the_demo_mode_is_on(demo_tenant, settings):
    settings.HIVE_DEMO_AUTO_APPROVE = False
    project = demo.demo_project_ensure(owner=demo_tenant.users["alpha_owner"])
    with schema_context("alpha"):
        _await(project, "approve_plan")
    assert demo.demo_approvals() == 0
