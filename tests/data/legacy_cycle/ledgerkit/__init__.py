# -*- coding: utf-8 -*-
"""ledgerkit: a small double-entry ledger library (legacy fixture, no tests of its own)."""
from __future__ import absolute_import

from .core import Entry, Ledger
from .report import render

__version__ = "1.4.2"
__all__ = ["Entry", "Ledger", "render", "version_tuple"]


def version_tuple(text: str = __version__) -> tuple:
    parts = []
    for piece in text.split("."):
        if piece.isdigit():
            parts.append(int(piece))
        else:
            parts.append(0)
    return tuple(parts)


def describe(verbose: bool = False) -> str:
    base = "ledgerkit %s" % __version__
    if verbose:
        base = base + " (%d public names)" % len(__all__)
    return base
