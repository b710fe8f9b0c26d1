"""Months as their first days (``common.months``): arithmetic across years, a month's first
and last day, its first days (``Period.first_days``), and the local month of a stored moment,
which follows ``TIME_ZONE``."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from keepscore.common.months import month_add, month_end, month_of, month_start, months_between
from keepscore.common.periods import Period


def test_month_arithmetic_by_hand() -> None:
    assert month_add(date(2025, 12, 1), 1) == date(2026, 1, 1)
    assert month_add(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert month_add(date(2026, 3, 1), -15) == date(2024, 12, 1)
    assert month_start(date(2026, 3, 31)) == date(2026, 3, 1)
    assert month_start(date(2026, 3, 31), back=2) == date(2026, 1, 1)
    assert month_start(date(2026, 3, 31), back=-10) == date(2027, 1, 1)
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)  # a leap year
    assert month_end(date(2025, 2, 1)) == date(2025, 2, 28)
    assert month_end(date(2025, 12, 31)) == date(2025, 12, 31)
    assert months_between(date(2025, 11, 20), date(2026, 2, 3)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_the_first_days_of_a_month_by_hand() -> None:
    # the same days of last month, while a month runs: 31 March against February's 28
    assert Period.first_days(date(2026, 2, 14), 10) == Period(date(2026, 2, 1), date(2026, 2, 10))
    assert Period.first_days(date(2026, 2, 1), 31) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.first_days(date(2024, 2, 1), 30).end == date(2024, 2, 29)  # a leap year
    assert Period.first_days(date(2026, 1, 31), 1) == Period(date(2026, 1, 1), date(2026, 1, 1))


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(2998, 12, 31)), st.integers(-30, 30))
def test_month_start_and_end_agree_with_the_calendar(day: date, back: int) -> None:
    first = month_start(day, back=back)
    index = day.year * 12 + day.month - 1 - back  # counted independently
    assert first == date(index // 12, index % 12 + 1, 1)
    last = month_end(first)
    assert last.day == calendar.monthrange(first.year, first.month)[1]
    assert (last.year, last.month) == (first.year, first.month)


def test_the_local_month_of_a_moment_follows_the_time_zone(settings: Any) -> None:
    # 23:30 UTC on the last day of January is already February in Auckland (UTC+13 in summer)
    # and still January in New York
    moment = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    settings.TIME_ZONE = "UTC"
    assert month_of(moment) == date(2026, 1, 1)
    settings.TIME_ZONE = "Pacific/Auckland"
    assert month_of(moment) == date(2026, 2, 1)
    settings.TIME_ZONE = "America/New_York"
    assert month_of(datetime(2026, 3, 1, 3, 0, tzinfo=UTC)) == date(2026, 2, 1)  # 22:00 on 28 Feb
