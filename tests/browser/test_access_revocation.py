"""An owner removes a member in Chromium — asked first — while the member watches a project's
live dashboard in another browser: the member's open socket is closed within 2 s, and their page
then shows what is left of their access (nothing: a 404)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.models import Membership
from tests.browser.asgi_server import AsgiServer
from tests.success.delivery import delivery_make
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


def log_in(page: Any, server: AsgiServer, email: str) -> None:
    page.goto(server.origin() + "/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://alpha.hive.localhost:*/")


def test_a_removed_members_open_dashboard_is_closed_within_2_s(
    page: Any, browser: Any, server: AsgiServer, world: World
) -> None:
    with schema_context("alpha"):
        delivery = delivery_make("Watched by a member", tasks=4)
    sockets: list[Any] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    log_in(page, server, "alpha-member@example.test")
    page.goto(server.origin("alpha") + f"/projects/{delivery.project.pk}/dashboard/")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-live", "1", timeout=WAIT_MS)
    (socket,) = sockets

    owner_context = browser.new_context()
    owner = owner_context.new_page()
    owner.set_default_timeout(15_000)
    try:
        log_in(owner, server, "alpha-owner@example.test")
        owner.goto(server.origin("alpha") + "/members/")
        remove = owner.get_by_test_id("member-alpha-member@example.test").get_by_role("button", name="Remove")

        asked: list[str] = []

        def decline(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        owner.once("dialog", decline)
        remove.click()
        owner.wait_for_timeout(500)
        assert asked == [
            "Remove alpha-member@example.test from Alpha Industries? "
            "They lose access at once, on pages they have open too."
        ]
        assert Membership.objects.filter(user=world.users["alpha_member"]).exists()
        assert not socket.is_closed()

        owner.once("dialog", lambda dialog: dialog.accept())
        clicked = time.monotonic()
        with socket.expect_event("close", timeout=2_000):
            remove.click()
        assert time.monotonic() - clicked < 2.0
        expect(owner.locator(".messages")).to_contain_text("alpha-member@example.test was removed.")
        expect(owner.get_by_test_id("member-alpha-member@example.test")).to_have_count(0)
    finally:
        owner_context.close()

    # The member's page reloads on its own and shows what the server says now.
    expect(page.get_by_test_id("error-404")).to_be_visible(timeout=WAIT_MS)
