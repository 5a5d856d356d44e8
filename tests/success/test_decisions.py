"""Decisions where they are asked (success/decisions.py, success/views_decisions.py,
success/plan_docs.py): the plan read in the portal from the project's repository, approvals
with their controls on the dashboard and the project page, and the acceptance that closes story
decisions only after its consequences were confirmed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from agents.previews import DEPLOYED
from agents.workspace import PLATFORM, Workspace, tree_write
from projects.delivery.deliverables import project_workspace
from projects.delivery.events import event_append
from projects.delivery.planning import project_start
from projects.delivery.previews import project_preview_home
from projects.models import Event, Phase, Project, ScheduledPayment, ScopeChange, Service, Story, Task, Workflow
from success import plan_docs
from success.fragments import update_html
from success.models import Guarantee
from tests.success.success_world import committed
from tests.world import World

pytestmark = pytest.mark.django_db
URLCONF = "hive.urls_tenant"


@pytest.fixture(autouse=True)
def _storage(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.HIVE_STORAGE_ROOT = tmp_path  # type: ignore[attr-defined]


def _url(name: str, *args: int) -> str:
    return reverse(name, urlconf=URLCONF, args=list(args))


def _waiting(key: str, slug: str = "alpha") -> tuple[Project, Task]:
    """A started MVP delivery whose ``key`` approval waits on the customer."""
    with schema_context(slug):
        project = Project.objects.create(name="Decided", service=Service.MVP, status=Project.Status.IN_DELIVERY)
        Story.objects.create(project=project, title="List orders", as_a="clerk", i_want="to list orders")
        project_start(project=project)
        task = Task.objects.get(project=project, key=key)
        Task.objects.filter(pk=task.pk).update(status=Task.Status.AWAITING_APPROVAL)
        if key == "accept":  # the delivery is accepted once everything before it has ended
            Task.objects.filter(project=project).exclude(pk=task.pk).update(status=Task.Status.DONE)
            Phase.objects.filter(project=project).exclude(key="acceptance").update(status=Phase.Status.DONE)
            Phase.objects.filter(project=project, key="acceptance").update(status=Phase.Status.RUNNING)
        return project, task


def _commit_docs(project: Project, files: dict[str, str]) -> Workspace:
    workspace = project_workspace(project)
    workspace.ensure(project=project.name, ignore="")
    for path, text in files.items():
        tree_write(workspace.root, path, text)
    workspace.commit_main("docs", author=PLATFORM)
    return workspace


HOSTILE = """# Architecture

<script>alert(1)</script>

[click](javascript:alert(2)) and [ok](https://example.test/) ![x](data:image/png;base64,AAAA)

<img src=x onerror=alert(3)>

| layer | choice |
|---|---|
| web | Django |
"""


def test_the_plan_is_read_in_the_portal_as_safe_html(world: World) -> None:
    project, _ = _waiting("approve_plan")
    with schema_context("alpha"):
        _commit_docs(project, {"docs/architecture.md": HOSTILE, "docs/requirements.md": "# Stories\n\n- one"})
    client = world.client("alpha_viewer", on="alpha")
    page = client.get(_url("project_plan", project.pk)).content.decode()
    # The plan's order: requirements first, then the architecture.
    assert page.index("requirements.md") < page.index("architecture.md")
    assert "<h1>Stories</h1>" in page
    page = client.get(_url("project_plan", project.pk) + "?doc=docs/architecture.md").content.decode()
    document = page[page.index('data-testid="document"') :]
    assert "<h1>Architecture</h1>" in document and "<table>" in document and "<td>Django</td>" in document
    assert "<script>alert" not in document and "&lt;script&gt;" in document  # raw HTML is text
    assert 'href="javascript' not in document and 'src="data:' not in document and "<img" not in document
    assert 'href="https://example.test/"' in document and 'rel="noopener noreferrer nofollow"' in document


@pytest.mark.parametrize(
    "markdown",
    [
        "<javascript:alert(1)>",
        "[a](JaVaScRiPt:alert(1))",
        "[a](&#106;avascript:alert(1))",
        "[a](vbscript:x)",
        "[a][r]\n\n[r]: javascript:alert(1)",
        '<a href="javascript:alert(1)">a</a>',
    ],
)
def test_no_script_link_survives_rendering(markdown: str) -> None:
    html = plan_docs.markdown_html(markdown)
    hrefs = re.findall(r"<a\s[^>]*href=\"([^\"]*)\"", html)
    assert all(href.startswith(("http:", "https:", "mailto:", "#")) for href in hrefs), html
    assert "<a " not in html or hrefs == []  # an anchor with a refused scheme keeps its text only


def test_only_listed_regular_documents_under_the_cap_are_read(world: World) -> None:
    project, _ = _waiting("approve_plan")
    with schema_context("alpha"):
        workspace = _commit_docs(project, {"docs/big.md": "x" * (plan_docs.MAX_BYTES + 1), "app/secret.md": "no"})
        (workspace.root / "docs" / "link.md").symlink_to("/etc/passwd")
        workspace.commit_main("a link", author=PLATFORM)
        assert [d.path for d in plan_docs.documents_list(workspace)] == ["docs/big.md"]
    client = world.client("alpha_viewer", on="alpha")
    big = client.get(_url("project_plan", project.pk) + "?doc=docs/big.md").content.decode()
    assert 'data-testid="document-too-big"' in big and "xxxxxxxxxx" not in big
    for path in ("docs/link.md", "app/secret.md", "docs/../app/secret.md", "/etc/passwd"):
        assert client.get(_url("project_plan", project.pk), {"doc": path}).status_code == 404


def test_a_plan_before_any_repository_says_it_is_not_written_yet(world: World) -> None:
    project, _ = _waiting("approve_plan")
    page = world.client("alpha_viewer", on="alpha").get(_url("project_plan", project.pk)).content.decode()
    assert 'data-testid="no-documents"' in page


def test_the_owner_approves_the_plan_from_the_dashboard(
    world: World, no_free_agents: None, django_capture_on_commit_callbacks: Any
) -> None:
    project, task = _waiting("approve_plan")
    owner = world.client("alpha_owner", on="alpha")
    page = owner.get(_url("project_dashboard", project.pk)).content.decode()
    block = page[page.index('id="dash-decisions"') :]
    assert f'data-testid="decision-{task.pk}"' in block and 'data-testid="read-plan"' in block
    assert _url("decision_approve", project.pk, task.pk) in block and 'data-can-approve="1"' in page
    with django_capture_on_commit_callbacks(execute=True):  # the event's commit refreshes the cached page
        answer = owner.post(
            _url("decision_approve", project.pk, task.pk), {"next": "dashboard"}, HTTP_HX_REQUEST="true"
        )
    assert answer.status_code == 200 and answer["HX-Redirect"] == _url("project_dashboard", project.pk)
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.DONE and task.output["approved_by"] == world.users["alpha_owner"].email
    page = owner.get(_url("project_dashboard", project.pk)).content.decode()
    assert f'data-testid="decision-{task.pk}"' not in page


def test_members_see_the_decision_but_only_an_owner_approves(world: World) -> None:
    project, task = _waiting("approve_plan")
    member = world.client("alpha_member", on="alpha")
    assert 'data-can-approve="0"' in member.get(_url("project_dashboard", project.pk)).content.decode()
    assert member.post(_url("decision_approve", project.pk, task.pk)).status_code == 403
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.AWAITING_APPROVAL


def test_accepting_the_delivery_says_what_it_closes_and_needs_a_confirmation(world: World) -> None:
    project, task = _waiting("accept")
    owner = world.client("alpha_owner", on="alpha")
    dashboard = owner.get(_url("project_dashboard", project.pk)).content.decode()
    block = dashboard[dashboard.index('id="dash-decisions"') :]
    assert "Story acceptance closes for good" in block and "30-day success guarantee starts" in block
    assert f'data-testid="review-{task.pk}"' in block and f'data-testid="approve-{task.pk}"' not in block
    project_page = owner.get(_url("project_detail", project.pk)).content.decode()
    assert "Story acceptance closes for good" in project_page and f'data-testid="review-{task.pk}"' in project_page
    page = owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert 'data-testid="consequences"' in page and 'data-testid="acceptance-matrix"' in page
    assert "List orders" in page and "1 of 1 stories are still undecided" in page
    # Without the confirmation nothing is approved, whatever posts the form.
    answer = owner.post(_url("decision_approve", project.pk, task.pk), {"next": "project"})
    assert answer.status_code == 302 and answer["Location"] == _url("decision_page", project.pk, task.pk)
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.AWAITING_APPROVAL
    answer = owner.post(_url("decision_approve", project.pk, task.pk), {"next": "project", "confirm": "yes"})
    assert answer.status_code == 302 and answer["Location"] == _url("project_detail", project.pk)
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.DONE
    gone = owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert 'data-testid="decision-gone"' in gone


def test_the_consequences_name_the_charge_due_on_acceptance(world: World) -> None:
    project, task = _waiting("accept")
    with schema_context("alpha"):
        ScheduledPayment.objects.create(
            project=project,
            quote=project.quotes.create(number=1, snapshot={}),
            position=2,
            key="delivery",
            label="Second 50 %",
            amount_cents=3_750_000,
            trigger="delivery_accepted",
        )
    page = world.client("alpha_owner", on="alpha").get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert "$37,500" in page and "Second 50 %" in page and "charged to your card on file" in page


def test_the_live_fragment_carries_the_decision_in_and_out(world: World) -> None:
    project, task = _waiting("approve_plan")
    with schema_context("alpha"):
        html = update_html(project, [])
        assert 'id="dash-decisions"' in html and 'hx-swap-oob="true"' in html and f"decision-{task.pk}" in html
        Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE)
        html = update_html(project, [])
        assert 'id="dash-decisions"' in html and f"decision-{task.pk}" not in html


@pytest.mark.parametrize("name", ["project_plan", "decision_page", "decision_approve"])
def test_another_tenants_user_gets_nothing(world: World, name: str) -> None:
    project, task = _waiting("approve_plan")
    args = [project.pk] if name == "project_plan" else [project.pk, task.pk]
    for user, on in (("beta_owner", "alpha"), ("alpha_owner", "beta"), ("outsider", "alpha")):
        client = world.client(user, on=on)
        response = client.post(_url(name, *args)) if name == "decision_approve" else client.get(_url(name, *args))
        assert response.status_code in {404, 302} if user == "outsider" else response.status_code == 404
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.AWAITING_APPROVAL
        assert not Event.objects.filter(project=project, kind=Event.Kind.APPROVAL_GRANTED).exists()
        assert Workflow.objects.get(project=project).is_active


def test_the_delivery_decision_points_at_the_preview(world: World, tmp_path: Path) -> None:
    project, task = _waiting("accept")
    owner = world.client("alpha_owner", on="alpha")
    assert "The preview is stopped" not in owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    with schema_context("alpha"):
        code = tmp_path / "code"
        (code / "app").mkdir(parents=True)
        (code / "app" / "serve.py").write_text("")
        home = project_preview_home(project)
        home.mkdir(parents=True, exist_ok=True)
        (home / DEPLOYED).write_text(json.dumps({"directory": str(code), "revision": "abc"}))
        event_append(project_id=project.pk, kind=Event.Kind.TASK_REPORT, message="deployed")
    for url in (_url("decision_page", project.pk, task.pk), _url("project_detail", project.pk)):
        page = owner.get(url).content.decode()
        assert "The preview is stopped" in page and f"{_url('project_detail', project.pk)}#preview" in page


def _due_on_acceptance(project: Project) -> ScheduledPayment:
    return ScheduledPayment.objects.create(
        project=project,
        quote=project.quotes.create(number=1, snapshot={}),
        position=2,
        key="delivery",
        label="Second 50 %",
        amount_cents=3_750_000,
        trigger="delivery_accepted",
    )


def test_the_delivery_is_neither_offered_nor_accepted_nor_charged_while_work_is_blocked(world: World) -> None:
    project, task = _waiting("accept")
    with schema_context("alpha"):
        payment = _due_on_acceptance(project)
        story = Story.objects.get(project=project)
        fix = Task.objects.filter(project=project, key="story").get()
        Task.objects.filter(pk=fix.pk).update(status=Task.Status.BLOCKED, blocked_since=timezone.now())
    owner = world.client("alpha_owner", on="alpha")
    dashboard = owner.get(_url("project_dashboard", project.pk)).content.decode()
    assert f'data-testid="accept-blocked-{task.pk}"' in dashboard
    page = owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert 'data-testid="acceptance-blockers"' in page and f"“{fix.title}” is blocked." in page
    assert "Wait until it is finished, or drop it from the scope with your consent." in page
    assert f'data-testid="approve-{task.pk}"' not in page and 'data-testid="accept-unavailable"' in page
    # Whatever posts the confirmed form, nothing is accepted and nothing is charged.
    with committed():
        answer = owner.post(_url("decision_approve", project.pk, task.pk), {"next": "project", "confirm": "yes"})
    assert answer.status_code == 302 and answer["Location"] == _url("decision_page", project.pk, task.pk)
    with schema_context("alpha"):
        assert Task.objects.get(pk=task.pk).status == Task.Status.AWAITING_APPROVAL
        assert ScheduledPayment.objects.get(pk=payment.pk).status == ScheduledPayment.Status.SCHEDULED
        assert not Event.objects.filter(project=project, kind=Event.Kind.APPROVAL_GRANTED).exists()
        assert Workflow.objects.get(project=project).is_active
        assert not Guarantee.objects.filter(project=project).exists()
        # The story's development ended without building it: still in the way.
        Task.objects.filter(pk=fix.pk).update(
            status=Task.Status.DONE, output={"summary": "not built", "data": {"built": False}}
        )
        Story.objects.filter(pk=story.pk).update(gap={"capability": "payments", "reason": "Stripe is not built in."})
    page = owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert "“List orders” is not built: it needs the model provider or a developer. Stripe is not built in." in page
    assert f'data-testid="approve-{task.pk}"' not in page
    with schema_context("alpha"):  # dropped, but without the owner's consent yet
        Story.objects.filter(pk=story.pk).update(dropped=True)
        change = ScopeChange.objects.create(project=project, story=story, title=story.title, reason="later")
    page = owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert "and no owner has consented yet" in page and f'data-testid="approve-{task.pk}"' not in page
    with schema_context("alpha"):
        ScopeChange.objects.filter(pk=change.pk).update(consented_at=timezone.now(), consented_by_email="o@x.test")
    page = owner.get(_url("decision_page", project.pk, task.pk)).content.decode()
    assert 'data-testid="acceptance-blockers"' not in page and f'data-testid="approve-{task.pk}"' in page
    with committed():
        answer = owner.post(_url("decision_approve", project.pk, task.pk), {"next": "project", "confirm": "yes"})
    assert answer.status_code == 302 and answer["Location"] == _url("project_detail", project.pk)
    with schema_context("alpha"):
        assert Workflow.objects.get(project=project).status == Workflow.Status.COMPLETED
        assert Guarantee.objects.filter(project=project).exists()
        assert ScheduledPayment.objects.get(pk=payment.pk).status != ScheduledPayment.Status.SCHEDULED
    flash = owner.get(_url("project_detail", project.pk)).content.decode()
    assert "The agents carry on" not in flash and "the project is complete" in flash
