"""Backlog tables: a header row naming the columns, then one story per row.

Markdown tables, tables in a .docx and .csv/.xlsx uploads all reach the parser as Markdown table
rows (`projects.documents`, `projects.requirements.spreadsheets`). The first row of a table is
its header; a column is recognised by its name in common forms:

- role: who, role, user, persona, actor, "as a", "as an";
- goal: what, goal, story, "user story", "I want", requirement, feature, description, title, summary;
- benefit: why, benefit, value, reason, "so that";
- priority: priority, MoSCoW, importance;
- points: points, "story points", estimate, size, SP;
- criteria: acceptance, "acceptance criteria", criteria, AC, "definition of done";
- epic: epic, area, module, theme, component, category, section;
- status: status, scope, "in scope", state, release.

A table with a goal column is a backlog: each row is a story — unless it is blank, a repeat of
the header, or marked out of scope (in its status or priority column: "out of scope", "won't",
"descoped", "excluded", "later", "no" in an "in scope" column). A goal cell that is itself a
story sentence ("As a …, I want …") is read as one. A table without a goal column is kept as
written (`TableHeader.unrecognised`): when no story is found, `UnrecognisedColumns` carries the
header row to the page, which asks which column is which; the answer comes back as `columns`
(header text → one of `COLUMN_CHOICES`) and is used before the names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from projects.requirements.drafts import Draft, draft_from_item, drafts_from_sentences
from projects.requirements.estimate import detect_priority
from projects.requirements.model import FIBONACCI_POINTS, Priority
from projects.requirements.syntax import role_noun

_I = re.IGNORECASE
_COLUMNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "criteria",
        re.compile(r"^(?:acceptance(?:\s+criteria|\s+tests?)?|criteria|acs?|definition\s+of\s+done|dod)$", _I),
    ),
    (
        "role",
        re.compile(r"^(?:who|roles?|users?(?:\s+(?:type|role))?|personas?|actors?|as\s+an?|as\s+an?\s*\.\.\.)$", _I),
    ),
    (
        "goal",
        re.compile(
            r"^(?:what|goals?|(?:user\s+)?stor(?:y|ies)|i\s+want(?:\s+to)?|requirements?|features?|descriptions?"
            r"|titles?|summary|capabilit(?:y|ies)|functionality|needs?|i\s+want\s+to\s*\.\.\.)$",
            _I,
        ),
    ),
    ("benefit", re.compile(r"^(?:why|benefits?|value|reasons?|so\s+that|business\s+value|rationale)$", _I)),
    ("priority", re.compile(r"^(?:priority|prio|moscow|mo\s?s\s?co\s?w|importance)$", _I)),
    ("points", re.compile(r"^(?:(?:story\s+)?points?|estimates?|size|sp|effort)$", _I)),
    ("epic", re.compile(r"^(?:epics?|areas?|modules?|themes?|components?|categor(?:y|ies)|sections?)$", _I)),
    ("status", re.compile(r"^(?:status|scope|in\s+scope\??|state|release|phase)$", _I)),
)
# What a column can be, as the page asks it ("which column is which").
COLUMN_CHOICES: dict[str, str] = {
    "ignore": "not part of the story",
    "role": "As a (who)",
    "goal": "I want (what)",
    "benefit": "So that (why)",
    "priority": "Priority (MoSCoW)",
    "points": "Points",
    "criteria": "Acceptance criteria",
    "epic": "Epic (area)",
    "status": "Status (in or out of scope)",
}
_OUT_OF_SCOPE = re.compile(
    r"\b(?:out\s+of\s+scope|not\s+in\s+scope|won'?t(?:\s+have)?|wont|descoped|de-scoped|excluded|dropped"
    r"|cancell?ed|rejected|later|future|post[- ]mvp|phase\s+(?:2|two))\b",
    _I,
)
_NO = re.compile(r"^(?:no|n|false|-|✗|x)$", _I)


@dataclass(slots=True)
class TableHeader:
    """The columns of the table being read: name → cell index."""

    cells: list[str]
    columns: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, cells: list[str], chosen: Mapping[str, str] | None = None) -> TableHeader:
        """The columns by their names; `chosen` (header text → column, from the customer's
        answer to "which column is which") wins over the names."""
        header = cls(cells=cells)
        picked = {key.strip().casefold(): value for key, value in (chosen or {}).items()}
        for index, cell in enumerate(cells):
            choice = picked.get(cell.strip().casefold())
            if choice in COLUMN_CHOICES and choice not in header.columns and choice != "ignore":
                header.columns[choice] = index
        if picked and any(cell.strip().casefold() in picked for cell in cells):
            return header
        for index, cell in enumerate(cells):
            name = cell.strip().strip("*:?").strip()
            for column, pattern in _COLUMNS:
                if column not in header.columns and pattern.match(name):
                    header.columns[column] = index
                    break
        return header

    @property
    def is_backlog(self) -> bool:
        return "goal" in self.columns

    @property
    def unrecognised(self) -> bool:
        """A header-like row (short labels) in which no goal column was found."""
        return not self.is_backlog and len(self.cells) >= 2 and all(0 < len(c) <= 40 for c in self.cells)

    def cell(self, cells: list[str], column: str) -> str:
        index = self.columns.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""


def _out_of_scope(header: TableHeader, cells: list[str]) -> bool:
    status = header.cell(cells, "status")
    status_name = header.cells[header.columns["status"]] if "status" in header.columns else ""
    if status and re.match(r"^in\s+scope", status_name.strip(), _I) and _NO.match(status):
        return True
    return bool(_OUT_OF_SCOPE.search(status) or _OUT_OF_SCOPE.search(header.cell(cells, "priority")))


def _points(text: str) -> int | None:
    match = re.match(r"^\s*(\d{1,3})(?:\s*(?:pts?|points?|sp))?\s*$", text, _I)
    if match is None:
        return None
    value = int(match.group(1))
    return value if 1 <= value <= FIBONACCI_POINTS[-1] * 8 else None


def _criteria(text: str) -> list[str]:
    parts = re.split(r"\s*(?:;|<br\s*/?>|\s[-•]\s|\n)\s*", text)
    return [part.strip(" -•") for part in parts if part.strip(" -•")]


# "The system must export invoices": the goal is what follows the modal verb.
_SYSTEM_MUST = re.compile(
    r"^(?:the\s+)?(?:system|app|application|platform|portal|software|product|site|website|tool)\s+"
    r"(?:must|should|shall|will|can|needs?\s+to)\s+(?:be\s+able\s+to\s+)?",
    _I,
)
# A goal names something to do: at least one word of two letters ("=1+1" or "+1" does not).
_WORD = re.compile(r"[^\W\d_]{2}")


def draft_from_row(
    header: TableHeader, cells: list[str], *, epic: str, default: Priority, known_roles: set[str]
) -> Draft | None:
    """The story of one backlog row, or None for a blank, repeated-header or out-of-scope row."""
    goal = _SYSTEM_MUST.sub("", re.sub(r"^I\s+(?:want|need|would\s+like)\s+", "", header.cell(cells, "goal"), flags=_I))
    if not _WORD.search(goal) or [c.strip().lower() for c in cells] == [c.strip().lower() for c in header.cells]:
        return None
    if _out_of_scope(header, cells):
        return None
    row_epic = header.cell(cells, "epic") or epic
    priority_cell = header.cell(cells, "priority")
    priority = _priority(priority_cell, default) if priority_cell else default
    found, _ = drafts_from_sentences(goal, epic=row_epic, default=priority)
    if found:
        draft = found[0]
    else:
        role = role_noun(re.sub(r"^as\s+", "", header.cell(cells, "role"), flags=_I)) or ""
        draft = draft_from_item(goal, epic=row_epic, default=priority, indent=0, known_roles=known_roles)
        if role:
            draft.as_a = role
        benefit = header.cell(cells, "benefit")
        if benefit:
            draft.so_that = re.sub(r"^so\s+that\s+", "", benefit, flags=_I)
    draft.indent = None
    draft.priority = priority if priority_cell else draft.priority
    draft.criteria = _criteria(header.cell(cells, "criteria"))
    draft.points = _points(header.cell(cells, "points"))
    draft.source = " | ".join(cell for cell in cells if cell.strip())
    return draft


_MOSCOW_LETTERS = {"m": Priority.MUST, "s": Priority.SHOULD, "c": Priority.COULD, "w": Priority.WONT}


def _priority(text: str, default: Priority) -> Priority:
    short = text.strip().lower().rstrip(".")
    if short in _MOSCOW_LETTERS:
        return _MOSCOW_LETTERS[short]
    if re.match(r"^(?:p[0-4]|high|medium|normal|low|critical)$", short):
        return detect_priority(f"priority: {short}", default)
    return detect_priority(text, default)
