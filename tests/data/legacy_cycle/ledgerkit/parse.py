# -*- coding: utf-8 -*-
"""Reading ledger lines: ``2024-01-31  rent  -1200.00  USD``."""
from typing import List, Optional, Text, Tuple

from .dates import parse_date
from .money import Money, cents_from_text
from .textfmt import truncate

MAX_MEMO = 60


class ParseError(Exception):
    pass


def split_line(line: Text) -> List[Text]:
    return [piece for piece in line.strip().split() if piece]


def parse_line(line: Text) -> Optional[Tuple[Text, Text, Money]]:
    pieces = split_line(line)
    if len(pieces) < 3:
        return None
    day = parse_date(pieces[0])
    if day is None:
        return None
    currency = pieces[3].upper() if len(pieces) > 3 else "USD"
    memo = truncate(pieces[1], MAX_MEMO)
    return (day.isoformat(), memo, Money(cents_from_text(pieces[2]), currency))


def parse_lines(lines: List[Text]) -> List[Tuple[Text, Text, Money]]:
    result = []
    for line in lines:
        if line.strip().startswith("#"):
            continue
        parsed = parse_line(line)
        if parsed is not None:
            result.append(parsed)
    return result


def count_skipped(lines: List[Text]) -> int:
    skipped = 0
    for line in lines:
        if not line.strip() or line.strip().startswith("#"):
            continue
        if parse_line(line) is None:
            skipped = skipped + 1
    return skipped


def memo_words(memo: Text) -> List[Text]:
    words = []
    for word in memo.replace("-", " ").replace("_", " ").split(" "):
        if word:
            words.append(word.lower())
    return words
