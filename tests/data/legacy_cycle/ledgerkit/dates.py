# -*- coding: utf-8 -*-
"""Dates as the ledger files write them."""
import datetime
from typing import Optional, Text, Tuple

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_date(text: Text) -> Optional[datetime.date]:
    pieces = text.strip().replace("/", "-").split("-")
    if len(pieces) != 3:
        return None
    try:
        year, month, day = [int(p) for p in pieces]
        return datetime.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def format_date(day: datetime.date) -> Text:
    return "{0:04d}-{1:02d}-{2:02d}".format(day.year, day.month, day.day)


def month_name(month: int) -> Text:
    if month < 1 or month > 12:
        return u"?"
    return MONTHS[month - 1]


def quarter(day: datetime.date) -> int:
    return (day.month - 1) // 3 + 1


def period_of(day: datetime.date) -> Tuple[int, int]:
    return (day.year, quarter(day))


def days_between(first: datetime.date, second: datetime.date) -> int:
    delta = second - first
    return abs(delta.days)


def is_month_end(day: datetime.date) -> bool:
    following = day + datetime.timedelta(days=1) if day < datetime.date.max else day
    return following.month != day.month or day == datetime.date.max
