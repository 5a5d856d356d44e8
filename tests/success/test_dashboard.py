"""The project dashboard and the customer overview (success/views.py, success/dashboard.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from projects.delivery.events import event_append
from projects.delivery.progress import project_progress, project_timeline
from projects.models import Event, Project, Service, Task
from success.dashboard import CARD_CAP, project_summaries
from tenants.models import StaffEntry
from tests.success.delivery import delivery_make
from tests.world import World

pytestmark = pytest.mark.django_db
URLCONF = "hive.urls_tenant"


def dashboard_url(pk: int, name: str = "project_dashboard") -> str:
    return reverse(name, urlconf=URLCONF, args=[pk])


def test_it_shows_phases_board_agents_feed_progress_and_usage(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Shop rebuild", tasks=12)
        progress = int(project_progress(delivery.project) * 100)
    response = world.client("alpha_viewer", on="alpha").get(dashboard_url(delivery.project.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Shop rebuild" in page
    for phase in ("Requirements analysis", "Development", "Deployment"):
        assert phase in page
    assert f'data-testid="progress">{progress} %<' in page
    assert "Story 1" in page and "Full-stack developer" in page
    assert "dev-" in page  # a running run's agent
    assert "Shop rebuild started" in page and "Phase completed" in page
    assert "not measured yet" in page  # nothing reported quality numbers
    # The fixture has a blocked task: the project says so, never "On plan" nor 100 %.
    assert "Behind plan by" not in page and "On plan" not in page and "Blocked for" in page
    assert "Workflow.Status" not in page and 'data-testid="probability">100 %' not in page
    assert "<svg" in page and "Burn-up" in page
    assert 'ws-connect="/ws/projects/' in page and 'hx-trigger="every 5s"' in page


def test_a_column_shows_at_most_the_cap_and_counts_the_rest(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Big one", tasks=400)
        done = Task.objects.filter(phase=delivery.phases[1], status__in=Task.FINISHED).count()
    page = world.client("alpha_member", on="alpha").get(dashboard_url(delivery.project.pk)).content.decode()
    assert f"+{done - CARD_CAP} more" in page
    assert page.count('class="task done"') == CARD_CAP + 1  # the development column and requirements' one


def test_quality_numbers_appear_once_reported_and_never_before(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Measured", tasks=5)
        event_append(
            project_id=delivery.project.pk,
            kind=Event.Kind.TASK_REPORT,
            task=delivery.tasks[1],
            message="coverage measured",
            data={"report": "coverage", "coverage_percent": 96.4},
        )
    page = world.client("alpha_member", on="alpha").get(dashboard_url(delivery.project.pk)).content.decode()
    assert "96.4%" in page
    assert page.count("not measured yet") == 3


def test_the_feed_filters_by_kind_group(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Filtered", tasks=5)
        event_append(
            project_id=delivery.project.pk,
            kind=Event.Kind.TASK_BLOCKED,
            task=delivery.tasks[2],
            message="blocked after 3 attempts",
        )
    client = world.client("alpha_member", on="alpha")
    problems = client.get(dashboard_url(delivery.project.pk) + "?feed=problems").content.decode()
    assert "blocked after 3 attempts" in problems and "Filtered started" not in problems
    milestones = client.get(dashboard_url(delivery.project.pk) + "?feed=milestones").content.decode()
    assert "blocked after 3 attempts" not in milestones and "Filtered started" in milestones


def test_the_state_endpoint_sends_fragments_swapped_by_id(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Polled", tasks=5)
    response = world.client("alpha_member", on="alpha").get(
        dashboard_url(delivery.project.pk, "project_dashboard_state")
    )
    body = response.content.decode()
    for fragment in (
        "dash-summary",
        "dash-agents",
        "dash-timeline",
        "dash-burnup",
        "dash-quality",
        "dash-probability",
        "dash-board",
        "event-feed",
        "dash-cursor",
        "dash-decisions",
    ):
        assert f'id="{fragment}"' in body
    assert body.count('hx-swap-oob="true"') == 10
    assert "<html" not in body


def test_a_project_not_started_yet_has_a_plain_dashboard(world: World) -> None:
    with schema_context("alpha"):
        project = Project.objects.create(name="Just scoped", service=Service.MVP)
    response = world.client("alpha_member", on="alpha").get(dashboard_url(project.pk))
    assert response.status_code == 200
    assert b"has not started yet" in response.content


@pytest.mark.parametrize("user", ["beta_owner", "outsider"])
def test_other_tenants_users_get_404(world: World, user: str) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Secret delivery", tasks=5)
    client = world.client(user, on="alpha")
    for name in ("project_dashboard", "project_dashboard_state"):
        response = client.get(dashboard_url(delivery.project.pk, name))
        assert response.status_code == 404
        assert b"Secret delivery" not in response.content


def test_a_project_id_of_another_tenant_is_404_here(world: World) -> None:
    with schema_context("beta"):
        delivery = delivery_make("Beta only", tasks=5)
    with schema_context("alpha"):
        Project.objects.filter(pk=delivery.project.pk).delete()  # make sure the id is free in alpha
    response = world.client("alpha_owner", on="alpha").get(dashboard_url(delivery.project.pk))
    assert response.status_code == 404
    assert b"Beta only" not in response.content


def test_staff_see_any_dashboard_and_the_visit_is_recorded(world: World) -> None:
    with schema_context("beta"):
        delivery = delivery_make("Beta delivery", tasks=5)
    response = world.client("staff", on="beta").get(dashboard_url(delivery.project.pk))
    assert response.status_code == 200
    assert b"Beta delivery" in response.content and b"Staff visit" in response.content
    assert StaffEntry.objects.filter(customer=world.customers["beta"], user=world.users["staff"]).count() == 1


@pytest.mark.parametrize("size", [10, 1000])
def test_the_dashboard_query_count_does_not_grow_with_the_project(
    world: World, size: int, django_assert_max_num_queries
) -> None:
    with schema_context("alpha"):
        delivery = delivery_make(f"Sized {size}", tasks=size)
    client = world.client("alpha_member", on="alpha")
    url = dashboard_url(delivery.project.pk)
    # 22 before the delivered-scope facts (success.delivery_status: six queries, whatever the size).
    with django_assert_max_num_queries(28):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(28):
        assert client.get(dashboard_url(delivery.project.pk, "project_dashboard_state")).status_code == 200


def test_the_overview_shows_every_project_with_progress_and_health(world: World, django_assert_max_num_queries) -> None:
    with schema_context("alpha"):
        on_plan = delivery_make("On plan project", tasks=10)
        late = delivery_make("Late project", tasks=10, now=timezone.now() - timedelta(days=9))
        Task.objects.filter(project=on_plan.project, status=Task.Status.BLOCKED).update(status=Task.Status.READY)
        Task.objects.filter(project=late.project, status=Task.Status.BLOCKED).update(status=Task.Status.READY)
        scoped = Project.objects.create(name="Only scoped", service=Service.MVP)
        expected = {d.project.pk: int(project_progress(d.project) * 100) for d in (on_plan, late)}
    client = world.client("alpha_viewer", on="alpha")
    with django_assert_max_num_queries(18):  # 12 + the delivered-scope facts of all projects (six)
        response = client.get("/")
    page = response.content.decode()
    assert 'data-testid="portal-title">Alpha Industries<' in page
    assert f'data-testid="health-{on_plan.project.pk}">On plan<' in page
    assert f'data-testid="health-{late.project.pk}">Behind plan by' in page
    assert f'data-testid="health-{scoped.pk}">Not started<' in page
    for percent in expected.values():
        assert f"{percent} %" in page
    assert 'data-testid="new-project"' not in page  # viewers do not start projects


def test_overview_numbers_agree_with_the_orchestration(world: World) -> None:
    with schema_context("alpha"):
        deliveries = [delivery_make(f"Agree {n}", tasks=n) for n in (3, 17, 60)]
        deliveries.append(delivery_make("Unplanned", tasks=8, planned=False))
        now = timezone.now() + timedelta(days=5)
        summaries = {s.project.pk: s for s in project_summaries(now=now)}
        for delivery in deliveries:
            summary = summaries[delivery.project.pk]
            assert summary.progress == pytest.approx(project_progress(delivery.project))
            assert summary.delay == project_timeline(delivery.project, now=now).delay
