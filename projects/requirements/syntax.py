"""The line shapes the requirements parser recognises (Markdown and plain-text conventions)."""

from __future__ import annotations

import re

from projects.requirements.model import Priority

_I = re.IGNORECASE

ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
HORIZONTAL_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+•▪◦‣]|\d{1,3}[.)]|[a-z][.)])\s+(?P<text>\S.*)$")
CHECKBOX = re.compile(r"^\[[ xX]\]\s+")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_SEPARATOR = re.compile(r"^\s*\|?[\s:|-]+\|?\s*$")
BLOCKQUOTE = re.compile(r"^\s{0,3}>\s?")
EPIC_LABEL = re.compile(r"^\s*(?:epic|feature|module|area)\s*\d*\s*[:\-–—]\s*(?P<name>\S.*)$", _I)
CRITERIA_LABEL = re.compile(
    r"^\s*(?:acceptance\s+criteria|acceptance\s+tests?|criteria|AC)\s*(?::\s*(?P<rest>.*))?$", _I
)
# Capitalised keywords only: a wrapped line starting "when the order ships" is not Gherkin.
GHERKIN = re.compile(
    r"^\s*(?:Given|When|Then|And|But|GIVEN|WHEN|THEN|AND|BUT)\b"
    r"|^\s*(?:Scenario|SCENARIO|Scenario\s+Outline)\s*:"
)
MODAL = re.compile(r"\b(?:must|should|shall)\b", _I)
STORY_LINE_START = re.compile(r"^\s*(?:(?:[-*+•]|\d{1,3}[.)])\s+)?(?:\*\*)?as\s+an?\s+\w", _I)
STORY = re.compile(
    r"\bas\s+(?:an?|the)\s+(?P<role>[^,.;:!?]+?)\s*,?\s+I\s+"
    r"(?:want|need|would\s+like|wish|'d\s+like|\u2019d\s+like|can|am\s+able)\s+"
    r"(?P<want>.+?)"
    r"(?:\s*,?\s+so\s+that\s+(?P<so>.+?))?"
    r"\s*(?:[.!;](?=\s|$)|$)",
    _I,
)
ROLE_ACTION = re.compile(
    r"^(?:the\s+|an?\s+|all\s+|every\s+|each\s+)?"
    r"(?P<role>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}?)\s+"
    r"(?:can|could|should|must|shall|will|may|(?:is|are)\s+able\s+to"
    r"|(?:should|must|shall|will|can)\s+be\s+able\s+to|wants?\s+to|needs?\s+to"
    r"|would\s+like\s+to)\s+(?P<action>.+)$",
    _I,
)
SO_THAT = re.compile(r"^(?P<head>.*?),?\s+so\s+that\s+(?P<so>.+)$", _I)
STORY_PREFIX = re.compile(
    r"^(?:(?:user\s+)?story\s*[\w-]*\s*[:.\-–—]\s*|[A-Z]{2,6}-\d+\s*[:.\-–—]?\s*|#\d+\s*[:.\-–—]?\s*)",
    _I,
)
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
EMPHASIS = re.compile(r"\*\*|__|`")
SYSTEM_ROLES = frozenset({"system", "app", "application", "platform", "site", "website", "service"})

MOSCOW_HEADINGS: tuple[tuple[Priority, re.Pattern[str]], ...] = (
    (Priority.MUST, re.compile(r"^must(?:[- ]haves?)?$", _I)),
    (Priority.SHOULD, re.compile(r"^should(?:[- ]haves?)?$", _I)),
    (Priority.COULD, re.compile(r"^(?:could(?:[- ]haves?)?|nice[- ]to[- ]haves?)$", _I)),
    (
        Priority.WONT,
        re.compile(
            r"^(?:won'?t(?:[- ]haves?)?|out\s+of\s+scope|future(?:\s+(?:work|releases?|ideas))?"
            r"|later|not\s+now)$",
            _I,
        ),
    ),
)
CONTEXT_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:project\s+)?(?:background|overview|introduction|summary|context"
    r"|glossary|definitions|assumptions|constraints|risks|notes|open\s+questions|references"
    r"|non[- ]functional(?:\s+requirements)?|tech(?:nology)?\s+stack|technology|appendix"
    r"|(?:table\s+of\s+)?contents|stakeholders|timeline|budget|goals|vision|personas?)\b",
    _I,
)
EPIC_PREFIX = re.compile(r"^(?:(?:epic|feature|module|area)\s*\d*\s*[:.\-–—]\s*|\d+(?:\.\d+)*\.?\s+)", _I)


def clean(text: str) -> str:
    text = INLINE_LINK.sub(r"\1", text)
    text = HTML_TAG.sub(" ", text)
    text = EMPHASIS.sub("", text)
    return " ".join(text.split())


def singular(role: str) -> str:
    words = role.split()
    if not words:
        return ""
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3:
        last = last[:-1]
    return " ".join([*words[:-1], last])


# Nouns that name a user of a product: a list item or sentence whose subject is one of these
# ("Buyers see tiered prices", "The dispatcher assigns jobs") takes it as the story's role.
KNOWN_ROLES = frozenset(
    [
        "user",
        "buyer",
        "seller",
        "supplier",
        "vendor",
        "merchant",
        "customer",
        "client",
        "shopper",
        "subscriber",
        "member",
        "guest",
        "visitor",
        "admin",
        "administrator",
        "operator",
        "manager",
        "owner",
        "employee",
        "staff",
        "agent",
        "courier",
        "driver",
        "rider",
        "dispatcher",
        "patient",
        "doctor",
        "nurse",
        "clinician",
        "therapist",
        "teacher",
        "student",
        "parent",
        "tutor",
        "learner",
        "author",
        "editor",
        "reviewer",
        "moderator",
        "publisher",
        "reader",
        "writer",
        "host",
        "tenant",
        "landlord",
        "player",
        "coach",
        "accountant",
        "planner",
        "organiser",
        "organizer",
        "attendee",
        "participant",
        "volunteer",
        "donor",
        "applicant",
        "recruiter",
        "candidate",
        "technician",
        "engineer",
        "developer",
        "designer",
        "analyst",
        "auditor",
        "approver",
        "requester",
        "partner",
        "reseller",
        "distributor",
        "farmer",
        "chef",
        "cook",
        "waiter",
        "cashier",
        "receptionist",
        "trainer",
        "instructor",
        "coordinator",
        "supervisor",
        "lead",
        "officer",
        "clerk",
        "inspector",
        "contractor",
        "freelancer",
        "homeowner",
        "traveller",
        "traveler",
        "passenger",
        "pet-owner",
        "fan",
        "artist",
        "creator",
        "influencer",
        "advertiser",
    ]
)
# Subjects that are not users: a sentence about them is background or a delivery constraint.
NOT_A_ROLE = frozenset(
    [
        "we",
        "i",
        "you",
        "it",
        "they",
        "this",
        "that",
        "there",
        "he",
        "she",
        "everyone",
        "project",
        "mvp",
        "launch",
        "budget",
        "deadline",
        "timeline",
        "delivery",
        "development team",
        "project team",
        "delivery team",
        "dev team",
        "solution",
        "product",
        "version",
        "release",
        "phase",
        "design",
        "code",
        "data",
        "page",
        "pages",
        "site",
        "website",
        "app",
        "application",
        "system",
        "platform",
        "service",
        "backend",
        "frontend",
        "database",
        "api",
        "company",
        "business",
        "process",
        "first",
    ]
)


def role_noun(words: str) -> str | None:
    """The singular role named by `words` ("Buyers", "the store managers"), or None."""
    role = singular(re.sub(r"^(?:the|our|their|your|all|every|each|an?)\s+", "", words.lower().strip()))
    last = role.split()[-1] if role else ""
    if not role or last in NOT_A_ROLE or role in NOT_A_ROLE:
        return None
    return role


def base_verb(word: str) -> str:
    """ "approves" → "approve", "watches" → "watch", "tries" → "try" (third person → base form)."""
    lowered = word.lower()
    if lowered.endswith("ies") and len(lowered) > 4:
        return word[:-3] + "y"
    if lowered.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return word[:-2]
    if lowered.endswith("s") and not lowered.endswith("ss"):
        return word[:-1]
    return word
