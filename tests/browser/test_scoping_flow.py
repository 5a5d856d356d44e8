"""An owner scopes an MVP in Chromium: requirements in, stories and tier out, a story dropped
live (HTMX, no reload) once confirmed, a quote made and accepted."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context

from projects.models import Project
from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REQUIREMENTS = Path(__file__).resolve().parents[1] / "projects" / "fixtures" / "requirements" / "pawwalk_10_stories.md"


def test_an_owner_scopes_quotes_and_accepts_an_mvp(page: Any, site: str, world: World) -> None:
    page.goto(site + "/login/")
    page.fill("#id_username", "alpha-owner@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://alpha.hive.localhost:*/")

    name = f"PawWalk {uuid.uuid4().hex[:6]}"  # tenant tables outlive transactional tests
    page.get_by_test_id("new-project").click()
    page.fill("#id_name", name)
    page.check("input[name=service][value=mvp]")
    page.get_by_role("button", name="Continue").click()
    page.fill("textarea[name=text]", REQUIREMENTS.read_text())
    page.get_by_role("button", name="Analyse requirements").click()

    assert page.get_by_test_id("scope-tier").inner_text() == "Simple MVP"
    assert page.get_by_test_id("scope-price").inner_text() == "$75,000"
    assert page.get_by_test_id("story-count").inner_text() == "10"

    # Dropping a story asks first; declined, nothing changes.
    drop = page.locator("[data-testid^=story-] button", has_text="Drop").first
    asked: list[str] = []

    def decline(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    drop.click()
    page.wait_for_timeout(500)
    assert asked and asked[0].startswith("Drop “") and "from the scope?" in asked[0]
    assert page.get_by_test_id("story-count").inner_text() == "10"

    # Confirmed, it re-scopes in place: the page is not reloaded.
    page.evaluate("window.__still_here = true")
    page.once("dialog", lambda dialog: dialog.accept())
    drop.click()
    page.wait_for_function("document.querySelector('[data-testid=story-count]').innerText === '9'")
    assert page.evaluate("window.__still_here") is True

    page.get_by_test_id("make-quote").click()
    assert page.get_by_test_id("quote-price").inner_text() == "$75,000"
    page.get_by_test_id("accept").click()
    assert "Accepted by alpha-owner@example.test" in page.get_by_test_id("accepted").inner_text()

    with schema_context("alpha"):
        project = Project.objects.get(name=name)
        assert project.status == Project.Status.AWAITING_PAYMENT
        assert project.quotes.get().snapshot["story_count"] == 9
