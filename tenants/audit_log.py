"""Reading the audit trail: the entries of one customer (or all, for staff), filtered by action,
and their CSV export.

The export is opened in spreadsheets, and every cell may hold text an attacker chose (a name
tried at the login form, a story title, a refund reason): a cell that a spreadsheet would read
as a formula is prefixed with an apostrophe (OWASP's advice for CSV injection). The csv module
has no such option and no maintained library does just this, hence ``tenants.spreadsheet``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from tenants.audit import Action
from tenants.models import AuditEntry, Customer
from tenants.spreadsheet import spreadsheet_text

CSV_COLUMNS = [
    "time_utc",
    "action",
    "actor",
    "actor_user_id",
    "tenant",
    "ip",
    "object_type",
    "object_id",
    "object",
    "detail",
]


def audit_entries(*, tenant: Customer | None, action: str = "") -> QuerySet[AuditEntry]:
    """Newest first; ``tenant`` None means every customer's (staff only)."""
    entries = AuditEntry.objects.all()
    if tenant is not None:
        entries = entries.filter(tenant=tenant)
    if action:
        entries = entries.filter(action=action)
    return entries.order_by("-at", "-id")


def action_choices() -> list[tuple[str, str]]:
    return sorted(Action.LABELS.items(), key=lambda item: item[1])


def action_label(action: str) -> str:
    return Action.LABELS.get(action, action)


csv_cell = spreadsheet_text


class _Line:
    """A file-like sink for csv.writer that hands each written line back."""

    def write(self, value: str) -> str:
        return value


def _row(entry: AuditEntry) -> list[str]:
    return [
        csv_cell(entry.at.strftime("%Y-%m-%d %H:%M:%S")),
        csv_cell(entry.action),
        csv_cell(entry.actor_label),
        csv_cell(entry.actor_id or ""),
        csv_cell(entry.tenant_label),
        csv_cell(entry.ip or ""),
        csv_cell(entry.object_type),
        csv_cell(entry.object_id),
        csv_cell(entry.object_label),
        csv_cell(json.dumps(entry.detail, ensure_ascii=False, sort_keys=True) if entry.detail else ""),
    ]


def audit_csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The CSV, line by line (header first), for a streaming response of any length."""
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for entry in entries:
        yield writer.writerow(_row(entry))


def audit_csv_stream(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    """``audit_csv_lines`` over a queryset read in chunks, so memory does not grow with the log."""
    return audit_csv_lines(entries.iterator(chunk_size=500))
