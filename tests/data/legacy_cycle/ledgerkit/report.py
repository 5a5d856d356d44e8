# -*- coding: utf-8 -*-
"""Text reports of a ledger."""
from typing import List, Text

import ledgerkit

from .core import Entry, Ledger, running_totals
from .money import format_cents
from .textfmt import layout, rjust, underline


def render(ledger: Ledger) -> Text:
    rows = [["date", "memo", "amount"]]
    for entry in ledger.entries:
        rows.append(entry.as_row())
    title = underline("Ledger %s" % ledger.name)
    footer = "balance: %s" % format_cents(ledger.balance())
    return "\n".join([title, layout(rows), footer, "ledgerkit %s" % ledgerkit.__version__])


def render_lines(lines: List[Text]) -> Text:
    ledger = Ledger("import")
    ledger.load(lines)
    return render(ledger)


def totals_column(amounts: List[int], width: int = 12) -> List[Text]:
    return [rjust(format_cents(total), width) for total in running_totals(amounts)]


def summary(entries: List[Entry]) -> Text:
    count = len(entries)
    total = sum(e.amount.cents for e in entries)
    return "{} entries, {}".format(count, format_cents(total))


def memo_index(ledger: Ledger) -> List[Text]:
    names = []
    for memo in sorted(ledger.by_memo()):
        names.append(memo)
    return names
