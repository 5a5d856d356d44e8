# -*- coding: utf-8 -*-
"""Summary statistics over amounts in cents."""
from typing import Dict, List, Text

from .money import split_evenly, total_cents


def mean_cents(amounts: List[int]) -> int:
    if not amounts:
        return 0
    return total_cents(amounts) // len(amounts)


def median_cents(amounts: List[int]) -> int:
    if not amounts:
        return 0
    ordered = sorted(amounts)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) // 2


def by_sign(amounts: List[int]) -> Dict[Text, int]:
    result = {"in": 0, "out": 0}
    for amount in amounts:
        if amount >= 0:
            result["in"] += amount
        else:
            result["out"] += -amount
    return result


def shares(cents: int, weights: List[int]) -> List[int]:
    positive = [w for w in weights if w > 0]
    if not positive:
        return []
    units = split_evenly(cents, sum(positive))
    result, start = [], 0
    for weight in positive:
        result.append(sum(units[start : start + weight]))
        start += weight
    return result
