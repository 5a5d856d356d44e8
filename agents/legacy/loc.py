"""Lines of code: blank, comment and code lines per file and per language.

This module owns the line classification. Every physical line (split on ``\\n``) is exactly one
of:

- **blank**: only whitespace — also inside a block comment or a multi-line string;
- **code**: holds at least one character of code (a string literal is code);
- **comment**: anything else, i.e. only comment text (line comments, block comments, COBOL
  comment lines).

A line with code and a trailing comment is a code line. Python is read with :mod:`tokenize`, so
``#`` inside strings is not a comment, and a statement that consists of string literals only —
a docstring, or a block of text disabled by quoting it — counts as comment lines, as cloc does.
Python that :mod:`tokenize` rejects (badly mixed tabs and spaces in old Python 2 code) is
scanned like the other languages, without the docstring rule.

The other languages use one scanner driven by the comment and string syntax in
``languages``: string delimiters are honoured, so ``"http://x"`` is not a comment; block comments
may span lines; escapes with ``\\`` are honoured in strings. Known approximations: JavaScript
regular-expression literals and shell here-documents are not recognised as literals. COBOL is
fixed form: a ``*`` or ``/`` in column 7 makes a comment line, columns 1-6 (sequence numbers) and
73+ are ignored, and ``*>`` starts an inline comment.

Besides the counts, a scan gives each line's code with comments removed and string contents
emptied (``"abc"`` becomes ``""``), which the complexity approximation reads so that keywords in
comments and strings are not counted as branches.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from agents.legacy.languages import PYTHON, Language, compile_pattern
from agents.legacy.sources import SourceFile


@dataclass(frozen=True)
class LineCounts:
    """Blank, comment and code line counts."""

    blank: int = 0
    comment: int = 0
    code: int = 0

    @property
    def total(self) -> int:
        return self.blank + self.comment + self.code

    def __add__(self, other: LineCounts) -> LineCounts:
        return LineCounts(self.blank + other.blank, self.comment + other.comment, self.code + other.code)


@dataclass(frozen=True)
class ScannedSource:
    """The counts of one file and its code text per line ("" for blank and comment lines)."""

    counts: LineCounts
    code_lines: tuple[str, ...]


@dataclass(frozen=True)
class LanguageLoc:
    """Line counts of all files of one language."""

    language: str
    files: int
    blank: int
    comment: int
    code: int


def split_lines(text: str) -> list[str]:
    """Physical lines as :mod:`tokenize` numbers them (``\\n``-separated, ``\\r`` dropped)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def scan_source(text: str, language: Language) -> ScannedSource:
    """Classify every line of ``text`` and extract its code."""
    lines = split_lines(text)
    if language is PYTHON:
        scanned = _scan_python(text, lines)
        if scanned is not None:
            return scanned
    if language.fixed_form:
        return _scan_fixed_form(lines, language)
    return _scan_generic(lines, language)


def scan_file(source: SourceFile) -> ScannedSource:
    return scan_source(source.text, source.language)


def loc_by_language(scans: Iterable[tuple[SourceFile, ScannedSource]]) -> list[LanguageLoc]:
    """Sum counts per language, largest code count first."""
    totals: dict[str, tuple[int, LineCounts]] = {}
    for source, scanned in scans:
        files, counts = totals.get(source.language.name, (0, LineCounts()))
        totals[source.language.name] = (files + 1, counts + scanned.counts)
    rows = [
        LanguageLoc(name, files, counts.blank, counts.comment, counts.code) for name, (files, counts) in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row.code, row.language))


def _classify(lines: list[str], code: list[bool], comment: list[bool]) -> LineCounts:
    blank = comments = codes = 0
    for index, line in enumerate(lines):
        if not line.strip():
            blank += 1
        elif code[index] or not comment[index]:
            codes += 1
        else:
            comments += 1
    return LineCounts(blank, comments, codes)


_PY_SKIPPED = frozenset({tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.COMMENT})


def _scan_python(text: str, lines: list[str]) -> ScannedSource | None:
    count = len(lines)
    code = [False] * (count + 1)
    comment = [False] * (count + 1)
    statement: list[tokenize.TokenInfo] = []

    def close_statement() -> None:
        if not statement:
            return
        if all(token.type == tokenize.STRING for token in statement):
            # A string-only statement: a docstring or quoted-out text.
            for row in range(statement[0].start[0], statement[-1].end[0] + 1):
                comment[row - 1] = True
        else:
            for token in statement:
                for row in range(token.start[0], token.end[0] + 1):
                    code[row - 1] = True
        statement.clear()

    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comment[token.start[0] - 1] = True
            elif token.type == tokenize.NEWLINE:
                close_statement()
            elif token.type not in _PY_SKIPPED:
                statement.append(token)
        close_statement()
    except (tokenize.TokenError, SyntaxError):
        return None
    counts = _classify(lines, code, comment)
    code_lines = tuple(line if code[i] else "" for i, line in enumerate(lines))
    return ScannedSource(counts, code_lines)


@dataclass(frozen=True)
class _Syntax:
    tokens: re.Pattern[str]
    block_ends: dict[str, str]
    string_ends: dict[str, re.Pattern[str]]
    multiline: frozenset[str]


_SYNTAX_CACHE: dict[str, _Syntax] = {}


def _syntax(language: Language) -> _Syntax:
    cached = _SYNTAX_CACHE.get(language.name)
    if cached is not None:
        return cached
    parts: list[str] = []
    block_ends: dict[str, str] = {}
    if language.line_comment:
        parts.append(f"(?P<line>{language.line_comment})")
    for index, (opener, closer) in enumerate(language.block_comments):
        group = f"b{index}"
        parts.append(f"(?P<{group}>{opener})")
        block_ends[group] = closer
    delimiters = sorted(set(language.strings) | set(language.multiline_strings), key=len, reverse=True)
    string_ends: dict[str, re.Pattern[str]] = {}
    for delimiter in delimiters:
        string_ends[delimiter] = re.compile(r"(?:\\.|[^\\])*?" + re.escape(delimiter))
    if delimiters:
        parts.append("(?P<s>" + "|".join(re.escape(d) for d in delimiters) + ")")
    pattern = "|".join(parts) if parts else r"(?!)"
    syntax = _Syntax(
        tokens=compile_pattern(pattern, case_insensitive=language.case_insensitive),
        block_ends=block_ends,
        string_ends=string_ends,
        multiline=frozenset(language.multiline_strings),
    )
    _SYNTAX_CACHE[language.name] = syntax
    return syntax


def _scan_generic(lines: list[str], language: Language) -> ScannedSource:
    syntax = _syntax(language)
    count = len(lines)
    code = [False] * count
    comment = [False] * count
    code_lines: list[str] = []
    block_end: str | None = None
    open_string: str | None = None
    for index, line in enumerate(lines):
        pieces: list[str] = []
        position = 0
        length = len(line)
        while position < length:
            if block_end is not None:
                comment[index] = True
                end = line.find(block_end, position)
                if end < 0:
                    break
                position = end + len(block_end)
                block_end = None
                continue
            if open_string is not None:
                code[index] = True
                closing = syntax.string_ends[open_string].match(line, position)
                if closing is None:
                    if open_string not in syntax.multiline:
                        open_string = None
                    break
                pieces.append(open_string)
                position = closing.end()
                open_string = None
                continue
            match = syntax.tokens.search(line, position)
            segment = line[position : match.start() if match else length]
            if segment.strip():
                code[index] = True
                pieces.append(segment)
            if match is None:
                break
            group = match.lastgroup
            if group == "line":
                comment[index] = True
                break
            if group == "s":
                code[index] = True
                open_string = match.group()
                pieces.append(open_string)
            elif group is not None:
                comment[index] = True
                block_end = syntax.block_ends[group]
            position = match.end()
        if open_string is not None and open_string not in syntax.multiline:
            open_string = None
        code_lines.append("".join(pieces) if code[index] else "")
    return ScannedSource(_classify(lines, code, comment), tuple(code_lines))


def _scan_fixed_form(lines: list[str], language: Language) -> ScannedSource:
    """COBOL fixed form: classify by the indicator column, scan columns 8-72 for code."""
    areas: list[str] = []
    comment_rows: set[int] = set()
    for index, line in enumerate(lines):
        indicator = line[6:7]
        if indicator in ("*", "/"):
            comment_rows.add(index)
            areas.append("")
        else:
            areas.append(line[7:72])
    scanned = _scan_generic(areas, language)
    blank, comments, codes = scanned.counts.blank, scanned.counts.comment, scanned.counts.code
    # Comment-indicator lines were handed to the scanner as empty (counted blank).
    blank -= len(comment_rows)
    comments += len(comment_rows)
    return ScannedSource(LineCounts(blank, comments, codes), scanned.code_lines)
