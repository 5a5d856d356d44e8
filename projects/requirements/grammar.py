"""Story sentences: the one grammar every page, e-mail and PDF renders a user story in."""

from __future__ import annotations

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
