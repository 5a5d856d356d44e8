"""Feature detection: integrations, AI/ML needs and real-time needs mentioned in text.

Integrations are named, de-duplicated services: known providers (Stripe, SendGrid, Google Maps,
Okta, Twilio, Slack, …), "X API" names, and generic needs (card payments, sending email, maps,
SMS, SSO) that count only when no named provider of the same kind is mentioned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from projects.requirements.model import Features, Integration, IntegrationKind, UserStory
from projects.requirements.nfr import NonFunctional

_I = re.IGNORECASE
_K = IntegrationKind

_NAMED_INTEGRATIONS: tuple[tuple[str, IntegrationKind, re.Pattern[str]], ...] = tuple(
    (name, kind, re.compile(pattern, _I))
    for name, kind, pattern in (
        ("Stripe", _K.PAYMENT, r"\bstripe\b(?!\s+connect\b)"),
        # Payouts to a marketplace's sellers: onboarding, KYC and transfers are a second integration.
        ("Stripe Connect", _K.PAYMENT, r"\bstripe\s+connect\b"),
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

AI_ML_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
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

REAL_TIME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
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
        ai_ml=frozenset(label for label, pattern in AI_ML_PATTERNS if pattern.search(text)),
        real_time=frozenset(label for label, pattern in REAL_TIME_PATTERNS if pattern.search(text)),
    )


def features_of_stories(stories: Iterable[UserStory]) -> Features:
    """Detect the features the given stories need (what scoping recomputes after edits)."""
    return detect_features("\n\n".join(story.text for story in stories))


@dataclass(frozen=True, slots=True)
class RequirementsAnalysis:
    stories: tuple[UserStory, ...]
    context_features: Features
    non_functional: tuple[NonFunctional, ...] = ()
    features: Features = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", features_of_stories(self.stories) | self.context_features)
