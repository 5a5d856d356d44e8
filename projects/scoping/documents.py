"""Reading uploaded requirements documents into text for `projects.requirements`.

This module owns what uploads are accepted and how each format is read:

- `.txt`, `.md`, `.markdown`: UTF-8 (a BOM is allowed); NUL bytes, invalid UTF-8 or a high share
  of control characters are refused as binary.
- `.docx`: python-docx. Headings become Markdown headings, list paragraphs become bullets or
  numbered items (indented by level), tables become Markdown table rows, so the analyser sees
  the document's structure. The zip container is checked first (entry count, total expanded
  size and compression ratio) so that a small upload cannot expand into gigabytes.
- `.csv`, `.xlsx`: backlog spreadsheets, read into Markdown table rows by `projects.scoping.spreadsheets`.
- `.pdf`: pypdf text extraction page by page; encrypted PDFs that need a password and PDFs
  without extractable text (scans) are refused.

What a file may cost is bounded by `DocumentLimits`: its size (5 MB), its extracted text, PDF
pages and the decoded content streams those pages run (a small PDF can point hundreds of pages
at one huge stream, and each page re-runs it), the size of a .docx's `word/document.xml` and its
paragraph count. Time and memory are bounded by the process that calls this module
(`projects.scoping.intake_limits` runs it in a child process with rlimits); these caps make the usual
hostile shapes fail fast with a clear message instead of running into those limits.

Every refusal is a `RequirementsError` whose message names the file and says what to do; a
malformed file never escapes as a parser traceback.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from projects.requirements import MAX_REQUIREMENTS_CHARS, RequirementsError
from projects.scoping.spreadsheets import read_csv, read_xlsx

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_PDF_PAGES = 200
MAX_DOCX_EXPANDED_BYTES = 100 * 1024 * 1024
MAX_DOCX_ENTRIES = 2_000
MAX_DOCX_COMPRESSION_RATIO = 100
TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})
SUPPORTED_EXTENSIONS = (".txt", ".md", ".markdown", ".docx", ".pdf", ".csv", ".xlsx")

_SUPPORTED_LABEL = ".txt, .md, .docx, .pdf, .csv or .xlsx"


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What one uploaded document may hold. The defaults are this module's own ceilings; the
    portal passes its configured, tighter ones (`projects.scoping.intake_limits`)."""

    max_bytes: int = MAX_DOCUMENT_BYTES
    max_text_chars: int = MAX_REQUIREMENTS_CHARS
    max_pdf_pages: int = MAX_PDF_PAGES
    # Decoded content-stream bytes over all pages (a stream shared by N pages counts N times:
    # text extraction re-runs it for each). Text-heavy pages hold 5–50 KB.
    max_pdf_content_bytes: int = 20 * 1024 * 1024
    max_docx_xml_bytes: int = 20 * 1024 * 1024
    max_docx_paragraphs: int = 20_000


DEFAULT_DOCUMENT_LIMITS = DocumentLimits()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def read_requirements_document(*, filename: str, data: bytes, limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS) -> str:
    """Return the text of an uploaded requirements document.

    Raises `RequirementsError` for unsupported types, empty or oversized files, binary junk,
    files over `limits` and files the parser cannot read.
    """
    name = PurePath(filename or "").name or "the file"
    if not isinstance(data, bytes | bytearray):
        raise RequirementsError(f"Could not read {name}: the upload has no file content.")
    extension = PurePath(name).suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        shown = f"“{extension}” files" if extension else "files without an extension"
        raise RequirementsError(f"{name}: {shown} are not supported. Upload a {_SUPPORTED_LABEL} file.")
    if len(data) > limits.max_bytes:
        raise RequirementsError(
            f"{name} is too large ({len(data):,} bytes); the limit is {_megabytes_whole(limits.max_bytes)} "
            f"({limits.max_bytes:,} bytes). Upload a smaller file or paste the requirements as text."
        )
    if not data:
        raise RequirementsError(f"{name} is empty.")
    if extension in TEXT_EXTENSIONS:
        text = _read_text(name, bytes(data))
    elif extension == ".docx":
        text = _read_docx(name, bytes(data), limits)
    elif extension == ".csv":
        text = read_csv(name, bytes(data))
    elif extension == ".xlsx":
        text = read_xlsx(name, bytes(data))
    else:
        text = _read_pdf(name, bytes(data), limits)
    if len(text) > limits.max_text_chars:
        raise RequirementsError(_too_much_text(name, limits))
    if not text.strip():
        raise RequirementsError(f"{name} contains no text.")
    return text


def _megabytes_whole(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size % (1024 * 1024) == 0 else _megabytes(size)


def _too_much_text(name: str, limits: DocumentLimits) -> RequirementsError:
    return RequirementsError(
        f"{name} holds more text than the limit of {limits.max_text_chars:,} characters. Split it into "
        "smaller documents, or upload only the part that lists the requirements."
    )


def _read_text(name: str, data: bytes) -> str:
    binary = RequirementsError(
        f"{name} is not a text file (it contains binary data). Save it as plain UTF-8 text, or upload a .docx or .pdf."
    )
    if b"\x00" in data:
        raise binary
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RequirementsError(
            f"{name} is not valid UTF-8 text (bad byte at position {error.start}). "
            "Save it as UTF-8 and upload it again."
        ) from None
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if control > max(3, len(text) // 100):
        raise binary
    return text


def _check_zip_container(name: str, data: bytes, limits: DocumentLimits) -> None:
    unreadable = RequirementsError(f"{name} could not be read as a Word document (.docx). Is the file damaged?")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise unreadable from None
    # zipfile never inflates an entry past its declared size (it stops there and checks the CRC),
    # so the declared size of the body is an upper bound on what lxml will be given to parse.
    body = sum(entry.file_size for entry in entries if entry.filename == "word/document.xml")
    if body > limits.max_docx_xml_bytes:
        raise RequirementsError(
            f"{name} is too large to read: its text body expands to {_megabytes(body)}; the limit is "
            f"{_megabytes(limits.max_docx_xml_bytes)}. Split it into smaller documents, or save it as PDF or text."
        )
    expanded = sum(entry.file_size for entry in entries)
    compressed = max(1, sum(entry.compress_size for entry in entries))
    if (
        len(entries) > MAX_DOCX_ENTRIES
        or expanded > MAX_DOCX_EXPANDED_BYTES
        or expanded / compressed > MAX_DOCX_COMPRESSION_RATIO
    ):
        raise RequirementsError(
            f"{name} expands to far more data than a requirements document holds "
            f"({_megabytes(expanded)} from {_megabytes(len(data))}); it was refused."
        )


def _list_level(paragraph: Any, style: str) -> int | None:
    """Return the nesting level (0 = top) of a list paragraph, or None if it is no list item.

    Lists typed in Word carry their level in the paragraph's numbering properties (`w:ilvl`),
    with the style "List Paragraph"; python-docx's own styles say it in the name ("List Bullet 2").
    """
    properties = paragraph._p.pPr
    numbering = properties.numPr if properties is not None else None
    if numbering is not None and numbering.ilvl is not None and numbering.ilvl.val is not None:
        return int(numbering.ilvl.val)
    if numbering is not None or style.startswith(("List Bullet", "List Number", "List Paragraph")):
        suffix = style.rsplit(" ", 1)[-1]
        return int(suffix) - 1 if suffix.isdigit() else 0
    return None


def _style_names(document: Any) -> dict[str | None, str]:
    """Paragraph style id → name, read once. python-docx's `paragraph.style` searches the styles
    part with XPath on every call: three quarters of the time of a long document went there."""
    from docx.enum.style import WD_STYLE_TYPE

    names: dict[str | None, str] = {}
    default = ""
    for style in document.styles:
        if style.type != WD_STYLE_TYPE.PARAGRAPH:
            continue
        names[style.style_id] = style.name or ""
        if style._element.default:
            default = style.name or ""
    names[None] = default
    return names


def _docx_lines(document: Any) -> list[str]:
    from docx.table import Table

    style_names = _style_names(document)
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.append("")
            for row in block.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
            continue
        text = block.text.strip()
        style_id = block._p.style
        style = style_names.get(style_id, style_names[None])
        if not text:
            lines.append("")
            continue
        if style == "Title":
            lines += ["", f"# {text}", ""]
        elif style.startswith("Heading"):
            heading_level = style.removeprefix("Heading").strip()
            depth = int(heading_level) if heading_level.isdigit() else 2
            lines += ["", f"{'#' * min(depth + 1, 6)} {text}", ""]
        elif (level := _list_level(block, style)) is not None:
            marker = "1." if style.startswith("List Number") else "-"
            lines.append(f"{'  ' * level}{marker} {text}")
        else:
            lines.append(text)
    return lines


def _read_docx(name: str, data: bytes, limits: DocumentLimits) -> str:
    _check_zip_container(name, data, limits)
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
        # Counted in lxml (C) before python-docx walks the paragraphs in Python.
        paragraphs = sum(1 for _ in document.element.body.iter(qn("w:p")))
        if paragraphs > limits.max_docx_paragraphs:
            raise RequirementsError(
                f"{name} has {paragraphs:,} paragraphs; the limit is {limits.max_docx_paragraphs:,}. Split it into "
                "smaller documents, or upload only the part that lists the requirements."
            )
        text = "\n".join(_docx_lines(document))
    except (RequirementsError, MemoryError):  # MemoryError: the child's address-space limit
        raise
    except Exception:  # python-docx raises many exception types for damaged input
        raise RequirementsError(
            f"{name} could not be read as a Word document (.docx). Is the file damaged? Save it "
            "again from Word, or upload it as PDF or text."
        ) from None
    if len(text) > limits.max_text_chars:
        raise _too_much_text(name, limits)
    return text


def _pdf_content_bytes(page: Any) -> int:
    """Decoded size of the content stream(s) a page runs (pypdf caches the decoded data of a
    stream object, so a stream shared by many pages is inflated once)."""
    from pypdf.generic import ArrayObject

    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    total = 0
    for stream in streams:
        stream = stream.get_object()
        total += len(stream.get_data()) if hasattr(stream, "get_data") else 0
    return total


def _read_pdf(name: str, data: bytes, limits: DocumentLimits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every repair it attempts on damaged files; the user gets our message instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    damaged = RequirementsError(
        f"{name} could not be read as a PDF. Is the file damaged? Export it again, or upload it as .docx or text."
    )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise RequirementsError(f"{name} is password-protected. Upload a copy without a password.")
        pages = reader.pages
        if len(pages) > limits.max_pdf_pages:
            raise RequirementsError(
                f"{name} has {len(pages):,} pages; the limit is {limits.max_pdf_pages:,}. Upload only the pages "
                "that list the requirements, or paste them as text."
            )
        content = 0
        for page in pages:
            content += _pdf_content_bytes(page)
            if content > limits.max_pdf_content_bytes:
                raise RequirementsError(
                    f"{name} is too complex to read: its pages hold more than "
                    f"{_megabytes(limits.max_pdf_content_bytes)} of drawing instructions. Export the requirements "
                    "again as a plain text PDF or a .docx, or paste them as text."
                )
        texts: list[str] = []
        total = 0
        for page in pages:
            text = page.extract_text() or ""
            total += len(text)
            if total > limits.max_text_chars:
                raise _too_much_text(name, limits)
            texts.append(text)
    except (RequirementsError, MemoryError):
        raise
    except (PdfReadError, Exception):  # pypdf raises many exception types for damaged input
        raise damaged from None
    text = "\n\n".join(texts)
    if not text.strip():
        raise RequirementsError(
            f"{name} contains no extractable text (it may be a scanned image). Upload a text-based "
            "PDF, a .docx, or paste the requirements."
        )
    return text
