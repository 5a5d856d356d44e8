"""Reports (success.reports): the daily summary of a project made from its recorded events, stored,
emailed to the members who opted in and shown in the portal; the weekly briefing PDF whose text
(extracted with pypdf) carries the right numbers; and the operator view in the admin."""

from __future__ import annotations

import builtins
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from pypdf import PdfReader

from agents.models import UtilizationSample
from agents.pools import pools_ensure
from projects.models import Event, Project, Story
from success.models import DailySummary, Escalation, GateRun, StoryDecision, SuccessMetric, Survey
from success.operator import operator_view
from success.reports import briefing_pdf, daily_summaries_make, weekly_briefing_make, weekly_numbers
from tenants.models import Customer
from tests.success.delivery import Delivery, delivery_make
from tests.success.success_world import committed
from tests.world import World

pytestmark = pytest.mark.django_db

DAY = date(2031, 3, 4)  # a Tuesday
WEEK = date(2031, 3, 3)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def events(project: Project, kind: str, *moments: datetime) -> None:
    for moment in moments:
        Event.objects.create(project=project, kind=kind, created_at=moment, message=kind)


def project_running_on(name: str, day: date) -> Delivery:
    delivery = delivery_make(name, tasks=10, now=at(day, 12))
    return delivery


def test_the_daily_summary_counts_the_days_events_and_reaches_the_members_who_opted_in(world: World, mailbox) -> None:
    member = world.client("alpha_member", on="alpha")
    assert member.post("/reports/preferences/", {"daily_summary": "on"}).status_code == 302
    with schema_context("alpha"):
        delivery = project_running_on("Daily", DAY)
        project = delivery.project
        events(project, Event.Kind.TASK_SUCCEEDED, at(DAY, 9), at(DAY, 10), at(DAY, 23), at(DAY - timedelta(days=1), 9))
        events(project, Event.Kind.TASK_FAILED, at(DAY, 11))
        events(project, Event.Kind.TASK_BLOCKED, at(DAY, 12))
        GateRun.objects.create(
            project=project,
            phase=delivery.phases[1],
            number=1,
            service="mvp",
            verdict="blocked",
            evaluated_at=at(DAY, 13),
        )
        with committed():
            summaries = daily_summaries_make(day=DAY)
        summary = next(s for s in summaries if s.project_id == project.pk)
        numbers = summary.numbers
        assert (numbers["tasks_done"], numbers["tasks_failed"], numbers["tasks_blocked"]) == (3, 1, 1)
        assert numbers["gate_runs"] == ["Development #1: blocked"] and numbers["events"] == 5
        assert "Tasks done: 3; failed attempts: 1; blocked: 1; escalated: 0." in summary.text
        assert summary.emailed_to == ["alpha-member@example.test"]
        with committed():
            again = daily_summaries_make(day=DAY)
        assert DailySummary.objects.filter(project=project).count() == 1 and summary in again
    sent = [m for m in mailbox.to("alpha-member@example.test") if m.subject.startswith("Daily:")]
    assert len(sent) == 1 and not mailbox.to("alpha-owner@example.test")
    assert sent[0].subject == "Daily: daily progress for Mar 4, 2031"
    assert "Tasks done: 3; failed attempts: 1" in sent[0].text and f"/reports/daily/{summary.pk}/" in sent[0].text
    page = world.client("alpha_viewer", on="alpha").get(f"/reports/daily/{summary.pk}/").content.decode()
    assert "Tasks done: 3; failed attempts: 1" in page
    listing = world.client("alpha_viewer", on="alpha").get("/reports/").content.decode()
    assert f'data-testid="summary-{summary.pk}"' in listing


def test_the_weekly_briefing_pdf_carries_the_weeks_numbers_and_charts(world: World) -> None:
    with schema_context("alpha"):
        shop = project_running_on("Shop rebuild", WEEK + timedelta(days=2)).project
        crm = project_running_on("CRM migration", WEEK + timedelta(days=2)).project
        events(shop, Event.Kind.TASK_SUCCEEDED, at(WEEK, 9), at(WEEK, 10), at(WEEK + timedelta(days=2), 9))
        events(shop, Event.Kind.TASK_SUCCEEDED, at(WEEK + timedelta(days=7), 9))  # next week: not counted
        events(crm, Event.Kind.TASK_SUCCEEDED, *(at(WEEK + timedelta(days=4), h) for h in (8, 9, 10, 11)))
        Escalation.objects.create(  # any escalation raised in the week counts, whatever its kind
            project=crm,
            kind=Escalation.Kind.PLATFORM_FAULT,
            subject="fault:1",
            reason="Traceback …",
            created_at=at(WEEK + timedelta(days=5), 8),
        )
        phase = shop.phases.get(position=2)
        GateRun.objects.create(
            project=shop, phase=phase, number=1, service="mvp", verdict="blocked", evaluated_at=at(WEEK, 15)
        )
        GateRun.objects.create(
            project=shop, phase=phase, number=2, service="mvp", verdict="passed", evaluated_at=at(WEEK, 18)
        )
        for number, decision in enumerate(["accepted", "accepted", "accepted", "rejected"], 1):
            story = Story.objects.create(project=shop, position=number, title=f"S{number}", as_a="u", i_want="x")
            StoryDecision.objects.create(project=shop, story=story, decision=decision, decided_by_email="o@x.test")
        Survey.objects.create(
            project=shop, phase=shop.phases.get(position=1), occasion="phase", score=7, answered_at=at(WEEK, 9)
        )
        Survey.objects.create(project=shop, occasion="delivery", score=10, answered_at=at(WEEK, 10))

        briefing = weekly_briefing_make(week_start=WEEK, now=at(WEEK + timedelta(days=7), 0))
        assert weekly_briefing_make(week_start=WEEK) == briefing
    rows = {row["name"]: row for row in briefing.numbers["projects"]}
    assert rows["Shop rebuild"]["done_per_day"] == [2, 0, 1, 0, 0, 0, 0]
    assert rows["CRM migration"]["done_per_day"] == [0, 0, 0, 0, 4, 0, 0]
    assert briefing.numbers["tasks_done"] == 7 and briefing.numbers["done_per_day"] == [2, 0, 1, 0, 4, 0, 0]

    response = world.client("alpha_viewer", on="alpha").get(f"/reports/weekly/{briefing.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).split())
    assert "Executive briefing — Alpha Industries" in text
    assert "Week of 2031-03-03 to 2031-03-09" in text
    assert "Tasks done: 7." in text and "Quality gate runs passed: 1, blocked: 1." in text and "Escalations: 1." in text
    assert "Tasks done per day" in text and "Progress of each project" in text  # the two charts' titles
    assert "Mon 03" in text and "Fri 07" in text  # the chart's day axis
    shop_part = text[text.index("Shop rebuild Status") :]
    assert "Tasks done this week 3" in shop_part
    assert "Gate runs passed / blocked 1 / 1" in shop_part
    assert "Acceptance rate 75.0 %" in shop_part and "Satisfaction (mean) 8.5 / 10" in shop_part
    crm_part = text[text.index("CRM migration Status") :]
    assert "Tasks done this week 4" in crm_part and "Escalations 1" in crm_part and "Acceptance rate —" in crm_part


def test_the_operator_view_sums_counts_across_customers_and_shows_the_pools(world: World) -> None:
    pool = next(p for p in pools_ensure() if p.role == "fullstack_developer")
    UtilizationSample.objects.create(pool=pool, window_seconds=60, busy_seconds_total=51, utilization=0.85)
    before = operator_view().total
    with schema_context("alpha"):
        delivery = delivery_make("Operated", tasks=4)
        phase = delivery.phases[1]
        GateRun.objects.create(project=delivery.project, phase=phase, number=1, service="mvp", verdict="blocked")
        GateRun.objects.create(project=delivery.project, phase=phase, number=2, service="mvp", verdict="passed")
        Survey.objects.create(project=delivery.project, occasion="delivery", score=10, answered_at=at(DAY, 1))
    with schema_context("beta"):
        other = delivery_make("Beta operated", tasks=4)
        GateRun.objects.create(project=other.project, phase=other.phases[1], number=1, service="mvp", verdict="passed")
        Survey.objects.create(project=other.project, occasion="delivery", score=4, answered_at=at(DAY, 1))
    after = operator_view().total
    assert (after.gate_runs - before.gate_runs, after.gate_runs_passed - before.gate_runs_passed) == (3, 2)
    assert after.satisfaction.answered - before.satisfaction.answered == 2
    assert after.projects - before.projects == 2 and after.planned - before.planned == 2
    page = world.client("staff").get("/admin/success/").content.decode()
    assert 'data-testid="numbers-alpha"' in page and 'data-testid="numbers-beta"' in page
    total = page[page.index('data-testid="numbers-total"') :]
    assert f"{after.gate_pass_rate} % ({after.gate_runs_passed}/{after.gate_runs})" in total
    assert f"{after.satisfaction.mean}/10 ({after.satisfaction.answered})" in total
    pool_row = page[page.index('data-testid="pool-fullstack_developer"') :]
    assert "<td>85 %</td>" in pool_row[: pool_row.index("</tr>")]
    assert world.client("alpha_owner").get("/admin/success/").status_code == 302
    index = world.client("staff").get("/admin/").content.decode()
    assert 'href="/admin/success/"' in index and 'href="/admin/success/escalations/"' in index


def test_account_managers_record_measurements_and_baselines_with_their_source(world: World) -> None:
    with schema_context("alpha"):
        project = delivery_make("Measured", tasks=3).project
    url = f"/admin/success/projects/alpha/{project.pk}/"
    staff = world.client("staff")
    assert staff.get(url).status_code == 200
    data = {"action": "measure", "code": "performance_benchmarks_met", "value": "1", "source": ""}
    assert staff.post(url, data).status_code == 302  # refused: no source
    staff.post(url, {**data, "source": "load test report LT-7", "baseline": "on", "value": "2.5"})
    staff.post(url, {**data, "source": "load test report LT-9"})
    with schema_context("alpha"):
        metric = SuccessMetric.objects.get(project=project, code="performance_benchmarks_met")
        assert metric.baseline == Decimal("2.5") and metric.baseline_source.startswith("load test report LT-7")
        assert [(m.value, m.source, m.recorded_by_email) for m in metric.measurements.all()] == [
            (Decimal(1), "load test report LT-9", "staff@hive.test")
        ]
    page = world.client("alpha_viewer", on="alpha").get(f"/projects/{project.pk}/success/").content.decode()
    assert 'data-testid="metric-performance_benchmarks_met"' in page and "load test report LT-9" in page


HOSTILE_NAMES = ["R&D <Tools> 3 < 4", '<a href="http://evil.example/">click</a>', "<img src=/etc/passwd>"]


def test_the_weekly_briefing_shows_hostile_names_as_text_opens_no_file_and_links_nowhere(
    world: World,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    bait = tmp_path / "secret.png"
    bait.write_bytes(b"not an image")
    names = [*HOSTILE_NAMES, f'<img src="{bait}" width="10" height="10"/>']
    with schema_context("alpha"):
        for name in names:
            project_running_on(name, WEEK + timedelta(days=2))
        numbers = weekly_numbers(WEEK, now=at(WEEK + timedelta(days=7), 0))
    customer = Customer.objects.get(pk=world.customers["alpha"].pk)
    customer.name = "<b>Alpha</b> & <img src=/etc/hostname>"
    opened: list[str] = []
    real_open = builtins.open

    def spying_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spying_open)
    pdf = briefing_pdf(customer, numbers)
    monkeypatch.undo()

    assert not [path for path in opened if path in {str(bait), "/etc/passwd", "/etc/hostname"}]
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Executive briefing — <b>Alpha</b> & <img src=/etc/hostname>" in text
    for name in names:
        assert name in text
    annotations = [page.get("/Annots") for page in reader.pages]
    assert annotations == [None] * len(reader.pages)  # no link was injected
    assert b"/URI" not in pdf
