"""The pace's backtest: at the end of every month of every whole year in an organization's
history, the year end projected as it was known then (``keepscore.scorecard.pace``),
against what the year came to. ``keepscore backtest`` prints it; ``benchmarks/backtest.py``
runs it on the demo and on the Olist data and writes ``benchmarks/backtest.json``.

"As known then": the months before a month end are what they are now (stage changes,
outcomes and activities are dated, and history is append-only), so each month end sees the
same monthly values the scorecard saw on that day.
"""

from __future__ import annotations

import calendar
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Max
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.months import months_between
from keepscore.funnel.ladder import Ladder
from keepscore.leads.models import StageChange
from keepscore.scorecard import pace
from keepscore.scorecard.catalogue import metric_get
from keepscore.scorecard.figures import figures_read
from keepscore.scorecard.metric_values import metric_value
from keepscore.scorecard.row_reads import first_month

#: the metrics an owner sets annual goals for
KEYS = ("customers", "revenue", "new_leads")
#: the month ends whose median error is reported apart: one month before the year's end
LATE_MONTH = 11


@dataclass(frozen=True)
class Point:
    """One projection, made at the end of ``month`` (1-11) of ``year``."""

    metric: str
    year: int
    month: int
    ytd: float
    projected: float
    low: float
    high: float
    actual: float  # the whole year

    @property
    def error(self) -> float:
        """|projected - actual| / actual."""
        return abs(self.projected - self.actual) / abs(self.actual)

    @property
    def covered(self) -> bool:
        return self.low <= self.actual <= self.high


@dataclass(frozen=True)
class MetricResult:
    metric: str
    points: tuple[Point, ...]

    @property
    def median_error(self) -> float | None:
        return _median([p.error for p in self.points])

    @property
    def median_error_late(self) -> float | None:
        """The median error of the projections made at the end of November."""
        return _median([p.error for p in self.points if p.month == LATE_MONTH])

    @property
    def coverage(self) -> float | None:
        """The share of the years' outcomes inside the projection's 95% interval."""
        if not self.points:
            return None
        return sum(p.covered for p in self.points) / len(self.points)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "points": len(self.points),
            "years": sorted({p.year for p in self.points}),
            "median_error": self.median_error,
            "median_error_at_11_months": self.median_error_late,
            "coverage_95": self.coverage,
        }


@dataclass(frozen=True)
class Backtest:
    organization: str
    years: tuple[int, ...]
    results: tuple[MetricResult, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "years": list(self.years),
            "run_months": pace.RUN_MONTHS,
            "metrics": [r.as_dict() for r in self.results],
        }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def whole_years(organization: Organization, today: date) -> list[int]:
    """The years whose December is over, from the organization's first month's to its
    latest stage change's."""
    start = first_month(organization)
    latest = StageChange.objects.for_org(organization).aggregate(at=Max("at"))["at"]
    if start is None or latest is None:
        return []
    last = today.year - 1 if today < date(today.year, 12, 31) else today.year
    return list(range(start.year, min(last, timezone.localtime(latest).year) + 1))


def backtest(
    organization: Organization, keys: Sequence[str] = KEYS, today: date | None = None
) -> Backtest:
    """Every whole year's month ends (January to November), each metric's projection."""
    today = today or timezone.localdate()
    years = whole_years(organization, today)
    start = first_month(organization)
    if not years or start is None:
        return Backtest(organization.slug, ())
    first, last = date(years[0], 1, 1), date(years[-1], 12, 1)
    figures = figures_read(organization, Ladder.of(organization), first, last, cycles=False)
    months = months_between(first, last)
    results = []
    for key in keys:
        metric = metric_get(organization, key)
        monthly = {m: metric_value(figures, metric, [m]) for m in months}
        points = []
        for year in years:
            actual = sum(monthly[date(year, m, 1)] or 0.0 for m in range(1, 13))
            if not actual:
                continue
            for month in range(1, 12):
                end = date(year, month, calendar.monthrange(year, month)[1])
                known = {m: v for m, v in monthly.items() if m <= end}
                ytd = sum(known[date(year, m, 1)] or 0.0 for m in range(1, month + 1))
                projected = pace.project(
                    goal=actual,
                    ytd=ytd,
                    monthly=known,
                    month=date(year, month, 1),
                    today=end,
                    history_start=start,
                    count=metric.unit == "count",
                    higher_is_better=metric.higher_is_better,
                )
                if projected.year_end is None or projected.low is None:
                    continue
                assert projected.high is not None
                points.append(
                    Point(
                        metric=key,
                        year=year,
                        month=month,
                        ytd=ytd,
                        projected=projected.year_end,
                        low=projected.low,
                        high=projected.high,
                        actual=actual,
                    )
                )
        results.append(MetricResult(key, tuple(points)))
    return Backtest(organization.slug, tuple(years), tuple(results))
