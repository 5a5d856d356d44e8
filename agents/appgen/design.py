"""From a user story to what the generated application needs for it: an entity and its fields.

The rules (deterministic, no model):

* **Accounts.** A story about logging in, signing up, passwords or accounts is an ``auth`` story:
  the application's accounts already exist, the story gets acceptance tests of them.
* **Entity.** Otherwise the entity is the object of the story's action: in "I want to add
  products to my cart" the first word after the verb (``add``) that is not a determiner,
  possessive or filler ("a list of", "details of") is ``products``, singularised to ``product``;
  when a plural noun follows it, that one ("email notifications" → ``notification``).
  Without a known verb, the first noun-like word of the goal; failing that, of the title.
  Names that the application reserves (``user``, ``session``, ``api``, …) get a ``_record`` suffix.
* **Fields.** ``name`` first (required), then the words after "with"/"including"/"by" in the goal
  and the acceptance criteria ("with a title, a price and a due date" → title, price, due_date),
  then the known field words that appear anywhere in the story (price, email, status, …), at most
  eight. Types come from the field name: price/amount/cost/total/budget/fee → decimal,
  quantity/count/stock/age/rating/score/capacity/seats → integer, date/deadline/due/birthday →
  date, email → email, done/completed/active/paid/published/available → boolean,
  description/notes/comment/details/bio → long text, anything else → text.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

AUTH_WORDS = re.compile(
    r"\b(log ?in|log ?out|sign ?(?:in|up|out)|register|registration|password|account|authenticat\w*)\b", re.I
)
VERBS = frozenset(
    [
        "add",
        "create",
        "make",
        "manage",
        "list",
        "view",
        "see",
        "browse",
        "edit",
        "update",
        "change",
        "delete",
        "remove",
        "track",
        "record",
        "book",
        "order",
        "submit",
        "upload",
        "search",
        "find",
        "filter",
        "sort",
        "rate",
        "share",
        "export",
        "import",
        "assign",
        "schedule",
        "save",
        "store",
        "keep",
        "review",
        "approve",
        "reject",
        "archive",
        "publish",
        "invite",
        "follow",
        "buy",
        "sell",
        "pay",
        "compare",
        "plan",
        "organise",
        "organize",
        "monitor",
        "log",
        "register",
        "post",
        "write",
        "read",
        "send",
        "get",
        "receive",
        "check",
        "print",
        "download",
        "attach",
        "tag",
        "group",
        "categorise",
        "categorize",
        "reserve",
        "rent",
        "return",
        "cancel",
        "close",
        "open",
        "mark",
    ]
)
SKIP = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "their",
        "his",
        "her",
        "its",
        "your",
        "all",
        "any",
        "each",
        "every",
        "some",
        "other",
        "new",
        "existing",
        "own",
        "several",
        "many",
        "more",
        "multiple",
        "single",
        "one",
        "two",
        "three",
        "few",
        "recent",
        "past",
        "current",
        "upcoming",
        "favourite",
        "favorite",
        "to",
        "and",
        "or",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "from",
        "with",
        "about",
        "into",
        "be",
        "able",
        "that",
        "this",
        "these",
        "those",
        "which",
        "who",
        "what",
        "when",
    ]
)
FILLER = frozenset(
    [
        "list",
        "lists",
        "number",
        "set",
        "details",
        "overview",
        "page",
        "pages",
        "summary",
        "kind",
        "type",
        "group",
        "types",
    ]
)
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
    "status",
    "category",
    "due date",
    "deadline",
    "date",
    "rating",
    "comment",
    "notes",
    "amount",
    "budget",
    "capacity",
    "location",
    "url",
    "completed",
    "paid",
    "published",
)
_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("decimal", ("price", "amount", "cost", "total", "budget", "salary", "fee")),
    ("integer", ("quantity", "count", "stock", "age", "rating", "score", "capacity", "seats", "number")),
    ("date", ("date", "deadline", "due", "birthday")),
    ("email", ("email",)),
    ("boolean", ("done", "completed", "active", "paid", "published", "available", "archived", "enabled")),
    ("longtext", ("description", "notes", "comment", "details", "bio", "body", "content")),
)
FIELD_TYPES = frozenset({"text", *(kind for kind, _ in _TYPES)})
# What entity, URL and field names may be: they become Python identifiers and URL paths.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,60}")
_WITH = re.compile(r"\b(?:with|including|includes|by|has|have|having)\s+(?P<list>[^.;:!?()]+)", re.I)
_STOP = re.compile(r"\b(?:so|so that|to|because|when|which|that|for)\b.*$", re.I)
_WORD = re.compile(r"[a-z][a-z0-9]*")
MAX_FIELDS = 8


@dataclass(frozen=True, slots=True)
class FieldDesign:
    name: str
    type: str
    required: bool = False


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

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "sentence": self.sentence,
            "criteria": list(self.criteria),
            "kind": self.kind,
            "entity": self.entity,
            "plural": self.plural,
            "fields": [{"name": f.name, "type": f.type, "required": f.required} for f in self.fields],
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
                FieldDesign(str(f["name"]), str(f["type"]), bool(f.get("required"))) for f in data.get("fields", ())
            ),
        )
        names = [design.entity, design.plural, *(f.name for f in design.fields)] if design.kind == "crud" else []
        bad = [n for n in names if not _IDENTIFIER.fullmatch(n) or keyword.iskeyword(n)]
        bad += [f.type for f in design.fields if f.type not in FIELD_TYPES]
        if design.kind not in {"auth", "crud"} or bad:
            raise ValueError(f"story spec {design.number} names what cannot be generated: {bad or design.kind!r}")
        return design


def singular(word: str) -> str:
    irregular = {"people": "person", "children": "child", "men": "man", "women": "woman", "data": "data"}
    if word in irregular:
        return irregular[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    return word + "s"


def field_type(name: str) -> str:
    for kind, words in _TYPES:
        if any(word in name.split("_") for word in words):
            return kind
    return "text"


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _object_of(words: list[str]) -> str:
    """The first content word after the first known verb (skipping "a list of" and the like)."""
    start = next((i + 1 for i, word in enumerate(words) if word in VERBS), None)
    candidates = words[start:] if start is not None else words
    for index, word in enumerate(candidates):
        if word in SKIP or (start is None and word in VERBS) or len(word) < 3:
            continue
        following = candidates[index + 1] if index + 1 < len(candidates) else ""
        if word in FILLER and following == "of":
            continue
        if following.endswith("s") and not following.endswith("ss") and following not in SKIP | VERBS:
            return following  # a compound noun: "email notifications" are notifications
        return word
    return ""


def entity_name(*texts: str) -> str:
    for text in texts:
        word = _object_of(_words(text))
        if word:
            name = singular(word)
            # A keyword ("class", "import") cannot name the entity's module.
            return f"{name}_record" if name in RESERVED or keyword.iskeyword(name) else name
    return "item"


def _field_name(chunk: str) -> str:
    words = [w for w in _words(chunk) if w not in SKIP][-2:]
    if not words:
        return ""
    if len(words) == 2 and words[1] not in {"date", "name", "number", "time", "address", "status"}:
        words = words[1:]
    name = "_".join(singular(w) if w not in {"notes", "details", "status", "address"} else w for w in words)
    return name if re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name) and not keyword.iskeyword(name) else ""


def fields_of(entity: str, texts: Iterable[str]) -> tuple[FieldDesign, ...]:
    names: list[str] = ["name"]
    texts = list(texts)
    for text in texts:
        for match in _WITH.finditer(text):
            clause = _STOP.sub("", match.group("list"))
            for chunk in re.split(r",|\band\b|\bor\b|&", clause):
                name = _field_name(chunk)
                if name and name != entity and name not in names and name not in RESERVED:
                    names.append(name)
    joined = " ".join(texts).lower()
    for word in FIELD_WORDS:
        name = word.replace(" ", "_")
        taken = any(name == existing or name in existing.split("_") for existing in names)
        if re.search(rf"\b{word}s?\b", joined) and not taken and name != entity:
            names.append(name)
    return tuple(FieldDesign(name, field_type(name), required=name == "name") for name in names[:MAX_FIELDS])


def design_story(item: Mapping[str, Any]) -> StoryDesign:
    title = str(item.get("title", ""))
    sentence = str(item.get("sentence", ""))
    goal = str(item.get("i_want") or sentence)
    criteria = tuple(str(c) for c in item.get("acceptance_criteria", ()))
    number = int(item.get("number", 0))
    if AUTH_WORDS.search(f"{title} {goal}"):
        return StoryDesign(number, title, sentence, criteria, "auth", "", "", ())
    entity = entity_name(goal, title)
    return StoryDesign(
        number, title, sentence, criteria, "crud", entity, plural(entity), fields_of(entity, (goal, *criteria))
    )


def merge_fields(designs: Iterable[StoryDesign]) -> dict[str, tuple[str, tuple[FieldDesign, ...], tuple[int, ...]]]:
    """Per entity: its plural, the union of its fields (first mention first) and the stories naming it."""
    merged: dict[str, tuple[str, list[FieldDesign], list[int]]] = {}
    for design in sorted(designs, key=lambda d: d.number):
        if design.kind != "crud":
            continue
        _, fields, stories = merged.setdefault(design.entity, (design.plural, [], []))
        for item in design.fields:
            if all(existing.name != item.name for existing in fields) and len(fields) < MAX_FIELDS:
                fields.append(item)
        stories.append(design.number)
    return {name: (p, tuple(f), tuple(s)) for name, (p, f, s) in merged.items()}
