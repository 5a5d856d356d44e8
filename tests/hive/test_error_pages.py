"""The portal's own pages for 403, 404 and 500 (templates/403.html, 403_csrf.html, 404.html,
500.html) and its icon (hive/favicon.py), instead of Django's bare "403 Forbidden"."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from tests.world import World

pytestmark = pytest.mark.django_db

STYLED = '<link rel="stylesheet" href="/static/css/hive.css">'
ICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def test_a_role_too_low_gets_the_portals_403_page_with_the_reason(world: World) -> None:
    response = world.client("alpha_viewer", on="alpha").post("/members/", {"email": "x@example.test", "role": "member"})
    page = response.content.decode()
    assert response.status_code == 403
    assert STYLED in page and 'data-testid="error-403"' in page
    assert "This needs the owner role; you are a viewer." in page
    assert "alpha-viewer@example.test" in page  # the portal's header: who is logged in, with the nav


def test_a_form_without_its_csrf_token_gets_a_page_that_says_what_to_do(world: World) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_HOST="hive.localhost")
    response = client.post("/login/", {"username": "alpha-owner@example.test", "password": "whatever"})
    page = response.content.decode()
    assert response.status_code == 403
    assert STYLED in page and 'data-testid="error-403-csrf"' in page and "reload the page" in page


@pytest.mark.parametrize("user", ["alpha_member", "beta_owner"])
def test_a_missing_or_foreign_page_gets_the_portals_404_page(world: World, user: str) -> None:
    on = "alpha" if user.startswith("alpha") else "beta"
    client = world.client(user, on=on)
    # beta's owner on alpha's host: not a member, so the same 404 as for a page that does not exist
    response = client.get("/projects/987654/") if on == "alpha" else world.client(user, on="alpha").get("/")
    page = response.content.decode()
    assert response.status_code == 404
    assert STYLED in page and 'data-testid="error-404"' in page and "There is nothing here" in page
    assert "Alpha Industries" not in page and "Beta Logistics" not in page  # whose portal it is stays unsaid


def test_a_server_error_gets_a_styled_page_without_any_context() -> None:
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert STYLED in page and ICON in page and 'data-testid="error-500"' in page


@pytest.mark.parametrize("host", ["hive.localhost", "alpha.hive.localhost"])
def test_the_icon_is_served_on_every_host_without_logging_in(world: World, host: str) -> None:
    client = Client(HTTP_HOST=host)
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]


def test_every_portal_page_names_the_icon(world: World) -> None:
    for client, path in ((Client(HTTP_HOST="hive.localhost"), "/"), (world.client("alpha_member", on="alpha"), "/")):
        assert ICON in client.get(path).content.decode()
