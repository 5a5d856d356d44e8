"""An owner pastes a prose brief in Chromium: the stories it states show with the sentence each came
from, its non-functional requirements show on the scope page and on the quote, where the page-load
target it asks for is the quality standard; every story reads "As a …, I want to …"."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.world import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BRIEF = Path(__file__).resolve().parents[1] / "projects" / "fixtures" / "requirements" / "partsdirect_brief.txt"


def test_a_prose_brief_shows_its_nfrs_on_the_scope_page_and_the_quote(page: Any, site: str, world: World) -> None:
    page.goto(site + "/login/")
    page.fill("#id_username", "alpha-owner@example.test")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("http://alpha.hive.localhost:*/")

    page.get_by_test_id("new-project").click()
    page.fill("#id_name", f"PartsDirect {uuid.uuid4().hex[:6]}")  # tenant tables outlive transactional tests
    page.check("input[name=service][value=mvp]")
    page.get_by_role("button", name="Continue").click()
    page.fill("textarea[name=text]", BRIEF.read_text())
    page.get_by_role("button", name="Analyse requirements").click()

    expect(page.get_by_test_id("story-count")).to_have_text("6")
    assert page.get_by_test_id("scope-price").inner_text() == "$75,000"
    nfrs = page.get_by_test_id("non-functional")
    expect(nfrs).to_be_visible()
    expect(page.get_by_test_id("nfr-performance")).to_contain_text("Pages must load in under 1.5 seconds on mobile")
    expect(page.get_by_test_id("nfr-data_location")).to_contain_text("Data stays in the EU")
    expect(page.get_by_test_id("nfr-languages")).to_contain_text("English and German")
    sentences = page.locator("[data-testid^=story-sentence-]").all_inner_texts()
    assert len(sentences) == 6 and all(re.match(r"^As an? .+, I want to ", s) for s in sentences), sentences
    assert "As a buyer, I want to search the catalogue by part number." in sentences
    expect(page.locator("[data-testid^=story-source-]").first).to_contain_text("Buyers must be able to search")

    page.get_by_test_id("make-quote").click()
    expect(page.get_by_test_id("quote-price")).to_have_text("$75,000")
    expect(page.get_by_test_id("quote-nfr-performance")).to_contain_text("Pages must load in under 1.5 seconds")
    expect(page.get_by_test_id("quote-nfr-scale")).to_contain_text("300 suppliers and 5,000 buyers")
    standards = page.get_by_test_id("quality-standards")
    expect(standards).to_contain_text("Page load time (your requirements): < 1.5 s")
    expect(standards).to_contain_text("Data stored in the EU")
    quoted = page.get_by_test_id("quote-story-sentence").all_inner_texts()
    assert sorted(quoted) == sorted(sentences)
