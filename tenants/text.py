"""One-line text fields: names and other values that end up in a header, a subject line or a
single line of an e-mail.

A company name of ``Evil\\r\\nBcc: victim@evil.example`` was accepted at signup and printed a
fake header line in the text e-mail. ``refuse_control_characters`` is the validator of every such
form field: line breaks, tabs and other control characters (Unicode ``Cc``), line and paragraph
separators, and the bidirectional overrides that make text read otherwise than it is stored.
``one_line`` collapses whitespace for values already stored.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
MESSAGE = "Use a single line of plain text: no line breaks, tabs or other control characters."


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS for char in value)


def refuse_control_characters(value: object) -> None:
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(MESSAGE, code="control_characters")


def one_line(value: str) -> str:
    """``value`` on one line: every run of whitespace (line breaks included) one space, control
    characters dropped."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value)
    return " ".join("".join(c for c in kept if c not in BIDI_CONTROLS).split())
