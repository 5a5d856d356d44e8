"""``{{ cents|usd }}``: amounts in templates read as dollars ("$37,500"), the catalog's one format."""

from __future__ import annotations

from django import template

from billing.catalog import format_usd

register = template.Library()


@register.filter
def usd(cents: int | None) -> str:
    return "" if cents is None else format_usd(int(cents))
