"""Reading a user story's words: who asks, what they want, which thing it is about, its attributes,
its links to other things, the states that take it off a list and who alone may change it.

Deterministic rules, no model. Nouns are told from the other words by position and by curated
lists, because no maintained part-of-speech tagger is installed with the platform: a word right
after the story's verb is the object unless it is a determiner, an adjective, a time word
("free", "monthly", "daily") or a verb ("cancel or **move** a booking"); two nouns in a row are a
compound ("visit notes" → ``visit_note``) unless the second only says which part of the first is
meant ("appointment slots" → ``appointment``). Singular and plural come from ``inflect``.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Iterable

import inflect

_ENGINE = inflect.engine()


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TOKEN = re.compile(r"[a-z][a-z0-9]*(?:['’-][a-z0-9]+)*|[(),.;:!?]")
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,60}")

VERBS = frozenset(
    _words(
        "add create make manage list view see browse edit update change delete remove track record book order "
        "submit upload search find filter sort rate share export import assign schedule save store keep "
        "review approve reject archive publish invite follow buy sell pay compare plan organise organize "
        "monitor log register post write read send get receive check print download attach tag group "
        "categorise categorize reserve rent return cancel close open mark move reschedule confirm accept "
        "decline request claim swap join leave enter note set show look browse withdraw discontinue retire "
        "deactivate sign enrol enroll apply fill offer publish hide pick choose select upload raise file "
        "place maintain keep define configure describe correct fix answer reply comment do use have need"
    )
)
DETERMINERS = frozenset(
    _words(
        "a an the my our their his her its your all any each every some other another own several many more "
        "multiple single one two three few this that these those which what whose"
    )
)
# What follows a verb, never a noun: "move **a** booking" (but "a purchase order **that** …" is a noun).
_ARTICLES = frozenset(_words("a an the my our their his her its your this these those some any each every all"))
PREPOSITIONS = frozenset(
    _words(
        "to and or of for in on at by from with about into onto per as via than then so if when where while "
        "until be able out up down off back over through without within between under after before"
    )
)
# Adjectives and time words that come before a noun and never are the thing itself.
ADJECTIVES = frozenset(
    _words(
        "free available open closed monthly weekly daily yearly annual quarterly hourly nightly upcoming past "
        "recent current next last first new old online offline own confirmed pending active inactive whole "
        "full public private personal basic simple quick short long various different specific certain "
        "assigned unassigned paid unpaid outstanding overdue urgent important favourite favorite latest "
        "earliest future previous today tomorrow yesterday late early booked cancelled canceled empty vacant "
        "remaining existing additional extra same main important standard regular special local nearby "
        "approved preferred verified trusted registered selected logged withdrawn rejected archived shared listed"
    )
)
# Words that say "a list of", "the details of": skipped when "of" follows.
FILLER = frozenset(_words("list lists number set details overview page pages summary kind type group types range"))
# The second noun of a compound that only names a part of the first: "appointment slots" are appointments.
PART_HEADS = frozenset(
    _words(
        "slot slots entry entries record records item items details information data list catalogue catalog collection"
    )
)
SKIP = DETERMINERS | PREPOSITIONS
# Attribute names the generated application never has: it must not store such data.
SENSITIVE = frozenset(
    _words(
        "card cvv cvc password passcode passphrase secret token iban pin ssn credit debit bank swift bic "
        "api_key apikey private_key"
    )
)
# The states that take a record off its list, by the verb that leads to them.
CLOSING = {
    "cancel": "cancelled",
    "archive": "archived",
    "close": "closed",
    "withdraw": "withdrawn",
    "reject": "rejected",
    "decline": "declined",
    "book": "booked",
    "reserve": "reserved",
    "fill": "filled",
    "discontinue": "discontinued",
    "retire": "retired",
    "deactivate": "deactivated",
    "resolve": "resolved",
    "take": "taken",
    "claim": "claimed",
    "expire": "expired",
}
_CLOSED_WORDS = {*CLOSING.values(), "canceled", "full"}
# Verbs whose very action takes the record off its list; "book" does so only when a criterion says so.
_REMOVING = frozenset(_words("cancel archive close withdraw discontinue retire deactivate reject decline expire"))
_BECOMES = re.compile(r"\b(?:is|are|becomes?|gets?|marked\s+as|set\s+to)\s+(?:now\s+)?([a-z]+)")
_LEAVES = re.compile(
    r"\bno\s+longer\s+(?:offered|available|listed|shown|visible|appears?|open|bookable)\b|"
    r"\b(?:leaves|disappears\s+from|(?:is\s+)?removed\s+from|(?:is\s+)?not\s+shown\s+(?:on|in)|"
    r"(?:is\s+)?hidden\s+from|drops\s+off)\s+(?:the|my|their|our)?\s*(?:\w+\s+)?list\b",
    re.I,
)
_REFUSED = re.compile(r"\b(?:without|refused|cannot\s+be\s+saved|is\s+not\s+saved|required|mandatory)\b")
_ONLY = re.compile(
    r"\bonly\s+(?:an?\s+|the\s+)?(?P<role>[a-z][a-z ]{1,40}?)s?\s+(?:can|may|are\s+allowed|is\s+allowed)\b", re.I
)
_ROLE = re.compile(r"^\s*as\s+(?:an?|the)\s+(?P<role>[^,]+?)\s*,?\s*i\b", re.I)
_GOAL = re.compile(
    r"\bi\s+(?:want|need|would\s+like|wish|'d\s+like|can|should\s+be\s+able|am\s+able)\s*(?:to\s+)?(?P<goal>.*?)"
    r"(?:,?\s+so\s+that\b.*)?$",
    re.I | re.S,
)
_LINK_ALWAYS = re.compile(
    r"\b(?:for\s+one\s+of\s+(?:my|our|their|the)|per|for\s+each|(?:linked|attached|tied|belongs?|belonging)\s+to"
    r"(?:\s+(?:an?|the|my|our|their|one\s+of\s+my))?)\s+(?P<noun>[a-z][a-z0-9]*(?:\s+[a-z][a-z0-9]*)?)",
    re.I,
)
_LINK_KNOWN = re.compile(
    r"\b(?:for|to|at|on|of|in|from|with)\s+(?:an?|the|my|our|their|this|that|each|every)\s+"
    r"(?P<noun>[a-z][a-z0-9]*(?:\s+[a-z][a-z0-9]*)?)",
    re.I,
)
_PARENS = re.compile(r"\((?P<list>[^()]{1,300})\)")
_WITH = re.compile(r"\b(?:with|including|includes|has|have|having)\s+(?P<list>[^.;:!?()]+)", re.I)
_STOP = re.compile(r"\b(?:so|so that|to|because|when|which|that|for|per|at|in|on|then|if|is|are)\b.*$", re.I)
# Words that are never an attribute's name ("then it is on the list" is no attribute).
_NOT_ATTRIBUTES = frozenset(_words("i me we you they it is are was were be been not no yes them us he she one"))
# Words ``inflect`` would wrongly singularise ("diagnosis" → "diagnosi"): they end like plurals but are not.
_NOT_PLURAL_ENDINGS = ("ss", "us", "is")
_KEEP_TWO = frozenset(["date", "name", "number", "time", "address", "status", "code", "type", "level", "size"])


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def singular(word: str) -> str:
    """The singular of a noun (``inflect``); a word that is not a plural stays as it is."""
    if not word or word.endswith(_NOT_PLURAL_ENDINGS) or len(word) < 4:
        return word
    found = _ENGINE.singular_noun(word)
    return str(found) if found else word


def plural(word: str) -> str:
    parts = word.split("_")
    parts[-1] = str(_ENGINE.plural_noun(parts[-1]))
    return "_".join(parts)


def identifier(words: Iterable[str]) -> str:
    """``visit notes`` → ``visit_note``: the words joined, the last one singular; "" if not a name."""
    parts = [re.sub(r"[^a-z0-9]", "", w.lower()) for w in words]
    parts = [p for p in parts if p]
    if not parts:
        return ""
    parts[-1] = singular(parts[-1])
    name = "_".join(parts)
    return name if IDENTIFIER.fullmatch(name) and not keyword.iskeyword(name) else ""


def role_and_goal(sentence: str, i_want: str = "") -> tuple[str, str]:
    """ "As a pet owner, I want to register my pets so that …" → ("pet_owner", "register my pets")."""
    role_match = _ROLE.search(sentence)
    role = identifier(role_match.group("role").split()) if role_match else ""
    if i_want.strip():
        goal = re.sub(r"^\s*to\s+", "", i_want.strip(), flags=re.I)
        return role, re.sub(r",?\s+so\s+that\b.*$", "", goal, flags=re.I | re.S)
    goal_match = _GOAL.search(sentence)
    return role, (goal_match.group("goal") if goal_match else sentence)


def _is_noun(word: str, following: str, previous: str = "") -> bool:
    if word in SKIP or word in ADJECTIVES or len(word) < 3 or not word.isalpha():
        return False
    if word not in VERBS or previous in DETERMINERS:
        return True  # "an order": after a determiner a verb-like word names a thing
    # A verb is a verb when a determiner, a conjunction or another verb follows it ("cancel or
    # move a booking"); otherwise it names a thing ("check out a book", "an order with a date").
    return following not in _ARTICLES | VERBS | {"or", "and", "up", "out", "in", "on", "off", "for", "to"}


def noun_phrase(words: list[str]) -> list[str]:
    """The noun (or two-noun compound) the words after the story's verb are about."""
    start = next((i + 1 for i, w in enumerate(words) if w in VERBS and w not in ADJECTIVES), None)
    candidates = words[start:] if start is not None else words
    phrase: list[str] = []
    for index, word in enumerate(candidates):
        following = candidates[index + 1] if index + 1 < len(candidates) else ""
        previous = candidates[index - 1] if index else ""
        if not phrase:
            if word in FILLER and following == "of":
                continue
            # Without a verb to follow, a word is a thing only after a determiner or as a plural
            # ("I want a dashboard", "appointments to sync"), never "it to be quick".
            evidence = start is not None or previous in DETERMINERS or singular(word) != word
            if evidence and _is_noun(word, following, previous) and not (start is None and word in VERBS):
                phrase.append(word)
            continue
        participle = word.endswith("ed") and len(word) > 4  # "my orders listed": no compound
        if word.isalpha() and len(word) > 2 and not participle and _is_noun(word, following, previous):
            phrase.append(word)
            continue
        break
    phrase = phrase[-2:]
    if len(phrase) == 2 and phrase[1] in PART_HEADS:
        phrase = phrase[:1]
    return phrase


def attribute_name(chunk: str) -> str:
    """ "a birth date" → ``birth_date``; "the species" → ``species``; "" when it is no attribute."""
    words = [w for w in tokens(chunk) if w.isalpha() and w not in SKIP][-2:]
    if any(w in _NOT_ATTRIBUTES for w in words):
        return ""
    if len(words) == 2 and words[1] not in _KEEP_TWO:
        words = words[1:]
    if not words:
        return ""
    keep = {"notes", "details", "status", "address", "species", "series", "news", "hours", "opening_hours"}
    name = "_".join(words)
    name = name if name in keep or words[-1] in keep else "_".join([*words[:-1], singular(words[-1])])
    if not IDENTIFIER.fullmatch(name) or keyword.iskeyword(name) or sensitive(name):
        return ""
    return name


def sensitive(name: str) -> bool:
    return name in SENSITIVE or any(part in SENSITIVE for part in name.split("_"))


def attribute_lists(text: str) -> list[str]:
    """Attribute names from "(name, species, birth date)" and "with a title, a price and a due date"."""
    found: list[str] = []
    clauses = [m.group("list") for m in _PARENS.finditer(text)]
    clauses += [_STOP.sub("", m.group("list")) for m in _WITH.finditer(text)]
    for clause in clauses:
        for chunk in re.split(r",|/|\band\b|\bor\b|&", clause):
            name = attribute_name(chunk)
            if name and name not in found:
                found.append(name)
    return found


def refused_attributes(text: str) -> list[str]:
    """The attributes the text asks for that the application must never store (card numbers, …)."""
    refused: list[str] = []
    clauses = [m.group("list") for m in _PARENS.finditer(text)] + [m.group("list") for m in _WITH.finditer(text)]
    for clause in clauses:
        for chunk in re.split(r",|/|\band\b|\bor\b|&", clause):
            words = [w for w in tokens(chunk) if w.isalpha() and w not in SKIP][-2:]
            name = "_".join(words)
            if name and sensitive(name) and name not in refused:
                refused.append(name)
    return refused


def link_targets(text: str, known: Collection[str], own: str) -> list[str]:
    """Entity names the text links to: "for one of my pets", "per clinic" always; "to an appointment"
    when ``appointment`` is a thing some story is about."""
    found: list[str] = []

    def add(noun: str, *, always: bool) -> None:
        words = [w for w in tokens(noun) if w.isalpha()]
        while words and identifier(words) not in known and (words[-1] in SKIP or words[-1] in VERBS):
            words = words[:-1]
        if not words or words[0] in ADJECTIVES:
            return
        full, first, last = identifier(words), identifier(words[:1]), identifier(words[-1:])
        choices = [(full, full in known), (first, first in known or always), (last, last in known)]
        for name, accepted in choices:
            fits = accepted and name and name != own and name not in found and not sensitive(name)
            if fits and (name in known or _is_noun(name.split("_")[0], "")):
                found.append(name)
                return

    for match in _LINK_ALWAYS.finditer(text):
        add(match.group("noun"), always=True)
    for match in _LINK_KNOWN.finditer(text):
        add(match.group("noun"), always=False)
    return found


def closing_states(goal: str, criteria: Iterable[str]) -> list[str]:
    """The states that take a record off its list: a closing verb of the story ("cancel a booking" →
    ``cancelled``), a state a criterion puts the record in ("it is withdrawn"), or — for a criterion
    that says the record leaves its list ("no longer offered") — the story's verb ("booked")."""
    words = tokens(goal)
    verb = next((w for w in words if w in VERBS), "")
    states: list[str] = [CLOSING[verb]] if verb in _REMOVING else []
    for criterion in criteria:
        lowered = criterion.lower()
        if _REFUSED.search(lowered) and not _LEAVES.search(lowered):
            continue  # "an order without a date is rejected" is a refusal, not a state
        named = [m.group(1) for m in _BECOMES.finditer(lowered) if m.group(1) in _CLOSED_WORDS]
        named += [w for w in tokens(lowered) if w in _CLOSED_WORDS and _LEAVES.search(lowered) and w != "full"]
        if _LEAVES.search(lowered) and not named:
            named = [CLOSING.get(verb, "closed")]
        for word in named:
            state = "cancelled" if word == "canceled" else word
            if state not in states and state != "full":
                states.append(state)
    return states


def leaves_list(criterion: str) -> bool:
    return bool(_LEAVES.search(criterion))


def only_roles(texts: Iterable[str]) -> list[str]:
    """ "Only vets can add visit notes" → ["vet"]."""
    roles: list[str] = []
    for text in texts:
        for match in _ONLY.finditer(text):
            role = identifier(w for w in match.group("role").split() if w not in SKIP)
            if role and role not in roles:
                roles.append(role)
    return roles


_REQUIRED = (
    re.compile(
        r"\b(?:without|missing|with\s+no|no)\s+(?:an?\s+|the\s+|its\s+|their\s+)?(?P<f>[a-z][a-z ]{1,30}?)\s*"
        r"(?:,|\.|\bis\b|\bare\b|\bcannot\b|\bcan't\b|\bgets?\b|\bshows?\b|\bfails?\b|\bthen\b|\bit\b|$)",
        re.I,
    ),
    re.compile(r"\b(?:an?\s+|the\s+)?(?P<f>[a-z][a-z ]{1,30}?)\s+(?:is|are)\s+(?:required|mandatory)\b", re.I),
    re.compile(
        r"\bmust\s+(?:have|give|enter|include|provide|state)\s+(?:an?\s+|the\s+)?(?P<f>[a-z][a-z ]{1,30}?)\b"
        r"(?:\s*[,.;]|\s+(?:and|or|before|to|when)\b|$)",
        re.I,
    ),
)
_REFUSAL = re.compile(
    r"\b(?:refused|rejected|required|mandatory|error|cannot\s+be\s+saved|is\s+not\s+saved|must)\b", re.I
)


def required_fields(criterion: str) -> list[str]:
    """ "A pet without a species is refused" → ["species"]: the fields a criterion makes required."""
    if not _REFUSAL.search(criterion):
        return []
    found: list[str] = []
    for pattern in _REQUIRED:
        for match in pattern.finditer(criterion):
            name = attribute_name(match.group("f"))
            if name and name not in found:
                found.append(name)
    return found
