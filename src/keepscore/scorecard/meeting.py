"""The monthly review meeting's calendar, as pure functions (no database, no clock).

A meeting is "the <which> <weekday> of the month" (first … fourth, or last) at a time of
day. The meeting held in month M reviews month M-1. Its mail goes ``days_before`` days
before the meeting, at the meeting's own time of day, in the app's time zone
(``TIME_ZONE``): a meeting on Tuesday 1 December 2026 at 09:00 with 2 days before sends on
Sunday 29 November at 09:00, before November has ended (the mail then says "November to
date, 29 of 30 days").
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, tzinfo

from keepscore.common.months import month_add

#: which weekday of the month: 1…4 the first…fourth, 5 the last
WHICH = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "last"}
LAST = 5
WEEKDAYS = tuple(calendar.day_name)  # Monday … Sunday (0 … 6, as date.weekday())


def meeting_day(year: int, month: int, which: int, weekday: int) -> date:
    """The day of the ``which`` (1…4, or 5 = last) ``weekday`` (0 Monday … 6 Sunday) of a month."""
    if which not in WHICH or not 0 <= weekday <= 6:
        raise ValueError(f"no such meeting day: which={which}, weekday={weekday}")
    days = calendar.monthrange(year, month)[1]
    if which == LAST:
        last = date(year, month, days)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (which - 1))


def meeting_at(month: date, which: int, weekday: int, at: time, zone: tzinfo) -> datetime:
    """When the meeting of ``month`` (any day of it) is held, an aware moment in ``zone``."""
    day = meeting_day(month.year, month.month, which, weekday)
    return datetime.combine(day, at).replace(tzinfo=zone)


def send_at(meeting: datetime, days_before: int) -> datetime:
    """When the mail for ``meeting`` goes: ``days_before`` calendar days earlier, at the
    meeting's time of day (the wall-clock time, also across a daylight-saving change)."""
    zone = meeting.tzinfo
    day = meeting.date() - timedelta(days=days_before)
    return datetime.combine(day, meeting.time().replace(tzinfo=None)).replace(tzinfo=zone)


def reviewed_month(meeting: date | datetime) -> date:
    """The month a meeting reviews: the one before the meeting's."""
    day = meeting.date() if isinstance(meeting, datetime) else meeting
    return month_add(day.replace(day=1), -1)


def days_covered(reviewed: date, moment: datetime) -> int | None:
    """How many days of ``reviewed`` month have passed at ``moment`` (its day counts), when
    the month has not ended yet; None when it is over (the mail shows the whole month)."""
    first = reviewed.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    day = moment.date()
    if day > last:
        return None
    return max(day.day if day >= first else 0, 0)


def next_meeting(now: datetime, which: int, weekday: int, at: time, zone: tzinfo) -> datetime:
    """The first meeting at or after ``now`` (this month's, or next month's once it passed)."""
    local = now.astimezone(zone)
    month = local.date().replace(day=1)
    for n in range(3):
        held = meeting_at(month_add(month, n), which, weekday, at, zone)
        if held >= local:
            return held
    raise AssertionError("a meeting every month")  # pragma: no cover
