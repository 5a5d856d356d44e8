# -*- coding: utf-8 -*-
"""The ledger: entries, balances and accounts."""
from typing import Dict, List, Optional, Text

import ledgerkit

from .money import Money, format_cents
from .parse import parse_lines


class Entry(object):
    def __init__(self, day: Text, memo: Text, amount: Money):
        self.day = day
        self.memo = memo
        self.amount = amount

    def __repr__(self):
        return "Entry(%r, %r, %r)" % (self.day, self.memo, self.amount)

    def as_row(self) -> List[Text]:
        return [self.day, self.memo, format_cents(self.amount.cents)]


class Ledger(object):
    def __init__(self, name: Text = "main"):
        self.name = name
        self.entries = []

    def add(self, day: Text, memo: Text, cents: int, currency: Text = "USD"):
        self.entries.append(Entry(day, memo, Money(cents, currency)))

    def load(self, lines: List[Text]) -> int:
        before = len(self.entries)
        for day, memo, amount in parse_lines(lines):
            self.entries.append(Entry(day, memo, amount))
        return len(self.entries) - before

    def balance(self, currency: Text = "USD") -> int:
        return sum(e.amount.cents for e in self.entries if e.amount.currency == currency)

    def currencies(self) -> List[Text]:
        return sorted(set(e.amount.currency for e in self.entries))

    def by_memo(self) -> Dict[Text, int]:
        totals = {}
        for entry in self.entries:
            totals[entry.memo] = totals.get(entry.memo, 0) + entry.amount.cents
        return totals

    def largest(self) -> Optional[Entry]:
        if not self.entries:
            return None
        return max(self.entries, key=lambda e: abs(e.amount.cents))

    def between(self, first: Text, last: Text) -> List[Entry]:
        return [e for e in self.entries if first <= e.day <= last]

    def header(self) -> Text:
        return "%s (ledgerkit %s)" % (self.name, ledgerkit.__version__)


def balance_of(lines: List[Text], currency: Text = "USD") -> int:
    ledger = Ledger()
    ledger.load(lines)
    return ledger.balance(currency)


def running_totals(amounts: List[int]) -> List[int]:
    result, running = [], 0
    for amount in amounts:
        running += amount
        result.append(running)
    return result


def flag_large(amounts: List[int], limit: int = 100000) -> List[bool]:
    return [abs(amount) >= abs(limit) for amount in amounts]
