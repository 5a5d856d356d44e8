"""Reports on request (success.reports ``daily_summary_now`` / ``weekly_briefing_now`` and their
portal pages): made from what is recorded up to the moment they are asked for, not stored, for
any project in delivery; rate-limited per person; nothing of another portal."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from pypdf import PdfReader

from projects.models import Event, Project, Service
from success.models import DailySummary, WeeklyBriefing
from tests.success.delivery import delivery_make
from tests.world import World

pytestmark = pytest.mark.django_db


def done(project: Project, count: int) -> None:
    for _ in range(count):
        Event.objects.create(project=project, kind=Event.Kind.TASK_SUCCEEDED, created_at=timezone.now(), message="x")


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(content)).pages)


def test_the_daily_summary_as_of_now_counts_what_happened_until_the_moment_it_is_asked(world: World) -> None:
    with schema_context("alpha"):
        project = delivery_make("Right now").project
        done(project, 2)
        Event.objects.create(project=project, kind=Event.Kind.TASK_BLOCKED, created_at=timezone.now())
    viewer = world.client("alpha_viewer", on="alpha")
    reports_page = viewer.get("/reports/").content.decode()
    assert f'href="/projects/{project.pk}/reports/daily/now/"' in reports_page
    first = viewer.get(f"/projects/{project.pk}/reports/daily/now/")
    assert first.status_code == 200 and first["Cache-Control"].startswith("max-age=0")
    text = first.content.decode()
    assert "Tasks done: 2; failed attempts: 0; blocked: 1; escalated: 0." in text and ", as of " in text
    with schema_context("alpha"):
        done(project, 3)
    again = viewer.get(f"/projects/{project.pk}/reports/daily/now/").content.decode()
    assert "Tasks done: 5; failed attempts: 0; blocked: 1" in again
    with schema_context("alpha"):
        assert not DailySummary.objects.filter(project=project).exists()  # the morning's stays the record


def test_the_weekly_briefing_as_of_now_is_this_weeks_pdf_so_far(world: World) -> None:
    with schema_context("alpha"):
        project = delivery_make("Briefed now").project
        done(project, 4)
        stored = WeeklyBriefing.objects.count()  # other tests' briefings may be in the schema
    response = world.client("alpha_viewer", on="alpha").get("/reports/weekly/now/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "as of" in text and "Briefed now" in text and "Tasks done this week 4" in text
    with schema_context("alpha"):
        assert WeeklyBriefing.objects.count() == stored


def test_a_project_not_in_delivery_has_no_summary_yet(world: World) -> None:
    with schema_context("alpha"):
        draft = Project.objects.create(name="Draft", service=Service.MVP)
    response = world.client("alpha_viewer", on="alpha").get(f"/projects/{draft.pk}/reports/daily/now/", follow=True)
    assert "not in delivery yet" in response.content.decode()


def test_reports_on_request_are_rate_limited_per_person(world: World, settings: pytest.FixtureRequest) -> None:
    settings.HIVE_RATE_REPORT_NOW = "2/m"  # type: ignore[attr-defined]
    with schema_context("alpha"):
        project = delivery_make("Limited").project
    owner = world.client("alpha_owner", on="alpha")
    url = f"/projects/{project.pk}/reports/daily/now/"
    assert [owner.get(url).status_code for _ in range(2)] == [200, 200]
    assert owner.get(url).status_code == 429 and owner.get("/reports/weekly/now/").status_code == 429
    assert world.client("alpha_member", on="alpha").get(url).status_code == 200  # another person's own count


def test_another_portals_people_get_nothing(world: World) -> None:
    with schema_context("alpha"):
        project = delivery_make("Secret now").project
    stranger = world.client("beta_owner", on="alpha")
    assert stranger.get(f"/projects/{project.pk}/reports/daily/now/").status_code == 404
    assert stranger.get("/reports/weekly/now/").status_code == 404
    beta = world.client("beta_owner", on="beta")
    assert beta.get(f"/projects/{project.pk}/reports/daily/now/").status_code == 404
    assert "Secret now" not in pdf_text(beta.get("/reports/weekly/now/").content)
