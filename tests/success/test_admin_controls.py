"""Account managers control a delivery from the staff admin as they can from the portal: pause,
resume, cancel the project; hold, release, re-run, cancel a task — each recorded with who, each
offered only where it applies, and nobody else can."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django_tenants.utils import schema_context

from agents.providers.llm import LlmConfig
from projects.delivery.job_spec import job_spec
from projects.delivery.planning import project_start
from projects.models import Event, Project, Service, Story, Task, Workflow
from tests.world import World

pytestmark = pytest.mark.django_db


def _delivery(slug: str = "alpha", *, start: bool = True) -> Project:
    with schema_context(slug):
        project = Project.objects.create(name="Controlled", service=Service.MVP, status=Project.Status.IN_DELIVERY)
        Story.objects.create(project=project, title="List", as_a="user", i_want="list things")
        if start:
            project_start(project=project)
        return project


def _url(project: Project, slug: str = "alpha") -> str:
    return f"/admin/success/projects/{slug}/{project.pk}/"


def test_it_pauses_resumes_and_cancels_a_delivery_with_a_record(world: World) -> None:
    project = _delivery()
    staff = world.client("staff")
    page = staff.get(_url(project)).content.decode()
    assert 'data-testid="project-pause"' in page and 'data-testid="project-resume"' not in page

    for control, status in (("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")):
        response = staff.post(_url(project), {"action": "control", "control": control}, follow=True)
        assert f"The delivery is now {status}" in response.content.decode()
        with schema_context("alpha"):
            assert Workflow.objects.get(project=project).status == status
        if control == "pause":
            page = response.content.decode()
            assert 'data-testid="project-resume"' in page and 'data-testid="project-pause"' not in page
    with schema_context("alpha"):
        kinds = [Event.Kind.PROJECT_PAUSED, Event.Kind.PROJECT_RESUMED, Event.Kind.PROJECT_CANCELLED]
        events = Event.objects.filter(project=project, kind__in=kinds)
        assert sorted(events.values_list("kind", flat=True)) == sorted(kinds)
        assert set(events.values_list("actor", flat=True)) == {"staff@hive.test"}


def test_it_holds_and_releases_a_task(world: World) -> None:
    project = _delivery()
    with schema_context("alpha"):
        task = Task.objects.filter(project=project, kind=Task.Kind.AGENT).exclude(status__in=Task.FINISHED).first()
        assert task is not None
    staff = world.client("staff")
    assert f'data-testid="task-{task.pk}-hold"' in staff.get(_url(project)).content.decode()

    page = staff.post(_url(project), {"action": "control", "control": "hold", "task": task.pk}, follow=True)
    assert "hold done" in page.content.decode()
    assert f'data-testid="task-{task.pk}-release"' in page.content.decode()
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.held
    staff.post(_url(project), {"action": "control", "control": "release", "task": task.pk})
    with schema_context("alpha"):
        task.refresh_from_db()
        assert not task.held
        actors = Event.objects.filter(task=task, kind__in=[Event.Kind.TASK_HELD, Event.Kind.TASK_RELEASED]).values_list(
            "actor", flat=True
        )
        assert list(actors) == ["staff@hive.test", "staff@hive.test"]


def test_a_refused_control_says_why_and_changes_nothing(world: World) -> None:
    project = _delivery()
    response = world.client("staff").post(_url(project), {"action": "control", "control": "resume"}, follow=True)
    assert "The project is not paused." in response.content.decode()
    unstarted = _delivery(start=False)
    response = world.client("staff").post(_url(unstarted), {"action": "control", "control": "pause"}, follow=True)
    assert "has not started" in response.content.decode()
    with schema_context("alpha"):
        assert Workflow.objects.get(project=project).status == Workflow.Status.RUNNING
        assert not Workflow.objects.filter(project=unstarted).exists()


def test_a_task_of_another_project_or_customer_is_not_found(world: World) -> None:
    project = _delivery()
    other = _delivery("beta")
    with schema_context("beta"):
        foreign = Task.objects.filter(project=other, kind=Task.Kind.AGENT).first()
        assert foreign is not None
    with schema_context("alpha"):
        assert not Task.objects.filter(project=project, pk=foreign.pk).exists()
    response = world.client("staff").post(_url(project), {"action": "control", "control": "hold", "task": foreign.pk})
    assert response.status_code == 404
    with schema_context("beta"):
        foreign.refresh_from_db()
        assert not foreign.held


@pytest.mark.parametrize("user", ["alpha_owner", "beta_owner", "outsider"])
def test_customers_cannot_use_the_admin_controls(world: World, user: str) -> None:
    project = _delivery()
    response = world.client(user).post(_url(project), {"action": "control", "control": "cancel"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    with schema_context("alpha"):
        assert Workflow.objects.get(project=project).status == Workflow.Status.RUNNING


def test_an_account_manager_sets_the_projects_agents_and_the_runs_use_them(world: World, settings: Any) -> None:
    project = _delivery()
    staff = world.client("staff")
    assert 'data-testid="agent-usage"' in staff.get(_url(project)).content.decode()

    form = {"action": "configure", "provider": "llm", "model": "house-model", "budget_tokens": "5000"}
    response = staff.post(_url(project), {**form, "budget_cost": "12.50"}, follow=True)

    assert "Agents set to llm" in response.content.decode()
    with schema_context("alpha"):
        workflow = Workflow.objects.get(project=project)
        assert workflow.provider == "llm"
        assert workflow.llm == {"model": "house-model", "budget_tokens": 5000, "budget_cost": "12.50"}
        event = Event.objects.get(project=project, kind=Event.Kind.PROJECT_CONFIGURED)
        assert event.actor == "staff@hive.test" and "house-model" in event.message
        task = Task.objects.select_related("project__workflow").filter(project=project, kind=Task.Kind.AGENT).first()
        assert task is not None
        spec = job_spec(task)
        # A task's own settings still win over the project's.
        task.inputs = {"llm": {"model": "special-model"}}
        special = job_spec(task)
    settings.HIVE_LLM_BASE_URL = "http://127.0.0.1:9/v1"  # never called: only the configuration is read
    config = LlmConfig.for_job(spec)
    assert (config.model, config.budget_tokens, config.budget_cost) == ("house-model", 5000, Decimal("12.50"))
    assert LlmConfig.for_job(special).model == "special-model"
    assert LlmConfig.for_job(special).budget_tokens == 5000


def test_bad_agent_settings_are_refused_and_change_nothing(world: World) -> None:
    project = _delivery()
    staff = world.client("staff")
    bad = {"action": "configure", "provider": "llm", "budget_tokens": "-1"}
    response = staff.post(_url(project), bad, follow=True)
    assert "The agent settings were not saved" in response.content.decode()
    response = staff.post(_url(project), {"action": "configure", "provider": "skynet"}, follow=True)
    assert "The agent settings were not saved" in response.content.decode()
    with schema_context("alpha"):
        workflow = Workflow.objects.get(project=project)
        assert (workflow.provider, workflow.llm) == ("", {})
        assert not Event.objects.filter(project=project, kind=Event.Kind.PROJECT_CONFIGURED).exists()
