"""The plan's backtest: its range and its verdict, checked on the organization's own history
(docs/numbers.md, "The plan's backtest"). ``keepscore plan-backtest`` prints it;
``benchmarks/backtest.py`` runs it on the demo and the Olist data.

**The range, rolling origin.** At each month end T with at least :data:`MIN_MONTHS` months
of history up to it, the plan's assumptions are measured as known that day
(``measure(organization, as_of=T + 1 day)``: the morning after T, only what is dated before
it). The plan's model is then run *forwards* over the next H months (:data:`HORIZONS`): the
leads that actually arrived, each a sales cycle before the month it closes in, times the
plan's new lead → customer rate, give the customers the plan expects; point and 80% range
from the same seeded draws as the page's range (:func:`engine.customers_forward`). They are
compared with the customers those months actually had (the scorecard's: leads won in the
month). A window must lie wholly in the data (its last month complete and no later than the
organization's last stage change); the last origins, whose window would run past it, are
left out rather than judged on part of a window.

Forwards is the primary check: it asks of the plan exactly what the plan claims ("at these
rates, these leads give these customers") with the one input the owner controls taken as it
happened, so a miss is the rates' or the cycle's fault, not a forecast of the leads. The
page's form, "you need 95 to 130 leads", is the same claim inverted: with the window's actual
customers as the goal, :func:`engine.plan_range` gives the leads needed and its 80% range,
compared with the leads that arrived (``inverse``). Its ratio needed / arrived is actual /
predicted of the forward point, so its error says nothing new; its coverage is reported too
because it is the range the page shows.

**The verdict.** For each whole year Y with a year of history before it, the plan is
measured as of January 1 of Y and given an owner's usual goal: the customers of Y - 1 x
(1 + g), g in :data:`GROWTH`. At the end of each month of Y, :func:`check.plan_judge` gives
the verdict the scorecard would have shown; the verdicts at months 3 to 9 are compared with
December's: how often the early verdict of each kind is the one the year ends on.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Max
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add, month_end, months_between
from keepscore.common.periods import local_date
from keepscore.funnel import summary
from keepscore.funnel.ladder import Ladder, stage_history
from keepscore.leads.models import StageChange
from keepscore.plan import engine
from keepscore.plan.check import plan_judge
from keepscore.plan.engine import Goal
from keepscore.plan.measure import measure
from keepscore.scorecard.row_reads import first_month

#: months ahead each origin predicts
HORIZONS = (3, 6)
#: months of history up to an origin before a plan is measured there
MIN_MONTHS = 12
#: the goals of the verdict's backtest: last year's customers x (1 + g)
GROWTH = (0.0, 0.2)
#: the months whose verdict is compared with December's
EARLY = tuple(range(3, 10))
VERDICTS = ("on_plan", "sales", "marketing", "both", "watch", "early")
#: the verdicts that say the year is behind its plan (and whose fault it is)
BEHIND = frozenset({"sales", "marketing", "both"})


@dataclass(frozen=True)
class Point:
    """One forward check: the plan measured on the morning after ``origin`` (a month end)
    and the ``horizon`` months after it."""

    origin: date
    horizon: int
    cycle_months: int
    to_won: float  # the plan's new lead -> customer
    leads: int  # new leads of the months a cycle before the window's (the plan's input)
    predicted: float
    low: float
    high: float
    actual: int  # customers of the window
    needed_low: float  # the page's form: leads needed for `actual` customers, 80% range
    needed_high: float

    @property
    def error(self) -> float | None:
        """|predicted - actual| / actual (None without customers)."""
        return abs(self.predicted - self.actual) / self.actual if self.actual else None

    @property
    def covered(self) -> bool:
        return self.low <= self.actual <= self.high

    @property
    def needed(self) -> float:
        """Leads needed for the window's actual customers at the plan's rates."""
        return self.actual / self.to_won

    @property
    def ratio(self) -> float | None:
        """Leads needed / leads that arrived (= actual / predicted)."""
        return self.needed / self.leads if self.leads else None

    @property
    def needed_covered(self) -> bool:
        return self.needed_low <= self.leads <= self.needed_high

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin.isoformat(),
            "horizon": self.horizon,
            "cycle_months": self.cycle_months,
            "to_won": self.to_won,
            "leads": self.leads,
            "predicted": self.predicted,
            "low": self.low,
            "high": self.high,
            "actual": self.actual,
            "covered": self.covered,
            "error": self.error,
            "leads_needed": self.needed,
            "leads_needed_low": self.needed_low,
            "leads_needed_high": self.needed_high,
            "needed_covered": self.needed_covered,
        }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


@dataclass(frozen=True)
class HorizonResult:
    horizon: int
    points: tuple[Point, ...]

    @property
    def coverage(self) -> float | None:
        """The share of the windows whose actual customers fell in the 80% range."""
        return _share([p.covered for p in self.points])

    @property
    def median_error(self) -> float | None:
        return _median([e for p in self.points if (e := p.error) is not None])

    @property
    def median_ratio(self) -> float | None:
        """The median of leads needed / leads arrived (1: the plan's rates were right)."""
        return _median([r for p in self.points if (r := p.ratio) is not None])

    @property
    def needed_coverage(self) -> float | None:
        return _share([p.needed_covered for p in self.points])

    def as_dict(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "points": len(self.points),
            "coverage_80": self.coverage,
            "median_error": self.median_error,
            "median_needed_over_arrived": self.median_ratio,
            "needed_coverage_80": self.needed_coverage,
        }


@dataclass(frozen=True)
class YearVerdicts:
    """One year's verdicts month by month, for a goal of last year's customers x (1 + g)."""

    year: int
    growth: float
    goal: float  # customers
    verdicts: tuple[str, ...]  # January to December

    @property
    def final(self) -> str:
        return self.verdicts[-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "growth": self.growth,
            "goal_customers": self.goal,
            "verdicts": list(self.verdicts),
        }


@dataclass(frozen=True)
class VerdictResult:
    years: tuple[YearVerdicts, ...]

    def agreement(self, month: int | None = None) -> tuple[int, int]:
        """(agreeing, judged): the early verdicts (months 3-9, or only ``month``) that are
        the year's December verdict."""
        months = EARLY if month is None else (month,)
        pairs = [(y.verdicts[m - 1], y.final) for y in self.years for m in months]
        return sum(a == b for a, b in pairs), len(pairs)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """Per early verdict (months 3-9): (how often December said the same, how often it
        was given)."""
        out: dict[str, tuple[int, int]] = {}
        for y in self.years:
            for m in EARLY:
                kind = y.verdicts[m - 1]
                same, n = out.get(kind, (0, 0))
                out[kind] = (same + (kind == y.final), n + 1)
        return {k: out[k] for k in VERDICTS if k in out}

    def behind_agreement(self) -> tuple[int, int]:
        """(agreeing, judged): the early verdicts (months 3-9) that say behind the plan or
        not as December does, whoever's fault."""
        pairs = [(y.verdicts[m - 1], y.final) for y in self.years for m in EARLY]
        return sum((a in BEHIND) == (b in BEHIND) for a, b in pairs), len(pairs)

    def behind_confirmed(self) -> tuple[int, int]:
        """(confirmed, given): the early "behind" verdicts (sales, marketing, both) whose
        year is still behind in December."""
        given = [y.final for y in self.years for m in EARLY if y.verdicts[m - 1] in BEHIND]
        return sum(final in BEHIND for final in given), len(given)

    def changes(self) -> tuple[int, int]:
        """(changed, steps): from March to December, how often a month's verdict differs
        from the month before's."""
        steps = [(y.verdicts[m - 1], y.verdicts[m]) for y in self.years for m in range(3, 12)]
        return sum(a != b for a, b in steps), len(steps)

    def as_dict(self) -> dict[str, Any]:
        same, n = self.agreement()
        behind, _n = self.behind_agreement()
        confirmed, given = self.behind_confirmed()
        changed, steps = self.changes()
        return {
            "plans": len(self.years),
            "early_months": list(EARLY),
            "agreement": same / n if n else None,
            "judged": n,
            "behind_agreement": behind / n if n else None,
            "behind_confirmed": {"confirmed": confirmed, "given": given},
            "changes": {"changed": changed, "steps": steps},
            "by_month": {
                str(m): {"agree": a, "n": k} for m in EARLY for a, k in [self.agreement(m)]
            },
            "by_kind": {k: {"agree": a, "n": n} for k, (a, n) in self.by_kind().items()},
            "years": [y.as_dict() for y in self.years],
        }


@dataclass(frozen=True)
class PlanBacktest:
    organization: str
    first: date | None  # the first month of history
    last: date | None  # the last month of data
    horizons: tuple[HorizonResult, ...] = field(default_factory=tuple)
    verdicts: VerdictResult = field(default_factory=lambda: VerdictResult(()))
    skipped: int = 0  # origins whose plan lacked an assumption

    def as_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "first_month": self.first.isoformat() if self.first else None,
            "last_month": self.last.isoformat() if self.last else None,
            "draws": engine.DRAWS,
            "seed": engine.SEED,
            "origins_without_a_plan": self.skipped,
            "range": [h.as_dict() for h in self.horizons],
            "points": [p.as_dict() for h in self.horizons for p in h.points],
            "verdict": self.verdicts.as_dict(),
        }


def last_month(organization: Organization, today: date) -> date | None:
    """The last month of data: the month of the latest stage change, at most the last
    complete month before ``today``."""
    latest = StageChange.objects.for_org(organization).aggregate(at=Max("at"))["at"]
    if latest is None:
        return None
    return min(local_date(latest).replace(day=1), month_add(today.replace(day=1), -1))


def plan_backtest(
    organization: Organization,
    today: date | None = None,
    horizons: tuple[int, ...] = HORIZONS,
    growth: tuple[float, ...] = GROWTH,
) -> PlanBacktest:
    """The plan's range at every origin and horizon, and its verdicts on every whole year."""
    today = today or timezone.localdate()
    start = first_month(organization)
    end = last_month(organization, today)
    if start is None or end is None:
        return PlanBacktest(organization.slug, start, end)
    counts = summary.month_counts(organization, start, end)
    new_leads = {m: int(row["new_leads"]) for m, row in counts.items()}
    customers = {m: int(row["closed_won"]) for m, row in counts.items()}
    ladder = Ladder.of(organization)
    histories = stage_history(organization, ladder)  # once: measure() cuts each at its day
    measured_on: dict[date, engine.Assumptions | None] = {}

    def assumptions(as_of: date) -> engine.Assumptions | None:
        if as_of not in measured_on:
            a = measure(organization, as_of=as_of, histories=histories).assumptions
            measured_on[as_of] = a if a.to_won else None
        return measured_on[as_of]

    skipped: set[date] = set()
    results = []
    for horizon in horizons:
        points = []
        for origin in months_between(month_add(start, MIN_MONTHS - 1), month_add(end, -horizon)):
            a = assumptions(month_add(origin, 1))
            if a is None:
                skipped.add(origin)
                continue
            window = [month_add(origin, i) for i in range(1, horizon + 1)]
            leads = sum(new_leads.get(month_add(m, -a.cycle_months), 0) for m in window)
            actual = sum(customers[m] for m in window)
            predicted, span = engine.customers_forward(a, leads)
            needed = (
                engine.plan_range(Goal("customers", actual), a, window[0].year) if actual else None
            )
            points.append(
                Point(
                    origin=month_end(origin),
                    horizon=horizon,
                    cycle_months=a.cycle_months,
                    to_won=float(a.to_won or 0.0),
                    leads=leads,
                    predicted=predicted,
                    low=span.low,
                    high=span.high,
                    actual=actual,
                    needed_low=needed.leads.low if needed else 0.0,
                    needed_high=needed.leads.high if needed else 0.0,
                )
            )
        results.append(HorizonResult(horizon, tuple(points)))

    years = []
    for year in range(start.year + 1, end.year + 1):
        if end < date(year, 12, 1) or month_add(start, MIN_MONTHS) > date(year, 1, 1):
            continue
        a = assumptions(date(year, 1, 1))
        last_year = sum(customers.get(date(year - 1, m, 1), 0) for m in range(1, 13))
        if a is None or not last_year:
            continue
        for g in growth:
            goal = last_year * (1 + g)
            plan = engine.plan_compute(Goal("customers", goal), a, year)
            verdicts = []
            leads_ytd = customers_ytd = 0
            for m in range(1, 13):
                month = date(year, m, 1)
                leads_ytd += new_leads.get(month, 0)
                customers_ytd += customers.get(month, 0)
                verdicts.append(plan_judge(plan, month, leads_ytd, customers_ytd).verdict)
            years.append(YearVerdicts(year, g, goal, tuple(verdicts)))
    return PlanBacktest(
        organization.slug,
        start,
        end,
        tuple(results),
        VerdictResult(tuple(years)),
        skipped=len(skipped),
    )
