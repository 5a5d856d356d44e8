# -*- coding: utf-8 -*-
"""Amounts in cents, so sums never drift."""
from typing import List, Text, Tuple

CURRENCIES = {"USD": 2, "EUR": 2, "JPY": 0}
MAX_PARTS = 10000


class Money(object):
    def __init__(self, cents: int, currency: Text = "USD"):
        self.cents = int(cents)
        self.currency = currency

    def __repr__(self):
        return "Money(%d, %r)" % (self.cents, self.currency)

    def __eq__(self, other):
        return isinstance(other, Money) and (self.cents, self.currency) == (other.cents, other.currency)

    def __hash__(self):
        return hash((self.cents, self.currency))

    def plus(self, other_cents: int) -> "Money":
        return Money(self.cents + other_cents, self.currency)

    def negated(self) -> "Money":
        return Money(-self.cents, self.currency)

    def is_zero(self) -> bool:
        return self.cents == 0


def cents_from_text(text: Text) -> int:
    cleaned = text.strip().replace(",", "")
    negative = cleaned.startswith("-")
    cleaned = cleaned.lstrip("-+")
    whole, _, fraction = cleaned.partition(".")
    if not whole.isdigit() and whole != "":
        return 0
    if fraction and not fraction.isdigit():
        return 0
    cents = int(whole or "0") * 100 + int((fraction + "00")[:2] or "0")
    return -cents if negative else cents


def format_cents(cents: int, symbol: Text = "$") -> Text:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return "%s%s%s.%02d" % (sign, symbol, "{:,}".format(whole), part)


def total_cents(amounts: List[int]) -> int:
    result = 0
    for amount in amounts:
        result += amount
    return result


def split_evenly(cents: int, parts: int) -> List[int]:
    if parts <= 0 or parts > MAX_PARTS:
        return []
    base, remainder = divmod(cents, parts)
    return [base + (1 if index < remainder else 0) for index in range(parts)]


def decimals_of(currency: Text) -> int:
    return CURRENCIES.get(currency.upper(), 2)


def bounds(amounts: List[int]) -> Tuple[int, int]:
    if not amounts:
        return (0, 0)
    return (min(amounts), max(amounts))
