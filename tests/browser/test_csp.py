"""The browser tests' CSP watch (tests/browser/conftest.py) sees what Chromium refuses: an inline
script, an inline event handler — and the portal's own pages need none of them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_watch_reports_what_the_policy_refuses(page: Any, site: str, csp_violations: list[str]) -> None:
    page.goto(f"{site}/login/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.appendChild(script);
            document.body.insertAdjacentHTML("beforeend", '<img src="data:," onload="window.handlerRan = true">');
        }"""
    )
    page.wait_for_timeout(300)

    assert page.evaluate("() => [window.inlineRan, window.handlerRan]") == [None, None]
    refused = " ".join(csp_violations)
    assert "script-src-elem blocked inline" in refused and "script-src-attr blocked inline" in refused
    csp_violations.clear()  # seen on purpose: the fixture must not fail this test


def test_an_owner_walks_the_portal_without_a_violation(page: Any, site: str, world: World) -> None:
    page.goto(f"{site}/login/")
    page.fill("input[name=username]", "alpha-owner@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**alpha.hive.localhost**/")
    origin = page.url.rstrip("/")
    for path in ("/", "/members/", "/billing/", "/reports/", "/audit/", "/projects/new/"):
        response = page.goto(origin + path)
        assert response is not None and response.status == 200, path
        assert response.headers.get("content-security-policy"), path
    page.wait_for_timeout(200)
