# -*- coding: utf-8 -*-
"""Helpers kept from the Python 2 days."""
from __future__ import print_function, unicode_literals

import logging
from typing import Dict, List, Optional, Text

log = logging.getLogger(__name__)


def to_text(value: Optional[bytes]) -> Text:
    if value is None:
        return u""
    return value.decode("utf-8", "replace")


def dedupe(items: List[Text]) -> List[Text]:
    seen = set([])
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def merge_counts(first: Dict[Text, int], second: Dict[Text, int]) -> Dict[Text, int]:
    merged = dict((key, value) for key, value in first.items())
    for key, value in second.items():
        merged[key] = merged.get(key, 0) + value
    return merged


def warn_once(message: Text, seen: List[Text]):
    if message in seen:
        return
    seen.append(message)
    log.warn("ledgerkit: %s", message)


class Registry(object):
    def __init__(self):
        super(Registry, self).__init__()
        self.names = []

    def register(self, name: Text):
        if name not in self.names:
            self.names.append(name)
