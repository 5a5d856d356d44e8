"""Every read of /api/v1/ (api.views, api.selectors, api.serializers) with a read key: the shape
of the answer and the data of the key's own company, never another's, never the platform's
secrets."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import Charge
from projects.models import Event, Phase, Project, Run, Story, Task
from success import acceptance
from success.models import DailySummary, GateResult, GateRun, GateState, GateWaiver, WeeklyBriefing
from tests.api.conftest import api_client, key_make
from tests.success.success_world import run_until, started_mvp
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_free_agents")]


@dataclass
class Delivered:
    project: Project
    stories: list[Story]
    phase: Phase
    key: str


def _charge(world: World, slug: str, project_id: int, milestone: str, cents: int) -> Charge:
    return Charge.objects.create(
        customer=world.customers[slug],
        schema_name=slug,
        project_id=project_id,
        project_name=f"{slug} project",
        service="mvp",
        milestone=milestone,
        description=f"{milestone} of {slug}",
        amount_cents=cents,
        status=Charge.Status.SUCCEEDED,
        idempotency_key=f"secret-idem-{slug}-{milestone}",
        stripe_payment_intent_id=f"pi_secret_{slug}_{milestone}",
        stripe_charge_id=f"ch_secret_{slug}_{milestone}",
        paid_at=timezone.now(),
    )


@pytest.fixture
def delivered(world: World) -> Delivered:
    owner = world.users["alpha_owner"]
    with schema_context("alpha"):
        project = started_mvp("Marketplace", owner, stories=3)
        run_until(project, "quality", owner)
        stories = list(Story.objects.filter(project=project).order_by("position"))
        acceptance.story_accept(story=stories[0], user=owner)
        acceptance.story_reject(story=stories[1], user=owner, comment="Too slow", unmet_criteria=["thing 2 is fast"])
        phase = Phase.objects.filter(project=project, gated=True).order_by("position").first()
        assert phase is not None
        run = GateRun.objects.create(project=project, phase=phase, number=1, service="mvp", verdict="blocked")
        GateResult.objects.create(
            run=run,
            code="coverage",
            description="Automated test coverage",
            target="≥ 95%",
            value=Decimal("91.5"),
            unit="%",
            state=GateState.FAILED,
            evidence="coverage.py",
        )
        GateWaiver.objects.create(
            project=project,
            phase=phase,
            code="page_load",
            description="Page load",
            reason="Measured by the customer",
            waived_by_email="staff@hive.test",
        )
        DailySummary.objects.create(project=project, day=date(2026, 11, 30), numbers={"tasks_done": 4}, text="Busy day")
        WeeklyBriefing.objects.create(week_start=date(2026, 11, 23), numbers={"projects": 1}, pdf=b"%PDF-secret")
    with schema_context("beta"):
        other = Project.objects.create(name="Beta hidden", service="mvp")
    _charge(world, "alpha", project.pk, "mvp-deposit", 3_750_000)
    _charge(world, "beta", other.pk, "mvp-deposit", 9_999_999)
    return Delivered(project, stories, phase, key_make(world))


def _get(delivered: Delivered, path: str) -> dict:  # type: ignore[type-arg]
    response = api_client(delivered.key).get(f"/api/v1/{path}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert "Beta hidden" not in response.content.decode()
    return response.json()  # type: ignore[no-any-return]


def test_projects_list_and_detail(delivered: Delivered) -> None:
    page = _get(delivered, "projects/?page_size=200")
    with schema_context("alpha"):
        assert page["count"] == Project.objects.count()
    (row,) = [r for r in page["results"] if r["id"] == delivered.project.pk]
    assert row == {
        "id": delivered.project.pk,
        "name": "Marketplace",
        "service": "mvp",
        "status": delivered.project.status,
        "created_at": row["created_at"],
        "requirements_source": "",
        "payment_issue": "",
    }
    detail = _get(delivered, f"projects/{delivered.project.pk}/")
    assert detail["workflow_status"] == "running" and 0 < detail["progress_percent"] < 100
    missing = api_client(delivered.key).get(f"/api/v1/projects/{delivered.project.pk + 999}/")
    assert missing.status_code == 404 and missing.json() == {"detail": "No such project"}


def test_stories(delivered: Delivered) -> None:
    rows = _get(delivered, f"projects/{delivered.project.pk}/stories/")["results"]
    assert [r["title"] for r in rows] == ["Story 1", "Story 2", "Story 3"]
    assert rows[0]["acceptance_criteria"] == ["thing 1 works", "thing 1 is fast"]
    assert set(rows[0]) == {
        "id",
        "position",
        "epic",
        "title",
        "as_a",
        "i_want",
        "so_that",
        "priority",
        "points",
        "acceptance_criteria",
        "dropped",
    }


def test_the_acceptance_matrix(delivered: Delivered) -> None:
    matrix = _get(delivered, f"projects/{delivered.project.pk}/acceptance/")
    assert matrix["summary"] == {
        "stories": 3,
        "decided": 2,
        "accepted": 1,
        "rejected": 1,
        "first_pass_accepted": 1,
        "rate": "50.0",
        "first_pass_rate": "50.0",
        "criteria_met": "33.3",
        "on_target": False,
        "target": "90.0",
    }
    first, second, third = matrix["stories"]
    assert (first["status"], first["implemented"], first["fixing"]) == ("accepted", True, False)
    assert (second["status"], second["fixing"], second["unmet_criteria"]) == ("rejected", True, ["thing 2 is fast"])
    assert second["decisions"][0]["comment"] == "Too slow" and second["decisions"][0]["fix_task_id"]
    assert (third["status"], third["decisions"]) == ("undecided", [])
    # No check was reported: every criterion is unverified, and the gate is open — never passed.
    assert matrix["gate"] == {"state": "open", "total": 6, "passed": 0, "failed": 0, "unverified": 6, "waived": 0}
    assert [(c["index"], c["criterion"], c["result"]) for c in first["checks"]] == [
        (0, "thing 1 works", "unverified"),
        (1, "thing 1 is fast", "unverified"),
    ]


def test_tasks_approvals_runs_and_events(delivered: Delivered) -> None:
    pk = delivered.project.pk
    tasks = _get(delivered, f"projects/{pk}/tasks/?page_size=200")
    with schema_context("alpha"):
        assert tasks["count"] == Task.objects.filter(project_id=pk).count()
        stored_events = list(Event.objects.filter(project_id=pk).order_by("pk").values_list("pk", flat=True))
        runs = Run.objects.filter(task__project_id=pk).count()
    assert {"id", "phase_key", "status", "depends_on", "kind", "role"} <= set(tasks["results"][0])
    assert "inputs" not in tasks["results"][0] and "output" not in tasks["results"][0]
    assert _get(delivered, f"projects/{pk}/approvals/")["count"] == 0  # the plan was approved on the way
    assert _get(delivered, f"projects/{pk}/runs/")["count"] == runs

    # The event stream, followed page by page through the cursor: every event once, in order.
    seen: list[int] = []
    link: str | None = f"/api/v1/projects/{pk}/events/?page_size=7"
    while link:
        response = api_client(delivered.key).get(link)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        seen += [e["id"] for e in body["results"]]
        link = body["next"]
    assert seen == stored_events and len(seen) > 7


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


def test_a_malformed_or_made_up_event_cursor_is_a_400(delivered: Delivered, world: World) -> None:
    """Red-team finding: ``p=';drop`` was a 500 (ValueError in int()); a numeric cursor that no page
    gave out answered with a ``previous`` link to events that do not exist."""
    pk = delivered.project.pk
    with schema_context("alpha"):
        last = Event.objects.order_by("-pk").values_list("pk", flat=True)[0]
    client = api_client(delivered.key)
    for cursor in (
        "not-a-cursor",
        "cD0nOyBkcm9w",  # p=';drop
        _cursor("p=1e3"),
        _cursor("p=-4"),
        _cursor("p=" + "9" * 40),
        _cursor(f"p={last + 1000}"),  # a number, but no event of the stream
        _cursor("o=abc"),
        _cursor("r=x&p=1"),
        "%00",
    ):
        response = client.get(f"/api/v1/projects/{pk}/events/", {"cursor": cursor})
        assert response.status_code == 400, (cursor, response.content[:300])
        assert response.json() == {"cursor": ["Invalid cursor: keep the next or previous link of a page."]}
    # A real cursor still works, and its previous link leads back to the first page.
    first = client.get(f"/api/v1/projects/{pk}/events/?page_size=3").json()
    second = client.get(first["next"]).json()
    assert client.get(second["previous"]).json()["results"] == first["results"]


def test_gates(delivered: Delivered) -> None:
    gates = _get(delivered, f"projects/{delivered.project.pk}/gates/")
    phase = next(g for g in gates if g["phase_id"] == delivered.phase.pk)
    (run,) = phase["runs"]
    assert (run["number"], run["verdict"]) == (1, "blocked")
    assert run["results"][0] | {"measured_at": None} == {
        "code": "coverage",
        "description": "Automated test coverage",
        "target": "≥ 95%",
        "value": "91.500",
        "unit": "%",
        "state": "failed",
        "evidence": "coverage.py",
        "measured_at": None,
    }
    assert phase["waivers"][0]["reason"] == "Measured by the customer"


def test_quotes(world: World, delivered: Delivered) -> None:
    from projects.models import Quote

    with schema_context("alpha"):
        Quote.objects.create(project=delivered.project, number=1, snapshot={"outcome": "tier"}, price_cents=7_500_000)
    rows = _get(delivered, f"projects/{delivered.project.pk}/quotes/")["results"]
    assert rows == [
        {
            "number": 1,
            "created_at": rows[0]["created_at"],
            "price_cents": 7_500_000,
            "accepted_at": None,
            "accepted_by_email": "",
            "snapshot": {"outcome": "tier"},
        }
    ]
    assert _get(delivered, f"projects/{delivered.project.pk}/quotes/1/")["number"] == 1
    assert api_client(delivered.key).get(f"/api/v1/projects/{delivered.project.pk}/quotes/2/").status_code == 404


def test_reports(delivered: Delivered) -> None:
    (daily,) = _get(delivered, f"reports/daily/?project={delivered.project.pk}")["results"]
    assert daily | {"id": 0, "created_at": ""} == {
        "id": 0,
        "project_id": delivered.project.pk,
        "project_name": "Marketplace",
        "day": "2026-11-30",
        "created_at": "",
        "numbers": {"tasks_done": 4},
        "text": "Busy day",
    }
    assert _get(delivered, f"reports/daily/?project={delivered.project.pk + 1}")["count"] == 0
    assert api_client(delivered.key).get("/api/v1/reports/daily/?project=x").status_code == 400
    (weekly,) = [w for w in _get(delivered, "reports/weekly/")["results"] if w["week_start"] == "2026-11-23"]
    assert (weekly["week_start"], weekly["numbers"]) == ("2026-11-23", {"projects": 1})
    assert "pdf" not in weekly


def test_charges_are_the_companys_own_without_stripe_secrets(delivered: Delivered) -> None:
    response = api_client(delivered.key).get("/api/v1/charges/")
    body = response.content.decode()
    (charge,) = [c for c in response.json()["results"] if c["project_id"] == delivered.project.pk]
    assert (charge["amount_cents"], charge["milestone"], charge["status"]) == (3_750_000, "mvp-deposit", "succeeded")
    assert charge["project_id"] == delivered.project.pk
    assert "secret" not in body and "9999999" not in body


def test_what_the_platform_keeps_for_itself_never_comes_back(delivered: Delivered) -> None:
    secret = "ssh-ed25519-PLATFORM-SECRET"
    with schema_context("alpha"):
        task = Task.objects.filter(project=delivered.project).first()
        assert task is not None
        Task.objects.filter(pk=task.pk).update(
            inputs={"deploy_key": secret}, output={"token": secret}, status=Task.Status.AWAITING_APPROVAL
        )
        Run.objects.create(task=task, attempt=9, provider="llm", worker=secret, outcome={"key": secret}, error=secret)
        Event.objects.create(project=delivered.project, task=task, kind="task.report", data={"token": secret})
    pk = delivered.project.pk
    for path in ("tasks/", "approvals/", "runs/", "events/?page_size=500", "", "gates/", "acceptance/"):
        response = api_client(delivered.key).get(f"/api/v1/projects/{pk}/{path}")
        assert response.status_code == 200 and secret not in response.content.decode(), path
