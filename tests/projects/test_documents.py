"""Reading uploaded requirements: text, Markdown, .docx and .pdf; refusing what cannot be read."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from billing.catalog import MvpTierCode
from projects.requirements import RequirementsError, analyse_requirements
from projects.scoping.documents import MAX_DOCUMENT_BYTES, read_requirements_document
from projects.scoping.scope import scope_requirements

FIXTURES = Path(__file__).parent / "fixtures" / "requirements"


def docx_from_markdown(markdown: str) -> bytes:
    """Write a Word document the way a customer would: real heading, list and table styles."""
    document = docx.Document()
    table_rows: list[list[str]] = []

    def flush_table() -> None:
        if not table_rows:
            return
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for row, cells in zip(table.rows, table_rows, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
        table_rows.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            if not re.fullmatch(r"[|\s:-]+", line):
                table_rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        flush_table()
        heading = re.match(r"(#+)\s+(.*)", line)
        bullet = re.match(r"(\s*)[-*]\s+(.*)", line)
        numbered = re.match(r"(\s*)\d+\.\s+(.*)", line)
        if heading:
            document.add_heading(heading.group(2), level=len(heading.group(1)) - 1 or 0)
        elif bullet:
            style = "List Bullet 2" if bullet.group(1) else "List Bullet"
            document.add_paragraph(bullet.group(2), style=style)
        elif numbered:
            document.add_paragraph(numbered.group(2), style="List Number")
        elif line.strip():
            document.add_paragraph(line.strip())
    flush_table()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_from_text(text: str) -> bytes:
    """Typeset text into a PDF, headings in bold without their Markdown marks."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    y = 800.0
    for line in text.splitlines():
        if y < 60:
            pdf.showPage()
            y = 800.0
        if line.startswith("#"):
            pdf.setFont("Helvetica-Bold", 13)
            pdf.drawString(50, y, line.lstrip("# "))
        else:
            pdf.setFont("Helvetica", 10)
            pdf.drawString(50, y, line)
        y -= 16
    pdf.save()
    return buffer.getvalue()


# --- text and Markdown -----------------------------------------------------------------------


def test_it_reads_utf8_text_and_markdown_files() -> None:
    data = (FIXTURES / "fieldfix_25_stories.md").read_bytes()
    assert read_requirements_document(filename="reqs.md", data=data) == data.decode("utf-8")
    text = read_requirements_document(filename="NOTES.TXT", data="\ufeffAs a chef, I want menus – €5".encode())
    assert text == "As a chef, I want menus – €5"


def test_it_scopes_an_uploaded_text_file() -> None:
    data = (FIXTURES / "clinicflow_45_stories.txt").read_bytes()
    scope = scope_requirements(analyse_requirements(read_requirements_document(filename="clinic.txt", data=data)))
    assert scope.story_count == 45
    assert scope.tier is not None and scope.tier.code is MvpTierCode.COMPLEX


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"As a user I want\x00\x00\x00 things", "not a text file"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe\xfd binary", "not valid UTF-8"),
        (bytes(range(1, 32)) * 20, "not a text file"),
    ],
)
def test_it_refuses_binary_junk_in_text_files(data: bytes, message: str) -> None:
    with pytest.raises(RequirementsError, match=message):
        read_requirements_document(filename="reqs.txt", data=data)


def test_it_refuses_files_over_the_size_limit() -> None:
    data = b"- Users can log in\n" * (MAX_DOCUMENT_BYTES // 19 + 1)
    assert len(data) > MAX_DOCUMENT_BYTES
    with pytest.raises(RequirementsError, match=r"reqs\.md is too large \(5,242,\d{3} bytes\); the limit is 5 MB"):
        read_requirements_document(filename="reqs.md", data=data)
    for name in ("big.docx", "big.pdf"):
        with pytest.raises(RequirementsError, match="the limit is 5 MB"):
            read_requirements_document(filename=name, data=b"\0" * (MAX_DOCUMENT_BYTES + 1))


def test_it_accepts_a_file_of_exactly_the_size_limit() -> None:
    line = b"- Users can log in\n"
    data = line * (MAX_DOCUMENT_BYTES // len(line))
    data += b" " * (MAX_DOCUMENT_BYTES - len(data))
    assert len(read_requirements_document(filename="reqs.md", data=data)) == MAX_DOCUMENT_BYTES


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("reqs.txt", b"", "reqs.txt is empty"),
        ("reqs.txt", b"  \n\n ", "reqs.txt contains no text"),
        ("reqs.doc", b"As a user I want x", "“.doc” files are not supported"),
        ("reqs", b"As a user I want x", "files without an extension are not supported"),
        ("../../etc/reqs.xls", b"x", r"^reqs\.xls: "),
    ],
)
def test_it_refuses_empty_and_unsupported_files(filename: str, data: bytes, message: str) -> None:
    with pytest.raises(RequirementsError, match=message):
        read_requirements_document(filename=filename, data=data)


# --- Word ------------------------------------------------------------------------------------


def test_it_reads_a_word_document_of_60_stories_like_its_text() -> None:
    markdown = (FIXTURES / "harvest_60_stories.md").read_text(encoding="utf-8")
    text = read_requirements_document(filename="Harvest requirements.docx", data=docx_from_markdown(markdown))

    from_word = analyse_requirements(text)
    from_text = analyse_requirements(markdown)
    scope = scope_requirements(from_word)

    assert len(from_word.stories) == 62
    assert [s.title for s in from_word.stories] == [s.title for s in from_text.stories]
    assert [s.epic for s in from_word.stories] == [s.epic for s in from_text.stories]
    assert [s.priority for s in from_word.stories] == [s.priority for s in from_text.stories]
    assert scope.story_count == 60
    assert scope.is_custom_engagement
    assert scope.price_cents is None


def test_it_reads_the_structure_of_a_word_document() -> None:
    text = read_requirements_document(
        filename="reqs.docx",
        data=docx_from_markdown(
            "# Shop\n\n## Checkout\n\n- Buyers can pay with PayPal\n  - must show the total\n"
            "1. Buyers can keep a wish list\n"
            "| ID | Story | Priority |\n|--|--|--|\n| S1 | As a buyer, I want gift cards. | Could |\n"
        ),
    )
    assert "## Checkout" in text
    assert "- Buyers can pay with PayPal" in text
    assert "  - must show the total" in text
    assert "1. Buyers can keep a wish list" in text
    assert "| S1 | As a buyer, I want gift cards. | Could |" in text
    stories = analyse_requirements(text).stories
    assert [s.title for s in stories] == ["Buyers can pay with PayPal", "Buyers can keep a wish list", "Gift cards"]
    assert stories[0].acceptance_criteria == ("must show the total",)


def test_it_reads_list_levels_of_lists_typed_in_word() -> None:
    document = docx.Document()
    for text, level in (("Buyers can pay by card", 0), ("the total must be shown", 1), ("Buyers can save carts", 0)):
        paragraph = document.add_paragraph(text, style="List Paragraph")
        numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        numbering.get_or_add_ilvl().val = level
        numbering.get_or_add_numId().val = 1
    buffer = io.BytesIO()
    document.save(buffer)

    text = read_requirements_document(filename="word.docx", data=buffer.getvalue())

    assert text.splitlines() == ["- Buyers can pay by card", "  - the total must be shown", "- Buyers can save carts"]
    stories = analyse_requirements(text).stories
    assert [s.acceptance_criteria for s in stories] == [("the total must be shown",), ()]


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 this is not really a zip file",
        b"definitely not a word document",
        docx_from_markdown("- Users can log in\n")[:2000],
    ],
)
def test_it_refuses_a_damaged_word_document(data: bytes) -> None:
    with pytest.raises(RequirementsError, match=r"could not be read as a Word document \(\.docx\)"):
        read_requirements_document(filename="reqs.docx", data=data)


def test_it_refuses_a_zip_that_is_not_a_word_document() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "As a user I want x")
    with pytest.raises(RequirementsError, match="could not be read as a Word document"):
        read_requirements_document(filename="reqs.docx", data=buffer.getvalue())


def test_it_refuses_a_word_document_that_expands_like_a_zip_bomb() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (20 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(RequirementsError, match="expands to far more data"):
        read_requirements_document(filename="reqs.docx", data=buffer.getvalue())


# --- PDF -------------------------------------------------------------------------------------


def test_it_reads_a_pdf_of_10_stories() -> None:
    text = read_requirements_document(
        filename="PawWalk.pdf", data=pdf_from_text((FIXTURES / "pawwalk_10_stories.md").read_text(encoding="utf-8"))
    )
    analysis = analyse_requirements(text)
    scope = scope_requirements(analysis)

    assert len(analysis.stories) == 10
    assert analysis.stories[0].acceptance_criteria[0] == "Given I am on the sign-up page"
    assert scope.tier is not None and scope.tier.code is MvpTierCode.SIMPLE
    assert scope.price_cents == 7_500_000
    assert scope.timeline is not None and scope.timeline.label == "2–3 weeks"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n this is junk \x00\xff",
        b"not a pdf at all",
        pdf_from_text("- Users can log in\n")[:300],
    ],
)
def test_it_refuses_a_damaged_pdf(data: bytes) -> None:
    with pytest.raises(RequirementsError, match=r"could not be read as a PDF|contains no extractable text"):
        read_requirements_document(filename="reqs.pdf", data=data)


def test_it_refuses_a_pdf_without_text() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(RequirementsError, match="no extractable text"):
        read_requirements_document(filename="scan.pdf", data=buffer.getvalue())


def test_it_refuses_a_password_protected_pdf() -> None:
    writer = PdfWriter()
    writer.append(io.BytesIO(pdf_from_text("- Users can log in\n")))
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(RequirementsError, match="password-protected"):
        read_requirements_document(filename="locked.pdf", data=buffer.getvalue())
