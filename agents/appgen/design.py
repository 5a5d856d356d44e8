"""From a user story to what the generated application needs for it: an entity with fields,
links to other entities, states that take a record off its list, and who alone may change it.

The rules (deterministic, no model; the words are read by ``agents.appgen.wording``):

* **Accounts.** A story about logging in, signing up, passwords or accounts — and about no other
  thing ("register my pets" is about pets) — is an ``auth`` story: the application's accounts
  already exist, the story gets acceptance tests of them.
* **Entity.** The noun the story's goal is about: in "As a pet owner, I want to register my pets
  (name, species, birth date)" that is ``pet``; adjectives, time words and verbs are skipped ("see
  free appointment slots" → ``appointment``, "cancel or move a booking" → ``booking``); two nouns
  make a compound ("visit notes" → ``visit_note``). Singular and plural come from ``inflect``.
  Names the application reserves (``user``, ``session``, …) get a ``_record`` suffix. A story
  whose words name no thing is refused (``DesignError``) before any code is written.
* **Fields.** ``name`` first (required), then links ("for one of my pets", "per clinic" →
  ``pet``, ``clinic``), then the parenthesised lists and "with …" phrases of the goal and the
  criteria, then known field words found anywhere, at most ten. Names that would store card
  numbers, passwords, secrets or tokens are never fields. Types come from the name:
  price/amount/fee → decimal, quantity/count/capacity → integer, date/deadline/birthday → date,
  email → email, done/completed/paid → boolean, description/notes → long text, else text.
* **States.** "no longer offered", "is cancelled" or a closing verb ("cancel a booking") give the
  entity a ``status`` whose closing values take a record off its lists.
* **Roles.** "Only vets can …" lets only users with that role change the entity.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents.appgen import wording
from agents.appgen.capabilities import criterion_gap
from agents.appgen.wording import VERBS, plural, sensitive, singular

__all__ = ["VERBS", "DesignError", "EntityDesign", "FieldDesign", "StoryDesign", "design_stories", "design_story"]

AUTH_WORDS = re.compile(
    r"\b(log ?in|log ?out|sign ?(?:in|out)|sign ?up(?!\s+(?:for|to|as\s+a\s+volunteer))|register|registration|"
    r"password|account|authenticat\w*)\b",
    re.I,
)
_AUTH_OBJECTS = frozenset(["", "account", "password", "profile", "user", "login", "myself", "email", "me"])
RESERVED = frozenset(
    ["user", "users", "session", "sessions", "api", "login", "logout", "register", "health", "static", "new", "entity"]
)
FIELD_WORDS = (
    "title",
    "description",
    "price",
    "quantity",
    "email",
    "phone",
    "address",
    "category",
    "due date",
    "deadline",
    "rating",
    "comment",
    "notes",
    "amount",
    "budget",
    "capacity",
    "location",
    "url",
    "completed",
    "published",
)
_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("decimal", ("price", "amount", "cost", "total", "budget", "salary", "fee")),
    ("integer", ("quantity", "count", "stock", "age", "rating", "score", "capacity", "seats")),
    ("date", ("date", "deadline", "due", "birthday")),
    ("email", ("email",)),
    ("boolean", ("done", "completed", "active", "paid", "published", "available", "archived", "enabled")),
    ("longtext", ("description", "notes", "note", "comment", "details", "bio", "body", "content")),
)
FIELD_TYPES = frozenset({"text", "link", *(kind for kind, _ in _TYPES)})
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,60}")
MAX_FIELDS = 10


class DesignError(ValueError):
    """A story the generator cannot name a thing for: nothing is written for it."""


@dataclass(frozen=True, slots=True)
class FieldDesign:
    name: str
    type: str
    required: bool = False
    target: str = ""  # a link: the plural of the entity it points to


@dataclass(frozen=True, slots=True)
class StoryDesign:
    number: int
    title: str
    sentence: str
    criteria: tuple[str, ...]
    kind: str  # "auth" or "crud"
    entity: str  # "" for auth stories
    plural: str
    fields: tuple[FieldDesign, ...]
    role: str = ""  # who asks ("pet_owner")
    closed: tuple[str, ...] = ()  # status values that take a record off its lists
    writers: tuple[str, ...] = ()  # the roles that alone may change the entity
    refused: tuple[str, ...] = ()  # attributes asked for that the application never stores

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "sentence": self.sentence,
            "criteria": list(self.criteria),
            "kind": self.kind,
            "entity": self.entity,
            "plural": self.plural,
            "fields": [
                {"name": f.name, "type": f.type, "required": f.required, **({"target": f.target} if f.target else {})}
                for f in self.fields
            ],
            "role": self.role,
            "closed": list(self.closed),
            "writers": list(self.writers),
            "refused": list(self.refused),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoryDesign:
        """A design read back from a spec file of a working tree — which code under test can
        rewrite — so the names that become identifiers and URLs are checked, not trusted."""
        design = cls(
            number=int(data["number"]),
            title=str(data["title"]),
            sentence=str(data.get("sentence", "")),
            criteria=tuple(str(c) for c in data.get("criteria", ())),
            kind=str(data["kind"]),
            entity=str(data.get("entity", "")),
            plural=str(data.get("plural", "")),
            fields=tuple(
                FieldDesign(str(f["name"]), str(f["type"]), bool(f.get("required")), str(f.get("target", "")))
                for f in data.get("fields", ())
            ),
            role=str(data.get("role", "")),
            closed=tuple(str(c) for c in data.get("closed", ())),
            writers=tuple(str(w) for w in data.get("writers", ())),
            refused=tuple(str(r) for r in data.get("refused", ())),
        )
        names = [design.entity, design.plural, *(f.name for f in design.fields)] if design.kind == "crud" else []
        names += [f.target for f in design.fields if f.type == "link" or f.target]
        names += [*design.closed, *design.writers] + ([design.role] if design.role else [])
        bad = [n for n in names if not _IDENTIFIER.fullmatch(n) or keyword.iskeyword(n)]
        bad += [f.type for f in design.fields if f.type not in FIELD_TYPES]
        bad += [f.name for f in design.fields if sensitive(f.name)]
        if design.kind not in {"auth", "crud"} or bad:
            raise ValueError(f"story spec {design.number} names what cannot be generated: {bad or design.kind!r}")
        return design


@dataclass(frozen=True, slots=True)
class EntityDesign:
    """One entity of the domain model: the union of what every story naming it says."""

    name: str
    plural: str
    fields: tuple[FieldDesign, ...]
    stories: tuple[int, ...]
    closed: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()

    @property
    def links(self) -> tuple[FieldDesign, ...]:
        return tuple(f for f in self.fields if f.type == "link")


def field_type(name: str) -> str:
    for kind, words in _TYPES:
        if any(word in name.split("_") for word in words):
            return kind
    return "text"


def entity_name(goal: str, title: str = "") -> str:
    """The entity a story is about, or "" when its words name none."""
    for text in (goal, title):
        name = wording.identifier(wording.noun_phrase(wording.tokens(text)))
        if name:
            return f"{name}_record" if name in RESERVED or keyword.iskeyword(name) else name
    return ""


def fields_of(
    entity: str, goal: str, criteria: Sequence[str], links: Sequence[str], closed: Sequence[str]
) -> tuple[FieldDesign, ...]:
    fields: dict[str, FieldDesign] = {"name": FieldDesign("name", "text", required=True)}
    for target in links:
        fields.setdefault(target, FieldDesign(target, "link", target=plural(target)))
    required = {name for c in criteria for name in wording.required_fields(c)}
    names = [*wording.attribute_lists(goal), *(n for c in criteria for n in wording.attribute_lists(c))]
    joined = " ".join([goal, *criteria]).lower()
    for word in FIELD_WORDS:
        name = word.replace(" ", "_")
        if re.search(rf"\b{word}s?\b", joined) and not any(name in n.split("_") for n in [*names, *fields]):
            names.append(name)
    names += sorted(required - set(names) - set(fields))
    for name in names:
        if name not in fields and name != entity and name not in RESERVED and not sensitive(name):
            fields[name] = FieldDesign(name, field_type(name))
    if closed:
        fields.setdefault("status", FieldDesign("status", "text"))
    chosen = list(fields.values())[:MAX_FIELDS]
    return tuple(
        FieldDesign(f.name, f.type, f.required or f.name in required, f.target) if f.type != "link" else f
        for f in chosen
    )


def _is_auth(title: str, goal: str) -> bool:
    if not AUTH_WORDS.search(f"{title} {goal}"):
        return False
    return wording.identifier(wording.noun_phrase(wording.tokens(goal))) in _AUTH_OBJECTS


def design_story(item: Mapping[str, Any], known: Iterable[str] = ()) -> StoryDesign:
    """The design of one story; ``known`` are the entities the other stories are about (links)."""
    title = str(item.get("title", ""))
    sentence = str(item.get("sentence", ""))
    role, goal = wording.role_and_goal(sentence, str(item.get("i_want") or ""))
    criteria = tuple(str(c) for c in item.get("acceptance_criteria", ()))
    # A criterion that needs what the built-in developers cannot build adds nothing to the model.
    buildable = [c for c in criteria if criterion_gap(c) is None]
    number = int(item.get("number", 0))
    if _is_auth(title, goal):
        return StoryDesign(number, title, sentence, criteria, "auth", "", "", (), role)
    entity = entity_name(goal, title)
    if not entity:
        raise DesignError(
            f"story {number} names no thing the application could keep (no noun in {goal[:80]!r}); "
            "name the thing the story is about, e.g. 'add pets with a name'"
        )
    links = wording.link_targets(". ".join([goal, *buildable]), set(known), entity)
    closed = wording.closing_states(goal, buildable)
    writers = wording.only_roles([goal, *buildable])
    refused = wording.refused_attributes(". ".join([goal, *criteria]))
    return StoryDesign(
        number,
        title,
        sentence,
        criteria,
        "crud",
        entity,
        plural(entity),
        fields_of(entity, goal, buildable, links, closed),
        role,
        tuple(closed),
        tuple(writers),
        tuple(refused),
    )


def design_stories(items: Iterable[Mapping[str, Any]]) -> list[StoryDesign]:
    """Every story's design, each knowing what the others are about (so that links find them)."""
    items = list(items)
    known: set[str] = set()
    for item in items:
        _, goal = wording.role_and_goal(str(item.get("sentence", "")), str(item.get("i_want") or ""))
        name = entity_name(goal, str(item.get("title", "")))
        if name and not _is_auth(str(item.get("title", "")), goal):
            known.add(name)
    return [design_story(item, known) for item in items]


def merge_fields(designs: Iterable[StoryDesign]) -> dict[str, EntityDesign]:
    """The domain model: per entity its plural, the union of its fields (first mention first), the
    stories naming it, its closing states and writers; an entity only linked to ("per clinic") has
    a name and the stories linking to it."""
    merged: dict[str, tuple[str, list[FieldDesign], list[int], list[str], list[str]]] = {}
    for design in sorted(designs, key=lambda d: d.number):
        if design.kind != "crud":
            continue
        _, fields, stories, closed, writers = merged.setdefault(design.entity, (design.plural, [], [], [], []))
        for item in design.fields:
            if all(existing.name != item.name for existing in fields) and len(fields) < MAX_FIELDS:
                fields.append(item)
        stories.append(design.number)
        closed += [c for c in design.closed if c not in closed]
        writers += [w for w in design.writers if w not in writers]
    for design in sorted(designs, key=lambda d: d.number):
        for link in (f for f in design.fields if f.type == "link"):
            target = singular_of(link.target, link.name)
            entry = merged.setdefault(target, (link.target, [FieldDesign("name", "text", required=True)], [], [], []))
            if (
                design.number not in entry[2]
                and design.entity != target
                and not any(d.entity == target for d in designs if d.kind == "crud")
            ):
                entry[2].append(design.number)
    return {
        name: EntityDesign(name, p, tuple(f), tuple(s), tuple(c), tuple(w))
        for name, (p, f, s, c, w) in sorted(merged.items())
    }


def singular_of(plural_name: str, fallback: str) -> str:
    parts = plural_name.split("_")
    parts[-1] = singular(parts[-1])
    name = "_".join(parts)
    return name if _IDENTIFIER.fullmatch(name) else fallback
