"""Non-functional requirements: what the product must be, rather than what a user does with it.

A sentence (or list item) is non-functional when it speaks of one of these kinds and names no
user action; it is kept as written, with what can be measured read out of it:

- **performance**: page load, response time ("pages must load in under 2 seconds on mobile";
  "load fast" has no number and takes the catalog's page-load standard);
- **availability**: uptime, SLA, "24/7";
- **languages**: the UI languages named ("English and German UI");
- **data location**: where data must stay ("data stays in the EU", "hosted in Germany");
- **compliance**: GDPR, HIPAA, SOC 2, PCI DSS, WCAG/accessibility, ISO 27001;
- **scale**: expected users, records, requests ("expected 300 suppliers and 5,000 buyers").

Measured values: `page_load_seconds` (performance), `languages`, `region` (data location). The
quality standards of the project (`billing.catalog.quality_standards`) take these; the rest is
shown on the scope page, the quote and the plan as the customer wrote it.

Why hand-written: no maintained library classifies requirement sentences offline; these are
plain patterns over the words customers use, and each kind is tested on sentences of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

_I = re.IGNORECASE


class NfrKind(StrEnum):
    PERFORMANCE = "performance"
    AVAILABILITY = "availability"
    LANGUAGES = "languages"
    DATA_LOCATION = "data_location"
    COMPLIANCE = "compliance"
    SCALE = "scale"

    @property
    def label(self) -> str:
        return {
            "performance": "Performance",
            "availability": "Availability",
            "languages": "Languages",
            "data_location": "Data location",
            "compliance": "Compliance",
            "scale": "Scale",
        }[self.value]


@dataclass(frozen=True, slots=True)
class NonFunctional:
    """One non-functional requirement: its kind, the text it came from, what can be measured."""

    kind: NfrKind
    text: str
    page_load_seconds: Decimal | None = None
    languages: tuple[str, ...] = ()
    region: str = ""

    @property
    def measurable(self) -> bool:
        return self.page_load_seconds is not None or bool(self.languages) or bool(self.region)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "text": self.text,
            "page_load_seconds": None if self.page_load_seconds is None else str(self.page_load_seconds),
            "languages": list(self.languages),
            "region": self.region,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NonFunctional:
        seconds = data.get("page_load_seconds")
        return cls(
            kind=NfrKind(data["kind"]),
            text=str(data["text"])[:1000],
            page_load_seconds=None if seconds in (None, "") else Decimal(str(seconds)),
            languages=tuple(str(language) for language in data.get("languages", ())),
            region=str(data.get("region", "")),
        )


_LANGUAGE_NAMES = (
    "English",
    "German",
    "French",
    "Spanish",
    "Italian",
    "Portuguese",
    "Dutch",
    "Polish",
    "Swedish",
    "Danish",
    "Norwegian",
    "Finnish",
    "Czech",
    "Greek",
    "Turkish",
    "Russian",
    "Ukrainian",
    "Arabic",
    "Hebrew",
    "Hindi",
    "Chinese",
    "Mandarin",
    "Japanese",
    "Korean",
    "Vietnamese",
    "Thai",
    "Indonesian",
)
_LANGUAGE = re.compile(r"\b(" + "|".join(_LANGUAGE_NAMES) + r")\b")
_REGIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EU", re.compile(r"\b(?:EU|E\.U\.|European\s+Union|Europe|EEA)\b")),
    ("UK", re.compile(r"\b(?:UK|United\s+Kingdom|Britain)\b")),
    ("US", re.compile(r"\b(?:US|USA|U\.S\.|United\s+States)\b")),
    ("Germany", re.compile(r"\bGermany\b")),
    ("Switzerland", re.compile(r"\bSwitzerland\b")),
    ("Canada", re.compile(r"\bCanada\b")),
    ("Australia", re.compile(r"\bAustralia\b")),
)
_SECONDS = re.compile(
    r"\b(?:under|within|below|less\s+than|in|at\s+most|max(?:imum)?\s+(?:of\s+)?|<)\s*"
    r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|milliseconds?|s|secs?|seconds?)\b",
    _I,
)
_KINDS: tuple[tuple[NfrKind, re.Pattern[str]], ...] = (
    (
        NfrKind.PERFORMANCE,
        re.compile(
            r"\b(?:(?:pages?|site|app|screens?)\s+(?:must|should|shall|need\s+to|needs\s+to|to)?\s*"
            r"(?:load|open|render)|page\s+loads?|load(?:ing)?\s+times?|response\s+times?|latency"
            r"|performan(?:t|ce)|fast\s+on\s+mobile)\b",
            _I,
        ),
    ),
    (
        NfrKind.AVAILABILITY,
        re.compile(r"\b(?:uptime|availability|available\s+24/7|24/7|SLA|high[- ]availability)\b", _I),
    ),
    (
        NfrKind.DATA_LOCATION,
        re.compile(
            r"(?i:\b(?:data|servers?|hosting|hosted|stored|storage|databases?)\b[^.;]*?"
            r"\b(?:stays?|remains?|resides?|kept|stored|hosted|located|lives?|in)\s+(?:with)?in\s+(?:the\s+)?)"
            r"(?:EU|E\.U\.|European\s+Union|Europe|EEA|UK|United\s+Kingdom|US|USA|United\s+States|Germany"
            r"|Switzerland|Canada|Australia)\b"
            r"|(?i:\bdata\s+residency\b)",
        ),
    ),
    (
        NfrKind.COMPLIANCE,
        re.compile(
            r"\b(?:GDPR|HIPAA|SOC\s?2|PCI(?:[- ]DSS)?|ISO\s?27001|WCAG(?:\s?2(?:\.\d)?)?(?:\s?AA?)?"
            r"|accessib(?:le|ility)\s+(?:standards?|guidelines)|compliant|compliance)\b"
        ),
    ),
    (
        NfrKind.LANGUAGES,
        re.compile(
            r"\b(?:(?:" + "|".join(_LANGUAGE_NAMES) + r")(?:\s*(?:,|and|&|/)\s*(?:"
            r"" + "|".join(_LANGUAGE_NAMES) + r"))*\s+(?:UI|user\s+interface|interface|versions?|languages?)"
            r"|(?:available|offered|provided|usable|shown|displayed)\s+in\s+(?:" + "|".join(_LANGUAGE_NAMES) + r")"
            r"|(?:multi-?lingual|multiple\s+languages|locali[sz]ed|translat(?:ed|ions?))|i18n)\b"
        ),
    ),
    (
        NfrKind.SCALE,
        re.compile(
            r"\b(?:expect(?:ed|ing)?|up\s+to|about|around|support|handle|scale\s+to|at\s+least)\s+"
            r"(?:\d[\d,.]*\s*(?:k|K|thousand|million|m)?)\s+"
            r"(?:\w+\s+)?(?:users?|suppliers?|buyers?|customers?|visitors?|members?|records?|orders?"
            r"|requests?|transactions?|sellers?|vendors?|accounts?|devices?|patients?|students?)\b"
            r"|\b\d[\d,.]*\s*(?:k|K)?\s+(?:concurrent|simultaneous|active|monthly|daily)\s+users?\b",
            _I,
        ),
    ),
)
# A user doing something is a story, even when it mentions speed or a language: "Buyers can
# switch the UI to German" is a capability. Non-functional sentences speak of the product.
_USER_ACTION = re.compile(
    r"\b(?:I|users?|customers?|buyers?|sellers?|admins?|administrators?|members?|visitors?)\s+"
    r"(?:can|could|want|wants|need\s+to|needs\s+to|should\s+be\s+able|must\s+be\s+able|is\s+able|are\s+able)\b"
    r"|\bas\s+an?\s+\w",
    _I,
)


def _page_load_seconds(text: str) -> Decimal | None:
    match = _SECONDS.search(text)
    if match is None:
        return None
    number = Decimal(match.group("n"))
    if match.group("unit").lower().startswith("m"):
        number = number / 1000
    return number.normalize() if Decimal(0) < number <= Decimal(60) else None


def nonfunctional(text: str) -> NonFunctional | None:
    """The non-functional requirement `text` states, or None when it states none (or is a story)."""
    if len(text) > 1000 or _USER_ACTION.search(text):
        return None
    for kind, pattern in _KINDS:
        if not pattern.search(text):
            continue
        sentence = " ".join(text.split()).rstrip(";,. ")
        sentence = sentence[:1].upper() + sentence[1:]
        if kind is NfrKind.PERFORMANCE:
            return NonFunctional(kind, sentence, page_load_seconds=_page_load_seconds(text))
        if kind is NfrKind.LANGUAGES:
            names = tuple(dict.fromkeys(match.group(1) for match in _LANGUAGE.finditer(text)))
            return NonFunctional(kind, sentence, languages=names)
        if kind is NfrKind.DATA_LOCATION:
            region = next((name for name, region in _REGIONS if region.search(text)), "")
            return NonFunctional(kind, sentence, region=region)
        return NonFunctional(kind, sentence)
    return None


def nonfunctional_requirements(sentences: list[str]) -> tuple[NonFunctional, ...]:
    """Every non-functional requirement among `sentences`, in order, each sentence once."""
    found = (nonfunctional(sentence) for sentence in dict.fromkeys(sentences))
    return tuple(item for item in found if item is not None)


def requested_page_load_seconds(items: tuple[NonFunctional, ...] | list[NonFunctional]) -> Decimal | None:
    """The tightest page-load target the requirements ask for, or None."""
    targets = [item.page_load_seconds for item in items if item.page_load_seconds is not None]
    return min(targets) if targets else None
