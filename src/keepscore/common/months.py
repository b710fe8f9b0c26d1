"""Calendar months as their first days: parsing (``YYYY-MM``), bounds, text and arithmetic,
shared by every part of keepscore and every door."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError

from keepscore.common.days import EARLIEST_DATE, LATEST_DATE
from keepscore.common.periods import local_date

_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")


def month_add(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``month``'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_start(day: date, back: int = 0) -> date:
    """The first day of ``day``'s month, or of the month ``back`` months before it (after it,
    for a negative ``back``)."""
    return month_add(day.replace(day=1), -back)


def month_end(month: date) -> date:
    """The last day of ``month``'s month."""
    return month_add(month.replace(day=1), 1) - timedelta(days=1)


def month_of(at: datetime) -> date:
    """The local month (its first day, in ``settings.TIME_ZONE``) of a stored moment."""
    return local_date(at).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """The first days of every month from ``first``'s to ``last``'s, inclusive."""
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = month_add(month, 1)
    return out


def month_parse(value: str | date, field: str = "month") -> date:
    """The first day of the month of ``value``: a date, ``YYYY-MM`` or ``YYYY-MM-DD``.

    ``2026-13`` (or any month outside 01-12 or a year outside 1900-2999) is a ValidationError
    on ``field``.
    """
    if isinstance(value, date):
        month = value.replace(day=1)
    else:
        text = str(value).strip()
        match = _MONTH.fullmatch(text)
        if match is None:
            raise ValidationError({field: f"{text[:40]!r} is not a month: use YYYY-MM."})
        year, number = int(match.group(1)), int(match.group(2))
        if not 1 <= number <= 12:
            raise ValidationError(
                {field: f"{text} is not a month: the month is 01 to 12 (YYYY-MM)."}
            )
        if match.group(3) is not None:
            try:
                date(year, number, int(match.group(3)))
            except ValueError:
                raise ValidationError({field: f"{text} is not a date."}) from None
        if not EARLIEST_DATE.year <= year <= LATEST_DATE.year:
            raise ValidationError({field: _year_message()})
        month = date(year, number, 1)
    if not EARLIEST_DATE <= month <= LATEST_DATE:
        raise ValidationError({field: _year_message()})
    return month


def _year_message() -> str:
    return f"Enter a year between {EARLIEST_DATE.year} and {LATEST_DATE.year}."


def month_str(month: date) -> str:
    return f"{month:%Y-%m}"


def year_check(year: Any, field: str = "year") -> int:
    """A year between 1900 and 2999, or a ValidationError on ``field``."""
    try:
        number = int(str(year).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: f"{str(year)[:40]!r} is not a year."}) from None
    if not EARLIEST_DATE.year <= number <= LATEST_DATE.year:
        raise ValidationError({field: _year_message()})
    return number


def months_of(year: int) -> list[date]:
    return [date(year, m, 1) for m in range(1, 13)]
