"""The scorecard of one month as plain data: what pages, exports, the CLI and the API show.

Computed by ``keepscore.scorecard.compute`` (never in views or templates); rendered by the
scorecard pages, ``keepscore.reports`` (PDF/XLSX/CSV) and ``keepscore scorecard``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Unit = Literal["count", "money", "percent", "days", "number"]
Pace = Literal["on_track", "behind"]
GROUPS = ("SUSPECT", "PROSPECT", "LEAD", "CUSTOMER")


@dataclass(frozen=True)
class RateFigure:
    """A rate with its counts: k of n, and the 95% Wilson interval (None when n is 0)."""

    k: int
    n: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    enough: bool  # n reached the minimum (settings.KEEPSCORE_MIN_N, default 20)


@dataclass(frozen=True)
class MetricRow:
    key: str
    name: str
    group: str  # one of GROUPS
    unit: Unit
    manual: bool
    value: float | None
    previous: float | None
    change: float | None  # value - previous, None when either is missing
    same_month_last_year: float | None
    target: float | None  # this month's target
    ytd: float | None  # year to date (a sum for counts and money, recomputed for rates)
    goal: float | None  # annual goal
    projected_year_end: float | None
    projected_low: float | None
    projected_high: float | None
    pace: Pace | None  # against the goal pro rata, None without a goal
    trend: tuple[float | None, ...] = ()  # the last 12 months, oldest first, ending this month
    rate: RateFigure | None = None  # for rates: k, n and the interval behind ``value``
    higher_is_better: bool = True


@dataclass(frozen=True)
class ReviewEntry:
    kind: Literal["note", "decision"]
    text: str
    by: str  # the writer's name or email
    at: datetime


@dataclass(frozen=True)
class Scorecard:
    organization: str  # the organization's name
    slug: str
    month: date  # the first day of the month
    rows: tuple[MetricRow, ...]
    reviews: tuple[ReviewEntry, ...] = ()
    generated_at: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def grouped(self) -> list[tuple[str, list[MetricRow]]]:
        """Rows by scorecard group, in SUSPECT, PROSPECT, LEAD, CUSTOMER order."""
        return [(g, [r for r in self.rows if r.group == g]) for g in GROUPS]
