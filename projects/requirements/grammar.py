"""Story sentences: the one grammar every page, e-mail and PDF renders a user story in.

    As <article> <role>, I want to <goal>, so that <benefit>.

- the article is "a" or "an" by the role's sound ("an operator", "a user", "an hour-based …"),
  and a group is spoken of through its members ("As a member of the finance team");
- "to" is put before a goal that is an action ("create an account"), not before a goal that is a
  thing or someone doing something ("a weekly report", "appointments to sync", "them to …");
- the benefit follows a comma.

`story_sentence` is the only place this sentence is written: the analyser's `UserStory`, the
stored `projects.models.Story`, the quote snapshot, the plan's task inputs and the success
pages all call it, so one story reads the same everywhere.
"""

from __future__ import annotations

import re

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
        "me",
        "us",
        "them",
        "him",
        "it",
        "everyone",
        "everybody",
        "someone",
        "people",
    ]
)


def indefinite_article(word: str) -> str:
    lowered = word.strip().lower()
    if lowered.startswith(_A_BEFORE_VOWEL):
        return "a"
    if lowered[:1] in set("aeiou") or lowered.startswith(_AN_BEFORE_CONSONANT):
        return "an"
    return "a"


# A group is no person: "As a member of the finance team", not "As a finance team".
_GROUPS = frozenset({"team", "staff", "department", "office", "desk", "board"})
# "appointments to sync", "orders to be shipped": a plural subject of its own, not an action.
_SUBJECT_OF_ITS_OWN = re.compile(r"^[a-z][\w-]*s\s+(?:to|be|being)\b", re.IGNORECASE)


def wanted(i_want: str) -> str:
    """The goal as it follows "I want": with "to" before an action, as written otherwise."""
    goal = " ".join(i_want.split()).rstrip(".!;")
    first = goal.split(maxsplit=1)[0].lower() if goal else ""
    if not goal or first in _NOT_A_VERB or first == "to" or _SUBJECT_OF_ITS_OWN.match(goal):
        return goal
    return f"to {goal}"


def story_sentence(as_a: str, i_want: str, so_that: str) -> str:
    """ "As a <role>, I want to <goal>, so that <benefit>." (rules in the module docstring)."""
    role = " ".join(as_a.split()) or "user"
    if role.split()[-1].lower() in _GROUPS:
        text = f"As a member of the {role}, I want {wanted(i_want)}"
    else:
        text = f"As {indefinite_article(role)} {role}, I want {wanted(i_want)}"
    benefit = " ".join(so_that.split()).rstrip(".!;")
    if benefit:
        text += f", so that {benefit}"
    return text + "."
