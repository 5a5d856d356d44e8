"""Every customer page fits a 390 × 844 phone screen: Chromium at that size finds no page wider
than the viewport (no horizontal scrolling), with real content on each, and keeps a screenshot of
each page under ``test-results/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context

from agents.workspace import PLATFORM, tree_write
from projects.delivery.deliverables import project_workspace
from projects.models import Event, Story, Task
from tests.browser.asgi_server import AsgiServer
from tests.browser.conftest import ARTIFACTS
from tests.success.delivery import delivery_make
from tests.success.memory_cache import MEMORY_CACHES
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
LONG = "Consolidated-quarterly-inventory-reconciliation-across-every-warehouse-and-supplier"


@pytest.fixture
def server(settings: Any, tmp_path: Path) -> Iterator[AsgiServer]:
    settings.CACHES = MEMORY_CACHES
    settings.HIVE_STORAGE_ROOT = tmp_path
    server = AsgiServer().start()
    yield server
    server.stop()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _content() -> tuple[int, int, int]:
    """A project with everything a page can show: a long name, stories, a waiting approval, a plan
    with a wide table and code, events, a task with runs."""
    delivery = delivery_make(f"Warehouse {LONG}", tasks=12)
    project = delivery.project
    Story.objects.create(project=project, title=LONG, as_a="clerk", i_want=f"to see {LONG}", acceptance_criteria=[LONG])
    approval = Task.objects.create(
        project=project, phase=delivery.phases[2], key="approve_plan", title="Customer approves the plan",
        kind=Task.Kind.APPROVAL, status=Task.Status.AWAITING_APPROVAL,
    )  # fmt: skip
    Event.objects.create(project=project, task=delivery.tasks[0], kind=Event.Kind.TASK_REPORT, message=LONG * 2)
    workspace = project_workspace(project)
    workspace.ensure(project=project.name, ignore="")
    table = "| " + " | ".join(f"column {n} {LONG}" for n in range(6)) + " |\n|" + "---|" * 6 + "\n"
    tree_write(workspace.root, "docs/architecture.md", f"# Plan\n\n{table}\n    {LONG * 3}\n\n{LONG * 2}\n")
    workspace.commit_main("plan", author=PLATFORM)
    return project.pk, approval.pk, delivery.tasks[0].pk


def _width(page: Any, url: str, name: str) -> int:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_every_customer_page_fits_a_phone(phone: Any, server: AsgiServer, world: World) -> None:
    with schema_context("alpha"):
        project_id, approval_id, task_id = _content()
    widths = {
        name: _width(phone, server.origin() + path, name) for name, path in (("landing", "/"), ("login", "/login/"))
    }
    phone.fill("#id_username", "alpha-owner@example.test")
    phone.fill("#id_password", PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url("http://alpha.hive.localhost:*/")
    portal = server.origin("alpha")
    pages = {
        "portal-home": "/",
        "project": f"/projects/{project_id}/",
        "dashboard": f"/projects/{project_id}/dashboard/",
        "success": f"/projects/{project_id}/success/",
        "billing": "/billing/",
        "plan": f"/projects/{project_id}/plan/",
        "decision": f"/projects/{project_id}/decisions/{approval_id}/",
        "history": f"/projects/{project_id}/history/",
        "task": f"/projects/{project_id}/tasks/{task_id}/",
        "members": "/members/",
        "reports": "/reports/",
        "new-project": "/projects/new/",
        "account": "/account/",
    }
    widths.update({name: _width(phone, portal + path, name) for name, path in pages.items()})
    assert {name: width for name, width in widths.items() if width > PHONE["width"]} == {}
