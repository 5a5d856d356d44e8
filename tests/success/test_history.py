"""A project's whole history a page at a time, and a task's page (success/history.py,
success/task_detail.py, success/views_history.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.workspace import PLATFORM, tree_write
from projects.delivery.deliverables import project_workspace
from projects.delivery.faults import customer_text
from projects.models import Event, Run, Task
from success.history import PAGE_SIZE, history_page
from tests.success.delivery import delivery_make
from tests.world import World

pytestmark = pytest.mark.django_db
URLCONF = "hive.urls_tenant"


@pytest.fixture(autouse=True)
def _storage(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path  # type: ignore[attr-defined]


def _url(name: str, *args: int) -> str:
    return reverse(name, urlconf=URLCONF, args=list(args))


def _many_events(count: int) -> tuple[int, list[int]]:
    """A project with ``count`` more events, all at one instant (ties broken by id); their ids."""
    delivery = delivery_make("Long history", tasks=3)
    at = timezone.now()
    kinds = [Event.Kind.TASK_REPORT, Event.Kind.TASK_FAILED]
    rows = Event.objects.bulk_create(
        Event(project=delivery.project, kind=kinds[n % 2], message=f"event {n}", created_at=at) for n in range(count)
    )
    return delivery.project.pk, [row.pk for row in rows]


def test_the_history_pages_through_every_event_once_newest_first(world: World) -> None:
    with schema_context("alpha"):
        project_id, ids = _many_events(2 * PAGE_SIZE + 7)
        total = Event.objects.filter(project_id=project_id).count()
    client = world.client("alpha_viewer", on="alpha")
    seen: list[int] = []
    url = _url("project_history", project_id)
    while True:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [event.id for event in page.events]
        if page.older is None:
            break
        url = _url("project_history", project_id) + f"?before={page.older}"
    assert len(seen) == len(set(seen)) == total
    assert seen[: len(ids)] == sorted(ids, reverse=True)


def test_a_deep_page_costs_what_the_first_does(world: World) -> None:
    with schema_context("alpha"):
        project_id, ids = _many_events(3000)
        project = Event.objects.filter(project_id=project_id).first().project  # type: ignore[union-attr]
        with CaptureQueriesContext(connection) as deep:
            page = history_page(project, before=ids[100])
        assert len(page.events) == PAGE_SIZE and page.events[0].id == ids[99]
        assert len(deep.captured_queries) == 2
        assert not any("OFFSET" in query["sql"] for query in deep.captured_queries)


def test_the_history_filters_by_kind_and_by_group(world: World) -> None:
    with schema_context("alpha"):
        project_id, _ = _many_events(20)
    client = world.client("alpha_viewer", on="alpha")
    failed = client.get(_url("project_history", project_id), {"kind": "task.failed"}).context["page"]
    assert failed.events and {event.kind for event in failed.events} == {"task.failed"}
    problems = client.get(_url("project_history", project_id), {"kind": "group:problems"}).context["page"]
    assert {"task.failed"} <= {event.kind for event in problems.events} and all(
        event.kind != "task.report" for event in problems.events
    )
    # An unknown kind or a cursor of nothing shows everything or nothing, never an error.
    assert client.get(_url("project_history", project_id), {"kind": "x' OR 1=1"}).status_code == 200
    assert client.get(_url("project_history", project_id), {"before": "99999999999999999999"}).status_code == 200
    assert client.get(_url("project_history", project_id), {"before": "1"}).context["page"].events == []


def test_the_problems_group_holds_every_problem_kind(world: World) -> None:
    problem_kinds = [Event.Kind.STORY_GAP, Event.Kind.TASK_ESCALATED, Event.Kind.PAYMENT_FAILED, Event.Kind.RUN_LOST]
    with schema_context("alpha"):
        delivery = delivery_make("Problems", tasks=1)
        for kind in [*problem_kinds, Event.Kind.TASK_REPORT]:
            Event.objects.create(project=delivery.project, kind=kind, message=f"a {kind}")
    client = world.client("alpha_viewer", on="alpha")
    page = client.get(_url("project_history", delivery.project.pk), {"kind": "group:problems"}).context["page"]
    kinds = {event.kind for event in page.events}
    assert set(problem_kinds) <= kinds and Event.Kind.TASK_REPORT not in kinds


def test_a_cursor_of_another_project_matches_nothing(world: World) -> None:
    with schema_context("alpha"):
        project_id, _ = _many_events(5)
        _, other = _many_events(5)
    page = world.client("alpha_viewer", on="alpha").get(_url("project_history", project_id), {"before": other[-1]})
    assert page.context["page"].events == []


def _task_with_work() -> tuple[int, Task, str]:
    delivery = delivery_make("Worked", tasks=3)
    task = delivery.tasks[0]
    workspace = project_workspace(delivery.project)
    workspace.ensure(project="Worked", ignore="")
    tree_write(workspace.root, "app/models.py", "a = 1\nb = 2\n")
    commit, _ = workspace.commit_main("Add the models", author=PLATFORM)
    start = timezone.now() - timedelta(minutes=5)
    run = Run.objects.create(
        task=task,
        attempt=7,
        agent_name="dev-1",
        provider="builtin",
        status=Run.Status.FAILED,
        started_at=start,
        finished_at=start + timedelta(seconds=42),
        error='Traceback (most recent call last):\n  File "/srv/hive/var/storage/alpha/x.py", line 3, in f\n'
        "ValueError: boom in /srv/hive/var/storage/alpha/projects/7/workspace/app.py",
    )
    for message, data in (
        ("committed", {"report": "commit", "commit": commit}),
        ("forged", {"report": "commit", "commit": "--output=/tmp/pwned"}),
        ("tests", {"report": "tests", "tests_passed": 12, "tests_failed": 1, "coverage_percent": 96.5}),
    ):
        Event.objects.create(
            project=delivery.project, task=task, run=run, kind=Event.Kind.TASK_REPORT, message=message, data=data
        )
    return delivery.project.pk, task, commit


def test_a_task_page_shows_runs_commits_tests_and_a_sanitised_log(world: World) -> None:
    with schema_context("alpha"):
        project_id, task, commit = _task_with_work()
    page = world.client("alpha_viewer", on="alpha").get(_url("task_page", project_id, task.pk)).content.decode()
    assert "dev-1" in page and "42.0 s" in page and "Failed" in page
    assert commit[:12] in page and "Add the models" in page and "1 file changed, 2 insertions(+)" in page
    assert "12 passed" in page and "1 failed" in page and "96.5 % covered" in page
    assert "/srv/hive" not in page and "Traceback" not in page and 'File "' not in page
    assert "our team has been alerted" in page
    assert not Path("/tmp/pwned").exists()


def test_staff_see_the_whole_log(world: World) -> None:
    with schema_context("alpha"):
        project_id, task, _ = _task_with_work()
    page = world.client("staff", on="alpha").get(_url("task_page", project_id, task.pk)).content.decode()
    assert "Traceback (most recent call last)" in page and "/srv/hive/var/storage/alpha/x.py" in page


def test_task_cards_on_the_dashboard_link_to_their_page(world: World) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Linked", tasks=4)
    page = world.client("alpha_viewer", on="alpha").get(_url("project_dashboard", delivery.project.pk)).content.decode()
    assert f'href="{_url("task_page", delivery.project.pk, delivery.tasks[0].pk)}"' in page
    assert f'href="{_url("project_history", delivery.project.pk)}"' in page


def test_the_log_sanitiser_keeps_words_and_relative_paths() -> None:
    text = "wrote docs/architecture.md; see https://example.test/a/b and /home/hive/secret/key.pem"
    assert customer_text(text) == "wrote docs/architecture.md; see https://example.test/a/b and …/key.pem"


@pytest.mark.parametrize("name", ["project_history", "task_page"])
def test_another_tenants_user_gets_nothing(world: World, name: str) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Private", tasks=3)
    args = [delivery.project.pk] if name == "project_history" else [delivery.project.pk, delivery.tasks[0].pk]
    assert world.client("beta_owner", on="alpha").get(_url(name, *args)).status_code == 404
    assert world.client("alpha_owner", on="beta").get(_url(name, *args)).status_code == 404
    with schema_context("alpha"):
        other = delivery_make("Other", tasks=3)
    if name == "task_page":  # a task of another project of the same customer is not this project's
        assert (
            world.client("alpha_owner", on="alpha").get(_url(name, delivery.project.pk, other.tasks[0].pk)).status_code
            == 404
        )
