"""Calendar months as their first days: arithmetic every part of keepscore shares."""

from __future__ import annotations

from datetime import date


def month_add(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``month``'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """The first days of every month from ``first``'s to ``last``'s, inclusive."""
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = month_add(month, 1)
    return out
