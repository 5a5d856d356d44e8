"""What the customer sees of the new intake (issue #17): a prose brief's stories with the sentence
each came from, its non-functional requirements on the scope page and the quote, the measurable
ones in the quote's quality standards; a backlog spreadsheet uploaded through the form; the
stories that decide the tier and the price a drop would give; one story sentence on every page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from projects.models import Project, Service, Story
from tests.projects.portal import by_testid, new_project, stories_of, submit_requirements, text_of, url
from tests.world import World

pytestmark = pytest.mark.django_db


def _make_quote(world: World, project: Project) -> str:
    client = world.client("alpha_member", on="alpha")
    response = client.post(url("quote_create", project.pk))
    assert response.status_code == 302, text_of(response)[:1000]
    return text_of(client.get(response["Location"]))


def test_a_prose_brief_shows_its_stories_sources_and_nfrs_on_the_scope_page_and_the_quote(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    page = submit_requirements(client, project, "partsdirect_brief.txt")

    assert by_testid(page, "scope-tier") == "Simple MVP" and by_testid(page, "scope-price") == "$75,000"
    assert by_testid(page, "story-count") == "6"
    stories = stories_of(project)
    first = next(s for s in stories if s.position == 0)
    assert by_testid(page, f"story-sentence-{first.pk}") == "As a buyer, I want to search the catalogue by part number."
    assert by_testid(page, f"story-source-{first.pk}") == (
        "From: “Buyers must be able to search the catalogue by part number.”"
    )
    nfrs = by_testid(page, "non-functional")
    assert "Performance: Pages must load in under 1.5 seconds on mobile (in the quality standards)" in nfrs
    assert "Data location: Data stays in the EU (in the quality standards)" in nfrs
    assert "Languages: The UI must be available in English and German" in nfrs
    assert "Scale: We expect 300 suppliers and 5,000 buyers" in nfrs

    quote = _make_quote(world, project)
    assert "Non-functional requirements Performance: Pages must load in under 1.5 seconds on mobile" in quote
    assert "Page load time (your requirements): < 1.5 s" in quote
    assert "User interface in English, German" in quote and "Data stored in the EU" in quote
    assert "Page load time: < 2 s" not in quote


def test_a_csv_backlog_uploaded_through_the_form_is_scoped(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    buffer = io.StringIO()
    rows = [["As a", "I want", "So that", "MoSCoW"]]
    rows += [["shopper", f"save list {n} of favourite products", "I can buy again", "Should"] for n in range(16)]
    rows += [["shopper", "pay with a saved card", "checkout is quick", "Out of scope"]]
    csv.writer(buffer).writerows(rows)
    upload = SimpleUploadedFile("backlog.csv", buffer.getvalue().encode(), content_type="text/csv")

    response = client.post(url("requirements_submit", project.pk), {"document": upload})

    assert response.status_code == 302, text_of(response)[:2000]
    page = client.get(url("project_detail", project.pk))
    assert (by_testid(page, "scope-tier"), by_testid(page, "scope-price"), by_testid(page, "story-count")) == (
        "Standard MVP",
        "$150,000",
        "16",
    )
    assert "Current stories come from: backlog.csv" in text_of(page)


def test_an_unrecognised_spreadsheet_asks_which_column_is_which_and_keeps_the_previous_stories(
    world: World,
) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    submit_requirements(client, project, "pawwalk_10_stories.md")
    export = b"Ref,Text,Group\n1,pay by card,buyer\n2,ship the order,seller\n"

    upload = SimpleUploadedFile("export.csv", export)
    response = client.post(url("requirements_submit", project.pk), {"document": upload})

    assert response.status_code == 400
    assert "The table with the columns “Ref | Text | Group” was read" in text_of(response)
    choices = by_testid(response, "column-choices")
    assert choices.startswith("Which column is which? Ref") and "Text" in choices and "Group" in choices
    assert len(stories_of(project)) == 10

    answer = {"column_name_0": "Ref", "column_0": "ignore", "column_name_1": "Text", "column_1": "goal"}
    answer |= {"column_name_2": "Group", "column_2": "role", "column_name_3": "Evil", "column_3": "<script>"}
    response = client.post(
        url("requirements_submit", project.pk), {"document": SimpleUploadedFile("export.csv", export), **answer}
    )

    assert response.status_code == 302, text_of(response)[:2000]
    assert sorted(s.sentence for s in stories_of(project)) == [
        "As a buyer, I want to pay by card.",
        "As a seller, I want to ship the order.",
    ]


def test_the_stories_that_decide_the_tier_are_named_with_the_price_their_drop_would_give(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    text = "- Buyers see tiered prices\n- Buyers chat with the supplier\n- Suppliers upload price lists\n"
    client.post(url("requirements_submit", project.pk), {"text": text})
    page = client.get(url("project_detail", project.pk))

    assert by_testid(page, "scope-price") == "$300,000"
    assert "The tier is decided by 1 story: “Buyers chat with the supplier”" in by_testid(page, "tier-drivers")
    chat = next(s for s in stories_of(project) if "chat" in s.i_want)
    assert by_testid(page, f"tier-change-{chat.pk}") == (
        "Dropping it changes the quote to Simple MVP, $75,000 (now Complex MVP, $300,000)."
    )
    assert f'data-testid="tier-change-{next(s for s in stories_of(project) if s.pk != chat.pk).pk}"' not in (
        page.content.decode()
    )

    client.post(url("story_drop", project.pk, chat.pk), {"dropped": "1"})
    page = client.get(url("project_detail", project.pk))
    assert by_testid(page, "scope-price") == "$75,000"
    assert by_testid(page, f"tier-change-{chat.pk}") == (
        "Restoring it changes the quote to Complex MVP, $300,000 (now Simple MVP, $75,000)."
    )


def test_every_page_renders_a_story_in_the_one_sentence(world: World) -> None:
    client = world.client("alpha_member", on="alpha")
    project = new_project(client, Service.MVP)
    client.post(url("requirements_submit", project.pk), {"text": "- Operators approve listings\n- Buyers see offers\n"})
    with schema_context("alpha"):
        story = Story.objects.get(project=project, as_a="operator")
    expected = "As an operator, I want to approve listings."

    scope_page = client.get(url("project_detail", project.pk))
    assert by_testid(scope_page, f"story-sentence-{story.pk}") == expected
    quote = _make_quote(world, project)
    assert expected in quote
    success = client.get(url("project_success", project.pk))
    assert success.status_code == 200
    assert by_testid(success, f"story-sentence-{story.pk}") == expected
    for page in (text_of(scope_page), quote, text_of(success)):
        assert not re.search(r"\bI want (?!to |a |an |the )", page.split("Add a story")[0])
        assert "As a operator" not in page and "As operator" not in page
