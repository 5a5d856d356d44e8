"""Refusals on a tenant portal under ASGI (red-team finding: every 403 was a 500).

Under ASGI Django builds the error response in a worker thread of its own, whose database
connection had never been pointed at the request's tenant schema: the 403 page's header asked
for the person's unread notifications in the public schema and failed. These requests go to the
real ASGI application on uvicorn, as in production, with DEBUG on (the worst case: the failure
showed the whole debug page) and off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.browser.asgi_server import AsgiServer
from tests.world import World, host_of

CSRF = "errorpagescsrftokenabcdefghijklm"  # 32 characters: Django's unmasked secret format


@pytest.fixture
def server(transactional_db: None) -> Iterator[AsgiServer]:
    server = AsgiServer().start()
    try:
        yield server
    finally:
        server.stop()


def _http(world: World, user: str) -> requests.Session:
    client = world.client(user, on="alpha")
    session = requests.Session()
    session.trust_env = False  # never a proxy from the environment: the server is on loopback
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; csrftoken={CSRF}"
    session.headers.update({"Host": host_of("alpha"), "Cookie": cookie})
    return session


def _assert_styled_403(response: requests.Response) -> None:
    assert response.status_code == 403, response.text[:2000]
    assert 'data-testid="error-403"' in response.text
    assert 'data-testid="notifications-link"' in response.text  # the portal's own layout, whole
    assert "Traceback" not in response.text and "ProgrammingError" not in response.text


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_refusals_answer_a_styled_403_never_a_500(
    world: World, server: AsgiServer, settings: SettingsWrapper, caplog: pytest.LogCaptureFixture, debug: bool
) -> None:
    settings.DEBUG = debug
    address = f"http://127.0.0.1:{server.port}"
    with caplog.at_level(logging.ERROR), _http(world, "alpha_viewer") as http:
        _assert_styled_403(http.post(f"{address}/members/", data={"csrfmiddlewaretoken": CSRF, "email": "a@b.test"}))
        _assert_styled_403(http.get(f"{address}/audit/"))
        # A repeated refusal lands on a worker thread that has served one before.
        _assert_styled_403(http.get(f"{address}/audit/"))
    member = world.users["alpha_member"]
    with _http(world, "alpha_member") as http:
        refused = http.post(f"{address}/members/{member.pk}/role/", data={"csrfmiddlewaretoken": CSRF, "role": "owner"})
        _assert_styled_403(refused)
    failures = [r for r in caplog.records if r.exc_info and "ProgrammingError" in repr(r.exc_info[1])]
    assert not failures


@pytest.mark.django_db
def test_an_error_page_that_fails_is_logged_and_still_answers_its_status(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from django.views import defaults

    def broken(request: object, exception: Exception) -> None:
        raise RuntimeError("the 403 template is broken")

    monkeypatch.setattr(defaults, "permission_denied", broken)
    with caplog.at_level(logging.ERROR, logger="hive.errors"):
        response = world.client("alpha_viewer", on="alpha").get("/audit/")
    assert response.status_code == 403 and 'data-testid="error-403"' in response.content.decode()
    (record,) = [r for r in caplog.records if r.name == "hive.errors"]
    assert "403 page of /audit/ failed" in record.getMessage() and record.exc_info is not None
