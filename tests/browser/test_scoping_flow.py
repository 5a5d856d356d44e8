"""An owner scopes an MVP in Chromium: requirements in, stories and tier out, a story dropped
live (HTMX, no reload) once confirmed, a quote made with its payment schedule, and accepted on the
consent step (asked for a card first; then the amount due now, the card and the later charges)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from projects.models import Project
from tests.projects.portal import card_on_file
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
    # A locator wait, not wait_for_function("…"): Playwright evals a string predicate in the page,
    # which the Content-Security-Policy (rightly) refuses.
    expect(page.get_by_test_id("story-count")).to_have_text("9")
    assert page.evaluate("window.__still_here") is True

    page.get_by_test_id("make-quote").click()
    assert page.get_by_test_id("quote-price").inner_text() == "$75,000"
    schedule = page.get_by_test_id("schedule").inner_text()
    assert "when you accept this quote" in schedule and "when you accept the delivery" in schedule
    assert page.get_by_test_id("schedule-total").inner_text() == "$75,000"

    # The consent step: without a card it asks for one first and offers nothing to confirm.
    page.get_by_test_id("accept").click()
    expect(page.get_by_test_id("no-card")).to_be_visible()
    assert page.get_by_test_id("confirm").count() == 0
    card_on_file(world.customers["alpha"])
    page.reload()
    assert page.get_by_test_id("due-now").inner_text() == "$37,500"
    assert page.get_by_test_id("card").inner_text().startswith("Visa •••• 4242, expires 12/2030")
    later = page.get_by_test_id("later").inner_text()
    assert "MVP development: 50 % on customer acceptance" in later and "$37,500" in later
    assert "when you accept the delivery" in later
    confirm = page.get_by_test_id("confirm")
    assert confirm.inner_text() == "Accept and pay $37,500"
    page.get_by_test_id("authorise").check()
    confirm.click()
    page.wait_for_url("**/projects/*/")
    assert "$37,500 is being charged to Visa •••• 4242" in page.content()

    with schema_context("alpha"):
        project = Project.objects.get(name=name)
        assert project.status == Project.Status.AWAITING_PAYMENT
        quote = project.quotes.get()
        assert quote.snapshot["story_count"] == 9 and quote.accepted_by_email == "alpha-owner@example.test"
        assert (quote.authorised_now_cents, quote.authorised_card) == (3_750_000, "Visa •••• 4242")
