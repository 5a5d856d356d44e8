"""The languages the legacy analyser recognises, and their lexical syntax.

This module owns the mapping from file extension to :class:`Language` and, for each language, the
comment and string syntax the line counter needs (``loc``) and the decision-point and function
header patterns the complexity approximation uses (``complexity``). Keeping both in one table
means adding a language is one entry here, not an edit in three analysers.

Patterns are regular-expression fragments, not literals, because some comment markers are only
markers in context: a shell ``#`` starts a comment only at the start of a word (``$#`` does not),
and Ruby's ``=begin`` only at the start of a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import PurePosixPath


class Family(Enum):
    """How the complexity approximation finds function boundaries in a language."""

    #: Python parsed by ``ast`` and measured by radon.
    PYTHON = "python"
    #: Functions are ``{ ... }`` blocks opened after a header line (C, Java, JS, Go, shell...).
    BRACES = "braces"
    #: A function runs from its header to the next header (Ruby ``def``, SQL procedures,
    #: COBOL paragraphs), because matching their ``end`` keywords needs a real parser.
    SEGMENTS = "segments"
    #: Markup and style sheets: counted for size, no control flow to measure.
    MARKUP = "markup"


@dataclass(frozen=True)
class Language:
    """One language's name and lexical syntax.

    ``line_comment`` and the ``block_comments`` openers are regex fragments; a block comment
    closes at the literal text paired with its opener. ``strings`` are delimiters of
    strings that end at the end of a line at the latest; ``multiline_strings`` may span lines.
    """

    name: str
    family: Family
    line_comment: str | None = None
    block_comments: tuple[tuple[str, str], ...] = ()
    strings: tuple[str, ...] = ()
    multiline_strings: tuple[str, ...] = ()
    #: Regex of one decision point (branch) for the cyclomatic-complexity approximation.
    decisions: str | None = None
    #: Regex matching a line that defines a function; its first group that matched names it.
    function_header: str | None = None
    case_insensitive: bool = False
    #: COBOL fixed form: columns 1-6 are a sequence area, column 7 an indicator, 73+ ignored.
    fixed_form: bool = False


_C_DECISIONS = r"\b(?:if|for|while|case|catch)\b|&&|\|\||\?(?![.?:])"
# A C-style definition: a name, a one-line parameter list, optional trailing modifiers, then
# an opening brace or the end of the line (the brace on the next line, Allman style). A call
# statement ends in ``;`` and so does not match.
_C_HEADER = (
    r"^\s*(?:[\w$<>\[\],.*&:~?]+\s+)*\*?([A-Za-z_$~][\w$]*)\s*\([^;{}]*\)\s*"
    r"(?:const\b|noexcept\b|override\b|throws\s+[\w.,\s]+|:\s*[\w<>\[\].,|?\s]+)?\s*\{?\s*$"
)
_JS_HEADER = (
    r"\bfunction\b\s*\*?\s*([A-Za-z_$][\w$]*)\s*\("
    r"|^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s*)?"
    r"(?:function\b|\([^()]*\)\s*(?::\s*[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)"
    r"|" + _C_HEADER
)

PYTHON = Language(
    name="Python",
    family=Family.PYTHON,
    line_comment=r"#",
    strings=('"', "'"),
    multiline_strings=('"""', "'''"),
    decisions=r"\b(?:if|elif|for|while|except|and|or)\b",
    function_header=r"^\s*(?:async\s+)?def\s+(\w+)",
)
JAVASCRIPT = Language(
    name="JavaScript",
    family=Family.BRACES,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    multiline_strings=("`",),
    decisions=_C_DECISIONS,
    function_header=_JS_HEADER,
)
TYPESCRIPT = Language(
    name="TypeScript",
    family=Family.BRACES,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    multiline_strings=("`",),
    decisions=_C_DECISIONS,
    function_header=_JS_HEADER,
)
JAVA = Language(
    name="Java",
    family=Family.BRACES,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    multiline_strings=('"""',),
    decisions=_C_DECISIONS,
    function_header=_C_HEADER,
)
C = Language(
    name="C",
    family=Family.BRACES,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    decisions=_C_DECISIONS,
    function_header=_C_HEADER,
)
CPP = Language(
    name="C++",
    family=Family.BRACES,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    decisions=_C_DECISIONS,
    function_header=_C_HEADER,
)
CSHARP = Language(
    name="C#",
    family=Family.BRACES,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    decisions=_C_DECISIONS + r"|\?\?",
    function_header=_C_HEADER,
)
GO = Language(
    name="Go",
    family=Family.BRACES,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    multiline_strings=("`",),
    decisions=r"\b(?:if|for|case)\b|&&|\|\|",
    function_header=r"^\s*func\s*(?:\([^)]*\)\s*)?([A-Za-z_]\w*)\s*[\[(]",
)
PHP = Language(
    name="PHP",
    family=Family.BRACES,
    line_comment=r"//|#(?!\[)",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
    decisions=r"\b(?:if|elseif|for|foreach|while|case|catch)\b|&&|\|\||\?(?![?:>-])",
    function_header=r"\bfunction\b\s*&?\s*([A-Za-z_]\w*)\s*\(",
)
RUBY = Language(
    name="Ruby",
    family=Family.SEGMENTS,
    line_comment=r"#",
    block_comments=(("^=begin", "=end"),),
    strings=('"', "'"),
    decisions=(r"\b(?:if|elsif|unless|while|until|for|when|rescue|and|or)\b|&&|\|\||(?<=\s)\?(?=\s)"),
    function_header=r"^\s*def\s+(?:self\.)?([\w?!=\[\]]+)",
)
SHELL = Language(
    name="Shell",
    family=Family.BRACES,
    line_comment=r"(?:(?<=\s)|^)#",
    strings=('"', "'"),
    decisions=r"\b(?:if|elif|for|while|until)\b|&&|\|\|",
    function_header=(r"^\s*function\s+([A-Za-z_][\w-]*)|^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{?\s*$"),
)
SQL = Language(
    name="SQL",
    family=Family.SEGMENTS,
    line_comment=r"--",
    block_comments=((r"/\*", "*/"),),
    strings=("'",),
    decisions=r"(?<!END )\b(?:IF|ELSIF|WHEN|WHILE|LOOP)\b",
    function_header=(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:PROCEDURE|FUNCTION|TRIGGER)\s+([\w.\[\]\"`]+)"),
    case_insensitive=True,
)
COBOL = Language(
    name="COBOL",
    family=Family.SEGMENTS,
    line_comment=r"\*>",
    strings=('"', "'"),
    decisions=r"(?<![\w-])(?:IF|WHEN|UNTIL|AND|OR)(?![\w-])",
    # A paragraph name alone on its line, ended by a period, starting in Area A (columns 8-11,
    # i.e. at most 3 spaces into the code area the scanner keeps); statements such as
    # ``END-IF.`` sit in Area B. PROCEDURE DIVISION only: the complexity module enforces that.
    function_header=r"^ {0,3}([A-Z0-9][A-Z0-9-]*)\s*\.\s*$",
    case_insensitive=True,
    fixed_form=True,
)
HTML = Language(
    name="HTML",
    family=Family.MARKUP,
    block_comments=((r"<!--", "-->"),),
)
CSS = Language(
    name="CSS",
    family=Family.MARKUP,
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
)
SCSS = Language(
    name="SCSS",
    family=Family.MARKUP,
    line_comment=r"//",
    block_comments=((r"/\*", "*/"),),
    strings=('"', "'"),
)

LANGUAGES: tuple[Language, ...] = (
    PYTHON,
    JAVASCRIPT,
    TYPESCRIPT,
    JAVA,
    C,
    CPP,
    CSHARP,
    GO,
    PHP,
    RUBY,
    SHELL,
    SQL,
    COBOL,
    HTML,
    CSS,
    SCSS,
)

_BY_EXTENSION: dict[str, Language] = {
    ".py": PYTHON,
    ".pyw": PYTHON,
    ".js": JAVASCRIPT,
    ".mjs": JAVASCRIPT,
    ".cjs": JAVASCRIPT,
    ".jsx": JAVASCRIPT,
    ".ts": TYPESCRIPT,
    ".tsx": TYPESCRIPT,
    ".mts": TYPESCRIPT,
    ".cts": TYPESCRIPT,
    ".java": JAVA,
    ".c": C,
    ".h": C,
    ".cc": CPP,
    ".cpp": CPP,
    ".cxx": CPP,
    ".hh": CPP,
    ".hpp": CPP,
    ".hxx": CPP,
    ".cs": CSHARP,
    ".go": GO,
    ".php": PHP,
    ".rb": RUBY,
    ".rake": RUBY,
    ".sh": SHELL,
    ".bash": SHELL,
    ".ksh": SHELL,
    ".zsh": SHELL,
    ".sql": SQL,
    ".cob": COBOL,
    ".cbl": COBOL,
    ".cpy": COBOL,
    ".cobol": COBOL,
    ".html": HTML,
    ".htm": HTML,
    ".css": CSS,
    ".scss": SCSS,
    ".less": SCSS,
}

#: Generated files that carry a source extension but are not code anyone maintains.
_GENERATED_SUFFIXES = (".min.js", ".min.css", ".bundle.js", ".pb.go", "_pb2.py")


def language_for(path: str) -> Language | None:
    """The language of a file by its name, or None when it is not analysed source."""
    name = PurePosixPath(path).name.lower()
    if name.endswith(_GENERATED_SUFFIXES):
        return None
    return _BY_EXTENSION.get(PurePosixPath(name).suffix)


@lru_cache(maxsize=256)
def compile_pattern(pattern: str, *, case_insensitive: bool = False) -> re.Pattern[str]:
    """Compile (once) one of a language's patterns with the language's case rule."""
    return re.compile(pattern, re.IGNORECASE if case_insensitive else 0)
