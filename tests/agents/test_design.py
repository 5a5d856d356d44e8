"""From a story's words to the domain model (agents/appgen/design.py, agents/appgen/wording.py):
the cases a paying customer saw go wrong, and the rules that keep them right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.appgen import generate
from agents.appgen.acceptance import Check, acceptance_markdown, check_results, checks_of
from agents.appgen.design import DesignError, design_stories, design_story, merge_fields
from agents.appgen.wording import plural, singular


def story(number: int, sentence: str, *criteria: str, title: str = "") -> dict[str, Any]:
    return {
        "number": number,
        "title": title or f"Story {number}",
        "sentence": sentence,
        "acceptance_criteria": criteria,
    }


@pytest.mark.parametrize(
    ("sentence", "entity"),
    [
        ("As a pet owner, I want to see free appointment slots per clinic", "appointment"),
        ("As a manager, I want a monthly overview of bookings", "booking"),
        ("As a pet owner, I want to cancel or move a booking", "booking"),
        ("As a volunteer, I want to see the daily list of shifts", "shift"),
        ("As a pet owner, I want to register my pets (name, species, birth date)", "pet"),
        ("As a vet, I want to add visit notes to an appointment", "visit_note"),
        ("As a buyer, I want to approve or reject a purchase order", "purchase_order"),
        ("As a librarian, I want to check out a book", "book"),
        ("As a supplier, I want to maintain our product catalogue", "product"),
        ("As a member, I want to see upcoming events", "event"),
        ("As a coach, I want to list the people in my team", "person"),
        ("As a user, I want to keep notes about my analyses", "note"),
    ],
)
def test_the_entity_is_the_noun_the_story_is_about(sentence: str, entity: str) -> None:
    design = design_story(story(1, sentence))
    assert design.kind == "crud" and design.entity == entity


@pytest.mark.parametrize("word", ["free", "monthly", "daily", "move", "cancel", "upcoming", "weekly"])
def test_adjectives_time_words_and_verbs_never_become_entities(word: str) -> None:
    items = [
        story(1, "As a pet owner, I want to see free appointment slots"),
        story(2, "As a manager, I want to see a monthly list of appointments"),
        story(3, "As a pet owner, I want to cancel or move an appointment"),
        story(4, "As a volunteer, I want to see daily and weekly upcoming shifts"),
    ]
    assert word not in merge_fields(design_stories(items))


def test_singular_and_plural_come_from_the_inflection_library() -> None:
    assert [singular(w) for w in ["pets", "people", "species", "analyses", "diagnosis", "status", "boxes"]] == [
        "pet",
        "person",
        "species",
        "analysis",
        "diagnosis",
        "status",
        "box",
    ]
    assert [plural(w) for w in ["person", "visit_note", "category", "box"]] == [
        "people",
        "visit_notes",
        "categories",
        "boxes",
    ]


def test_registering_pets_is_not_an_account_story_but_logging_in_is() -> None:
    assert design_story(story(1, "As a pet owner, I want to register my pets")).kind == "crud"
    assert design_story(story(2, "As a visitor, I want to register an account")).kind == "auth"
    assert design_story(story(3, "As a user, I want to log in with my email and password")).kind == "auth"
    assert design_story(story(4, "As a volunteer, I want to sign up for a shift")).entity == "shift"


def test_attributes_links_states_and_roles_come_from_the_wording() -> None:
    designs = design_stories(
        [
            story(
                1,
                "As a pet owner, I want to register my pets (name, species, birth date)",
                "A pet without a species is refused",
            ),
            story(2, "As a pet owner, I want to book an appointment for one of my pets at a clinic per clinic"),
            story(3, "As a pet owner, I want to cancel an appointment", "It is cancelled and no longer listed"),
            story(4, "As a vet, I want to add visit notes to an appointment", "Only vets can add visit notes"),
        ]
    )
    model = merge_fields(designs)
    pet = {f.name: (f.type, f.required) for f in model["pet"].fields}
    assert pet == {"name": ("text", True), "species": ("text", True), "birth_date": ("date", False)}
    assert {f.name: f.target for f in model["appointment"].links} == {"pet": "pets", "clinic": "clinics"}
    assert model["clinic"].fields[0].name == "name" and model["clinic"].stories == (2,)
    assert model["appointment"].closed == ("cancelled",)
    assert "status" in {f.name for f in model["appointment"].fields}
    assert model["visit_note"].writers == ("vet",)
    assert [f.target for f in model["visit_note"].links] == ["appointments"]


def test_fields_that_would_store_card_numbers_passwords_or_secrets_are_never_made(tmp_path: Path) -> None:
    design = design_story(
        story(
            1,
            "As a club, I want to keep members with a name, a card number, a CVV, a password, "
            "an API token, an IBAN and a phone",
        )
    )
    names = [f.name for f in design.fields]
    assert design.entity == "member" and names == ["name", "phone"]
    assert {"card_number", "cvv", "password", "api_token", "iban"} <= set(design.refused)
    generate(tmp_path, "Club", [design])
    code = "".join(p.read_text() for p in (tmp_path / "app" / "entities").glob("*.py"))
    for word in ("card", "cvv", "password", "token", "iban"):
        assert word not in code


@pytest.mark.parametrize("sentence", ["As a user, I want it to be quick and free", "As a user, I want to ..."])
def test_a_story_naming_no_thing_is_refused_with_a_reason(sentence: str) -> None:
    with pytest.raises(DesignError, match="names no thing the application could keep"):
        design_story(story(9, sentence, title="Faster"))


def test_a_spec_naming_a_sensitive_field_is_refused_when_read_back() -> None:
    from agents.appgen.design import StoryDesign

    data = design_story(story(1, "As a shop owner, I want to add products with a price")).to_json()
    data["fields"].append({"name": "card_number", "type": "text", "required": False})
    with pytest.raises(ValueError, match="cannot be generated"):
        StoryDesign.from_json(data)


def test_every_criterion_gets_a_check_and_a_story_without_any_gets_derived_ones() -> None:
    designs = design_stories(
        [
            story(
                1,
                "As a pet owner, I want to book an appointment for one of my pets",
                "Given a free slot, when I book it, then the slot is no longer offered to others",
                "I receive a confirmation email with a calendar invite",
                "The total price is calculated with tax",
            ),
            story(2, "As a pet owner, I want to register my pets (name, species)"),
        ]
    )
    model = merge_fields(designs)
    booking = checks_of(designs[0], model["appointment"])
    assert [(c.index, c.kind, c.derived) for c in booking] == [(1, "state", False), (2, "", False), (3, "", False)]
    assert "needs a calendar service integration" in booking[1].reason
    assert "a person verifies it" in booking[2].reason
    derived = checks_of(designs[1], model["pet"])
    assert all(c.derived for c in derived) and [c.kind for c in derived][:2] == ["create", "required"]
    assert derived[0].test == "tests.test_story_002.Story002Acceptance.test_story_002_criterion_1_create"


def test_results_never_count_unknown_as_pass_and_carry_no_host_paths() -> None:
    checks = [
        Check(1, 1, "listed", False, "create"),
        Check(1, 2, "refused", False, "required", fields=("name",)),
        Check(1, 3, "not run", False, "state"),
        Check(1, 4, "sent by e-mail", False, "", "needs an e-mail provider"),
    ]
    traceback = 'Traceback:\n  File "/srv/hive/projects/7/workspace/tests/test_story_001.py", line 3\nAssertionError'
    rows = check_results(
        checks,
        {checks[0].test: "passed", checks[1].test: "failed"},
        {checks[1].test: traceback + "x" * 3000},
        "abc123",
    )
    assert [r["status"] for r in rows] == ["pass", "fail", "unverified", "unverified"]
    assert "/srv/hive" not in rows[1]["output"] and len(rows[1]["output"]) <= 2000
    assert rows[2]["reason"] == "its test (test_story_001_criterion_3_state) did not run" and rows[2]["commit"] == ""
    assert rows[3]["reason"] == "needs an e-mail provider" and rows[3]["test"] == ""
    assert set(rows[0]) == {"story", "index", "criterion", "derived", "status", "test", "output", "commit", "reason"}
    text = acceptance_markdown("Vet | clinic", rows, "abc123")
    assert "1 of 4 criteria verified-pass, 1 verified-fail, 2 unverified" in text
    assert "| 1 | 4 | sent by e-mail | needs an e-mail provider | unverified |" in text
