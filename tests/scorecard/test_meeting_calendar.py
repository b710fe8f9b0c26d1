"""The review meeting's calendar (keepscore.scorecard.meeting), against calendars read by hand."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from keepscore.scorecard import meeting as cal

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
FIRST, SECOND, THIRD, FOURTH, LAST = 1, 2, 3, 4, 5
UTC = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("year", "month", "which", "weekday", "expected"),
    [
        # December 2026 begins on a Tuesday
        (2026, 12, FIRST, TUE, date(2026, 12, 1)),
        (2026, 12, FIRST, MON, date(2026, 12, 7)),
        (2026, 12, SECOND, TUE, date(2026, 12, 8)),
        (2026, 12, FOURTH, THU, date(2026, 12, 24)),
        (2026, 12, LAST, THU, date(2026, 12, 31)),
        (2026, 12, LAST, WED, date(2026, 12, 30)),
        # January 2027 begins on a Friday and ends on a Sunday
        (2027, 1, FIRST, TUE, date(2027, 1, 5)),
        (2027, 1, FIRST, FRI, date(2027, 1, 1)),
        (2027, 1, LAST, FRI, date(2027, 1, 29)),
        (2027, 1, LAST, SUN, date(2027, 1, 31)),
        (2027, 1, THIRD, SAT, date(2027, 1, 16)),
        # February 2027: 28 days, Monday 1 to Sunday 28 — four of every weekday
        (2027, 2, FOURTH, SUN, date(2027, 2, 28)),
        (2027, 2, LAST, MON, date(2027, 2, 22)),
        # February 2028 (leap year) begins on a Tuesday: 29 is a Tuesday
        (2028, 2, LAST, TUE, date(2028, 2, 29)),
        (2028, 2, FIRST, TUE, date(2028, 2, 1)),
    ],
)
def test_meeting_day(year: int, month: int, which: int, weekday: int, expected: date) -> None:
    assert cal.meeting_day(year, month, which, weekday) == expected


def test_bad_meeting_day_refused() -> None:
    with pytest.raises(ValueError):
        cal.meeting_day(2026, 12, 6, TUE)
    with pytest.raises(ValueError):
        cal.meeting_day(2026, 12, FIRST, 7)


def test_send_moment_crosses_the_month_end() -> None:
    # first Tuesday of December 2026 is the 1st: two days before is Sunday 29 November
    held = cal.meeting_at(date(2026, 12, 1), FIRST, TUE, time(9, 0), UTC)
    assert held == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    moment = cal.send_at(held, 2)
    assert moment == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert cal.reviewed_month(held) == date(2026, 11, 1)
    # November to date: 29 of its 30 days
    assert cal.days_covered(date(2026, 11, 1), moment) == 29
    # a year end: first Friday of January 2027 is the 1st; 3 days before is 29 December
    held = cal.meeting_at(date(2027, 1, 1), FIRST, FRI, time(14, 30), UTC)
    assert cal.send_at(held, 3) == datetime(2026, 12, 29, 14, 30, tzinfo=UTC)
    assert cal.reviewed_month(held) == date(2026, 12, 1)


def test_send_moment_after_the_month_end_is_the_whole_month() -> None:
    held = cal.meeting_at(date(2027, 1, 1), FIRST, TUE, time(9, 0), UTC)  # 5 January
    moment = cal.send_at(held, 2)
    assert moment == datetime(2027, 1, 3, 9, 0, tzinfo=UTC)  # Sunday 3 January
    assert cal.days_covered(date(2026, 12, 1), moment) is None
    assert cal.send_at(held, 0) == held


def test_wall_clock_kept_across_daylight_saving() -> None:
    # Paris moves to summer time on Sunday 28 March 2027; first Tuesday of April is the 6th
    held = cal.meeting_at(date(2027, 4, 1), FIRST, TUE, time(9, 0), PARIS)
    moment = cal.send_at(held, 10)  # Saturday 27 March, winter time
    assert moment.date() == date(2027, 3, 27) and moment.hour == 9
    assert moment.utcoffset() is not None and held.utcoffset() is not None
    assert (moment.astimezone(UTC).hour, held.astimezone(UTC).hour) == (8, 7)


def test_next_meeting() -> None:
    # on 4 December 2026 the first Tuesday of December (the 1st) has passed: 5 January
    now = datetime(2026, 12, 4, 0, 30, tzinfo=UTC)
    assert cal.next_meeting(now, FIRST, TUE, time(9, 0), UTC) == datetime(
        2027, 1, 5, 9, 0, tzinfo=UTC
    )
    # on 1 December at 08:59 the meeting of that day is still ahead
    now = datetime(2026, 12, 1, 8, 59, tzinfo=UTC)
    assert cal.next_meeting(now, FIRST, TUE, time(9, 0), UTC) == datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC
    )
