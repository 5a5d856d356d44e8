"""Story drafts: the parts of a story as the parser finds them, before points and priority rules.

A draft comes from one of these shapes, each with its own function:

- a story sentence ("As a buyer, I want to …", `drafts_from_sentences`);
- a list item ("Buyers can see tiered prices", "Admin approves listings", "Export to CSV" —
  `draft_from_item`): the role is the item's subject when it names a user, else "user";
- a prose sentence stating a capability of a named user ("Suppliers must be able to upload
  price lists", `draft_from_prose`); sentences about the project, the team, the budget or
  "the system" are not;
- a table row (`projects.requirements.tables`).

`source` keeps the sentence a draft came from, so the scope page can show what was taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from projects.requirements.estimate import PRIORITY_TAG, detect_priority, make_story, title_from
from projects.requirements.model import DEFAULT_ROLE, Priority, UserStory
from projects.requirements.prose import is_person, statement_verb_ok, thing_requirement, wants_noun
from projects.requirements.syntax import (
    KNOWN_ROLES,
    ROLE_ACTION,
    SO_THAT,
    STORY,
    STORY_PREFIX,
    SYSTEM_ROLES,
    base_verb,
    role_noun,
    singular,
)

_I = re.IGNORECASE


@dataclass(slots=True)
class Draft:
    epic: str
    title: str
    as_a: str
    i_want: str
    so_that: str
    priority: Priority
    indent: int | None  # the list item's indent; None for a story sentence or prose
    criteria: list[str] = field(default_factory=list)
    source: str = ""
    from_prose: bool = False
    points: int | None = None  # given by the customer (a table's points column)

    def build(self) -> UserStory:
        story = make_story(
            as_a=self.as_a,
            i_want=self.i_want,
            so_that=self.so_that,
            epic=self.epic,
            title=self.title,
            priority=self.priority,
            acceptance_criteria=self.criteria,
        )
        story = replace(story, source=self.source)
        return replace(story, points=self.points) if self.points else story


def drafts_from_sentences(
    text: str, *, epic: str, default: Priority, priority_text: str | None = None
) -> tuple[list[Draft], str]:
    """Return the story sentences in `text` and whatever text is left around them.

    Text before the first sentence that ends in a separator ("Reset password: As a …",
    "US-12 — As a …") is the story's title, minus any story id.
    """
    matches = list(STORY.finditer(text))
    drafts: list[Draft] = []
    rest: list[str] = []
    position = 0
    for match in matches:
        before = text[position : match.start()].strip()
        position = match.end()
        title = ""
        if not drafts and before and len(before) <= 100 and before[-1] in ":-–—|":
            title = title_from(STORY_PREFIX.sub("", before).strip(" -–—:|"))
        elif before:
            rest.append(before)
        sentence = match.group(0)
        wording = priority_text or (text if len(matches) == 1 else sentence)
        drafts.append(
            Draft(
                epic=epic,
                title=title,
                as_a=" ".join(match.group("role").split()),
                i_want=match.group("want"),
                so_that=match.group("so") or "",
                priority=detect_priority(wording, default),
                indent=None,
                source=" ".join(sentence.split()),
            )
        )
    rest.append(text[position:].strip())
    return drafts, " ".join(part for part in rest if part)


_ARTICLES = frozenset({"the", "all", "every", "each", "our", "a", "an"})
# Words after a user noun that make a noun phrase ("Admin settings page"), not a sentence.
_NOT_A_VERB = re.compile(
    r"^(?:is|are|was|were|has|have|and|or|with|of|for|to|in|on|\w+ings|\w+ions|\w+ments|\w+ss"
    r"|reviews|details|reports|profiles|accounts|orders|logs|tools|pages|views|lists|records|portals?"
    r"|dashboards?|apps?|areas?|sections?|roles?|types?)$",
    _I,
)


def _subject_role(body: str, known: frozenset[str] | set[str]) -> tuple[str, str] | None:
    """(role, goal) when `body` starts with a user noun and its verb; None otherwise.

    A plural subject takes the base form ("Buyers see"); a singular one the third person
    ("The admin approves"), which is turned into the base form for "I want to …"."""
    words = body.split()
    start = 1 if words and words[0].lower() in _ARTICLES else 0
    for size in (1, 2):
        if len(words) < start + size + 2:
            return None
        written = " ".join(words[start : start + size])
        verb = words[start + size]
        if not verb.isalpha() or not verb.islower() or _NOT_A_VERB.match(verb):
            continue
        role = role_noun(written)
        if role is None or (role.split()[-1] not in KNOWN_ROLES and role not in known):
            continue
        plural = singular(written.lower()) != written.lower()
        if plural == verb.endswith("s"):
            continue  # "Buyers sees", "Admin approve": not a subject and its verb
        goal = " ".join([verb if plural else base_verb(verb), *words[start + size + 1 :]])
        return role, goal
    return None


def draft_from_item(
    text: str, *, epic: str, default: Priority, indent: int, known_roles: frozenset[str] | set[str] = frozenset()
) -> Draft:
    priority = detect_priority(text, default)
    body = PRIORITY_TAG.sub("", STORY_PREFIX.sub("", text)).strip(" -–—:")
    so_that = ""
    split = SO_THAT.match(body)
    if split:
        body, so_that = split.group("head"), split.group("so")
    role, want = DEFAULT_ROLE, body
    role_action = ROLE_ACTION.match(body)
    subject = None if role_action else _subject_role(body, known_roles)
    if role_action:
        role = singular(role_action.group("role").lower())
        want = role_action.group("action")
        if role in SYSTEM_ROLES:
            want = f"the {role} to {want}"
            role = DEFAULT_ROLE
    elif subject:
        role, want = subject[0], first_person(subject[1])
        so_that = first_person(so_that)
    else:
        want = want[:1].lower() + want[1:] if not want[1:2].isupper() else want
    return Draft(
        epic=epic,
        title=title_from(body),
        as_a=role,
        i_want=want,
        so_that=so_that,
        priority=priority,
        indent=indent,
        source=text,
    )


# A capability: must/needs to/should be able to/can/wants to — not "must be delivered by".
_PROSE_CAPABILITY = re.compile(
    r"^(?:the\s+|an?\s+|all\s+|every\s+|each\s+|our\s+|their\s+)?"
    r"(?P<role>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}?)\s+"
    r"(?:(?:must|should|shall|will|can)\s+be\s+able\s+to|(?:is|are)\s+able\s+to|needs?\s+to|must|should"
    r"|can|wants?\s+to|would\s+like\s+to|have\s+to|has\s+to)\s+(?P<action>(?!be\s)(?!not\s)\S.*)$",
    _I,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])|(?<=;)\s+")
_THEIR = re.compile(r"\btheir\b")
_THEY = re.compile(r"\bthey\b(?=\s+(?:can|could|will|need|want|get|know|see|find)\b)")


def first_person(text: str) -> str:
    """ "their order history" → "my order history": a story is told by one user."""
    return _THEY.sub("I", _THEIR.sub("my", text)).replace("I are", "I am")


def draft_from_prose(sentence: str, *, epic: str, default: Priority) -> Draft | None:
    """A story from a prose sentence that states a capability of a named user, else None."""
    text = wants_noun(sentence.strip().rstrip(".!;"))
    match = _PROSE_CAPABILITY.match(text)
    role = role_noun(match.group("role")) if match else None
    if match is not None and role is not None and role not in SYSTEM_ROLES and is_person(role):
        want = match.group("action")
    elif (thing := thing_requirement(text)) is not None:
        role, want = thing
    elif (stated := _subject_role(text, frozenset())) is not None and statement_verb_ok(stated[1]):
        role, want = stated  # "Clients pay the consultation fee online by card"
    else:
        return None
    so_that = ""
    split = SO_THAT.match(want)
    if split:
        want, so_that = split.group("head"), split.group("so")
    want, so_that = first_person(want), first_person(so_that)
    return Draft(
        epic=epic,
        title=title_from(want),
        as_a=role,
        i_want=want,
        so_that=so_that,
        priority=detect_priority(text, default),
        indent=None,
        source=" ".join(sentence.split()),
        from_prose=True,
    )
