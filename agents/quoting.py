"""Customer text into generated files: the escapers for the places ``repr`` and ``json.dumps`` do
not cover.

Everything the built-in agents write into a repository is built from text a customer typed
(project and company names, story titles and sentences, acceptance criteria, backlog items) or a
model wrote. Such text reaches a generated file only as data: a Python value through ``repr``, a
JSON (and YAML) value through ``json.dumps``, and otherwise through one of these functions, so
that no name can end a string, a docstring, a comment, a heading or an HTML element and start
code or markup of its own. Each escaper is exact — the reader of the file (Python's parser, a
Markdown renderer, a browser) gets back the very text, with only the differences named here.

No maintained library escapes for these contexts together: ``html.escape`` covers HTML (used
here), but there is no standard escaper for a Python docstring or comment, and Markdown libraries
render Markdown rather than escape text for it.
"""

from __future__ import annotations

import html
import re

# Characters that would end or bend a line of a Python comment or a Markdown line in some reader
# (Python's own \r\n handling, str.splitlines, editors, renderers): \r \v \f, the C0/C1 controls,
# NEL, the Unicode line and paragraph separators, the byte-order mark and lone surrogates (which
# UTF-8 cannot even write).
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]{}|~#!])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+=])", re.M)
_MARKDOWN_ORDERED = re.compile(r"^(\s*\d+)([.)])", re.M)


def _escape_code_point(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def py_docstring(text: str) -> str:
    """A complete triple-quoted Python string literal (quotes included) whose value is ``text``
    exactly: backslashes and every double quote escaped (so neither ``\"\"\"`` nor a closing
    quote at the end can end it), and the characters Python would not keep as they are (``\\r``,
    controls, lone surrogates, ``\\u2028`` for the editors' sake) written as escapes. Line breaks
    (``\\n``) and tabs stay, so the docstring still reads as text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"""' + _UNPRINTABLE.sub(_escape_code_point, escaped) + '"""'


def py_comment(text: str) -> str:
    """``text`` as Python comment lines (``# ...``): every line break of any kind starts a new
    comment line, and other unprintable characters are written as escapes, so the text cannot
    leave the comment."""
    lines = _LINE_BREAKS.split(text)
    return "\n".join(("# " + _UNPRINTABLE.sub(_escape_code_point, line)).rstrip() for line in lines)


def md_block(text: str) -> str:
    """A Markdown paragraph that renders as ``text``: HTML is escaped (``<script>`` shows as text),
    Markdown punctuation is backslash-escaped, and a line that would start a heading, list, quote
    or rule starts with an escaped character instead. Line breaks stay line breaks (``\\n``)."""
    lines = _LINE_BREAKS.split(text)
    # Punctuation first: the entities html.escape writes (``&lt;``) must keep their ``&`` and ``;``.
    escaped = [html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", line), quote=False) for line in lines]
    block = _UNPRINTABLE.sub(" ", "\n".join(escaped))
    return _MARKDOWN_ORDERED.sub(r"\1\\\2", _MARKDOWN_LINE_START.sub(r"\1\\\2", block))


def md_inline(text: str) -> str:
    """``text`` for one line of Markdown (a heading, a list item, a table cell): as ``md_block``,
    with every line break a space, so the text cannot start a line (or a front-matter block) of
    its own; ``|`` is escaped, so a table cell stays one cell."""
    return md_block(_LINE_BREAKS.sub(" ", text))
