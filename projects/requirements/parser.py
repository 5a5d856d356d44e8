"""The requirements parser: text → user stories, one method per kind of line.

How text becomes stories (line by line, after re-joining soft-wrapped lines):

- **Epics** are Markdown headings (`## Payments`), underlined headings (`Payments` over `====`
  or `----`) and label lines (`Epic: Payments`, `Feature: Payments`). Headings named after a
  MoSCoW bucket (`Must have`, `Won't have`, `Out of scope`) keep the current epic and set the
  default priority of the stories below them. Headings of sections that describe rather than
  ask (`Overview`, `Assumptions`, `Non-functional requirements`, `Glossary`, …) make their list
  items context, not stories.
- **Stories** are "As a/an … I want/need … [so that …]" sentences anywhere (also several per
  line, inside list items and table rows), and every other bullet or numbered list item that is
  not an acceptance criterion.
- **Acceptance criteria** of the latest story are: lines starting with Given/When/Then/And/But
  or `Scenario:`; list items nested deeper than the story's own list item; must/should/shall
  lines or list items directly below a story (no blank line in between); and the lines after
  an `Acceptance criteria:` label. A blank line followed by ordinary prose ends them. Other
  list items right below a story sentence are stories of their own: Word documents have no
  blank lines between paragraphs, so adjacency alone cannot mean "criterion".
- **Plain-text headings**: a short line on its own (no sentence punctuation) right above a list
  is an epic heading too.
- **Tables** whose header names a goal column are backlogs, one story per row
  (`projects.requirements.tables`); other table rows are read cell by cell for story sentences.
- **Prose** sentences that state a capability of a named user ("Suppliers must be able to …")
  are stories with that role (`projects.requirements.drafts.draft_from_prose`); background and
  delivery-constraint sentences are not.
- **Non-functional requirements** (performance, availability, languages, data location,
  compliance, scale; `projects.requirements.nfr`) in prose, list items or descriptive
  sections are kept as their own list, not as stories.
- Everything else (prose, headings, descriptive sections, tables without stories) is
  **context**: it is not a story, but integrations and AI/real-time needs mentioned there still
  count (`RequirementsAnalysis.context_features`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from projects.requirements.drafts import (
    SENTENCE_END,
    Draft,
    draft_from_item,
    draft_from_prose,
    drafts_from_sentences,
)
from projects.requirements.estimate import PRIORITY_TAG
from projects.requirements.features import RequirementsAnalysis, detect_features
from projects.requirements.model import (
    DEFAULT_EPIC,
    MAX_REQUIREMENTS_CHARS,
    Priority,
    RequirementsError,
    UnrecognisedColumns,
)
from projects.requirements.nfr import NonFunctional, nonfunctional
from projects.requirements.syntax import (
    ATX_HEADING,
    BLOCKQUOTE,
    CHECKBOX,
    CONTEXT_HEADING,
    CRITERIA_LABEL,
    EPIC_LABEL,
    EPIC_PREFIX,
    FENCE,
    GHERKIN,
    HORIZONTAL_RULE,
    LIST_ITEM,
    MODAL,
    MOSCOW_HEADINGS,
    SETEXT_UNDERLINE,
    STORY,
    STORY_LINE_START,
    TABLE_ROW,
    TABLE_SEPARATOR,
    clean,
)
from projects.requirements.tables import TableHeader, draft_from_row

_I = re.IGNORECASE
# A plain-text heading: a few words, no sentence punctuation inside or at the end.
_PLAIN_HEADING = re.compile(r"^[A-Z0-9][^.!?;|]{0,58}[^.!?;,|]$")


def _indent_width(whitespace: str) -> int:
    return len(whitespace.expandtabs(4))


def _is_block_start(line: str) -> bool:
    return bool(
        ATX_HEADING.match(line)
        or LIST_ITEM.match(line)
        or SETEXT_UNDERLINE.match(line)
        or TABLE_ROW.match(line)
        or GHERKIN.match(line)
        or FENCE.match(line)
        or EPIC_LABEL.match(line)
    )


def _unwrap(lines: list[str]) -> list[str]:
    """Re-join soft-wrapped lines (PDF extraction and hand-wrapped text break sentences)."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        stripped = line.strip()
        joinable = (
            previous.strip()
            and stripped
            and not _is_block_start(line)
            and not ATX_HEADING.match(previous)
            and not TABLE_ROW.match(previous)
            and not FENCE.match(previous)
            and (
                re.match(r"so\s+that\b", stripped, _I)
                or (stripped[:1].islower() and not previous.rstrip().endswith((".", "!", "?", ":")))
                or (STORY_LINE_START.match(previous) and not STORY.search(previous))
            )
        )
        if joinable:
            out[-1] = f"{previous.rstrip()} {stripped}"
        else:
            out.append(line.rstrip())
    return out


def _validated_text(text: object) -> str:
    if not isinstance(text, str):
        raise RequirementsError("Requirements must be text.")
    if len(text) > MAX_REQUIREMENTS_CHARS:
        raise RequirementsError(
            f"The requirements are too long ({len(text):,} characters); the limit is {MAX_REQUIREMENTS_CHARS:,}."
        )
    if not text.replace("\ufeff", "").strip():
        raise RequirementsError(
            "The requirements are empty. Paste or upload a description of what the product should do."
        )
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if "\x00" in text or control > max(3, len(text) // 100):
        raise RequirementsError(
            "The requirements do not look like text (they contain binary data). Paste plain "
            "text or upload a .txt, .md, .docx or .pdf file."
        )
    return text


class _Parser:
    """One pass over the lines of a requirements text; one method per kind of line.

    The state is the reading position in the document: the current epic and section priority,
    whether the section is descriptive (context), the story that criteria attach to, whether a
    blank line came since its last line, whether an "Acceptance criteria:" label is open, and
    the header of the table being read.
    """

    def __init__(self, lines: list[str], *, max_stories: int | None, columns: Mapping[str, str]) -> None:
        self.lines = lines
        self.columns = columns
        self.max_stories = max_stories
        self.drafts: list[Draft] = []
        self.context: list[str] = []
        self.non_functional: list[NonFunctional] = []
        self.roles: set[str] = set()  # roles of the story sentences so far
        self.unrecognised_tables: list[list[str]] = []
        self.epic = DEFAULT_EPIC
        self.section_priority = Priority.SHOULD
        self.context_section = False
        self.current: Draft | None = None
        self.table: TableHeader | None = None
        self.gap = False  # a blank line since the current story's last line
        self.collecting = False  # after an "Acceptance criteria:" label
        self.in_fence = False
        self.index = 0
        self.story_sentences = False  # the document writes stories as "As a … I want …" sentences

    def run(self) -> list[Draft]:
        while self.index < len(self.lines):
            line = self.lines[self.index]
            self.index += 1
            self.line(line)
        if self.story_sentences:
            # A document that writes its stories as story sentences uses its prose as background
            # ("Pet owners should manage their pets online, vets keep their notes in one place"
            # above the stories that say so): only a prose brief has its stories in the prose.
            for draft in self.drafts:
                if draft.from_prose:
                    self.context.extend([draft.source, *draft.criteria])
            self.drafts = [draft for draft in self.drafts if not draft.from_prose]
        return self.drafts

    def line(self, line: str) -> None:
        if FENCE.match(line):
            self.in_fence = not self.in_fence
            return
        if self.in_fence:
            return
        line = BLOCKQUOTE.sub("", line)
        if not TABLE_ROW.match(line):
            self.table = None
        if not line.strip():
            self.gap = True
            return
        heading = ATX_HEADING.match(line)
        if heading:
            self.heading(heading.group(2))
        elif self.is_underlined(line):
            self.heading(line)
            self.index += 1
        elif HORIZONTAL_RULE.match(line):
            return
        elif TABLE_ROW.match(line):
            self.table_row(line)
        elif item := LIST_ITEM.match(line):
            self.list_item(clean(CHECKBOX.sub("", item.group("text"))), _indent_width(item.group("indent")))
        elif self.is_plain_heading(line):
            self.heading(line)
        else:
            self.prose(clean(line))

    def next_line(self) -> str:
        return self.lines[self.index] if self.index < len(self.lines) else ""

    def is_underlined(self, line: str) -> bool:
        return bool(
            SETEXT_UNDERLINE.match(self.next_line())
            and not LIST_ITEM.match(line)
            and not TABLE_ROW.match(line)
            and not STORY.search(line)
        )

    def is_plain_heading(self, line: str) -> bool:
        """A short line on its own, right above a list, that is no sentence ("Payments")."""
        text = clean(line)
        previous = self.lines[self.index - 2] if self.index >= 2 else ""
        return bool(
            not previous.strip()
            and _PLAIN_HEADING.match(text)
            and len(text.split()) <= 6
            and LIST_ITEM.match(self.next_line())
            and not MODAL.search(text)
            and not STORY.search(text)
            and not (text.endswith(":") and len(text.split()) > 3)
        )

    def heading(self, raw: str) -> None:
        heading = clean(raw).rstrip(":").strip()
        if self.current is not None and CRITERIA_LABEL.match(heading):
            self.collecting = True  # "### Acceptance criteria" belongs to the story above it
            return
        self.context.append(heading)
        self.current, self.collecting = None, False
        self.section_priority, self.context_section = Priority.SHOULD, False
        bare = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", heading)
        for priority, pattern in MOSCOW_HEADINGS:
            if pattern.match(bare):
                self.section_priority = priority
                return
        if CONTEXT_HEADING.match(heading):
            self.context_section = True
            return
        self.epic = EPIC_PREFIX.sub("", heading).strip() or heading

    def add_stories(self, new: list[Draft], rest: str) -> None:
        self.drafts.extend(new)
        if self.max_stories is not None and len(self.drafts) > self.max_stories:
            raise RequirementsError(
                f"The requirements hold more than {self.max_stories:,} user stories; the limit is "
                f"{self.max_stories:,}. Split them into several projects, or keep one line per story and move "
                "details into its acceptance criteria."
            )
        self.roles.update(draft.as_a.lower() for draft in new)
        self.current, self.gap, self.collecting = new[-1], False, False
        rest = PRIORITY_TAG.sub("", rest).strip(" -–—:;,.")
        if rest and (MODAL.search(rest) or GHERKIN.match(rest)):
            self.current.criteria.append(rest)
        elif rest:
            self.context.append(rest)

    def is_nonfunctional(self, text: str) -> bool:
        """Keep the non-functional requirements of `text` (sentence by sentence) when every
        sentence of it is one; a line mixing them with other text is read as usual."""
        found = [nonfunctional(sentence) for sentence in SENTENCE_END.split(text)]
        kept = [item for item in found if item is not None]
        if not kept or len(kept) < len(found):
            return False
        self.non_functional.extend(kept)
        self.context.append(text)
        return True

    def table_row(self, line: str) -> None:
        if TABLE_SEPARATOR.match(line):
            return
        cells = [clean(cell) for cell in line.strip().strip("|").split("|")]
        if self.table is None:
            self.table = TableHeader.read(cells, self.columns)
            self.context.append(" | ".join(cells))
            if self.table.unrecognised and not any(STORY.search(cell) for cell in cells):
                self.unrecognised_tables.append(cells)
            if self.table.is_backlog:
                return
        if self.table.is_backlog:
            draft = draft_from_row(
                self.table, cells, epic=self.epic, default=self.section_priority, known_roles=self.roles
            )
            if draft is not None:
                self.add_stories([draft], "")
            return
        self.row_sentences(cells)

    def row_sentences(self, cells: list[str]) -> None:
        """A row of a table that is no backlog: its story sentences, if any, are stories."""
        row = " | ".join(cells)
        found: list[Draft] = []
        for cell in cells:
            found += drafts_from_sentences(cell, epic=self.epic, default=self.section_priority, priority_text=row)[0]
        if found:
            self.story_sentences = True
            self.add_stories(found, "")
        else:
            self.context.append(row)

    def list_item(self, text: str, indent: int) -> None:
        found, rest = drafts_from_sentences(text, epic=self.epic, default=self.section_priority)
        if found:
            for draft in found:
                draft.indent = indent
            self.story_sentences = True
            self.add_stories(found, rest)
            return
        current = self.current
        if current is not None and (
            self.collecting
            or GHERKIN.match(text)
            or (current.indent is not None and indent > current.indent)
            or (current.indent is None and not current.from_prose and not self.gap and MODAL.search(text))
        ):
            current.criteria.append(text)
            self.gap = False
            return
        if self.is_nonfunctional(text):
            return
        if self.context_section:
            self.context.append(text)
            return
        draft = draft_from_item(
            text, epic=self.epic, default=self.section_priority, indent=indent, known_roles=self.roles
        )
        self.add_stories([draft], "")

    def prose(self, text: str) -> None:
        found, rest = drafts_from_sentences(text, epic=self.epic, default=self.section_priority)
        if found:
            self.story_sentences = True
            self.add_stories(found, rest)
            return
        label = EPIC_LABEL.match(text)
        if label:
            self.heading(label.group("name"))
            return
        criteria_label = CRITERIA_LABEL.match(text)
        if criteria_label and self.current is not None:
            self.collecting, self.gap = True, False
            if criteria_label.group("rest"):
                self.current.criteria.append(criteria_label.group("rest").strip())
            return
        current = self.current
        prose_turn = current is None or current.from_prose or self.gap
        if prose_turn and self.prose_sentences(text):
            return
        if current is not None and (GHERKIN.match(text) or ((MODAL.search(text) or self.collecting) and not self.gap)):
            current.criteria.append(text)
            self.gap = False
            return
        if self.gap:
            self.collecting = False
        self.context.append(text)

    def prose_sentences(self, text: str) -> bool:
        """Read a paragraph sentence by sentence: capabilities of a named user become stories,
        non-functional requirements are kept, the rest is context. False when nothing was
        taken from it (the paragraph is then read like any other line)."""
        if self.context_section or GHERKIN.match(text):
            return False
        taken = False
        for sentence in SENTENCE_END.split(text):
            draft = draft_from_prose(sentence, epic=self.epic, default=self.section_priority)
            if draft is not None:
                self.add_stories([draft], "")
                taken = True
                continue
            item = nonfunctional(sentence)
            if item is not None:
                self.non_functional.append(item)
                taken = True
            self.context.append(sentence)
        return taken


def _no_stories(unrecognised_tables: list[list[str]]) -> RequirementsError:
    if unrecognised_tables:
        header = unrecognised_tables[0]
        return UnrecognisedColumns(
            f"No user stories were found. The table with the columns “{' | '.join(header)}” was read, but none "
            "of its columns could be recognised as the story. Say below which column is which, or name the "
            "columns, for example: “As a” (or Who, Role), “I want” (or What, Story, Goal), “So that” (or Why, "
            "Benefit), Priority (or MoSCoW), Points, Acceptance criteria, Epic — then submit it again.",
            tuple(header),
        )
    return RequirementsError(
        "No user stories were found. Write each requirement as “As a <role>, I want <goal> "
        "so that <benefit>”, as a bullet or numbered list item, as a table with columns such as "
        "Who / What / Why, or as sentences such as “Buyers must be able to …”."
    )


def analyse_requirements(
    text: str, *, max_stories: int | None = None, columns: Mapping[str, str] | None = None
) -> RequirementsAnalysis:
    """Turn requirements text into user stories, non-functional requirements and features.

    Raises `RequirementsError` (with a message for the customer) for empty, non-text or
    oversized input, text in which no user story can be found, or (when `max_stories` is given)
    more stories than that — refused as soon as the next one is found, not after the whole text.
    `columns` says which table column is which (header text → `tables.COLUMN_CHOICES` key).
    """
    text = _validated_text(text).lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parser = _Parser(_unwrap(text.split("\n")), max_stories=max_stories, columns=columns or {})
    drafts = parser.run()
    if not drafts:
        raise _no_stories(parser.unrecognised_tables)
    return RequirementsAnalysis(
        stories=tuple(draft.build() for draft in drafts),
        context_features=detect_features("\n".join(parser.context)),
        non_functional=tuple(dict.fromkeys(parser.non_functional)),
    )
