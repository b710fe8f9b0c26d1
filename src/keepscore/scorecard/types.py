"""The scorecard of one month as plain data: what pages, exports, the CLI and the API show.

Computed by ``keepscore.scorecard.compute`` (never in views or templates); rendered by the
scorecard pages, ``keepscore.reports`` (PDF/XLSX/CSV) and ``keepscore scorecard``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from keepscore.common.money import MoneyFormat
from keepscore.funnel.stats import RateFigure

if TYPE_CHECKING:
    from keepscore.scorecard.pace import Projection as PaceProjection

Unit = Literal["count", "money", "percent", "days", "number"]
Pace = Literal["ahead", "on_track", "at_risk", "behind", "not_enough_data"]
GROUPS = ("SUSPECT", "PROSPECT", "LEAD", "CUSTOMER")


class _Grouped(Protocol):
    @property
    def group(self) -> str: ...


G = TypeVar("G", bound=_Grouped)


def by_group(rows: Iterable[G]) -> list[tuple[str, list[G]]]:
    """``rows`` (metrics or scorecard rows) by scorecard group, in the ladder's order
    (:data:`GROUPS`), each group once, the rows in their order within it."""
    items = list(rows)
    return [(g, [r for r in items if r.group == g]) for g in GROUPS]


@dataclass(frozen=True)
class MetricDef:
    """A metric of the scorecard: computed (``keepscore.scorecard.catalogue``) or manual."""

    key: str
    name: str
    group: str  # one of GROUPS
    unit: Unit
    manual: bool
    higher_is_better: bool
    description: str


@dataclass(frozen=True)
class MetricRow:
    key: str
    name: str
    group: str  # one of GROUPS
    unit: Unit
    manual: bool
    value: float | None
    previous: float | None  # the whole of last month
    #: value - previous (while the month runs: - previous_same_days), None when either is
    #: missing or "not enough data"
    change: float | None
    same_month_last_year: float | None
    target: float | None  # this month's target
    ytd: float | None  # year to date (a sum for counts and money, recomputed for rates)
    goal: float | None  # annual goal
    #: the pace toward the annual goal (``keepscore.scorecard.pace``), None without a goal
    projection: PaceProjection | None = None
    trend: tuple[float | None, ...] = ()  # the last 12 months, oldest first, ending this month
    rate: RateFigure | None = None  # for rates: k, n and the interval behind ``value``
    higher_is_better: bool = True
    #: the value rests on enough data to be shown (else "not enough data": no change)
    enough: bool = True
    #: what the value needs was recorded (spend for the spend ratios); a None value of an
    #: unrecorded input reads "not recorded", never 0
    recorded: bool = True
    #: while the month runs, the same days of last month and of the same month last year
    #: (flows only: ``compute.same_days_comparable``)
    previous_same_days: float | None = None
    last_year_same_days: float | None = None

    @property
    def pace(self) -> Pace | None:
        return self.projection.pace if self.projection else None

    @property
    def projected_year_end(self) -> float | None:
        return self.projection.year_end if self.projection else None

    @property
    def projected_low(self) -> float | None:
        return self.projection.low if self.projection else None

    @property
    def projected_high(self) -> float | None:
        return self.projection.high if self.projection else None


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
    #: while the month runs, its days so far (today included); None once it is over
    days: int | None = None
    #: the organization's currency, ISO 4217: what its money figures are in
    currency: str = ""
    number_locale: str = ""  # how its amounts are written (keepscore.common.money)

    @property
    def money(self) -> MoneyFormat | None:
        """Its organization's money format; None for a scorecard made without one."""
        if not self.currency or not self.number_locale:
            return None
        return MoneyFormat(self.currency, self.number_locale)

    @property
    def days_in_month(self) -> int:
        return calendar.monthrange(self.month.year, self.month.month)[1]

    def grouped(self) -> list[tuple[str, list[MetricRow]]]:
        """Rows by scorecard group, in SUSPECT, PROSPECT, LEAD, CUSTOMER order."""
        return by_group(self.rows)
