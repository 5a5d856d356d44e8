# -*- coding: utf-8 -*-
"""Plain-text table layout for reports."""
from typing import List, Text


MAX_WIDTH = 200


def pad(text: Text, width: int) -> Text:
    width = min(width, MAX_WIDTH)
    if width <= len(text):
        return text
    return text + " " * (width - len(text))


def rjust(text: Text, width: int) -> Text:
    width = min(width, MAX_WIDTH)
    if width <= len(text):
        return text
    return " " * (width - len(text)) + text


def column_widths(rows: List[List[Text]]) -> List[int]:
    widths = []
    for row in rows:
        for index, cell in enumerate(row):
            if index >= len(widths):
                widths.append(len(cell))
            else:
                widths[index] = max(widths[index], len(cell))
    return widths


def layout(rows: List[List[Text]]) -> Text:
    widths = column_widths(rows)
    lines = []
    for row in rows:
        cells = [pad(cell, widths[index]) for index, cell in enumerate(row)]
        lines.append(u"  ".join(cells).rstrip())
    return u"\n".join(lines)


def underline(title: Text, mark: Text = "=") -> Text:
    if not mark:
        mark = "="
    return "%s\n%s" % (title, mark[0] * len(title))


def truncate(text: Text, limit: int) -> Text:
    if limit <= 0:
        return u""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + u"~"
