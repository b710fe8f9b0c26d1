"""Periods of inclusive local dates, and the week, month and quarter buckets that split them.

Dates are local dates in ``settings.TIME_ZONE``: a moment belongs to a period when its local
date is within the period's (inclusive) dates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.utils import timezone

GRAINS = ("week", "month", "quarter")


@dataclass(frozen=True)
class Period:
    """Inclusive local dates, ``start`` to ``end``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) or isinstance(self.end, datetime):
            raise TypeError("a Period is made of dates, not datetimes")
        if self.end < self.start:
            raise ValueError(f"a period ends on or after its start: {self.start} > {self.end}")

    @classmethod
    def month(cls, day: date) -> Period:
        """The calendar month holding ``day``."""
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def first_days(cls, day: date, days: int) -> Period:
        """The first ``days`` days of the month holding ``day`` (its whole length at most):
        a running month, or the same days of another month."""
        whole = cls.month(day)
        return cls(whole.start, min(whole.start + timedelta(days=days - 1), whole.end))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def holds(self, at: datetime) -> bool:
        """Whether a stored moment's local date is in the period.

        The same as ``local_date(at) in self``, tested as ``from <= at < until`` with the
        period's bounds (cheaper, and exact: the bounds are the first moments of local days).
        """
        since, until = self.bounds()
        return since <= at < until

    def bounds(self) -> tuple[datetime, datetime]:
        """``[from, until)`` as aware datetimes: local midnight of start and of end + 1 day."""
        return _bounds(self.start, self.end, timezone.get_default_timezone())

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@functools.lru_cache(maxsize=256)
def _bounds(start: date, end: date, zone: tzinfo) -> tuple[datetime, datetime]:
    # a local midnight that does not exist (a DST gap) means, with fold=0, the moment the
    # clocks jump: still the first moment of that local day
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def local_date(at: datetime) -> date:
    """The date of a stored moment in ``settings.TIME_ZONE``."""
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def bucket_start(day: date, grain: str) -> date:
    """The first day of the week (Monday), month or quarter (Jan, Apr, Jul, Oct) of a day."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    raise ValueError(f"grain is one of {', '.join(GRAINS)}, not {grain!r}")


def _next_bucket(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    months = 1 if grain == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def buckets(period: Period, grain: str) -> list[date]:
    """The starts of every bucket that overlaps the period."""
    out, start = [], bucket_start(period.start, grain)
    while start <= period.end:
        out.append(start)
        start = _next_bucket(start, grain)
    return out


def bucket_count(period: Period, grain: str) -> int:
    """How many buckets of the grain overlap the period (``buckets``, counted)."""
    first = bucket_start(period.start, grain)
    if grain == "week":
        return (period.end - first).days // 7 + 1
    months = (period.end.year - first.year) * 12 + period.end.month - first.month
    return months // (1 if grain == "month" else 3) + 1
