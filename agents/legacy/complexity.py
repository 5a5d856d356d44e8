"""Cyclomatic complexity and maintainability index per module.

This module owns the complexity measures, with two methods named in every result:

``radon`` (Python that parses)
    radon's cyclomatic complexity per function and method (``ComplexityVisitor``, the visitor
    behind ``cc_visit``) and its maintainability index: ``mi_compute`` over the Halstead volume,
    the module's total complexity, the logical lines and the comment percentage, with docstrings
    counted as comments — exactly ``radon.metrics.mi_visit(code, multi=True)``, computed from the
    tree :class:`~agents.legacy.sources.SourceFile` parsed once instead of re-parsing per metric.

``approximation`` (other languages, and Python that does not parse, e.g. Python 2)
    Cyclomatic complexity of a function = 1 + the decision points in its body, counted on the
    code with comments and string contents removed: the language's branch keywords (``if``,
    ``for``, ``while``, ``case``, ``catch``…) and short-circuit operators (``&&``, ``||``,
    ``and``/``or``) and the ternary ``?``. Functions are found by header patterns: in brace
    languages a header line opens a ``{…}`` block that ends at its matching brace; in Ruby, SQL
    and COBOL a function (``def``, procedure, paragraph) runs to the next header. Decisions
    outside any function count towards the module total only. The maintainability index uses the
    same classic formula as radon (``171 − 5.2·ln V − 0.23·G − 16.2·ln SLOC + 50·sin√(2.46·C)``,
    scaled to 0–100) with the Halstead volume V estimated from a token count: every identifier,
    literal and operator character is a token, V = N·log₂ n for N tokens of n distinct kinds.

Markup (HTML, CSS) has no control flow: method ``not applicable``, no index.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from radon.metrics import h_visit_ast, mi_compute
from radon.raw import analyze
from radon.visitors import ComplexityVisitor

from agents.legacy.languages import COBOL, Family, Language, compile_pattern
from agents.legacy.loc import ScannedSource
from agents.legacy.sources import SourceFile

RADON = "radon"
APPROXIMATION = "approximation"
NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class FunctionComplexity:
    """One function or method: its name, lines and cyclomatic complexity."""

    name: str
    line: int
    end_line: int
    complexity: int

    @property
    def length(self) -> int:
        return self.end_line - self.line + 1


@dataclass(frozen=True)
class ModuleComplexity:
    """Complexity of one module (file) and the method that measured it."""

    path: str
    method: str
    functions: tuple[FunctionComplexity, ...]
    total_complexity: int
    maintainability_index: float | None

    @property
    def max_complexity(self) -> int:
        return max((f.complexity for f in self.functions), default=0)

    @property
    def mean_complexity(self) -> float:
        if not self.functions:
            return 0.0
        return sum(f.complexity for f in self.functions) / len(self.functions)


def measure_complexity(source: SourceFile, scanned: ScannedSource) -> ModuleComplexity:
    """Measure one module, with radon where it can and the stated approximation otherwise."""
    family = source.language.family
    if family is Family.MARKUP:
        return ModuleComplexity(source.path, NOT_APPLICABLE, (), 0, None)
    if family is Family.PYTHON:
        measured = _measure_python(source)
        if measured is not None:
            return measured
    return _approximate(source.path, source.language, scanned)


def _measure_python(source: SourceFile) -> ModuleComplexity | None:
    tree = source.python_tree
    if tree is None:
        return None
    try:
        visitor = ComplexityVisitor.from_ast(tree)
        functions: list[FunctionComplexity] = [
            FunctionComplexity(f.name, f.lineno, f.endline, f.complexity) for f in visitor.functions
        ]
        for klass in visitor.classes:
            functions.extend(FunctionComplexity(m.fullname, m.lineno, m.endline, m.complexity) for m in klass.methods)
        total = int(visitor.total_complexity)
        raw = analyze(source.text)
        comment_lines = raw.comments + raw.multi
        comment_percent = comment_lines / float(raw.sloc) * 100 if raw.sloc else 0.0
        volume = h_visit_ast(tree).total.volume
        index = float(mi_compute(volume, total, raw.lloc, comment_percent))
    except (RecursionError, SyntaxError, ValueError):
        # radon re-tokenizes; code ast accepts but tokenize rejects is measured approximately.
        return None
    functions.sort(key=lambda f: f.line)
    return ModuleComplexity(source.path, RADON, tuple(functions), total, round(index, 2))


_STRING_LITERAL = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_HALSTEAD_TOKEN = re.compile(r"[A-Za-z_$][\w$-]*|\d[\w.]*|\"\"|''|``|\S")
_PROCEDURE_DIVISION = re.compile(r"\bPROCEDURE\s+DIVISION\b", re.IGNORECASE)


@dataclass
class _Frame:
    name: str
    line: int
    depth: int
    decisions: int = 0


def _header_name(match: re.Match[str]) -> str:
    return next((group for group in match.groups() if group), "<anonymous>")


_CONTROL_WORDS = frozenset(
    {
        "if",
        "for",
        "foreach",
        "while",
        "switch",
        "catch",
        "return",
        "sizeof",
        "new",
        "else",
        "do",
        "try",
        "synchronized",
        "using",
        "lock",
        "elif",
        "when",
        "until",
        "with",
    }
)


def _approximate(path: str, language: Language, scanned: ScannedSource) -> ModuleComplexity:
    ci = language.case_insensitive
    decisions = compile_pattern(language.decisions or r"(?!)", case_insensitive=ci)
    header = compile_pattern(language.function_header or r"(?!)", case_insensitive=ci)
    lines = [_STRING_LITERAL.sub('""', line) if line else "" for line in scanned.code_lines]
    if language.family is Family.BRACES:
        functions, module_decisions = _brace_functions(lines, decisions, header)
    else:
        functions, module_decisions = _segment_functions(lines, decisions, header, language)
    total = module_decisions + sum(f.complexity for f in functions)
    tokens: list[str] = []
    for line in lines:
        if line:
            tokens.extend(_HALSTEAD_TOKEN.findall(line))
    distinct = len(set(tokens))
    volume = len(tokens) * math.log2(distinct) if distinct > 1 else 0.0
    counts = scanned.counts
    comment_percent = counts.comment / (counts.code + counts.comment) * 100 if counts.code else 0.0
    index = float(mi_compute(volume, total, counts.code, comment_percent))
    return ModuleComplexity(path, APPROXIMATION, tuple(functions), total, round(index, 2))


def _brace_functions(
    lines: list[str], decisions: re.Pattern[str], header: re.Pattern[str]
) -> tuple[list[FunctionComplexity], int]:
    events = re.compile(r"(?P<open>\{)|(?P<close>\})|(?P<decision>" + decisions.pattern + ")", decisions.flags)
    functions: list[FunctionComplexity] = []
    stack: list[_Frame] = []
    pending: tuple[str, int] | None = None
    module_decisions = 0
    depth = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        found = header.search(line)
        if found and _header_name(found) not in _CONTROL_WORDS:
            pending = (_header_name(found), number)
        elif pending is not None and not line.lstrip().startswith("{"):
            # The header was a call or declaration after all: no body followed it.
            pending = None
        for event in events.finditer(line):
            if event.lastgroup == "open":
                if pending is not None:
                    stack.append(_Frame(pending[0], pending[1], depth))
                    pending = None
                depth += 1
            elif event.lastgroup == "close":
                depth = max(0, depth - 1)
                if stack and stack[-1].depth == depth:
                    frame = stack.pop()
                    functions.append(FunctionComplexity(frame.name, frame.line, number, 1 + frame.decisions))
            elif stack:
                stack[-1].decisions += 1
            else:
                module_decisions += 1
    last = len(lines)
    for frame in reversed(stack):  # unbalanced braces: close what is open at the end
        functions.append(FunctionComplexity(frame.name, frame.line, last, 1 + frame.decisions))
    functions.sort(key=lambda f: f.line)
    return functions, module_decisions


def _segment_functions(
    lines: list[str],
    decisions: re.Pattern[str],
    header: re.Pattern[str],
    language: Language,
) -> tuple[list[FunctionComplexity], int]:
    functions: list[FunctionComplexity] = []
    current: _Frame | None = None
    last_code_line = 0
    module_decisions = 0
    in_procedures = language is not COBOL
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not in_procedures and _PROCEDURE_DIVISION.search(line):
            in_procedures = True
            continue
        found = header.search(line) if in_procedures else None
        if found:
            if current is not None:
                functions.append(FunctionComplexity(current.name, current.line, last_code_line, 1 + current.decisions))
            current = _Frame(_header_name(found), number, 0)
        count = len(decisions.findall(line))
        if current is not None:
            current.decisions += count
        else:
            module_decisions += count
        last_code_line = number
    if current is not None:
        functions.append(FunctionComplexity(current.name, current.line, last_code_line, 1 + current.decisions))
    return functions, module_decisions
