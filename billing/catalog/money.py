"""The service catalog: display helpers."""

from __future__ import annotations

from decimal import Decimal

CENTS_PER_DOLLAR = 100


def dollars(amount: int) -> int:
    """Return whole dollars as cents (`dollars(75_000) == 7_500_000`)."""
    return amount * CENTS_PER_DOLLAR


def format_usd(cents: int) -> str:
    """Format cents as US dollars: `$75,000`, or `$1,851.75` when there are cents."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), CENTS_PER_DOLLAR)
    if rest:
        return f"{sign}${whole:,}.{rest:02d}"
    return f"{sign}${whole:,}"


def format_usd_compact(cents: int) -> str:
    """Format whole-thousand amounts the way the seed writes them: `$75K`, `$2M`, `$1.5M`."""
    whole = cents // CENTS_PER_DOLLAR
    if cents % CENTS_PER_DOLLAR == 0 and whole >= 1_000_000 and whole % 100_000 == 0:
        millions = Decimal(whole) / Decimal(1_000_000)
        return f"${millions.normalize():f}M"
    if cents % CENTS_PER_DOLLAR == 0 and whole >= 1_000 and whole % 1_000 == 0:
        return f"${whole // 1_000}K"
    return format_usd(cents)


def format_usd_range(low_cents: int, high_cents: int, *, compact: bool = False) -> str:
    """Format a price range with an en dash: `$50,000–$150,000` (or `$50K–$150K` compact)."""
    fmt = format_usd_compact if compact else format_usd
    return f"{fmt(low_cents)}–{fmt(high_cents)}"
