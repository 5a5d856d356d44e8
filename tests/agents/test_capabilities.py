"""What the built-in developers cannot build: the planning-time gap, phrase by phrase."""

from __future__ import annotations

import pytest

from agents.appgen.capabilities import CAPABILITIES, Gap, capability_gap, criterion_gap


@pytest.mark.parametrize(
    ("sentence", "capability"),
    [
        ("As a pet owner I want to pay the consultation fee online by card (Stripe)", "payments"),
        ("As a buyer I want to pay with PayPal", "payments"),
        ("As a shop I want to accept card payments", "payments"),
        ("As a member I want to enter my credit card details", "payments"),
        ("As a customer I want a checkout for my cart", "payments"),
        ("As an admin I want to issue refunds", "payments"),
        ("As a club I want to collect payments for the season", "payments"),
        ("As a tenant I want to set up a direct debit", "payments"),
        ("As a manager I want appointments to sync to our Google Calendar", "integration"),
        ("As an owner I want a calendar invite for each booking", "integration"),
        ("As a volunteer I want my shifts to show in Outlook", "integration"),
        ("As a patient I want an SMS reminder the day before", "integration"),
        ("As a user I want text messages about delays", "integration"),
        ("As a buyer I want a confirmation e-mail after ordering", "integration"),
        ("As a customer I want to receive an email when my order ships", "integration"),
        ("As a volunteer I want to be notified by email about new shifts", "integration"),
        ("As an employee I want single sign-on with our company account", "integration"),
        ("As a staff member I want to log in with Google", "integration"),
        ("As IT I want SAML login", "integration"),
        ("As a team I want new orders posted to Slack", "integration"),
        ("As finance I want invoices pushed to QuickBooks", "integration"),
        ("As a supplier I want our ERP system connected", "integration"),
        ("As a dispatcher I want real-time positions of the vans", "realtime"),
        ("As a customer I want to chat with support", "realtime"),
        ("As a driver I want push notifications", "realtime"),
        ("As a manager I want live updates of the queue", "realtime"),
        ("As a manager I want a monthly report of visits", "reporting"),
        ("As a manager I want to export a report of orders", "reporting"),
        ("As a director I want charts of revenue", "reporting"),
        ("As a coordinator I want statistics on attendance", "reporting"),
        ("As an accountant I want to export invoices to Excel", "reporting"),
        ("As a buyer I want to download the order history as a CSV", "reporting"),
        ("As a shopper I want product recommendations", "ai"),
        ("As a clerk I want documents auto-categorised", "ai"),
        ("As a planner I want to forecast demand", "ai"),
        ("As a user I want a chatbot for questions", "ai"),
        ("As a vet I want machine learning to flag risky cases", "ai"),
    ],
)
def test_it_names_the_capability_a_story_needs(sentence: str, capability: str) -> None:
    gap = capability_gap("", sentence, [])
    assert gap is not None, sentence
    assert gap.capability == capability
    assert gap.capability in CAPABILITIES
    assert gap.reason.endswith(".") and "built-in developers" in gap.reason


@pytest.mark.parametrize(
    "sentence",
    [
        "As a user I want to report a bug",
        "As a neighbour I want to report a lost pet",
        "As an owner I want to see the list of my pets",
        "As an owner I want to see free appointment slots",
        "As an owner I want to cancel or move a booking",
        "As a pet owner I want to register my pets (name, species, birth date)",
        "As a vet I want to add visit notes to an appointment",
        "As a bookkeeper I want to mark an invoice as paid",
        "As a clerk I want to record the amount and fee of each order",
        "As an admin I want to find a customer by email",
        "As a member I want to store my email address and phone",
        "As a volunteer I want to sign up for a shift",
        "As a user I want to log in",
        "As a librarian I want to check out a book",
        "As a vet I want to record the dose in ml",
        "As a manager I want to see the daily schedule",
        "As a clerk I want to file a report of damaged goods",
        "As a coordinator I want to see a list of upcoming shifts with their location",
        "As a buyer I want to see the status of my order",
        "As a member I want a loyalty card number on my profile",
    ],
)
def test_it_finds_no_gap_in_what_the_built_in_developers_build(sentence: str) -> None:
    assert capability_gap("", sentence, ["Given an item, when I save it, then it is on the list"]) is None


def test_the_payment_reason_names_the_provider_for_the_customer() -> None:
    gap = capability_gap("Pay online", "As a pet owner I want to pay the consultation fee online by card (Stripe)", [])
    assert gap == Gap(
        "payments",
        "Taking payments needs a payment provider integration (Stripe); "
        "the built-in developers do not build payment flows and never store card details.",
    )


def test_the_title_alone_makes_a_gap() -> None:
    gap = capability_gap("Google Calendar sync", "As a manager I want appointments shown there", [])
    assert gap is not None and gap.capability == "integration" and "Google Calendar" in gap.reason


def test_one_criterion_needing_a_capability_leaves_the_buildable_story_alone() -> None:
    criteria = ["Given a free slot, when I book it, then it is no longer offered", "I get a confirmation email"]
    assert capability_gap("Book", "As an owner I want to book an appointment slot", criteria) is None
    gap = criterion_gap(criteria[1])
    assert gap is not None and gap.capability == "integration"
    assert criterion_gap(criteria[0]) is None


def test_a_story_whose_every_criterion_needs_a_capability_is_a_gap() -> None:
    criteria = ["Owners get an SMS the day before", "Owners get a reminder e-mail a week before"]
    gap = capability_gap("Reminders", "As an owner I want to be reminded of visits", criteria)
    assert gap is not None and gap.capability == "integration"
