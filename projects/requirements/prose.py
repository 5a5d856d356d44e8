"""Capability sentences of a prose brief that do not name their user as the subject.

`drafts.draft_from_prose` reads "Vets need to add visit notes": a person, a modal verb, an action.
A brief also states requirements whose subject is a thing ("Appointments must sync to our Google
Calendar", "Reminders will be sent by SMS the day before"), a want of a noun ("The practice
manager wants a monthly report of revenue") and a plain statement of what a known user does
("Clients pay the consultation fee online by card"). This module tells a person from a thing and
turns those sentences into (role, goal); delivery constraints ("The project should be delivered by
March", "The portal must be built with Django") and background stay out.

Written here because no maintained library does this: it is a few rules on the parser's own
vocabulary (`syntax.KNOWN_ROLES`), not general English parsing.
"""

from __future__ import annotations

import re

from projects.requirements.model import DEFAULT_ROLE
from projects.requirements.nfr import nonfunctional
from projects.requirements.syntax import KNOWN_ROLES, role_noun, singular

_I = re.IGNORECASE
# Nouns that name people, beyond `KNOWN_ROLES` (which also names systems such as "backend").
_PEOPLE = frozenset(
    [
        "owner",
        "vet",
        "veterinarian",
        "doctor",
        "nurse",
        "patient",
        "staff",
        "admin",
        "administrator",
        "manager",
        "member",
        "guest",
        "visitor",
        "student",
        "teacher",
        "parent",
        "employee",
        "driver",
        "courier",
        "agent",
        "receptionist",
        "clinician",
        "therapist",
        "team",
        "partner",
        "dispatcher",
        "operator",
        "reviewer",
        "editor",
        "author",
        "moderator",
        "host",
        "tenant",
        "landlord",
        "resident",
        "volunteer",
        "coach",
        "trainer",
        "player",
        "reader",
        "writer",
        "user",
        "buyer",
        "seller",
        "customer",
        "client",
        "shopper",
        "subscriber",
        "supplier",
        "vendor",
        "merchant",
        "accountant",
        "auditor",
        "physician",
        "dentist",
        "surgeon",
        "technician",
        "assistant",
        "clerk",
        "officer",
        "director",
        "representative",
        "consultant",
        "contractor",
        "freelancer",
        "candidate",
        "applicant",
        "recruiter",
        "agency",
        "person",
        "people",
        "family",
        "guardian",
        "caregiver",
        "passenger",
        "traveller",
        "traveler",
        "rider",
        "tutor",
        "learner",
        "instructor",
    ]
)
# -er/-or nouns that are things, not people.
_THINGS = frozenset(
    [
        "order",
        "folder",
        "number",
        "header",
        "footer",
        "filter",
        "reminder",
        "banner",
        "timer",
        "counter",
        "register",
        "letter",
        "paper",
        "computer",
        "server",
        "browser",
        "printer",
        "scanner",
        "trailer",
        "container",
        "parameter",
        "voucher",
        "answer",
        "layer",
        "marker",
        "calendar",
        "error",
        "monitor",
        "sensor",
        "vector",
        "factor",
        "indicator",
        "selector",
        "calculator",
        "generator",
        "router",
        "adapter",
        "connector",
        "editor-window",
        "cursor",
        "color",
        "colour",
        "floor",
        "door",
        "mirror",
    ]
)
_PERSON_SUFFIX = re.compile(r"(?:er|or|ist|ian|ant)$")


def is_person(role: str) -> bool:
    """Whether the (singular) role names people: "pet owner", "vet" — not "appointment"."""
    head = role.split()[-1] if role.split() else ""
    if head in _PEOPLE or (head in KNOWN_ROLES and head not in {"backend", "frontend", "database", "api"}):
        return True
    return head not in _THINGS and not head.endswith("ment") and bool(_PERSON_SUFFIX.search(head))


# "X must/should/will/needs to <action>" with any subject: the passive or thing-subject form.
_REQUIREMENT = re.compile(
    r"^(?P<subject>(?:(?:the|our|all|every|each|any|new|their)\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}?)\s+"
    r"(?P<modal>must|should|shall|will|needs?\s+to|has\s+to|have\s+to)\s+(?P<action>(?!not\s)\S.*)$",
    _I,
)
# Subjects and actions of delivery constraints, not capabilities of the product.
_DELIVERY_SUBJECT = frozenset(
    [
        "project",
        "portal",
        "system",
        "app",
        "application",
        "site",
        "website",
        "platform",
        "product",
        "solution",
        "budget",
        "code",
        "delivery",
        "work",
        "team",
        "vendor",
        "it",
        "we",
        "contract",
        "launch",
        "release",
        "mvp",
        "invoice-run",
    ]
)
_DELIVERY_ACTION = re.compile(
    r"^(?:be\s+)?(?:delivered|built|hosted|written|developed|deployed|completed|finished|launched|ready|live"
    r"|cost|priced|paid\s+for|fixed|done|tested\s+by|handed\s+over|maintained\s+by|made\s+with|based\s+on)\b",
    _I,
)


def thing_requirement(text: str) -> tuple[str, str] | None:
    """(role, goal) of a requirement whose subject is a thing ("Appointments must sync to our
    Google Calendar" → ("user", "appointments to sync to our Google Calendar")); the role is a
    person the sentence names ("… sent to pet owners") or the default user. None for a person
    subject (the capability form reads it), a delivery constraint or no requirement at all."""
    match = _REQUIREMENT.match(text)
    if match is None or nonfunctional(text) is not None:
        return None  # "The UI must be available in English" is a non-functional requirement
    subject, action = match.group("subject"), match.group("action")
    role = role_noun(subject)
    if role is None or is_person(role):
        return None
    if role.split()[-1] in _DELIVERY_SUBJECT or _DELIVERY_ACTION.match(action):
        return None
    subject = subject[0].lower() + subject[1:]
    return _named_person(action) or DEFAULT_ROLE, f"{subject} to {action}"


_FUNCTION_WORDS = frozenset(
    [
        "to",
        "by",
        "the",
        "our",
        "their",
        "a",
        "an",
        "all",
        "each",
        "every",
        "and",
        "or",
        "of",
        "for",
        "with",
        "from",
        "in",
        "on",
        "at",
    ]
)


def _named_person(text: str) -> str | None:
    """The first person the text names ("… sent to pet owners" → "pet owner")."""
    words = re.findall(r"[a-z]+", text.lower())
    for index, word in enumerate(words):
        person = singular(word)
        if person in _PEOPLE:
            before = words[index - 1] if index else ""
            return f"{before} {person}" if before and before not in _FUNCTION_WORDS else person
    return None


_WANTS_NOUN = re.compile(r"^(?P<head>.+?\bwants?)\s+(?P<noun>(?:a|an|the|some|every)\s+\S.*)$", _I)


def wants_noun(text: str) -> str:
    """ "The practice manager wants a monthly report" → "… wants to get a monthly report"."""
    return _WANTS_NOUN.sub(r"\g<head> to get \g<noun>", text)


# Verbs of background statements about users ("Our clients love the clinic").
_BACKGROUND_VERBS = frozenset(
    [
        "love",
        "like",
        "hate",
        "come",
        "call",
        "say",
        "tell",
        "are",
        "were",
        "have",
        "had",
        "visit",
        "know",
        "trust",
        "prefer",
    ]
)


def statement_verb_ok(goal: str) -> bool:
    return goal.split()[0].lower() not in _BACKGROUND_VERBS if goal.split() else False
