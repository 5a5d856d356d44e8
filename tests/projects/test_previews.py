"""The project page's preview: the link while it runs, "Start preview" (members and owners, a POST,
done by a real Celery worker) after it stopped, and the sweep that stops previews when idle and
after acceptance plus the grace (projects/previews.py, projects/views_preview.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.previews import preview_get, preview_stop
from projects.delivery.previews import preview_home, previews_sweep
from projects.models import Project, Service, Workflow
from tests.preview_apps import echo_preview_start
from tests.workers import broker_flush, thread_worker, use_test_broker, wait_for
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(world: World, settings: Any, tmp_path: Path) -> Iterator[Project]:
    """An MVP of alpha in delivery whose preview (the echo app) is deployed and running."""
    settings.HIVE_STORAGE_ROOT = tmp_path
    with schema_context("alpha"):
        made = Project.objects.create(name="Shop", service=Service.MVP, status=Project.Status.IN_DELIVERY)
        Workflow.objects.create(project=made, template="mvp")
    echo_preview_start(tmp_path, "alpha", made.pk)
    try:
        yield made
    finally:
        preview_stop(preview_home("alpha", made.pk))
        with schema_context("alpha"):
            Project.objects.filter(pk=made.pk).delete()


def _page(world: World, user: str, project: Project) -> Any:
    return world.client(user, on="alpha").get(f"/projects/{project.pk}/")


def test_the_project_page_links_the_running_preview(world: World, project: Project) -> None:
    page = _page(world, "alpha_viewer", project).content.decode()
    assert f'href="/projects/{project.pk}/preview/"' in page and 'data-testid="preview-start"' not in page
    opened = world.client("alpha_viewer", on="alpha").get(f"/projects/{project.pk}/preview/")
    assert opened.status_code == 302
    assert opened["Location"].startswith(f"http://alpha-{project.pk}.{django_settings.HIVE_PREVIEW_DOMAIN}/__hive__/")
    assert opened["Referrer-Policy"] == "no-referrer"
    assert _page(world, "beta_owner", project).status_code == 404


def test_a_member_starts_a_stopped_preview_again(world: World, project: Project) -> None:
    home = preview_home("alpha", project.pk)
    preview_stop(home)
    owner_page = _page(world, "alpha_owner", project).content.decode()
    assert 'data-testid="preview-start"' in owner_page and 'data-testid="preview-open"' not in owner_page
    assert 'data-testid="preview-start"' not in _page(world, "alpha_viewer", project).content.decode()
    start = f"/projects/{project.pk}/preview/start/"
    assert world.client("alpha_viewer", on="alpha").post(start).status_code == 403
    assert world.client("beta_owner", on="alpha").post(start).status_code == 404
    assert world.client("alpha_member", on="alpha").get(start).status_code == 405
    assert preview_get(home) is None

    use_test_broker()
    broker_flush()
    with thread_worker(concurrency=1):
        response = world.client("alpha_member", on="alpha").post(start)
        assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
        running = wait_for(lambda: preview_get(home), timeout=60, what="the preview to start")
    assert running.revision == "r1"
    assert 'data-testid="preview-open"' in _page(world, "alpha_member", project).content.decode()


def test_a_cancelled_project_has_no_preview_to_start(world: World, project: Project) -> None:
    with schema_context("alpha"):
        Workflow.objects.filter(project=project).update(status=Workflow.Status.CANCELLED)
    preview_stop(preview_home("alpha", project.pk))
    assert 'data-testid="preview"' not in _page(world, "alpha_owner", project).content.decode()
    response = world.client("alpha_owner", on="alpha").post(f"/projects/{project.pk}/preview/start/", follow=True)
    assert "was cancelled" in response.content.decode()
    assert preview_get(preview_home("alpha", project.pk)) is None


def test_the_sweep_stops_a_preview_nobody_used_for_the_idle_time(project: Project, settings: Any) -> None:
    settings.HIVE_PREVIEW_IDLE_SECONDS = 600
    home = preview_home("alpha", project.pk)
    now = timezone.now()
    assert previews_sweep(now=now + timedelta(seconds=590)) == []
    old = (now - timedelta(seconds=300)).timestamp()
    os.utime(home / "activity", (old, old))  # the gateway's last request, five minutes ago
    assert previews_sweep(now=now + timedelta(seconds=590)) == []  # it started less than 600 s before
    assert previews_sweep(now=now + timedelta(seconds=610)) == [("alpha", project.pk, "idle")]
    assert preview_get(home) is None


def test_the_sweep_stops_an_accepted_projects_preview_after_the_grace(project: Project, settings: Any) -> None:
    settings.HIVE_PREVIEW_GRACE_SECONDS = 3600
    home = preview_home("alpha", project.pk)
    now = timezone.now()
    with schema_context("alpha"):
        Workflow.objects.filter(project=project).update(status=Workflow.Status.COMPLETED, finished_at=now)
    assert previews_sweep(now=now + timedelta(seconds=60)) == []
    assert previews_sweep(now=now + timedelta(seconds=3601)) == [("alpha", project.pk, "accepted")]
    assert preview_get(home) is None

    # Started again by the customer once the grace is over: it stays until it is idle.
    with schema_context("alpha"):
        Workflow.objects.filter(project=project).update(finished_at=now - timedelta(seconds=7200))
    echo_preview_start(Path(settings.HIVE_STORAGE_ROOT), "alpha", project.pk)
    assert previews_sweep(now=timezone.now() + timedelta(seconds=60)) == []
    assert preview_get(home) is not None


def test_the_sweep_stops_a_cancelled_projects_preview(project: Project) -> None:
    with schema_context("alpha"):
        Workflow.objects.filter(project=project).update(status=Workflow.Status.CANCELLED)
    assert previews_sweep() == [("alpha", project.pk, "the project was cancelled")]


def test_beat_runs_the_sweep_every_minute() -> None:
    from hive.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["previews-sweep"]
    assert entry == {"task": "projects.previews_sweep", "schedule": 60.0}
    assert "projects.previews_sweep" in app.tasks
