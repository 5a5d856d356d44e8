"""The owner reads the plan in the portal and approves it from the dashboard, in Chromium: the
decision appears on the open dashboard when the workflow asks for it (over the websocket), links
to the plan rendered from the project's repository, and leaves the dashboard once approved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from agents.pools import pools_ensure
from agents.roles import ROLES
from agents.workspace import PLATFORM, tree_write
from projects.delivery.deliverables import project_workspace
from projects.delivery.events import event_append
from projects.delivery.planning import project_start
from projects.models import Event, Project, Service, Story, Task
from tests.browser.asgi_server import AsgiServer
from tests.browser.conftest import ARTIFACTS
from tests.success.memory_cache import MEMORY_CACHES
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT_MS = 10_000


@pytest.fixture
def server(settings: Any, tmp_path: Path) -> Iterator[AsgiServer]:
    settings.CACHES = MEMORY_CACHES
    settings.HIVE_STORAGE_ROOT = tmp_path
    server = AsgiServer().start()
    yield server
    server.stop()


def _delivery() -> tuple[Project, Task]:
    with schema_context("alpha"):
        pools_ensure(sizes={role.value: 0 for role in ROLES})  # nothing is sent to a worker
        project = Project.objects.create(name="Order desk", service=Service.MVP, status=Project.Status.IN_DELIVERY)
        Story.objects.create(project=project, title="List orders", as_a="clerk", i_want="to list orders")
        project_start(project=project)
        workspace = project_workspace(project)
        workspace.ensure(project=project.name, ignore="")
        tree_write(
            workspace.root,
            "docs/architecture.md",
            "# Architecture of Order desk\n\n| layer | choice |\n|---|---|\n| web | Django |\n\n"
            "<script>alert(1)</script>\n",
        )
        workspace.commit_main("The architecture", author=PLATFORM)
        return project, Task.objects.get(project=project, key="approve_plan")


def _ask(task: Task) -> None:
    """The workflow reaches the stakeholder review and asks the customer."""
    with schema_context("alpha"), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(status=Task.Status.AWAITING_APPROVAL)
        event_append(project_id=task.project_id, kind=Event.Kind.APPROVAL_REQUESTED, task=task, message=task.title)


def test_the_owner_reads_the_plan_and_approves_it_from_the_dashboard(
    page: Any, server: AsgiServer, world: World
) -> None:
    project, task = _delivery()
    page.goto(server.origin() + "/login/")
    page.fill("#id_username", "alpha-owner@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://alpha.hive.localhost:*/")
    dashboard = server.origin("alpha") + f"/projects/{project.pk}/dashboard/"
    page.goto(dashboard)
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-live", "1", timeout=WAIT_MS)
    decision = page.get_by_test_id(f"decision-{task.pk}")
    expect(decision).to_have_count(0)

    _ask(task)  # the decision appears on the open page, without a reload
    expect(decision).to_be_visible(timeout=WAIT_MS)
    expect(decision).to_contain_text("Customer approves the plan")

    page.get_by_test_id("read-plan").click()
    expect(page.get_by_test_id("plan-title")).to_be_visible()
    document = page.get_by_test_id("document")
    expect(document.locator("h1")).to_have_text("Architecture of Order desk")
    expect(document.locator("td").first).to_have_text("web")
    expect(document).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    page.screenshot(path=str(ARTIFACTS / "decision-journey-plan.png"), full_page=True)

    page.go_back()
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-live", "1", timeout=WAIT_MS)
    page.get_by_test_id(f"approve-{task.pk}").click()
    page.wait_for_url(dashboard)
    expect(page.get_by_text("Approved: Customer approves the plan")).to_be_visible()
    expect(decision).to_have_count(0)
    with schema_context("alpha"):
        task.refresh_from_db()
        assert task.status == Task.Status.DONE
        assert Event.objects.filter(project=project, kind=Event.Kind.APPROVAL_GRANTED, task=task).exists()
