"""Pace toward an annual goal: the year end projected from the run rate of recent whole
months, its 95% interval, and the verdict — ahead, on track, at risk or behind — by the
rules of docs/numbers.md ("Pace"). ``keepscore.scorecard.backtest`` checks the projection
and its interval against what happened, at every month end of the history.

The projection is what a person computes by hand: the year to date, plus the mean of the
last :data:`RUN_MONTHS` whole months times the months left. The open pipeline is not
added: the run rate already holds the deals that come out of it (adding both counted them
twice, and stale leads with them: the backtest's median error at 11 months was 46% for
customers that way, 3% this way).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from keepscore.common.months import month_add
from keepscore.funnel.stats import Z95
from keepscore.scorecard.types import Pace

#: whole months whose mean is the run rate
RUN_MONTHS = 6
#: fewer whole months of history than this: no projection ("not enough data")
MIN_RUN_MONTHS = 3
#: whole months whose spread is the month-to-month uncertainty
SPREAD_MONTHS = 12

PACE_LABELS: dict[str, str] = {
    "ahead": "Ahead",
    "on_track": "On track",
    "at_risk": "At risk",
    "behind": "Behind",
    "not_enough_data": "Not enough data",
}


@dataclass(frozen=True)
class Projection:
    """A metric's pace toward its annual goal, as of a day of the scorecard's month."""

    goal: float
    ytd: float
    pro_rata: float  # the goal * days elapsed / days in the year
    pace: Pace
    run_months: tuple[date, ...] = ()  # the whole months of the run rate
    run_rate: float | None = None  # their mean, a month
    months_left: float = 0.0  # whole months after the as-of day, and the rest of its month
    year_end: float | None = None  # ytd + run_rate * months_left
    low: float | None = None  # the 95% interval of the year end
    high: float | None = None


def as_of(month: date, today: date) -> date:
    """The day the scorecard of ``month`` speaks for: its last day once it is over, today
    while it runs (the day before it starts, before it does)."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return min(last, max(today, first - timedelta(days=1)))


def months_left(day: date) -> float:
    """Months of the year after ``day``: the rest of its month (a fraction of its days)
    and the whole months after it."""
    days = calendar.monthrange(day.year, day.month)[1]
    return (12 - day.month) + (days - day.day) / days


def whole_months_before(day: date) -> date:
    """The last whole month on or before ``day`` (its first day)."""
    days = calendar.monthrange(day.year, day.month)[1]
    month = day.replace(day=1)
    return month if day.day == days else month_add(month, -1)


def verdict(
    goal: float, year_end: float, low: float, high: float, higher_is_better: bool = True
) -> Pace:
    """Ahead: the whole interval reaches the goal. On track: the projection does, not the
    whole interval. At risk: the projection misses it, the interval still holds it.
    Behind: even the interval's far end misses it. Mirrored when lower is better."""
    if not higher_is_better:
        goal, year_end, low, high = -goal, -year_end, -high, -low
    if low >= goal:
        return "ahead"
    if year_end >= goal:
        return "on_track"
    if high >= goal:
        return "at_risk"
    return "behind"


def project(
    *,
    goal: float,
    ytd: float,
    monthly: Mapping[date, float | None],
    month: date,
    today: date,
    history_start: date | None,
    count: bool,
    higher_is_better: bool = True,
) -> Projection:
    """The pace of a metric whose months add up (a count or money) toward ``goal``.

    ``monthly``: the metric's value in each month (first days) up to the as-of day's;
    ``history_start``: the organization's first month with data (its first lead's).
    """
    day = as_of(month, today)
    year_days = 366 if calendar.isleap(day.year) else 365
    pro_rata = goal * ((day - date(day.year, 1, 1)).days + 1) / year_days
    last_whole = whole_months_before(day)
    run = [month_add(last_whole, -i) for i in range(RUN_MONTHS - 1, -1, -1)]
    run = [m for m in run if history_start is not None and m >= history_start]
    values = [monthly.get(m) for m in run]
    if len(run) < MIN_RUN_MONTHS or any(v is None for v in values):
        return Projection(goal=goal, ytd=ytd, pro_rata=pro_rata, pace="not_enough_data")
    rates = [float(v) for v in values if v is not None]
    run_rate = sum(rates) / len(rates)
    left = months_left(day)
    year_end = ytd + run_rate * left
    # the month-to-month spread (at least Poisson's for counts), for the months to come
    # and for the run rate itself (the mean of len(run) months)
    spread_months = [month_add(last_whole, -i) for i in range(SPREAD_MONTHS)]
    spread = [
        float(v)
        for m in spread_months
        if history_start is not None and m >= history_start
        if (v := monthly.get(m)) is not None
    ]
    variance = _variance(spread)
    if count:
        variance = max(variance, run_rate)
    half = Z95 * math.sqrt(variance * left + variance * left * left / len(rates))
    low, high = year_end - half, year_end + half
    if all(v >= 0 for v in spread):
        low = max(low, ytd)  # what is done stays done
    return Projection(
        goal=goal,
        ytd=ytd,
        pro_rata=pro_rata,
        pace=verdict(goal, year_end, low, high, higher_is_better),
        run_months=tuple(run),
        run_rate=run_rate,
        months_left=left,
        year_end=year_end,
        low=low,
        high=high,
    )


def _variance(values: Sequence[float]) -> float:
    """The sample variance (0 with fewer than two values)."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)
