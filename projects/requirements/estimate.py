"""MoSCoW priority, story points and building a story from its parts.

MoSCoW priority (`detect_priority`) reads the story's own line, not its criteria (criteria say
"must" all the time). An explicit tag wins: `[Must]`, `(could have)`, `Priority: high`,
`MoSCoW: W`. Otherwise the first group that matches, in this order:

- WONT: won't, will not, not now, out of scope, post-MVP, deferred, "(later)", "later/future
  release|phase|version|iteration", "phase 2";
- MUST: must, critical, crucial, required, essential, mandatory, blocker, high priority;
- COULD: could, nice to have, optional, if time permits, low priority, stretch, bonus;
- SHOULD: should, important, medium priority;
- else the section's MoSCoW heading, else SHOULD.

Bare "later"/"future" are not enough ("read it later" is no priority), hence the phrases above.

Story points (`estimate_points`) are a Fibonacci number from a score:

    score = 1
          + min(criteria, 6) // 2           (0–3: every two acceptance criteria add a point)
          + 1 if the goal ("I want" + "so that") has more than 12 words, 2 if more than 24
          + 2 per complexity category present in the title, goal or criteria (at most 3
            categories count): integration (API, webhook, sync, SSO or any named
            provider), real-time, import/export/upload, reporting/dashboards, AI/ML,
            payments, security/permissions, search
    points = the smallest of 1, 2, 3, 5, 8, 13 that is ≥ score

so a short story with no criteria is 1 point, and the largest possible score (12) is 13.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from projects.requirements.features import AI_ML_PATTERNS, REAL_TIME_PATTERNS, detect_features
from projects.requirements.model import (
    DEFAULT_EPIC,
    DEFAULT_ROLE,
    FIBONACCI_POINTS,
    Priority,
    RequirementsError,
    UserStory,
)

_I = re.IGNORECASE

PRIORITY_TAG = re.compile(
    r"[\[(]\s*(?P<tag>must|should|could|won'?t|wont|will not|later|future|nice to have|optional)"
    r"(?:\s+have)?\s*[\])]"
    r"|\bpriority\s*[:=\-–]\s*(?P<level>must|should|could|won'?t|wont|critical|high|medium"
    r"|normal|low|p[0-4])\b"
    r"|\bmoscow\s*[:=\-–]\s*(?P<moscow>[mscw])\b",
    _I,
)
_TAG_PRIORITIES: dict[str, Priority] = {
    "must": Priority.MUST,
    "critical": Priority.MUST,
    "high": Priority.MUST,
    "p0": Priority.MUST,
    "p1": Priority.MUST,
    "should": Priority.SHOULD,
    "medium": Priority.SHOULD,
    "normal": Priority.SHOULD,
    "p2": Priority.SHOULD,
    "could": Priority.COULD,
    "low": Priority.COULD,
    "p3": Priority.COULD,
    "p4": Priority.WONT,
    "won't": Priority.WONT,
    "wont": Priority.WONT,
    "will not": Priority.WONT,
    "later": Priority.WONT,
    "future": Priority.WONT,
    "nice to have": Priority.COULD,
    "optional": Priority.COULD,
    "m": Priority.MUST,
    "s": Priority.SHOULD,
    "c": Priority.COULD,
    "w": Priority.WONT,
}
_PRIORITY_WORDS: tuple[tuple[Priority, re.Pattern[str]], ...] = (
    (
        Priority.WONT,
        re.compile(
            r"\b(?:won'?t|will\s+not|not\s+now|out\s+of\s+scope|post[- ]mvp|deferred"
            r"|(?:later|future)\s+(?:release|phase|version|iteration|sprint)s?"
            r"|phase\s+(?:2|two)|not\s+in\s+(?:this|the\s+first)\s+(?:release|version|phase|mvp))\b"
            r"|[\[(]\s*(?:later|future)\s*[\])]",
            _I,
        ),
    ),
    (
        Priority.MUST,
        re.compile(
            r"\b(?:must|critical|crucial|required|essential|mandatory|blocker|high[- ]priority"
            r"|top\s+priority)\b",
            _I,
        ),
    ),
    (
        Priority.COULD,
        re.compile(
            r"\b(?:could|nice[- ]to[- ]have|optional(?:ly)?|if\s+time\s+(?:permits|allows)"
            r"|low[- ]priority|stretch(?:\s+goal)?|bonus)\b",
            _I,
        ),
    ),
    (Priority.SHOULD, re.compile(r"\b(?:should|important|medium[- ]priority)\b", _I)),
)


def detect_priority(text: str, default: Priority = Priority.SHOULD) -> Priority:
    """Return the MoSCoW priority the wording of `text` asks for (rules in the module docstring)."""
    tag = PRIORITY_TAG.search(text)
    if tag:
        value = (tag.group("tag") or tag.group("level") or tag.group("moscow")).lower()
        return _TAG_PRIORITIES[value.replace("\u2019", "'")]
    for priority, pattern in _PRIORITY_WORDS:
        if pattern.search(text.replace("\u2019", "'")):
            return priority
    return default


_COMPLEXITY_CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "integration",
        re.compile(r"\b(?:integrat\w*|apis?|third[- ]party|webhooks?|sync\w*|sso|oauth)\b", _I),
    ),
    ("real-time", re.compile("|".join(p.pattern for _, p in REAL_TIME_PATTERNS), _I)),
    ("data exchange", re.compile(r"\b(?:import\w*|export\w*|upload\w*|bulk|csv|excel)\b", _I)),
    ("reporting", re.compile(r"\b(?:reports?|reporting|dashboards?|analytics|charts?)\b", _I)),
    ("AI/ML", re.compile("|".join(p.pattern for _, p in AI_ML_PATTERNS))),
    (
        "payments",
        re.compile(r"\b(?:payments?|pay|checkout|billing|invoic\w*|subscriptions?|refunds?)\b", _I),
    ),
    (
        "security",
        re.compile(r"\b(?:permissions?|roles?|two[- ]factor|2fa|mfa|encrypt\w*|audit\w*)\b", _I),
    ),
    ("search", re.compile(r"\b(?:search\w*|full[- ]text)\b", _I)),
)
_MAX_COUNTED_CATEGORIES = 3


def complexity_categories(text: str) -> tuple[str, ...]:
    """Return the complexity categories (see `estimate_points`) that `text` touches.

    A named provider (Stripe, Slack, "Acme API", …) counts as the integration category too.
    """
    named = any(not i.generic for i in detect_features(text).integrations)
    return tuple(
        name for name, pattern in _COMPLEXITY_CATEGORIES if pattern.search(text) or (name == "integration" and named)
    )


def estimate_points(*, title: str, i_want: str, so_that: str, acceptance_criteria: Sequence[str]) -> int:
    """Return Fibonacci story points by the heuristic stated in the module docstring."""
    score = 1
    score += min(len(acceptance_criteria), 6) // 2
    goal_words = len(f"{i_want} {so_that}".split())
    if goal_words > 24:
        score += 2
    elif goal_words > 12:
        score += 1
    categories = complexity_categories("\n".join((title, i_want, *acceptance_criteria)))
    score += 2 * min(len(categories), _MAX_COUNTED_CATEGORIES)
    return next(points for points in FIBONACCI_POINTS if points >= score)


# ---------------------------------------------------------------------------------------------
# Building stories
# ---------------------------------------------------------------------------------------------

_LEADING_WANT = re.compile(r"^(?:to\s+)?(?:be\s+able\s+to\s+)?", _I)


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


MAX_TITLE_CHARS = 300  # what a stored story's title holds (`projects.models.Story.title`)


def title_from(text: str) -> str:
    """The whole text as a title: pages that are short of space shorten it at a word boundary
    (`truncatewords`), the quote never. Only text over the stored limit is cut here."""
    title = " ".join(text.split()).rstrip(".!;:,").strip()
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return _sentence_case(title)


def make_story(
    *,
    as_a: str,
    i_want: str,
    so_that: str = "",
    epic: str = DEFAULT_EPIC,
    title: str = "",
    priority: Priority | None = None,
    acceptance_criteria: Sequence[str] = (),
) -> UserStory:
    """Build a story the way the analyser does: points by the heuristic, priority from wording.

    This is also how an added or edited story (from the customer's edit form) gets its points
    and, when not chosen explicitly, its priority.
    """
    i_want = _LEADING_WANT.sub("", i_want.strip()).rstrip(".!; ").strip()
    so_that = so_that.strip().rstrip(".!; ").strip()
    as_a = as_a.strip() or DEFAULT_ROLE
    if not i_want:
        raise RequirementsError("A user story needs something the user wants ('I want …').")
    title = title.strip() or title_from(i_want)
    criteria = tuple(c.strip() for c in acceptance_criteria if c.strip())
    if priority is None:
        priority = detect_priority(f"{title} {i_want} {so_that}")
    return UserStory(
        epic=epic.strip() or DEFAULT_EPIC,
        title=title,
        as_a=as_a,
        i_want=i_want,
        so_that=so_that,
        priority=priority,
        points=estimate_points(title=title, i_want=i_want, so_that=so_that, acceptance_criteria=criteria),
        acceptance_criteria=criteria,
    )
