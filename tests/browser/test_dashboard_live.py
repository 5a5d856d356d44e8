"""A member watches a project's dashboard in Chromium while work happens, without reloading; the
websocket drops (the server restarts) and the page catches up on what it missed — and only on
that: it reconnects with its cursor and gets no whole state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from projects.delivery.events import event_append
from projects.delivery.progress import project_progress
from projects.models import Event, Task
from tests.browser.asgi_server import AsgiServer
from tests.browser.conftest import ARTIFACTS
from tests.success.delivery import Delivery, delivery_make
from tests.success.memory_cache import MEMORY_CACHES
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT_MS = 10_000


@pytest.fixture
def server(settings: Any) -> Iterator[AsgiServer]:
    settings.CACHES = MEMORY_CACHES
    server = AsgiServer().start()
    yield server
    server.stop()


def task_move(task: Task, status: Task.Status, kind: Event.Kind) -> int:
    with schema_context("alpha"), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(status=status)
        return event_append(project_id=task.project_id, kind=kind, task=task, message=f"{task.title}: {status}").pk


def report(delivery: Delivery, message: str) -> int:
    with schema_context("alpha"):
        return event_append(project_id=delivery.project.pk, kind=Event.Kind.TASK_REPORT, message=message).pk


def progress_text(delivery: Delivery) -> str:
    with schema_context("alpha"):
        return f"{int(project_progress(delivery.project) * 100)} %"


def test_the_dashboard_follows_the_work_live_and_catches_up_after_a_drop(
    page: Any, server: AsgiServer, world: World
) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Live in Chromium", tasks=8)
    ready = [task for task in delivery.tasks if task.status == Task.Status.READY]

    frames: list[list[str]] = []  # per socket the page opened, the text frames it received

    def watch(socket: Any) -> None:
        received: list[str] = []
        frames.append(received)
        socket.on("framereceived", lambda payload: received.append(str(payload)))

    page.on("websocket", watch)
    page.goto(server.origin() + "/login/")
    page.fill("#id_username", "alpha-member@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://alpha.hive.localhost:*/")
    page.goto(server.origin("alpha") + f"/projects/{delivery.project.pk}/dashboard/")
    live = page.get_by_test_id("live-status")
    expect(live).to_have_attribute("data-live", "1", timeout=WAIT_MS)
    expect(page.get_by_test_id("progress")).to_have_text(progress_text(delivery))

    # A new event appears at the top of the feed.
    first = report(delivery, "wrote docs/architecture.md")
    expect(page.locator(f"#event-{first}")).to_contain_text("wrote docs/architecture.md", timeout=WAIT_MS)

    # A task moves from "To do" to "In progress", then to "Done"; progress follows.
    task = ready[0]
    card = f'#phase-{task.phase_id} [data-column="{{}}"] [data-testid="task-{task.pk}"]'
    expect(page.locator(card.format("todo"))).to_be_visible()
    task_move(task, Task.Status.RUNNING, Event.Kind.TASK_STARTED)
    expect(page.locator(card.format("running"))).to_be_visible(timeout=WAIT_MS)
    before = page.get_by_test_id("progress").inner_text()
    for other in ready:
        task_move(other, Task.Status.DONE, Event.Kind.TASK_SUCCEEDED)
    expected = progress_text(delivery)
    assert expected != before
    expect(page.get_by_test_id("progress")).to_have_text(expected, timeout=WAIT_MS)
    expect(page.locator(card.format("done"))).to_be_visible()

    # The websocket drops (the server goes away); events keep happening meanwhile.
    server.stop()
    expect(live).to_have_attribute("data-live", "0", timeout=WAIT_MS)
    missed = [report(delivery, f"report while offline {n}") for n in range(3)]
    server.start()
    expect(live).to_have_attribute("data-live", "1", timeout=20_000)
    for event_id in missed:
        expect(page.locator(f"#event-{event_id}")).to_be_visible(timeout=WAIT_MS)
    # The page came back with its cursor: the new socket sent what was missed (rows on top of the
    # feed), not the whole state (which replaces the whole feed).
    assert len(frames) >= 2 and frames[0] and 'id="event-feed"' in frames[0][0]
    reconnected = frames[-1][0]
    assert 'id="dash-cursor"' in reconnected and 'id="event-feed"' not in reconnected
    # Still live afterwards: a new event arrives over the new socket.
    after = report(delivery, "back online")
    expect(page.locator(f"#event-{after}")).to_be_visible(timeout=WAIT_MS)
    assert page.locator(f"#event-{first}").count() == 1  # the state replaced the feed, no duplicates

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard_live.png"), full_page=True)
