"""CSV cells that spreadsheets read as text: every export of customer text (the audit log, the
billing ledger) writes its text cells through ``spreadsheet_text``. A cell such as
``=HYPERLINK(...)`` or ``@SUM(...)`` would otherwise run as a formula when staff open the file
(OWASP "CSV injection"); tab and CR start DDE payloads once a spreadsheet trims the cell."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: object) -> str:
    """``value`` as a CSV text cell that no spreadsheet runs: a leading apostrophe makes it text."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
