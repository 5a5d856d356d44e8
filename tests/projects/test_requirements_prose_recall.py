"""A realistic prose brief (a vet clinic's, as the customer tryout sent one) gives a story for every
capability sentence — modal verbs, a want of a noun, a plain statement of what a known user does,
requirements whose subject is a thing ("Appointments must sync to our Google Calendar") — while
background and delivery constraints stay out. The tryout got 2 stories of these 11."""

from __future__ import annotations

from pathlib import Path

import pytest

from projects.requirements import analyse_requirements

BRIEF = Path(__file__).parent / "fixtures" / "requirements" / "vet_clinic_prose_brief.md"


def test_every_capability_sentence_of_the_vet_clinic_brief_is_a_story() -> None:
    analysis = analyse_requirements(BRIEF.read_text(encoding="utf-8"))

    assert [(s.as_a, s.i_want) for s in analysis.stories] == [
        ("pet owner", "book an appointment slot at my clinic"),
        ("owner", "cancel or move a booking up to 24 hours before it"),
        ("client", "pay the consultation fee online by card"),
        ("pet owner", "see the visit history of each of my pets"),
        ("vet", "add visit notes after each appointment"),
        ("vet", "see the medical history of a pet before the visit"),
        ("user", "appointments to sync to our Google Calendar"),
        ("user", "reminders to be sent by SMS the day before"),
        ("practice manager", "get a monthly report of revenue"),
        ("administrator", "manage clinics, vets and opening hours"),
        ("receptionist", "check a client in when they arrive"),
    ]
    # Each listed integration has a story behind it: payment, calendar, SMS.
    names = {integration.name for integration in analysis.context_features.integrations}
    assert names == {"Stripe", "Google Calendar", "Twilio"}
    wants = " ".join(s.i_want for s in analysis.stories)
    assert "pay" in wants and "Google Calendar" in wants and "SMS" in wants


@pytest.mark.parametrize(
    "sentence",
    [
        "The project should be delivered by March and the budget is fixed.",
        "The portal must be built with Django and hosted in the EU.",
        "Our clinics have been open since 2009 and we see about 200 pets a week.",
        "Our clients love the friendly staff.",
        "The code must be written in Python.",
    ],
)
def test_background_and_delivery_constraints_are_no_stories(sentence: str) -> None:
    analysis = analyse_requirements(f"Vets need to add visit notes after each appointment. {sentence}")

    assert [(s.as_a, s.i_want) for s in analysis.stories] == [("vet", "add visit notes after each appointment")]


@pytest.mark.parametrize(
    ("sentence", "role", "want"),
    [
        ("Reminders must be sent to pet owners by SMS.", "pet owner", "reminders to be sent to pet owners by SMS"),
        ("Invoices should be e-mailed automatically.", "user", "invoices to be e-mailed automatically"),
        ("The receptionist wants a daily list of arrivals.", "receptionist", "get a daily list of arrivals"),
        ("Clients will be able to rate the vet.", "client", "rate the vet"),
    ],
)
def test_passive_and_noun_wants_take_the_role_from_the_sentence_or_user(sentence: str, role: str, want: str) -> None:
    analysis = analyse_requirements(sentence)

    assert [(s.as_a, s.i_want) for s in analysis.stories] == [(role, want)]
