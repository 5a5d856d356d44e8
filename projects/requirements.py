"""Requirements analysis: free text (plain or Markdown) → user stories and detected features.

This module owns the rules that turn a customer's requirements into `UserStory` values and a
`Features` summary (integrations, AI/ML needs, real-time needs). It is pure Python: no ORM, no
I/O; reading uploaded files is `projects.documents`, choosing a tier is `projects.scoping`.

How text becomes stories (line by line, after re-joining soft-wrapped lines):

- **Epics** are Markdown headings (`## Payments`), underlined headings (`Payments` over `====`
  or `----`) and label lines (`Epic: Payments`, `Feature: Payments`). Headings named after a
  MoSCoW bucket (`Must have`, `Won't have`, `Out of scope`) keep the current epic and set the
  default priority of the stories below them. Headings of sections that describe rather than
  ask (`Overview`, `Assumptions`, `Non-functional requirements`, `Glossary`, …) make their list
  items context, not stories.
- **Stories** are "As a/an … I want/need … [so that …]" sentences anywhere (also several per
  line, inside list items and table rows), and every other bullet or numbered list item that is
  not an acceptance criterion.
- **Acceptance criteria** of the latest story are: lines starting with Given/When/Then/And/But
  or `Scenario:`; list items nested deeper than the story's own list item; must/should/shall
  lines or list items directly below a story (no blank line in between); and the lines after
  an `Acceptance criteria:` label. A blank line followed by ordinary prose ends them. Other
  list items right below a story sentence are stories of their own: Word documents have no
  blank lines between paragraphs, so adjacency alone cannot mean "criterion".
- Everything else (prose, headings, descriptive sections, tables without stories) is
  **context**: it is not a story, but integrations and AI/real-time needs mentioned there still
  count (`RequirementsAnalysis.context_features`).

MoSCoW priority (`detect_priority`) reads the story's own line, not its criteria (criteria say
"must" all the time). An explicit tag wins: `[Must]`, `(could have)`, `Priority: high`,
`MoSCoW: W`. Otherwise the first group that matches, in this order:

- WONT: won't, will not, not now, out of scope, post-MVP, deferred, "(later)", "later/future
  release|phase|version|iteration", "phase 2";
- MUST: must, critical, crucial, required, essential, mandatory, blocker, high priority;
- COULD: could, nice to have, optional, if time permits, low priority, stretch, bonus;
- SHOULD: should, important, medium priority;
- else the section's MoSCoW heading, else SHOULD.

Bare "later"/"future" are not enough ("read it later" is no priority), hence the phrases above.

Story points (`estimate_points`) are a Fibonacci number from a score:

    score = 1
          + min(criteria, 6) // 2           (0–3: every two acceptance criteria add a point)
          + 1 if the goal ("I want" + "so that") has more than 12 words, 2 if more than 24
          + 2 per complexity category present in the title, goal or criteria (at most 3
            categories count): integration (API, webhook, sync, SSO or any named
            provider), real-time, import/export/upload, reporting/dashboards, AI/ML,
            payments, security/permissions, search
    points = the smallest of 1, 2, 3, 5, 8, 13 that is ≥ score

so a short story with no criteria is 1 point, and the largest possible score (12) is 13.

Integrations are named, de-duplicated services: known providers (Stripe, SendGrid, Google Maps,
Okta, Twilio, Slack, …), "X API" names, and generic needs (card payments, sending email, maps,
SMS, SSO) that count only when no named provider of the same kind is mentioned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

MAX_REQUIREMENTS_CHARS = 5 * 1024 * 1024  # as many characters as the largest accepted upload has bytes
DEFAULT_ROLE = "user"
DEFAULT_EPIC = "General"
FIBONACCI_POINTS: tuple[int, ...] = (1, 2, 3, 5, 8, 13)


class RequirementsError(ValueError):
    """Requirements that cannot be analysed; the message is written for the customer."""


class Priority(StrEnum):
    MUST = "must"
    SHOULD = "should"
    COULD = "could"
    WONT = "wont"

    @property
    def label(self) -> str:
        return {"must": "Must have", "should": "Should have", "could": "Could have"}.get(self.value, "Won't have")


@dataclass(frozen=True, slots=True)
class UserStory:
    epic: str
    title: str
    as_a: str
    i_want: str
    so_that: str
    priority: Priority
    points: int
    acceptance_criteria: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        return story_sentence(self.as_a, self.i_want, self.so_that)

    @property
    def text(self) -> str:
        """Everything the story says, for feature detection."""
        return "\n".join((self.title, self.sentence, *self.acceptance_criteria))


# Words that take "a" although they start with a vowel letter, and "an" although they do not.
_A_BEFORE_VOWEL = ("user", "use", "usu", "uni", "uti", "eu", "one", "once")
_AN_BEFORE_CONSONANT = ("hour", "honest", "honor", "honour", "heir")
# A goal that starts with one of these is a thing wanted ("I want a dashboard"), not an action.
_NOT_A_VERB = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "your",
        "their",
        "his",
        "her",
        "its",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
        "all",
        "every",
        "each",
        "more",
        "no",
    ]
)


def indefinite_article(word: str) -> str:
    lowered = word.strip().lower()
    if lowered.startswith(_A_BEFORE_VOWEL):
        return "a"
    if lowered[:1] in set("aeiou") or lowered.startswith(_AN_BEFORE_CONSONANT):
        return "an"
    return "a"


def story_sentence(as_a: str, i_want: str, so_that: str) -> str:
    """ "As a <role>, I want to <goal> so that <benefit>." — the analyser stores the goal without
    its leading "to", so it is put back unless the goal is a thing rather than an action."""
    first = i_want.split(maxsplit=1)[0].lower() if i_want.strip() else ""
    want = i_want if first in _NOT_A_VERB or first == "to" else f"to {i_want}"
    text = f"As {indefinite_article(as_a)} {as_a}, I want {want}"
    if so_that:
        text += f" so that {so_that}"
    return text + "."


class IntegrationKind(StrEnum):
    PAYMENT = "payment"
    EMAIL = "email"
    MAPS = "maps"
    AUTH = "auth"
    SMS = "sms"
    MESSAGING = "messaging"
    CRM = "crm"
    CALENDAR = "calendar"
    ACCOUNTING = "accounting"
    STORAGE = "storage"
    ANALYTICS = "analytics"
    DEVTOOLS = "devtools"
    COMMERCE = "commerce"
    SUPPORT = "support"
    AI = "ai"
    API = "api"


@dataclass(frozen=True, slots=True, order=True)
class Integration:
    name: str
    kind: IntegrationKind
    generic: bool = False  # a need ("send email") rather than a named provider


@dataclass(frozen=True, slots=True)
class Features:
    """What the requirements need beyond plain CRUD. `ai_ml`/`real_time` hold the evidence."""

    integrations: frozenset[Integration] = frozenset()
    ai_ml: frozenset[str] = frozenset()
    real_time: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        named_kinds = {i.kind for i in self.integrations if not i.generic}
        kept = frozenset(i for i in self.integrations if not (i.generic and i.kind in named_kinds))
        object.__setattr__(self, "integrations", kept)

    def __or__(self, other: Features) -> Features:
        return Features(
            integrations=self.integrations | other.integrations,
            ai_ml=self.ai_ml | other.ai_ml,
            real_time=self.real_time | other.real_time,
        )

    @property
    def integration_names(self) -> tuple[str, ...]:
        return tuple(sorted(i.name for i in self.integrations))

    @property
    def needs_ai_ml(self) -> bool:
        return bool(self.ai_ml)

    @property
    def needs_real_time(self) -> bool:
        return bool(self.real_time)


NO_FEATURES = Features()


@dataclass(frozen=True, slots=True)
class RequirementsAnalysis:
    stories: tuple[UserStory, ...]
    context_features: Features
    features: Features = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", features_of_stories(self.stories) | self.context_features)


# ---------------------------------------------------------------------------------------------
# Feature detection
# ---------------------------------------------------------------------------------------------

_I = re.IGNORECASE
_K = IntegrationKind

_NAMED_INTEGRATIONS: tuple[tuple[str, IntegrationKind, re.Pattern[str]], ...] = tuple(
    (name, kind, re.compile(pattern, _I))
    for name, kind, pattern in (
        ("Stripe", _K.PAYMENT, r"\bstripe\b"),
        ("PayPal", _K.PAYMENT, r"\bpay\s?pal\b"),
        ("Braintree", _K.PAYMENT, r"\bbraintree\b"),
        ("Adyen", _K.PAYMENT, r"\badyen\b"),
        ("Square", _K.PAYMENT, r"\bsquare\s+(?:payments?|pos|api)\b"),
        ("SendGrid", _K.EMAIL, r"\bsend\s?grid\b"),
        ("Mailgun", _K.EMAIL, r"\bmailgun\b"),
        ("Postmark", _K.EMAIL, r"\bpostmark\b"),
        ("Amazon SES", _K.EMAIL, r"\b(?:amazon|aws)\s+ses\b"),
        ("Mailchimp", _K.EMAIL, r"\bmailchimp\b"),
        ("SMTP", _K.EMAIL, r"\bsmtp\b"),
        ("Google Maps", _K.MAPS, r"\bgoogle\s+maps?\b"),
        ("Mapbox", _K.MAPS, r"\bmapbox\b"),
        ("OpenStreetMap", _K.MAPS, r"\bopen\s?street\s?map\b"),
        (
            "Google Sign-In",
            _K.AUTH,
            r"\bgoogle\s+(?:log-?in|sign[- ]?in|oauth|accounts?\s+login)\b"
            r"|\b(?:log|sign)[- ]?in\s+(?:with|via|using)\s+(?:their\s+|my\s+|a\s+)?google\b",
        ),
        ("Okta", _K.AUTH, r"\bokta\b"),
        ("Auth0", _K.AUTH, r"\bauth0\b"),
        ("SAML", _K.AUTH, r"\bsaml\b"),
        ("Microsoft Entra ID", _K.AUTH, r"\b(?:azure\s+ad|azure\s+active\s+directory|entra\s+id)\b"),
        ("Twilio", _K.SMS, r"\btwilio\b"),
        ("Slack", _K.MESSAGING, r"\bslack\b"),
        ("Microsoft Teams", _K.MESSAGING, r"\b(?:microsoft|ms)\s+teams\b"),
        ("Salesforce", _K.CRM, r"\bsalesforce\b"),
        ("HubSpot", _K.CRM, r"\bhub\s?spot\b"),
        ("Google Calendar", _K.CALENDAR, r"\bgoogle\s+calendar\b"),
        ("Outlook Calendar", _K.CALENDAR, r"\boutlook\b"),
        ("QuickBooks", _K.ACCOUNTING, r"\bquick\s?books\b"),
        ("Xero", _K.ACCOUNTING, r"\bxero\b"),
        ("DocuSign", _K.SUPPORT, r"\bdocu\s?sign\b"),
        ("Amazon S3", _K.STORAGE, r"\b(?:amazon\s+|aws\s+)?s3\b"),
        ("Google Analytics", _K.ANALYTICS, r"\bgoogle\s+analytics\b"),
        ("Mixpanel", _K.ANALYTICS, r"\bmixpanel\b"),
        ("Jira", _K.DEVTOOLS, r"\bjira\b"),
        ("GitHub", _K.DEVTOOLS, r"\bgithub\b"),
        ("Shopify", _K.COMMERCE, r"\bshopify\b"),
        ("Zendesk", _K.SUPPORT, r"\bzendesk\b"),
        ("Intercom", _K.SUPPORT, r"\bintercom\b"),
        ("Zoom", _K.MESSAGING, r"\bzoom\s+(?:meetings?|calls?|api|integration)\b"),
        ("Firebase", _K.STORAGE, r"\bfirebase\b"),
        ("OpenAI", _K.AI, r"\bopen\s?ai\b|\bchatgpt\b"),
    )
)

_GENERIC_INTEGRATIONS: tuple[tuple[str, IntegrationKind, re.Pattern[str]], ...] = tuple(
    (name, kind, re.compile(pattern, _I))
    for name, kind, pattern in (
        (
            "Card payments",
            _K.PAYMENT,
            r"\b(?:payments?|pay\s+(?:online|by\s+card|with\s+(?:a\s+)?card|for)|credit\s+cards?"
            r"|debit\s+cards?|checkout)\b",
        ),
        (
            "Email delivery",
            _K.EMAIL,
            r"\b(?:e-?mails?\s+(?:notifications?|alerts?|confirmations?|receipts?|reminders?"
            r"|digests?|invitations?|invites?|updates?|verification)"
            r"|(?:welcome|confirmation|verification|reset|notification|reminder|receipt"
            r"|invitation|invite|password[- ]reset)\s+e-?mails?"
            r"|(?:send|sends|sent|sending|receive|receives|received|get|gets)\s+"
            r"(?:an?\s+|the\s+|their\s+|my\s+)?(?:\w+\s+)?e-?mails?"
            r"|e-?mailed|(?:by|via)\s+e-?mail|newsletters?)\b",
        ),
        (
            "Maps",
            _K.MAPS,
            r"\b(?:on\s+a\s+map|map\s+view|interactive\s+maps?|geocod\w*|directions\s+to"
            r"|turn-by-turn)\b",
        ),
        ("SMS", _K.SMS, r"\b(?:sms|text\s+messages?)\b"),
        (
            "Single sign-on",
            _K.AUTH,
            r"\b(?:sso|single\s+sign[- ]on|oauth\s?2?|social\s+(?:login|sign[- ]?in)"
            r"|openid(?:\s+connect)?)\b",
        ),
    )
)

# "Acme Inventory API": up to three capitalised words before API.
_NAMED_API = re.compile(r"\b(?P<name>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2})\s+(?:REST\s+|GraphQL\s+)?APIs?\b")
_API_NAME_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "our",
        "their",
        "your",
        "its",
        "this",
        "that",
        "these",
        "those",
        "public",
        "internal",
        "private",
        "open",
        "web",
        "rest",
        "restful",
        "json",
        "http",
        "https",
        "graphql",
        "new",
        "existing",
        "admin",
        "partner",
        "same",
        "any",
        "each",
        "every",
        "third",
        "third-party",
        "external",
        "backend",
        "frontend",
        "mobile",
        "core",
        "main",
        "custom",
        "simple",
        "secure",
        "soap",
        "xml",
        "use",
        "using",
        "via",
        "with",
        "through",
        "from",
        "into",
        "and",
        "or",
        "as",
        "i",
        "we",
        "they",
        "it",
    }
)

_AI_ML: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("machine learning", re.compile(r"\bmachine[- ]learning\b|\bML\s+models?\b|\bdeep learning\b", _I)),
    ("AI", re.compile(r"\bAI\b|\bA\.I\.|\bartificial intelligence\b")),
    ("LLM", re.compile(r"\bLLMs?\b|\blarge language models?\b|\bGPT(?:-\d\w*)?\b|\bchatgpt\b", _I)),
    ("recommendations", re.compile(r"\brecommend(?:ation|ations|er|ers|s)?\b", _I)),
    ("classification", re.compile(r"\bclassif(?:y|ies|ied|ication|ications|ier|iers)\b", _I)),
    ("prediction", re.compile(r"\bpredict(?:s|ed|ion|ions|ive)?\b", _I)),
    ("NLP", re.compile(r"\bNLP\b|\bnatural language\b", _I)),
    ("sentiment analysis", re.compile(r"\bsentiment\b", _I)),
    ("computer vision", re.compile(r"\bcomputer vision\b|\bimage recognition\b|\bOCR\b", _I)),
    ("chatbot", re.compile(r"\bchat\s?bots?\b", _I)),
)

_REAL_TIME: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("real-time", re.compile(r"\breal[- ]?time\b", _I)),
    (
        "live updates",
        re.compile(
            r"\blive\s+(?:updates?|updating|tracking|feeds?|dashboards?|data|location|scores?"
            r"|status|preview|collaboration|notifications?|stream(?:ing)?|chat)\b",
            _I,
        ),
    ),
    ("websockets", re.compile(r"\bweb\s?sockets?\b", _I)),
    ("chat", re.compile(r"\bchat(?:s|ting|\s+rooms?)?\b|\binstant messag\w*", _I)),
    ("push notifications", re.compile(r"\b(?:push|instant)\s+notifications?\b", _I)),
    (
        "collaborative editing",
        re.compile(r"\bcollaborative\b|\bco-?edit\w*|\bmultiplayer\b|\bsimultaneous(?:ly)?\s+edit", _I),
    ),
)


def _named_apis(text: str, known: set[str]) -> set[Integration]:
    found: set[Integration] = set()
    for match in _NAMED_API.finditer(text):
        words = match.group("name").split()
        while words and words[0].lower().strip("'") in _API_NAME_STOPWORDS:
            words.pop(0)
        if not words:
            continue
        name = " ".join(words)
        if any(pattern.search(name) for _, _, pattern in _NAMED_INTEGRATIONS):
            continue  # "Stripe API" is Stripe, already counted
        if name.casefold() in known:
            continue
        known.add(name.casefold())
        found.add(Integration(f"{name} API", IntegrationKind.API))
    return found


def detect_features(text: str) -> Features:
    """Detect integrations, AI/ML needs and real-time needs mentioned in `text`."""
    integrations: set[Integration] = set()
    for name, kind, pattern in _NAMED_INTEGRATIONS:
        if pattern.search(text):
            integrations.add(Integration(name, kind))
    for name, kind, pattern in _GENERIC_INTEGRATIONS:
        if pattern.search(text):
            integrations.add(Integration(name, kind, generic=True))
    integrations |= _named_apis(text, set())
    return Features(
        integrations=frozenset(integrations),
        ai_ml=frozenset(label for label, pattern in _AI_ML if pattern.search(text)),
        real_time=frozenset(label for label, pattern in _REAL_TIME if pattern.search(text)),
    )


def features_of_stories(stories: Iterable[UserStory]) -> Features:
    """Detect the features the given stories need (what scoping recomputes after edits)."""
    return detect_features("\n\n".join(story.text for story in stories))


# ---------------------------------------------------------------------------------------------
# Priority and points
# ---------------------------------------------------------------------------------------------

_PRIORITY_TAG = re.compile(
    r"[\[(]\s*(?P<tag>must|should|could|won'?t|wont|will not|later|future|nice to have|optional)"
    r"(?:\s+have)?\s*[\])]"
    r"|\bpriority\s*[:=\-–]\s*(?P<level>must|should|could|won'?t|wont|critical|high|medium"
    r"|normal|low|p[0-4])\b"
    r"|\bmoscow\s*[:=\-–]\s*(?P<moscow>[mscw])\b",
    _I,
)
_TAG_PRIORITIES: dict[str, Priority] = {
    "must": Priority.MUST,
    "critical": Priority.MUST,
    "high": Priority.MUST,
    "p0": Priority.MUST,
    "p1": Priority.MUST,
    "should": Priority.SHOULD,
    "medium": Priority.SHOULD,
    "normal": Priority.SHOULD,
    "p2": Priority.SHOULD,
    "could": Priority.COULD,
    "low": Priority.COULD,
    "p3": Priority.COULD,
    "p4": Priority.WONT,
    "won't": Priority.WONT,
    "wont": Priority.WONT,
    "will not": Priority.WONT,
    "later": Priority.WONT,
    "future": Priority.WONT,
    "nice to have": Priority.COULD,
    "optional": Priority.COULD,
    "m": Priority.MUST,
    "s": Priority.SHOULD,
    "c": Priority.COULD,
    "w": Priority.WONT,
}
_PRIORITY_WORDS: tuple[tuple[Priority, re.Pattern[str]], ...] = (
    (
        Priority.WONT,
        re.compile(
            r"\b(?:won'?t|will\s+not|not\s+now|out\s+of\s+scope|post[- ]mvp|deferred"
            r"|(?:later|future)\s+(?:release|phase|version|iteration|sprint)s?"
            r"|phase\s+(?:2|two)|not\s+in\s+(?:this|the\s+first)\s+(?:release|version|phase|mvp))\b"
            r"|[\[(]\s*(?:later|future)\s*[\])]",
            _I,
        ),
    ),
    (
        Priority.MUST,
        re.compile(
            r"\b(?:must|critical|crucial|required|essential|mandatory|blocker|high[- ]priority"
            r"|top\s+priority)\b",
            _I,
        ),
    ),
    (
        Priority.COULD,
        re.compile(
            r"\b(?:could|nice[- ]to[- ]have|optional(?:ly)?|if\s+time\s+(?:permits|allows)"
            r"|low[- ]priority|stretch(?:\s+goal)?|bonus)\b",
            _I,
        ),
    ),
    (Priority.SHOULD, re.compile(r"\b(?:should|important|medium[- ]priority)\b", _I)),
)


def detect_priority(text: str, default: Priority = Priority.SHOULD) -> Priority:
    """Return the MoSCoW priority the wording of `text` asks for (rules in the module docstring)."""
    tag = _PRIORITY_TAG.search(text)
    if tag:
        value = (tag.group("tag") or tag.group("level") or tag.group("moscow")).lower()
        return _TAG_PRIORITIES[value.replace("\u2019", "'")]
    for priority, pattern in _PRIORITY_WORDS:
        if pattern.search(text.replace("\u2019", "'")):
            return priority
    return default


_COMPLEXITY_CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "integration",
        re.compile(r"\b(?:integrat\w*|apis?|third[- ]party|webhooks?|sync\w*|sso|oauth)\b", _I),
    ),
    ("real-time", re.compile("|".join(p.pattern for _, p in _REAL_TIME), _I)),
    ("data exchange", re.compile(r"\b(?:import\w*|export\w*|upload\w*|bulk|csv|excel)\b", _I)),
    ("reporting", re.compile(r"\b(?:reports?|reporting|dashboards?|analytics|charts?)\b", _I)),
    ("AI/ML", re.compile("|".join(p.pattern for _, p in _AI_ML))),
    (
        "payments",
        re.compile(r"\b(?:payments?|pay|checkout|billing|invoic\w*|subscriptions?|refunds?)\b", _I),
    ),
    (
        "security",
        re.compile(r"\b(?:permissions?|roles?|two[- ]factor|2fa|mfa|encrypt\w*|audit\w*)\b", _I),
    ),
    ("search", re.compile(r"\b(?:search\w*|full[- ]text)\b", _I)),
)
_MAX_COUNTED_CATEGORIES = 3


def complexity_categories(text: str) -> tuple[str, ...]:
    """Return the complexity categories (see `estimate_points`) that `text` touches.

    A named provider (Stripe, Slack, "Acme API", …) counts as the integration category too.
    """
    named = any(not i.generic for i in detect_features(text).integrations)
    return tuple(
        name for name, pattern in _COMPLEXITY_CATEGORIES if pattern.search(text) or (name == "integration" and named)
    )


def estimate_points(*, title: str, i_want: str, so_that: str, acceptance_criteria: Sequence[str]) -> int:
    """Return Fibonacci story points by the heuristic stated in the module docstring."""
    score = 1
    score += min(len(acceptance_criteria), 6) // 2
    goal_words = len(f"{i_want} {so_that}".split())
    if goal_words > 24:
        score += 2
    elif goal_words > 12:
        score += 1
    categories = complexity_categories("\n".join((title, i_want, *acceptance_criteria)))
    score += 2 * min(len(categories), _MAX_COUNTED_CATEGORIES)
    return next(points for points in FIBONACCI_POINTS if points >= score)


# ---------------------------------------------------------------------------------------------
# Building stories
# ---------------------------------------------------------------------------------------------

_LEADING_WANT = re.compile(r"^(?:to\s+)?(?:be\s+able\s+to\s+)?", _I)


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title_from(text: str) -> str:
    title = text.strip().rstrip(".!;:,").strip()
    if len(title) > 80:
        title = title[:80].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return _sentence_case(title)


def make_story(
    *,
    as_a: str,
    i_want: str,
    so_that: str = "",
    epic: str = DEFAULT_EPIC,
    title: str = "",
    priority: Priority | None = None,
    acceptance_criteria: Sequence[str] = (),
) -> UserStory:
    """Build a story the way the analyser does: points by the heuristic, priority from wording.

    This is also how an added or edited story (from the customer's edit form) gets its points
    and, when not chosen explicitly, its priority.
    """
    i_want = _LEADING_WANT.sub("", i_want.strip()).rstrip(".!; ").strip()
    so_that = so_that.strip().rstrip(".!; ").strip()
    as_a = as_a.strip() or DEFAULT_ROLE
    if not i_want:
        raise RequirementsError("A user story needs something the user wants ('I want …').")
    title = title.strip() or _title_from(i_want)
    criteria = tuple(c.strip() for c in acceptance_criteria if c.strip())
    if priority is None:
        priority = detect_priority(f"{title} {i_want} {so_that}")
    return UserStory(
        epic=epic.strip() or DEFAULT_EPIC,
        title=title,
        as_a=as_a,
        i_want=i_want,
        so_that=so_that,
        priority=priority,
        points=estimate_points(title=title, i_want=i_want, so_that=so_that, acceptance_criteria=criteria),
        acceptance_criteria=criteria,
    )


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_HORIZONTAL_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+•▪◦‣]|\d{1,3}[.)]|[a-z][.)])\s+(?P<text>\S.*)$")
_CHECKBOX = re.compile(r"^\[[ xX]\]\s+")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?[\s:|-]+\|?\s*$")
_BLOCKQUOTE = re.compile(r"^\s{0,3}>\s?")
_EPIC_LABEL = re.compile(r"^\s*(?:epic|feature|module|area)\s*\d*\s*[:\-–—]\s*(?P<name>\S.*)$", _I)
_CRITERIA_LABEL = re.compile(
    r"^\s*(?:acceptance\s+criteria|acceptance\s+tests?|criteria|AC)\s*(?::\s*(?P<rest>.*))?$", _I
)
# Capitalised keywords only: a wrapped line starting "when the order ships" is not Gherkin.
_GHERKIN = re.compile(
    r"^\s*(?:Given|When|Then|And|But|GIVEN|WHEN|THEN|AND|BUT)\b"
    r"|^\s*(?:Scenario|SCENARIO|Scenario\s+Outline)\s*:"
)
_MODAL = re.compile(r"\b(?:must|should|shall)\b", _I)
_STORY_LINE_START = re.compile(r"^\s*(?:(?:[-*+•]|\d{1,3}[.)])\s+)?(?:\*\*)?as\s+an?\s+\w", _I)
_STORY = re.compile(
    r"\bas\s+(?:an?|the)\s+(?P<role>[^,.;:!?]+?)\s*,?\s+I\s+"
    r"(?:want|need|would\s+like|wish|'d\s+like|\u2019d\s+like|can|am\s+able)\s+"
    r"(?P<want>.+?)"
    r"(?:\s*,?\s+so\s+that\s+(?P<so>.+?))?"
    r"\s*(?:[.!;](?=\s|$)|$)",
    _I,
)
_ROLE_ACTION = re.compile(
    r"^(?:the\s+|an?\s+|all\s+|every\s+|each\s+)?"
    r"(?P<role>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}?)\s+"
    r"(?:can|could|should|must|shall|will|may|(?:is|are)\s+able\s+to"
    r"|(?:should|must|shall|will|can)\s+be\s+able\s+to|wants?\s+to|needs?\s+to"
    r"|would\s+like\s+to)\s+(?P<action>.+)$",
    _I,
)
_SO_THAT = re.compile(r"^(?P<head>.*?),?\s+so\s+that\s+(?P<so>.+)$", _I)
_STORY_PREFIX = re.compile(
    r"^(?:(?:user\s+)?story\s*[\w-]*\s*[:.\-–—]\s*|[A-Z]{2,6}-\d+\s*[:.\-–—]?\s*|#\d+\s*[:.\-–—]?\s*)",
    _I,
)
_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"\*\*|__|`")
_SYSTEM_ROLES = frozenset({"system", "app", "application", "platform", "site", "website", "service"})

_MOSCOW_HEADINGS: tuple[tuple[Priority, re.Pattern[str]], ...] = (
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
_CONTEXT_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:project\s+)?(?:background|overview|introduction|summary|context"
    r"|glossary|definitions|assumptions|constraints|risks|notes|open\s+questions|references"
    r"|non[- ]functional(?:\s+requirements)?|tech(?:nology)?\s+stack|technology|appendix"
    r"|(?:table\s+of\s+)?contents|stakeholders|timeline|budget|goals|vision|personas?)\b",
    _I,
)
_EPIC_PREFIX = re.compile(r"^(?:(?:epic|feature|module|area)\s*\d*\s*[:.\-–—]\s*|\d+(?:\.\d+)*\.?\s+)", _I)


def _clean(text: str) -> str:
    text = _INLINE_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


def _singular(role: str) -> str:
    words = role.split()
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3:
        last = last[:-1]
    return " ".join([*words[:-1], last])


@dataclass(slots=True)
class _Draft:
    epic: str
    title: str
    as_a: str
    i_want: str
    so_that: str
    priority: Priority
    indent: int | None  # the list item's indent; None for a story sentence
    criteria: list[str] = field(default_factory=list)

    def build(self) -> UserStory:
        return make_story(
            as_a=self.as_a,
            i_want=self.i_want,
            so_that=self.so_that,
            epic=self.epic,
            title=self.title,
            priority=self.priority,
            acceptance_criteria=self.criteria,
        )


def _drafts_from_sentences(
    text: str, *, epic: str, default: Priority, priority_text: str | None = None
) -> tuple[list[_Draft], str]:
    """Return the story sentences in `text` and whatever text is left around them.

    Text before the first sentence that ends in a separator ("Reset password: As a …",
    "US-12 — As a …") is the story's title, minus any story id.
    """
    matches = list(_STORY.finditer(text))
    drafts: list[_Draft] = []
    rest: list[str] = []
    position = 0
    for match in matches:
        before = text[position : match.start()].strip()
        position = match.end()
        title = ""
        if not drafts and before and len(before) <= 100 and before[-1] in ":-–—|":
            title = _title_from(_STORY_PREFIX.sub("", before).strip(" -–—:|"))
        elif before:
            rest.append(before)
        sentence = match.group(0)
        wording = priority_text or (text if len(matches) == 1 else sentence)
        drafts.append(
            _Draft(
                epic=epic,
                title=title,
                as_a=" ".join(match.group("role").split()),
                i_want=match.group("want"),
                so_that=match.group("so") or "",
                priority=detect_priority(wording, default),
                indent=None,
            )
        )
    rest.append(text[position:].strip())
    return drafts, " ".join(part for part in rest if part)


def _draft_from_item(text: str, *, epic: str, default: Priority, indent: int) -> _Draft:
    priority = detect_priority(text, default)
    body = _PRIORITY_TAG.sub("", _STORY_PREFIX.sub("", text)).strip(" -–—:")
    so_that = ""
    split = _SO_THAT.match(body)
    if split:
        body, so_that = split.group("head"), split.group("so")
    role, want = DEFAULT_ROLE, body
    role_action = _ROLE_ACTION.match(body)
    if role_action:
        role = _singular(role_action.group("role").lower())
        want = role_action.group("action")
        if role in _SYSTEM_ROLES:
            want = f"the {role} to {want}"
            role = DEFAULT_ROLE
    else:
        want = want[:1].lower() + want[1:] if not want[1:2].isupper() else want
    return _Draft(
        epic=epic,
        title=_title_from(body),
        as_a=role,
        i_want=want,
        so_that=so_that,
        priority=priority,
        indent=indent,
    )


def _indent_width(whitespace: str) -> int:
    return len(whitespace.expandtabs(4))


def _is_block_start(line: str) -> bool:
    return bool(
        _ATX_HEADING.match(line)
        or _LIST_ITEM.match(line)
        or _SETEXT_UNDERLINE.match(line)
        or _TABLE_ROW.match(line)
        or _GHERKIN.match(line)
        or _FENCE.match(line)
        or _EPIC_LABEL.match(line)
    )


def _unwrap(lines: list[str]) -> list[str]:
    """Re-join soft-wrapped lines (PDF extraction and hand-wrapped text break sentences)."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        stripped = line.strip()
        joinable = (
            previous.strip()
            and stripped
            and not _is_block_start(line)
            and not _ATX_HEADING.match(previous)
            and not _TABLE_ROW.match(previous)
            and not _FENCE.match(previous)
            and (
                re.match(r"so\s+that\b", stripped, _I)
                or (stripped[:1].islower() and not previous.rstrip().endswith((".", "!", "?", ":")))
                or (_STORY_LINE_START.match(previous) and not _STORY.search(previous))
            )
        )
        if joinable:
            out[-1] = f"{previous.rstrip()} {stripped}"
        else:
            out.append(line.rstrip())
    return out


def _validated_text(text: object) -> str:
    if not isinstance(text, str):
        raise RequirementsError("Requirements must be text.")
    if len(text) > MAX_REQUIREMENTS_CHARS:
        raise RequirementsError(
            f"The requirements are too long ({len(text):,} characters); the limit is {MAX_REQUIREMENTS_CHARS:,}."
        )
    if not text.replace("\ufeff", "").strip():
        raise RequirementsError(
            "The requirements are empty. Paste or upload a description of what the product should do."
        )
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if "\x00" in text or control > max(3, len(text) // 100):
        raise RequirementsError(
            "The requirements do not look like text (they contain binary data). Paste plain "
            "text or upload a .txt, .md, .docx or .pdf file."
        )
    return text


def analyse_requirements(text: str, *, max_stories: int | None = None) -> RequirementsAnalysis:
    """Turn requirements text into user stories and detected features.

    Raises `RequirementsError` (with a message for the customer) for empty, non-text or
    oversized input, text in which no user story can be found, or (when `max_stories` is given)
    more stories than that — refused as soon as the next one is found, not after the whole text.
    """
    text = _validated_text(text).lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = _unwrap(text.split("\n"))

    drafts: list[_Draft] = []
    context: list[str] = []
    epic = DEFAULT_EPIC
    section_priority = Priority.SHOULD
    context_section = False
    current: _Draft | None = None
    gap = False  # a blank line since the current story's last line
    collecting = False  # after an "Acceptance criteria:" label
    in_fence = False

    def set_heading(raw: str) -> None:
        nonlocal epic, section_priority, context_section, current, collecting
        heading = _clean(raw).rstrip(":").strip()
        if current is not None and _CRITERIA_LABEL.match(heading):
            collecting = True  # "### Acceptance criteria" belongs to the story above it
            return
        context.append(heading)
        current, collecting = None, False
        section_priority, context_section = Priority.SHOULD, False
        bare = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", heading)
        for priority, pattern in _MOSCOW_HEADINGS:
            if pattern.match(bare):
                section_priority = priority
                return
        if _CONTEXT_HEADING.match(heading):
            context_section = True
            return
        epic = _EPIC_PREFIX.sub("", heading).strip() or heading

    def add_stories(new: list[_Draft], rest: str) -> None:
        nonlocal current, gap, collecting
        drafts.extend(new)
        if max_stories is not None and len(drafts) > max_stories:
            raise RequirementsError(
                f"The requirements hold more than {max_stories:,} user stories; the limit is {max_stories:,}. "
                "Split them into several projects, or keep one line per story and move details into its "
                "acceptance criteria."
            )
        current, gap, collecting = new[-1], False, False
        rest = _PRIORITY_TAG.sub("", rest).strip(" -–—:;,.")
        if rest and (_MODAL.search(rest) or _GHERKIN.match(rest)):
            current.criteria.append(rest)
        elif rest:
            context.append(rest)

    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        line = _BLOCKQUOTE.sub("", line)
        if not line.strip():
            gap = True
            continue
        heading = _ATX_HEADING.match(line)
        if heading:
            set_heading(heading.group(2))
            continue
        next_line = lines[index] if index < len(lines) else ""
        if (
            _SETEXT_UNDERLINE.match(next_line)
            and not _LIST_ITEM.match(line)
            and not _TABLE_ROW.match(line)
            and not _STORY.search(line)
        ):
            set_heading(line)
            index += 1
            continue
        if _HORIZONTAL_RULE.match(line):
            continue

        if _TABLE_ROW.match(line):
            if _TABLE_SEPARATOR.match(line):
                continue
            cells = [_clean(cell) for cell in line.strip().strip("|").split("|")]
            row = " | ".join(cells)
            found = []
            for cell in cells:
                found += _drafts_from_sentences(cell, epic=epic, default=section_priority, priority_text=row)[0]
            if found:
                add_stories(found, "")
            else:
                context.append(row)
            continue

        item = _LIST_ITEM.match(line)
        if item:
            text = _clean(_CHECKBOX.sub("", item.group("text")))
            indent = _indent_width(item.group("indent"))
            found, rest = _drafts_from_sentences(text, epic=epic, default=section_priority)
            if found:
                for draft in found:
                    draft.indent = indent
                add_stories(found, rest)
                continue
            if current is not None and (
                collecting
                or _GHERKIN.match(text)
                or (current.indent is not None and indent > current.indent)
                or (current.indent is None and not gap and _MODAL.search(text))
            ):
                current.criteria.append(text)
                gap = False
                continue
            if context_section:
                context.append(text)
                continue
            new = _draft_from_item(text, epic=epic, default=section_priority, indent=indent)
            add_stories([new], "")
            continue

        text = _clean(line)
        found, rest = _drafts_from_sentences(text, epic=epic, default=section_priority)
        if found:
            add_stories(found, rest)
            continue
        label = _EPIC_LABEL.match(text)
        if label:
            set_heading(label.group("name"))
            continue
        criteria_label = _CRITERIA_LABEL.match(text)
        if criteria_label and current is not None:
            collecting, gap = True, False
            if criteria_label.group("rest"):
                current.criteria.append(criteria_label.group("rest").strip())
            continue
        if current is not None and (_GHERKIN.match(text) or ((_MODAL.search(text) or collecting) and not gap)):
            current.criteria.append(text)
            gap = False
            continue
        if gap:
            collecting = False
        context.append(text)

    if not drafts:
        raise RequirementsError(
            "No user stories were found. Write each requirement as “As a <role>, I want <goal> "
            "so that <benefit>”, or as a bullet or numbered list item."
        )
    stories = tuple(draft.build() for draft in drafts)
    return RequirementsAnalysis(stories=stories, context_features=detect_features("\n".join(context)))
