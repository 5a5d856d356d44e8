"""Requirements analysis: stories, epics, acceptance criteria, MoSCoW, points, features, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from projects.requirements import (
    FIBONACCI_POINTS,
    Priority,
    RequirementsError,
    analyse_requirements,
    complexity_categories,
    detect_features,
    detect_priority,
    estimate_points,
    make_story,
)

FIXTURES = Path(__file__).parent / "fixtures" / "requirements"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --- user-story sentences --------------------------------------------------------------------


def test_it_reads_user_story_sentences_with_given_when_then_criteria() -> None:
    stories = analyse_requirements(fixture_text("pawwalk_10_stories.md")).stories

    assert len(stories) == 10
    first = stories[0]
    assert first.epic == "Accounts"
    assert first.as_a == "dog owner"
    assert first.i_want == "sign up with my email address"
    assert first.so_that == "I can book walks"
    assert first.title == "Sign up with my email address"
    assert first.acceptance_criteria == (
        "Given I am on the sign-up page",
        "When I enter a valid email address and a password",
        "Then my account is created",
        "And I receive a confirmation email",
    )
    assert [s.epic for s in stories].count("Bookings") == 4
    assert all(len(s.acceptance_criteria) >= 3 for s in stories)


def test_it_joins_a_story_sentence_wrapped_over_two_lines() -> None:
    stories = analyse_requirements(fixture_text("pawwalk_10_stories.md")).stories
    booking = stories[3]
    assert booking.i_want == "book a walk for a given time slot"
    assert booking.so_that == "my dog gets exercise while I work"
    assert booking.priority is Priority.MUST  # "(Must)" after the wrapped sentence


def test_it_accepts_as_an_and_a_missing_so_that() -> None:
    stories = analyse_requirements("As an admin I want to export all bookings.").stories
    assert len(stories) == 1
    assert stories[0].as_a == "admin"
    assert stories[0].i_want == "export all bookings"
    assert stories[0].so_that == ""
    assert stories[0].sentence == "As an admin, I want to export all bookings."


def test_the_story_sentence_reads_as_english() -> None:
    (user, thing, hourly) = analyse_requirements(
        "As a user, I want to ban spammers.\n\nAs an admin, I want a weekly report.\n\n"
        "As an hourly worker, I want to log my hours, so that I get paid."
    ).stories
    assert user.sentence == "As a user, I want to ban spammers."
    assert thing.sentence == "As an admin, I want a weekly report."
    assert hourly.sentence == "As an hourly worker, I want to log my hours, so that I get paid."


def test_it_finds_several_stories_in_one_paragraph() -> None:
    text = (
        "Notes from the workshop. As a cook, I want to save recipes so that I can reuse them. "
        "As a cook, I want to share a recipe so that friends can try it. Everyone liked this."
    )
    analysis = analyse_requirements(text)
    assert [s.i_want for s in analysis.stories] == ["save recipes", "share a recipe"]
    assert [s.so_that for s in analysis.stories] == ["I can reuse them", "friends can try it"]


def test_it_takes_a_title_written_before_the_story_sentence() -> None:
    story = analyse_requirements("US-12 Password reset: As a member, I want to reset my password.").stories[0]
    assert story.title == "Password reset"
    assert story.i_want == "reset my password"


def test_it_treats_lines_after_an_acceptance_criteria_label_as_criteria() -> None:
    text = """As a buyer, I want to pay by card so that checkout is quick.

Acceptance criteria:
- The card is charged once
- A receipt is shown

As a buyer, I want to see my orders.
"""
    stories = analyse_requirements(text).stories
    assert len(stories) == 2
    assert stories[0].acceptance_criteria == ("The card is charged once", "A receipt is shown")
    assert stories[1].acceptance_criteria == ()


def test_it_reads_bullets_right_below_a_story_sentence_as_stories_unless_they_are_criteria() -> None:
    # Word documents have no blank lines, so adjacency alone does not make a bullet a criterion.
    text = "As a user, I want to log in.\n- The password must be checked\n- Admins can delete users\n"
    stories = analyse_requirements(text).stories
    assert [s.i_want for s in stories] == ["log in", "delete users"]
    assert stories[0].acceptance_criteria == ("The password must be checked",)


def test_it_keeps_prose_after_a_blank_line_out_of_the_criteria() -> None:
    text = """As a buyer, I want to see my orders.
The list must be sorted by date.

The team should review this section again next month.
"""
    story = analyse_requirements(text).stories[0]
    assert story.acceptance_criteria == ("The list must be sorted by date.",)


# --- lists and headings ----------------------------------------------------------------------


def test_it_reads_bullets_under_markdown_headings_as_stories_of_epics() -> None:
    stories = analyse_requirements(fixture_text("fieldfix_25_stories.md")).stories

    assert len(stories) == 25
    epics = [s.epic for s in stories]
    assert {e: epics.count(e) for e in epics} == {
        "Customer portal": 6,
        "Dispatch": 6,
        "Technician app": 6,
        "Back office": 7,
    }
    request = stories[0]
    assert request.as_a == "customer"
    assert request.i_want == "request a repair visit by describing the problem"
    assert request.acceptance_criteria == (
        "must ask for the address and a preferred date",
        "should allow attaching photos",
    )


def test_it_does_not_make_stories_of_descriptive_sections() -> None:
    stories = analyse_requirements(fixture_text("fieldfix_25_stories.md")).stories
    titles = " ".join(s.title for s in stories)
    assert "paper job sheets" not in titles  # Overview
    assert "Pages must load" not in titles  # Non-functional requirements


def test_it_reads_numbered_items_with_must_and_should_lines_under_underlined_headings() -> None:
    stories = analyse_requirements(fixture_text("clinicflow_45_stories.txt")).stories

    assert len(stories) == 45
    assert [s.epic for s in stories[:9]] == ["Patients"] * 9
    assert stories[-1].epic == "Administration"
    assert stories[0].acceptance_criteria == (
        "The sign-up form must ask for name, date of birth and phone number.",
        "The confirmation email should arrive within a minute.",
    )
    # must/should lines are criteria, never stories of their own
    assert not any(s.title.startswith(("The ", "Notes ", "A ", "Every ", "Import ")) for s in stories)
    assert all(s.priority is Priority.SHOULD for s in stories)


def test_it_reads_stories_of_every_style_in_a_mixed_document() -> None:
    stories = analyse_requirements(fixture_text("harvest_60_stories.md")).stories

    assert len(stories) == 62
    epics = [s.epic for s in stories]
    assert epics.count("Farmers") == 12  # prose paragraphs, wrapped and unwrapped
    assert epics.count("Buyers") == 12  # bullets of story sentences
    assert epics.count("Orders and delivery") == 14  # numbered items
    assert epics.count("Marketplace operations") == 12  # a table
    assert sum(s.priority is Priority.WONT for s in stories) == 2  # "Out of scope"


def test_it_reads_stories_from_a_markdown_table_with_its_priority_column() -> None:
    stories = analyse_requirements(fixture_text("harvest_60_stories.md")).stories
    table = [s for s in stories if s.epic == "Marketplace operations"]
    assert table[0].i_want == "approve new farms before they can sell"
    assert [s.priority for s in table[:3]] == [Priority.MUST, Priority.MUST, Priority.SHOULD]
    assert table[6].priority is Priority.COULD


def test_it_derives_the_role_from_list_items() -> None:
    text = "- Admins can delete users\n- The system must send reminders\n- Password reset via a link\n"
    stories = analyse_requirements(text).stories
    assert [(s.as_a, s.i_want) for s in stories] == [
        ("admin", "delete users"),
        ("user", "the system to send reminders"),
        ("user", "password reset via a link"),
    ]


def test_it_ignores_code_blocks() -> None:
    text = "- Users can log in\n\n```\n- not a story\n```\n"
    assert len(analyse_requirements(text).stories) == 1


# --- MoSCoW ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wording", "priority"),
    [
        ("Users must be able to log in", Priority.MUST),
        ("Critical: export invoices", Priority.MUST),
        ("Required for launch: password reset", Priority.MUST),
        ("Users should see their history", Priority.SHOULD),
        ("Important: email receipts", Priority.SHOULD),
        ("Users could pick a theme", Priority.COULD),
        ("Dark mode would be nice to have", Priority.COULD),
        ("Optional avatar upload", Priority.COULD),
        ("We won't build a mobile app", Priority.WONT),
        ("Mobile app (later)", Priority.WONT),
        ("Offline mode in a future release", Priority.WONT),
        ("Users can save a draft", Priority.SHOULD),
        ("I want to read articles later", Priority.SHOULD),
        ("I want to see future bookings", Priority.SHOULD),
        ("[Must] Users could pick a theme", Priority.MUST),
        ("Priority: low - export to CSV", Priority.COULD),
        ("MoSCoW: W", Priority.WONT),
    ],
)
def test_it_detects_moscow_priority_from_wording(wording: str, priority: Priority) -> None:
    assert detect_priority(wording) is priority


def test_it_takes_the_default_priority_from_moscow_headings() -> None:
    text = """## Accounts
### Must have
- Users can sign up
### Could have
- Users can upload an avatar
### Won't have
- Users can log in with a fingerprint
"""
    stories = analyse_requirements(text).stories
    assert [s.priority for s in stories] == [Priority.MUST, Priority.COULD, Priority.WONT]
    assert {s.epic for s in stories} == {"Accounts"}


def test_it_does_not_take_priority_from_acceptance_criteria() -> None:
    text = "- Users can reset their password\n  - the link must expire after an hour\n"
    story = analyse_requirements(text).stories[0]
    assert story.priority is Priority.SHOULD


# --- story points ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("i_want", "criteria", "points"),
    [
        ("log in", 0, 1),  # score 1
        ("log in", 2, 2),  # +1 for two criteria
        ("log in", 4, 3),  # +2 for four criteria
        ("log in", 9, 5),  # criteria count at most 6: +3
        ("see a list of every booking I have made this month and the status of each one", 0, 2),  # >12 words
        ("import bookings", 0, 3),  # one complexity category: +2
        ("import bookings from the partner API", 0, 5),  # two categories: +4
        ("import bookings from the partner API and show a real-time dashboard", 0, 8),  # 4 categories, 3 count
        (
            "import bookings from the partner API, pay them and show a real-time dashboard and "
            "a report of every booking with its status, owner and price so that",
            6,
            13,
        ),
    ],
)
def test_it_estimates_fibonacci_points_by_the_stated_heuristic(i_want: str, criteria: int, points: int) -> None:
    estimate = estimate_points(
        title="", i_want=i_want, so_that="", acceptance_criteria=[f"criterion {n}" for n in range(criteria)]
    )
    assert estimate == points


def test_it_counts_a_named_provider_as_an_integration_category() -> None:
    assert complexity_categories("post a summary to Slack") == ("integration",)
    assert complexity_categories("edit my profile") == ()


def test_it_gives_every_fixture_story_fibonacci_points() -> None:
    for name in (
        "pawwalk_10_stories.md",
        "fieldfix_25_stories.md",
        "clinicflow_45_stories.txt",
        "harvest_60_stories.md",
    ):
        for story in analyse_requirements(fixture_text(name)).stories:
            assert story.points in FIBONACCI_POINTS


def test_it_builds_edited_stories_with_points_and_priority() -> None:
    story = make_story(
        as_a="buyer",
        i_want="to be able to pay with PayPal",
        so_that="I can use my balance.",
        epic="Payments",
        acceptance_criteria=["Given a basket", "When I pay", "", "Then PayPal is charged"],
    )
    assert story.i_want == "pay with PayPal"
    assert story.so_that == "I can use my balance"
    assert story.title == "Pay with PayPal"
    assert story.acceptance_criteria == ("Given a basket", "When I pay", "Then PayPal is charged")
    assert story.points == 8  # 1 + 1 (three criteria) + 2 x 2 (payments, integration) = 6 → 8
    assert story.priority is Priority.SHOULD
    assert make_story(as_a="", i_want="critical fix", priority=None).priority is Priority.MUST
    with pytest.raises(RequirementsError):
        make_story(as_a="buyer", i_want="  ")


# --- feature detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Customers pay with Stripe or PayPal; Braintree later.", {"Stripe", "PayPal", "Braintree"}),
        ("Mail goes out through SendGrid, Mailgun as fallback, or plain SMTP.", {"SendGrid", "Mailgun", "SMTP"}),
        ("Users receive a welcome email.", {"Email delivery"}),
        ("Users sign up with email and password.", set()),
        ("Shops appear on Google Maps; the admin uses Mapbox.", {"Google Maps", "Mapbox"}),
        ("Staff sign in through Okta with SAML; partners via Auth0.", {"Okta", "SAML", "Auth0"}),
        ("Users can log in with Google.", {"Google Sign-In"}),
        ("Employees use single sign-on (OAuth 2).", {"Single sign-on"}),
        ("Reminders go out by SMS via Twilio.", {"Twilio"}),
        ("Send text messages to drivers.", {"SMS"}),
        ("Post alerts to Slack and Microsoft Teams.", {"Slack", "Microsoft Teams"}),
        ("Stock comes from the Acme Inventory API.", {"Acme Inventory API"}),
        ("We expose a REST API for partners.", set()),
        ("Pay with Stripe. The Stripe API handles refunds. stripe webhooks too.", {"Stripe"}),
        ("Buyers pay by credit card.", {"Card payments"}),
        ("Buyers pay by credit card through Stripe.", {"Stripe"}),
    ],
)
def test_it_detects_named_integrations_once_each(text: str, names: set[str]) -> None:
    assert set(detect_features(text).integration_names) == names


@pytest.mark.parametrize(
    "text",
    [
        "Use machine learning to rank results",
        "Show product recommendations",
        "An AI assistant drafts replies",
        "Summaries come from an LLM",
        "Automatic classification of tickets",
        "Prediction of next month's demand",
        "NLP extracts dates from emails",
    ],
)
def test_it_detects_ai_ml_needs(text: str) -> None:
    assert detect_features(text).needs_ai_ml


@pytest.mark.parametrize(
    "text",
    [
        "Prices update in real-time",
        "The board shows live updates",
        "The server pushes events over WebSockets",
        "Buyers can chat with sellers",
        "Drivers get push notifications",
        "Collaborative editing of the menu",
    ],
)
def test_it_detects_real_time_needs(text: str) -> None:
    assert detect_features(text).needs_real_time


def test_it_does_not_see_ai_or_real_time_in_ordinary_words() -> None:
    features = detect_features("Said the email: maintain the daily list, then we chatted about nothing.")
    assert not features.needs_ai_ml
    assert not detect_features("Users can edit their profile and see the timeline.").needs_real_time


def test_it_detects_the_features_of_the_mixed_document() -> None:
    features = analyse_requirements(fixture_text("harvest_60_stories.md")).features
    assert features.integration_names == ("Email delivery", "Google Maps", "QuickBooks", "Stripe")
    assert features.ai_ml == {"AI", "classification", "prediction", "recommendations"}
    assert features.real_time == {"chat", "live updates", "push notifications"}


def test_it_keeps_features_mentioned_outside_stories_as_context() -> None:
    analysis = analyse_requirements("Stock is read from the Acme Inventory API.\n\n- Users can browse stock\n")
    assert analysis.context_features.integration_names == ("Acme Inventory API",)
    assert analysis.features.integration_names == ("Acme Inventory API",)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t  \n", "\ufeff"])
def test_it_refuses_empty_requirements(text: str) -> None:
    with pytest.raises(RequirementsError, match="empty"):
        analyse_requirements(text)


@pytest.mark.parametrize("value", [None, b"As a user I want x", 42, ["As a user I want x"]])
def test_it_refuses_requirements_that_are_not_text(value: object) -> None:
    with pytest.raises(RequirementsError, match="must be text"):
        analyse_requirements(value)  # type: ignore[arg-type]


def test_it_refuses_binary_junk_passed_as_text() -> None:
    with pytest.raises(RequirementsError, match="binary"):
        analyse_requirements("As a user I want \x00\x01\x02\x03 things \x04\x05\x06")


def test_it_refuses_text_without_any_story() -> None:
    with pytest.raises(RequirementsError, match="No user stories were found"):
        analyse_requirements("We would like a nice website.\n\nThanks for reading.")


def test_it_refuses_requirements_over_the_story_cap_as_soon_as_it_is_passed() -> None:
    bullets = "".join(f"- Customers can manage booking {n}\n" for n in range(43_000))  # 1.3 MB, 17 s uncapped
    started = time.monotonic()

    with pytest.raises(RequirementsError, match=r"more than 500 user stories; the limit is 500\."):
        analyse_requirements(bullets, max_stories=500)

    assert time.monotonic() - started < 3
    assert (
        len(
            analyse_requirements(
                bullets[: bullets.index("- Customers can manage booking 500\n")], max_stories=500
            ).stories
        )
        == 500
    )


def test_it_counts_story_sentences_in_tables_against_the_cap() -> None:
    rows = "".join(f"| As a user, I want report {n}. | As an admin, I want audit {n}. |\n" for n in range(3))
    with pytest.raises(RequirementsError, match=r"more than 5 user stories"):
        analyse_requirements(rows, max_stories=5)


def test_prose_above_story_sentences_is_background_not_a_story() -> None:
    text = (
        "# Clinic\n\nPet owners should manage their pets online, vets keep their notes in one place.\n\n"
        "As a pet owner, I want to register my pets so that the clinic knows them.\n"
        "As a vet, I want to add visit notes so that the next vet knows the history.\n"
    )
    analysis = analyse_requirements(text)
    assert [s.as_a for s in analysis.stories] == ["pet owner", "vet"]
    assert not any("manage their pets" in s.source for s in analysis.stories)
    # The same sentence alone is a prose brief: there it is the story.
    brief = analyse_requirements("# Clinic\n\nPet owners should manage their pets online.\n")
    assert [s.sentence for s in brief.stories] == ["As a pet owner, I want to manage my pets online."]
