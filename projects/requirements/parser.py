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
- Everything else (prose, headings, descriptive sections, tables without stories) is
  **context**: it is not a story, but integrations and AI/real-time needs mentioned there still
  count (`RequirementsAnalysis.context_features`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from projects.requirements.estimate import PRIORITY_TAG, detect_priority, make_story, title_from
from projects.requirements.features import RequirementsAnalysis, detect_features
from projects.requirements.model import (
    DEFAULT_EPIC,
    DEFAULT_ROLE,
    MAX_REQUIREMENTS_CHARS,
    Priority,
    RequirementsError,
    UserStory,
)
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
    ROLE_ACTION,
    SETEXT_UNDERLINE,
    SO_THAT,
    STORY,
    STORY_LINE_START,
    STORY_PREFIX,
    SYSTEM_ROLES,
    TABLE_ROW,
    TABLE_SEPARATOR,
    clean,
    singular,
)

_I = re.IGNORECASE


@dataclass(slots=True)
class _Draft:
    epic: str
    title: str
    as_a: str
    i_want: str
    so_that: str
    priority: Priority
    indent: int | None  # the list item's indent; None for a story sentence
    criteria: list[str] = field(default_factory=list)

    def build(self) -> UserStory:
        return make_story(
            as_a=self.as_a,
            i_want=self.i_want,
            so_that=self.so_that,
            epic=self.epic,
            title=self.title,
            priority=self.priority,
            acceptance_criteria=self.criteria,
        )


def _drafts_from_sentences(
    text: str, *, epic: str, default: Priority, priority_text: str | None = None
) -> tuple[list[_Draft], str]:
    """Return the story sentences in `text` and whatever text is left around them.

    Text before the first sentence that ends in a separator ("Reset password: As a …",
    "US-12 — As a …") is the story's title, minus any story id.
    """
    matches = list(STORY.finditer(text))
    drafts: list[_Draft] = []
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
            _Draft(
                epic=epic,
                title=title,
                as_a=" ".join(match.group("role").split()),
                i_want=match.group("want"),
                so_that=match.group("so") or "",
                priority=detect_priority(wording, default),
                indent=None,
            )
        )
    rest.append(text[position:].strip())
    return drafts, " ".join(part for part in rest if part)


def _draft_from_item(text: str, *, epic: str, default: Priority, indent: int) -> _Draft:
    priority = detect_priority(text, default)
    body = PRIORITY_TAG.sub("", STORY_PREFIX.sub("", text)).strip(" -–—:")
    so_that = ""
    split = SO_THAT.match(body)
    if split:
        body, so_that = split.group("head"), split.group("so")
    role, want = DEFAULT_ROLE, body
    role_action = ROLE_ACTION.match(body)
    if role_action:
        role = singular(role_action.group("role").lower())
        want = role_action.group("action")
        if role in SYSTEM_ROLES:
            want = f"the {role} to {want}"
            role = DEFAULT_ROLE
    else:
        want = want[:1].lower() + want[1:] if not want[1:2].isupper() else want
    return _Draft(
        epic=epic,
        title=title_from(body),
        as_a=role,
        i_want=want,
        so_that=so_that,
        priority=priority,
        indent=indent,
    )


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
    blank line came since its last line, and whether an "Acceptance criteria:" label is open.
    """

    def __init__(self, lines: list[str], *, max_stories: int | None) -> None:
        self.lines = lines
        self.max_stories = max_stories
        self.drafts: list[_Draft] = []
        self.context: list[str] = []
        self.epic = DEFAULT_EPIC
        self.section_priority = Priority.SHOULD
        self.context_section = False
        self.current: _Draft | None = None
        self.gap = False  # a blank line since the current story's last line
        self.collecting = False  # after an "Acceptance criteria:" label
        self.in_fence = False
        self.index = 0

    def run(self) -> list[_Draft]:
        while self.index < len(self.lines):
            line = self.lines[self.index]
            self.index += 1
            self.line(line)
        return self.drafts

    def line(self, line: str) -> None:
        if FENCE.match(line):
            self.in_fence = not self.in_fence
            return
        if self.in_fence:
            return
        line = BLOCKQUOTE.sub("", line)
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
        else:
            self.prose(clean(line))

    def is_underlined(self, line: str) -> bool:
        next_line = self.lines[self.index] if self.index < len(self.lines) else ""
        return bool(
            SETEXT_UNDERLINE.match(next_line)
            and not LIST_ITEM.match(line)
            and not TABLE_ROW.match(line)
            and not STORY.search(line)
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

    def add_stories(self, new: list[_Draft], rest: str) -> None:
        self.drafts.extend(new)
        if self.max_stories is not None and len(self.drafts) > self.max_stories:
            raise RequirementsError(
                f"The requirements hold more than {self.max_stories:,} user stories; the limit is "
                f"{self.max_stories:,}. Split them into several projects, or keep one line per story and move "
                "details into its acceptance criteria."
            )
        self.current, self.gap, self.collecting = new[-1], False, False
        rest = PRIORITY_TAG.sub("", rest).strip(" -–—:;,.")
        if rest and (MODAL.search(rest) or GHERKIN.match(rest)):
            self.current.criteria.append(rest)
        elif rest:
            self.context.append(rest)

    def table_row(self, line: str) -> None:
        if TABLE_SEPARATOR.match(line):
            return
        cells = [clean(cell) for cell in line.strip().strip("|").split("|")]
        row = " | ".join(cells)
        found: list[_Draft] = []
        for cell in cells:
            found += _drafts_from_sentences(cell, epic=self.epic, default=self.section_priority, priority_text=row)[0]
        if found:
            self.add_stories(found, "")
        else:
            self.context.append(row)

    def list_item(self, text: str, indent: int) -> None:
        found, rest = _drafts_from_sentences(text, epic=self.epic, default=self.section_priority)
        if found:
            for draft in found:
                draft.indent = indent
            self.add_stories(found, rest)
            return
        current = self.current
        if current is not None and (
            self.collecting
            or GHERKIN.match(text)
            or (current.indent is not None and indent > current.indent)
            or (current.indent is None and not self.gap and MODAL.search(text))
        ):
            current.criteria.append(text)
            self.gap = False
            return
        if self.context_section:
            self.context.append(text)
            return
        self.add_stories([_draft_from_item(text, epic=self.epic, default=self.section_priority, indent=indent)], "")

    def prose(self, text: str) -> None:
        found, rest = _drafts_from_sentences(text, epic=self.epic, default=self.section_priority)
        if found:
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
        if self.current is not None and (
            GHERKIN.match(text) or ((MODAL.search(text) or self.collecting) and not self.gap)
        ):
            self.current.criteria.append(text)
            self.gap = False
            return
        if self.gap:
            self.collecting = False
        self.context.append(text)


def analyse_requirements(text: str, *, max_stories: int | None = None) -> RequirementsAnalysis:
    """Turn requirements text into user stories and detected features.

    Raises `RequirementsError` (with a message for the customer) for empty, non-text or
    oversized input, text in which no user story can be found, or (when `max_stories` is given)
    more stories than that — refused as soon as the next one is found, not after the whole text.
    """
    text = _validated_text(text).lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parser = _Parser(_unwrap(text.split("\n")), max_stories=max_stories)
    drafts = parser.run()
    if not drafts:
        raise RequirementsError(
            "No user stories were found. Write each requirement as “As a <role>, I want <goal> "
            "so that <benefit>”, or as a bullet or numbered list item."
        )
    stories = tuple(draft.build() for draft in drafts)
    return RequirementsAnalysis(stories=stories, context_features=detect_features("\n".join(parser.context)))
