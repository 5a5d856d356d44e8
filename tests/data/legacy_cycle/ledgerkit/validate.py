# -*- coding: utf-8 -*-
"""Checks on ledger files before they are loaded."""
from typing import List, Text

from .parse import count_skipped, split_line


def problems(lines: List[Text]) -> List[Text]:
    found = []
    for number, line in enumerate(lines, 1):
        pieces = split_line(line)
        if pieces and not pieces[0].startswith("#") and len(pieces) < 3:
            found.append("line %d: expected date, memo and amount" % number)
    return found


def is_clean(lines: List[Text]) -> bool:
    if problems(lines):
        return False
    return count_skipped(lines) == 0
