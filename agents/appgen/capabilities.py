"""What the built-in developers cannot build, said at planning time.

The built-in developers generate a standard-library web application: entities with fields, lists,
forms, links between entities, roles and status changes. They do not build payment flows,
integrations with third-party services (payment providers, calendars, SMS, e-mail delivery,
single sign-on, any named external API), real-time features, reports beyond lists, or AI/ML.
A story that needs one of these is a *gap*: it is named on the plan the customer approves with a
plain reason, and the development step builds nothing for it (never a placeholder that pretends,
never a field that stores card numbers or secrets).

Why a hand-written vocabulary and not a classifier: the decision must be deterministic, explainable
to the customer in one sentence, and testable phrase by phrase; no maintained library classifies
"needs a payment provider". Every term matches on word boundaries, and the ambiguous ones are
written with their context: "report a bug" is a verb (no gap) while "a monthly report" and
"export a report" are reports; "mark the invoice as paid" is a status field (buildable) while
"pay the fee by card" is a payment.

Only what the customer *asks for* — the story's title and sentence — makes the story a gap. A
criterion that needs a capability ("a confirmation e-mail is sent") does not take the buildable
rest of the story away; :func:`criterion_gap` names it so that criterion stays unverified with its
reason. A story whose every criterion needs one is a gap as a whole: nothing buildable is left.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

CAPABILITIES = ("payments", "integration", "realtime", "reporting", "ai")


@dataclass(frozen=True, slots=True)
class Gap:
    capability: str
    reason: str


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


# Named providers, so that the reason can say which one the customer meant.
_PAYMENT_PROVIDERS = _any(
    r"\bstripe\b", r"\bpay ?pal\b", r"\bbraintree\b", r"\badyen\b", r"\bsquare up\b", r"\bklarna\b"
)
_PAYMENTS = _any(
    _PAYMENT_PROVIDERS.pattern,
    r"\bpay(?:s|ing)?\s+(?:the|a|an|my|our|their|for|online|by|with|in|invoices?|fees?|bills?|deposits?)\b",
    r"\b(?:online|card|credit[- ]card|debit[- ]card|recurring|mobile|in-app)\s+payments?\b",
    r"\b(?:take|takes|taking|accept|accepts|accepting|process|processes|processing|collect|collecting|make|makes|making|receive)\s+"
    r"(?:(?:online|card|the|a|an|their|my|our)\s+)*payments?\b",
    r"\bpayment\s+(?:provider|gateway|processing|processor|details|method|flow|page|form)s?\b",
    r"\b(?:credit|debit)\s+cards?\b",
    r"\bby\s+(?:credit\s+|debit\s+)?card\b",
    r"(?<!loyalty\s)(?<!library\s)(?<!membership\s)(?<!member\s)(?<!gift\s)(?<!business\s)(?<!id\s)"
    r"\bcard\s+(?:number|details|payments?|data)\b",
    r"\bcheckout\b",
    r"\brefunds?\b",
    r"\bdirect\s+debit\b",
    r"\b(?:apple|google)\s+pay\b",
    r"\bcharge\s+(?:the|a|their|my)\s+(?:customer|card|client|member)s?\b",
    r"\bsubscription\s+(?:billing|payments?|fees?)\b",
)
_CALENDARS = _any(
    r"\bgoogle\s+calendar\b",
    r"\boutlook\b",
    r"\bical\b",
    r"\bics\b",
    r"\bcalendar\s+(?:invite|invitation|sync|feed|integration)s?\b",
    r"\bsync(?:s|ed|ing|hroni[sz]e[sd]?)?\b(?:\s+\w+){0,4}\s+(?:with|to|into)\s+(?:\w+\s+){0,3}calendars?\b",
)
_SMS = _any(
    r"\bsms\b",
    r"\btwilio\b",
    r"\btext\s+messages?\b",
    r"\bwhats ?app\b",
    r"\btext(?:s|ed)?\s+(?:me|them|the\s+owner)\b",
)
_EMAIL = _any(
    r"\b(?:sendgrid|mailgun|mailchimp|postmark|mandrill|amazon\s+ses)\b",
    r"\b(?:send|sends|sent|sending|receive|receives|get|gets)\s+(?:me\s+|them\s+|him\s+|her\s+)?"
    r"(?:an?\s+|the\s+)?(?:confirmation\s+|reminder\s+|notification\s+|welcome\s+|summary\s+)?e-?mails?\b(?!\s*address)",
    r"\be-?mails?\s+(?:me|them|him|her|(?:the|every|each|all)\s+(?:customers?|owners?|users?|members?|volunteers?))\b",
    r"\be-?mail\s+(?:notifications?|reminders?|confirmations?|alerts?|invitations?|digests?)\b",
    r"\b(?:confirmation|reminder|notification|welcome)\s+e-?mails?\b",
    r"\b(?:notif\w*|remind\w*|inform\w*|alert\w*|invit\w*|tell\w*)\b(?:\s+\w+){0,5}?\s+(?:by|via|per)\s+e-?mail\b",
    r"\be-?mailed\b",
    r"\bnewsletters?\b",
)
_SSO = _any(
    r"\bsingle\s+sign[- ]on\b",
    r"\bsso\b",
    r"\boauth2?\b",
    r"\bsaml\b",
    r"\bldap\b",
    r"\bactive\s+directory\b",
    r"\bokta\b",
    r"\bauth0\b",
    r"\b(?:log|sign)\s*-?\s*(?:in|on)\s+(?:with|via|using)\s+(?:my\s+|our\s+|their\s+)?"
    r"(?:google|microsoft|github|facebook|apple|linkedin|azure|company)\b",
)
_NAMED_APIS = _any(
    r"\b(?:slack|salesforce|hubspot|zapier|shopify|quickbooks|xero|zoom|dropbox|jira|trello|zendesk|docusign|"
    r"google\s+(?:maps|sheets|drive|analytics)|microsoft\s+teams|ms\s+teams)\b",
    r"\bwebhooks?\b",
    r"\b(?:third[- ]party|external|partner|their|supplier's|vendor's)\s+(?:api|system|service)s?\b",
    r"\b(?:erp|crm)\s+(?:system|integration)\b",
    r"\bintegrat(?:e|es|ed|ion|ions)\s+(?:with|into)\b",
)
_REALTIME = _any(
    r"\breal[- ]?time\b",
    r"\blive\s+(?:updates?|chat|tracking|feed|location|map|status|view)\b",
    r"\b(?:chat|message|messages|messaging)\s+with\b",
    r"\binstant\s+messag\w*\b",
    r"\bchat\s*(?:room|window)?s?\b(?!\s*bot)",
    r"\bpush\s+notifications?\b",
    r"\bwebsockets?\b",
    r"\bupdates?\s+(?:instantly|automatically\s+without\s+refresh\w*|live)\b",
    r"\bgps\b",
)
_REPORTING = _any(
    r"\b(?:monthly|weekly|daily|quarterly|annual|yearly|summary|sales|revenue|financial|usage|custom|pdf|csv|excel|"
    r"analytics|performance|management|utili[sz]ation|attendance|activity|status|progress|end-of-\w+)\s+reports?\b",
    r"\b(?<!file\s)(?<!submit\s)(?<!make\s)(?:an?|the|my|our|their|this|each|every)\s+reports?\b(?!\s+(?:a|an)\b)",
    r"\breports\s+(?:on|of|about|showing|with|for|per)\b",
    r"\b(?:generate|generates|export|exports|download|print|run|produce)\s+(?:\w+\s+){0,2}reports?\b",
    r"\b(?:export|exports|download|downloads)\b(?:\s+\S+){0,6}?\s+(?:to|as|in)\s+(?:an?\s+)?(?:csv|excel|xlsx|pdf|spreadsheet)\b",
    r"\bcharts?\b",
    r"\bgraphs?\b",
    r"\banalytics\b",
    r"\bstatistics\b",
    r"\bkpis?\b",
    r"\b(?:totals?|sums?|averages?|trends?)\s+(?:per|by|for\s+each|over)\s+(?:month|week|year|quarter|day|clinic|region)\b",
)
_AI = _any(
    r"\bai\b",
    r"\bartificial\s+intelligence\b",
    r"\bmachine\s+learning\b",
    r"\bml\s+models?\b",
    r"\bchat\s*bots?\b",
    r"\brecommend(?:s|ed|ation|ations)?\b(?:\s+\w+){0,3}\s+(?:based\s+on|for\s+me|to\s+me)\b",
    r"\b(?:personali[sz]ed|smart|automatic)\s+(?:recommendations?|suggestions?)\b",
    r"\brecommendations?\b",
    r"\bpredict\w*\b",
    r"\bforecast\w*\b",
    r"\bgpt\b",
    r"\bllms?\b",
    r"\bnatural\s+language\b",
    r"\bsentiment\b",
    r"\bimage\s+recognition\b",
    r"\bocr\b",
    r"\bauto-?(?:matically\s+)?(?:categori[sz]e|classif(?:y|ies)|tag|summari[sz]e|translate)\w*\b",
    r"\bsummari[sz]e\s+automatically\b",
)


def _found(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(0).strip() if match else ""


def _payment_reason(text: str) -> str:
    provider = _found(_PAYMENT_PROVIDERS, text)
    named = f" ({provider.title() if provider.islower() else provider})" if provider else ""
    return (
        f"Taking payments needs a payment provider integration{named}; "
        "the built-in developers do not build payment flows and never store card details."
    )


def _integration_reason(text: str) -> str | None:
    checks = (
        (_CALENDARS, "Syncing with a calendar ({term}) needs a calendar service integration"),
        (_SMS, "Sending text messages ({term}) needs an SMS provider integration such as Twilio"),
        (_EMAIL, "Sending e-mail ({term}) needs an e-mail delivery provider integration"),
        (_SSO, "Single sign-on ({term}) needs an identity provider integration"),
        (_NAMED_APIS, "Connecting to another system ({term}) needs a third-party API integration"),
    )
    for pattern, sentence in checks:
        term = _found(pattern, text)
        if term:
            return sentence.format(term=term) + "; the built-in developers do not build third-party integrations."
    return None


def _simple_reason(pattern: re.Pattern[str], text: str, what: str) -> str | None:
    term = _found(pattern, text)
    return f"{what} ({term}); the built-in developers build lists and forms only." if term else None


def text_gap(text: str) -> Gap | None:
    """The capability a piece of customer text needs that the built-in developers cannot build."""
    if _PAYMENTS.search(text):
        return Gap("payments", _payment_reason(text))
    reason = _integration_reason(text)
    if reason:
        return Gap("integration", reason)
    checks = (
        ("ai", _AI, "This needs artificial intelligence or machine learning"),
        ("realtime", _REALTIME, "This needs real-time updates"),
        ("reporting", _REPORTING, "This needs a report beyond a list of records"),
    )
    for capability, pattern, what in checks:
        reason = _simple_reason(pattern, text, what)
        if reason:
            return Gap(capability, reason)
    return None


def criterion_gap(criterion: str) -> Gap | None:
    """A criterion the built-in developers cannot verify, because it needs a capability they lack."""
    return text_gap(criterion)


def capability_gap(title: str, sentence: str, criteria: Sequence[str]) -> Gap | None:
    """The story's gap: from what it asks for (title, sentence), or when every criterion has one."""
    gap = text_gap(f"{title}. {sentence}")
    if gap is not None:
        return gap
    gaps = [criterion_gap(c) for c in criteria if c.strip()]
    if gaps and all(g is not None for g in gaps):
        return gaps[0]
    return None
