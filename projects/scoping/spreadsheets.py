"""Reading backlog spreadsheets (.csv, .xlsx) into Markdown table text for the requirements parser.

A spreadsheet exported from a tracker or typed by the customer is a table: its first non-blank
row is the header, every other row a story (`projects.requirements.tables` recognises the
columns). Both formats become Markdown table rows, so one parser reads tables from pasted
Markdown, Word documents and spreadsheets alike.

- `.csv`: the standard library's `csv` module; UTF-8 (BOM allowed) or, failing that, Windows-1252
  (Excel's "CSV" on Windows); the delimiter (comma, semicolon, tab) is sniffed from the first
  lines.
- `.xlsx`: openpyxl in read-only mode, values only (formulas are not evaluated: the cached value
  is read). Only the first sheet that has a header row is read. The zip container is checked
  before openpyxl opens it — entry count, expanded size, compression ratio and the size of each
  worksheet's XML — so that a small upload cannot expand into gigabytes. Like every document,
  this runs in the bounded child process of `projects.intake_limits`.

Caps: rows and columns (`MAX_ROWS`, `MAX_COLUMNS`), and characters per cell; a file over them is
refused with a message, never cut silently. Every refusal is a `RequirementsError`.
"""

from __future__ import annotations

import csv
import io
import zipfile

from projects.requirements import RequirementsError

MAX_ROWS = 2_000
MAX_COLUMNS = 40
MAX_CELL_CHARS = 5_000
MAX_XLSX_ENTRIES = 500
MAX_XLSX_EXPANDED_BYTES = 50 * 1024 * 1024
MAX_XLSX_SHEET_BYTES = 20 * 1024 * 1024
MAX_XLSX_COMPRESSION_RATIO = 100


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # A pipe would split the Markdown cell; line breaks inside a cell separate criteria.
    # A leading "=", "+" or "@" makes a cell a formula when the text is opened in a spreadsheet
    # again (CSV injection); a story never starts with one.
    text = str(value).lstrip("=+@\t ").replace("|", "/").replace("\r\n", "; ").replace("\n", "; ").replace("\r", "; ")
    return " ".join(text.split())


def rows_to_markdown(name: str, rows: list[list[str]]) -> str:
    """Markdown table text of `rows` (the first non-blank row is the header)."""
    rows = [row for row in rows if any(cell for cell in row)]
    if not rows:
        raise RequirementsError(f"{name} contains no rows.")
    width = max(len(row) for row in rows)
    lines = [f"| {' | '.join([*row, *[''] * (width - len(row))])} |" for row in rows]
    lines.insert(1, "|" + " --- |" * width)
    return "\n".join(lines) + "\n"


def _checked_row(name: str, number: int, cells: list[str]) -> list[str]:
    if number > MAX_ROWS:
        raise RequirementsError(
            f"{name} has more than {MAX_ROWS:,} rows; upload only the backlog you want scoped (at most 50 stories)."
        )
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > MAX_COLUMNS:
        raise RequirementsError(f"{name} has more than {MAX_COLUMNS} columns in row {number}; is it a backlog?")
    if any(len(cell) > MAX_CELL_CHARS for cell in cells):
        raise RequirementsError(
            f"{name}: a cell in row {number} holds more than {MAX_CELL_CHARS:,} characters; shorten it."
        )
    return cells


def read_csv(name: str, data: bytes) -> str:
    if b"\x00" in data:
        raise RequirementsError(f"{name} is not a CSV file (it contains binary data). Export it again as CSV.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(MAX_CELL_CHARS + 1)
    rows: list[list[str]] = []
    try:
        for number, raw in enumerate(csv.reader(io.StringIO(text), dialect), 1):
            rows.append(_checked_row(name, number, [_cell_text(cell) for cell in raw]))
    except csv.Error as error:
        raise RequirementsError(f"{name} could not be read as CSV ({error}). Export it again as CSV.") from None
    return rows_to_markdown(name, rows)


def _check_xlsx_container(name: str, data: bytes) -> None:
    unreadable = RequirementsError(f"{name} could not be read as an Excel workbook (.xlsx). Is the file damaged?")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise unreadable from None
    expanded = sum(entry.file_size for entry in entries)
    compressed = max(1, sum(entry.compress_size for entry in entries))
    largest_sheet = max(
        (e.file_size for e in entries if e.filename.startswith("xl/") and e.filename.endswith(".xml")), default=0
    )
    if (
        len(entries) > MAX_XLSX_ENTRIES
        or expanded > MAX_XLSX_EXPANDED_BYTES
        or largest_sheet > MAX_XLSX_SHEET_BYTES
        or expanded / compressed > MAX_XLSX_COMPRESSION_RATIO
    ):
        raise RequirementsError(
            f"{name} expands to far more data than a backlog holds "
            f"({expanded / (1024 * 1024):.1f} MB from {len(data) / (1024 * 1024):.1f} MB); it was refused."
        )


def read_xlsx(name: str, data: bytes) -> str:
    _check_xlsx_container(name, data)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception:  # openpyxl raises many exception types for damaged input
        raise RequirementsError(
            f"{name} could not be read as an Excel workbook (.xlsx). Save it again from Excel, or export it as CSV."
        ) from None
    try:
        for sheet in workbook.worksheets:
            rows: list[list[str]] = []
            # Blank rows (a sheet may declare a million) do not count against the row cap; the
            # child's CPU limit bounds the time spent skipping them.
            for values in sheet.iter_rows(values_only=True):
                if all(value is None for value in values):
                    continue
                if any(value is not None for value in values[MAX_COLUMNS:]):
                    raise RequirementsError(f"{name} has more than {MAX_COLUMNS} columns; is it a backlog?")
                cells = _checked_row(name, len(rows) + 1, [_cell_text(value) for value in values[:MAX_COLUMNS]])
                if cells:
                    rows.append(cells)
            if rows:
                return rows_to_markdown(name, rows)
    except (RequirementsError, MemoryError):
        raise
    except Exception:
        raise RequirementsError(
            f"{name} could not be read as an Excel workbook (.xlsx). Is the file damaged?"
        ) from None
    finally:
        workbook.close()
    raise RequirementsError(f"{name} contains no rows.")
