"""In Chromium: the owner opens the project's preview from the project page and uses the generated
application (signs up in it, adds a product); a member of another tenant and an anonymous visitor
get 404 on the same preview URL; the preview's origin never receives the portal's cookies; and
after the preview stopped, "Start preview" on the project page brings it back (a real worker).

The preview is the application the built-in developers generate (agents.appgen) for two stories,
served by the real stack: the sandboxed preview behind its private socket, the portal's ASGI
server with its preview gateway (uvicorn), and Chromium resolving *.localhost itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from agents.appgen import design_story, generate
from agents.previews import preview_get, preview_start, preview_stop
from projects.delivery.previews import COOKIE_NAME, preview_home, preview_host
from projects.models import Project, Service, Workflow
from tests.browser.asgi_server import AsgiServer
from tests.preview_apps import echo_preview_start
from tests.workers import broker_flush, thread_worker, use_test_broker
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STORIES = [
    {"number": 1, "title": "Sign up", "i_want": "sign up with my email and a password"},
    {"number": 2, "title": "Catalogue", "i_want": "add products with a name, a price and a description"},
]


@pytest.fixture
def server() -> Iterator[AsgiServer]:
    server = AsgiServer().start()
    yield server
    server.stop()


@pytest.fixture
def shop(world: World, settings: Any, tmp_path: Path) -> Iterator[tuple[Project, Project]]:
    """Alpha's MVP whose preview runs the generated shop, and a second one whose preview echoes
    what it receives."""
    settings.HIVE_STORAGE_ROOT = tmp_path
    made = []
    with schema_context("alpha"):
        for name in ("Corner Shop", "Echo"):
            project = Project.objects.create(name=name, service=Service.MVP, status=Project.Status.IN_DELIVERY)
            Workflow.objects.create(project=project, template="mvp")
            made.append(project)
    shop, echo = made
    code = preview_home("alpha", shop.pk) / "r1"
    generate(code, "Corner Shop", [design_story(story) for story in STORIES])
    preview_start(preview_home("alpha", shop.pk), code, revision="r1")
    echo_preview_start(tmp_path, "alpha", echo.pk)
    try:
        yield shop, echo
    finally:
        with schema_context("alpha"):
            for project in made:
                preview_stop(preview_home("alpha", project.pk))
                project.delete()


def _log_in(page: Any, server: AsgiServer, email: str) -> None:
    page.goto(server.origin() + "/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://*.hive.localhost:*/")


def test_the_owner_uses_the_preview_and_nobody_else_gets_in(
    page: Any, browser: Any, server: AsgiServer, world: World, shop: tuple[Project, Project]
) -> None:
    shop_project, echo_project = shop
    origin = f"http://{preview_host('alpha', shop_project.pk)}:{server.port}"

    # The owner opens the preview from the project page and uses the application.
    _log_in(page, server, "alpha-owner@example.test")
    page.goto(server.origin("alpha") + f"/projects/{shop_project.pk}/")
    page.get_by_test_id("preview-open").click()
    page.wait_for_url(f"{origin}/")
    expect(page.locator("body")).to_contain_text("Corner Shop")
    page.goto(f"{origin}/register")
    page.fill("#email", "buyer@shop.test")
    page.fill("#password", "a-long-password-1")
    page.locator("form button[type=submit]").last.click()
    page.goto(f"{origin}/products/new")
    page.fill("#name", "Blue teapot")
    page.fill("#price", "12.5")
    page.get_by_role("button", name="Save").click()
    page.goto(f"{origin}/products/")
    expect(page.locator("table")).to_contain_text("Blue teapot")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies(origin)}
    assert cookies[COOKIE_NAME]["domain"] == preview_host("alpha", shop_project.pk)  # host-only
    assert cookies[COOKIE_NAME]["httpOnly"] and "session" in cookies  # the admission and the app's own
    assert django_settings.SESSION_COOKIE_NAME not in cookies and django_settings.CSRF_COOKIE_NAME not in cookies

    # What the preview's server receives: none of the portal's cookies, nor the admission cookie.
    page.goto(server.origin("alpha") + f"/projects/{echo_project.pk}/")
    page.get_by_test_id("preview-open").click()
    page.wait_for_url(f"http://{preview_host('alpha', echo_project.pk)}:{server.port}/")
    portal_cookies = {cookie["name"] for cookie in page.context.cookies(server.origin("alpha"))}
    assert django_settings.SESSION_COOKIE_NAME in portal_cookies  # the browser holds it, for the portal only
    received = json.loads(page.locator("body").inner_text())
    assert received["path"] == "/"
    for name in (django_settings.SESSION_COOKIE_NAME, django_settings.CSRF_COOKIE_NAME, COOKIE_NAME):
        assert f"{name}=" not in received["cookie"], received["cookie"]

    # A member of another tenant, logged in to the portal, and an anonymous visitor: 404.
    outsider = browser.new_context()
    try:
        other = outsider.new_page()
        _log_in(other, server, "beta-owner@example.test")
        portal_link = server.origin("alpha") + f"/projects/{shop_project.pk}/preview/"
        for url in (f"{origin}/", f"{origin}/products/", portal_link):
            assert other.goto(url).status == 404, url
        anonymous = browser.new_context().new_page()
        for url in (f"{origin}/", f"{origin}/products/", f"{origin}/__hive__/enter?token=x"):
            assert anonymous.goto(url).status == 404, url
        anonymous.context.close()
    finally:
        outsider.close()

    # Stopped, the preview comes back from the project page's "Start preview".
    preview_stop(preview_home("alpha", shop_project.pk))
    use_test_broker()
    broker_flush()
    with thread_worker(concurrency=1):
        page.goto(server.origin("alpha") + f"/projects/{shop_project.pk}/")
        page.get_by_test_id("preview-start").click()
        expect(page.locator(".messages")).to_contain_text("The preview is starting")
        for _attempt in range(60):
            if preview_get(preview_home("alpha", shop_project.pk)) is not None:
                break
            page.wait_for_timeout(500)
        page.reload()
        page.get_by_test_id("preview-open").click()
    page.wait_for_url(f"{origin}/")
    page.goto(f"{origin}/products/")
    expect(page.locator("table")).to_contain_text("Blue teapot")  # the same application, its data kept
