"""The figures a scorecard is computed from (``Figures``), read from the summaries or the rows.

Per month over a span: when the organization's summaries are built
(``keepscore.funnel.summary.ready``), the monthly counts, cohorts and sales cycles come from
them (``summary.month_counts``, ``CohortCount``, ``summary.cycle_days``); otherwise from the
grouped reads of :mod:`keepscore.scorecard.row_reads`. Spend and the manual metrics' values are
read as stored either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from keepscore.accounts.models import Organization
from keepscore.common.months import months_between
from keepscore.funnel import stats, summary
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.models import CohortCount
from keepscore.scorecard import selectors
from keepscore.scorecard.row_reads import (
    ACTIVITY_KEYS,
    Monthly,
    closed_counts,
    first_wins,
    money_counts,
    monthly_activities,
    monthly_closed,
    monthly_cohorts,
    monthly_entries,
    monthly_money,
    monthly_new_leads,
    monthly_spend,
)


def monthly_manual(organization: Organization, months: Iterable[date]) -> Monthly:
    """``{month: {manual key: value}}`` as stored (percent metrics in points)."""
    out: Monthly = defaultdict(dict)
    for (key, month), value in selectors.manual_values(
        organization=organization, months=months
    ).items():
        out[month][key] = float(value)
    return out


class Cycles:
    """The sales cycle's first wins of each month: how many over some months, and the
    quantiles of their days. From lists of days read whole (the reference computation)."""

    def __init__(self, days: dict[date, list[float]] | None = None) -> None:
        self.days = days or {}

    def count(self, months: list[date]) -> int:
        return sum(len(self.days.get(m, [])) for m in months)

    def quantile(self, months: list[date], q: float) -> float | None:
        return stats.quantile(sorted(d for m in months for d in self.days.get(m, [])), q)


#: the sales cycle's quantiles a scorecard shows (its median and 80th percentile rows)
CYCLE_QUANTILES = (0.5, 0.8)


class IndexedCycles(Cycles):
    """The same from the summaries' first wins by day (``summary.CycleDays``, read once):
    each month's count, and each quantile from the first wins of only the days holding its
    ranks (every month's median and 80th percentile in one query): no first win is read
    whole, however many there are."""

    def __init__(self, organization: Organization, first: date, last: date) -> None:
        super().__init__()
        self.cycle_days = summary.CycleDays(organization, first, last)
        self.counts = self.cycle_days.counts()
        self.known: dict[tuple[date, date, float], float | None] = {}
        self._ask([(month, month) for month in self.counts], CYCLE_QUANTILES)

    def _ask(self, spans: list[tuple[date, date]], qs: Sequence[float]) -> None:
        found = self.cycle_days.quantiles(spans, qs)
        for first, last in spans:
            for q in qs:
                self.known[(first, last, q)] = found.get((first, last), {}).get(q)

    def count(self, months: list[date]) -> int:
        return sum(self.counts.get(m, 0) for m in months)

    def quantile(self, months: list[date], q: float) -> float | None:
        if not self.count(months):
            return None
        first, last = min(months), max(months)
        if len(set(months)) != len(months_between(first, last)):
            raise ValueError("the indexed sales cycle answers a run of months only")
        if (first, last, q) not in self.known:  # every quantile the scorecard shows, at once
            self._ask([(first, last)], sorted({q, *CYCLE_QUANTILES}))
        return self.known[(first, last, q)]


@dataclass
class Figures:
    """Everything read for a scorecard: per month (``counts``: additive numbers; ``cohorts``:
    k and n of each conversion; ``closed``: close rate won/closed; ``cycles``: the sales
    cycle's first wins)."""

    counts: Monthly
    cohorts: dict[date, dict[str, tuple[int, int]]]
    closed: dict[date, tuple[int, int]]
    cycles: Cycles
    manual: Monthly
    summarized: bool = False  # read from the summaries (``summary.ready``)


def merge(*parts: Monthly) -> Monthly:
    out: Monthly = defaultdict(dict)
    for part in parts:
        for month, values in part.items():
            out[month].update(values)
    return out


def summary_counts(
    organization: Organization, first: date, last: date
) -> tuple[Monthly, dict[date, tuple[int, int]]]:
    """The monthly counts and close rates from the summaries (``summary.month_counts``), as
    the grouped reads above give them."""
    activity = {f"activities.{kind}": key for kind, key in ACTIVITY_KEYS.items()}
    counts: Monthly = defaultdict(dict)
    closed: dict[date, tuple[int, int]] = {}
    for month, row in summary.month_counts(organization, first, last).items():
        tally = counts[month]
        for name, value in row.items():
            if name.startswith("entered."):
                tally[f"entered_{name[len('entered.') :]}"] = float(value)
            elif name in activity:
                tally[activity[name]] = float(value)
        won, closed_n = int(row["closed_won"]), int(row["closed"])
        tally.update(
            new_leads=float(row["new_leads"]),
            sales_conversations=float(row["sales_conversations"]),
            customers=float(won),
            lost=float(closed_n - won),
        )
        tally.update(
            money_counts(
                deals=int(row["won"]),
                revenue=Decimal(row["revenue"]),
                cost=Decimal(row["cost"]),
                costed=int(row["costed"]),
                costed_revenue=Decimal(row["costed_revenue"]),
            )
        )
        if closed_n:
            closed[month] = (won, closed_n)
    return counts, closed


def summary_cohorts(
    organization: Organization, ladder: Ladder, first: date, last: date
) -> dict[date, dict[tuple[int, int], int]]:
    """``{month: {(a, b): k}}`` from ``CohortCount`` (ladder indexes, every channel and owner):
    of the leads first observed at stage ``a`` in the month, those that reached ``b`` at or
    after it (no window); ``(a, a)`` is the cohort itself."""
    index = {s.pk: i for i, s in enumerate(ladder.stages)}
    out: dict[date, dict[tuple[int, int], int]] = defaultdict(dict)
    for row in (
        CohortCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .values("month", "stage_a", "stage_b")
        .order_by()
        .annotate(k=Sum("k_ever"))
    ):
        a, b = index.get(row["stage_a"]), index.get(row["stage_b"])
        if a is not None and b is not None and row["k"]:
            out[row["month"]][(a, b)] = int(row["k"])
    return out


def _summary_cohort_rows(
    pairs: dict[date, dict[tuple[int, int], int]], index: int, targets: dict[str, int]
) -> Monthly:
    """What :func:`monthly_cohorts` gives, from :func:`summary_cohorts`' pairs."""
    out: Monthly = {}
    for month, row in pairs.items():
        n = row.get((index, index), 0)
        if n:
            out[month] = {"n": float(n)} | {
                name: float(row.get((index, t), 0)) for name, t in targets.items()
            }
    return out


def figures_read(
    organization: Organization, ladder: Ladder, first: date, last: date, *, cycles: bool = True
) -> Figures:
    """The span's figures: from the summaries when they are built, else from the rows.
    ``cycles=False``: without the sales cycle's days (nothing asked needs them)."""
    pairs: dict[date, dict[tuple[int, int], int]] | None = None
    summarized = summary.ready(organization)
    if summarized:
        counts, closed = summary_counts(organization, first, last)
        pairs = summary_cohorts(organization, ladder, first, last)
        days = IndexedCycles(organization, first, last) if cycles else Cycles()
    else:
        days = Cycles(first_wins(organization, first, last) if cycles else {})
        closed = closed_counts(organization, first, last)
        counts = merge(
            monthly_new_leads(organization, first, last),
            monthly_entries(organization, first, last),
            monthly_activities(organization, first, last),
            monthly_money(organization, first, last),
            monthly_closed(closed),
        )
    counts = merge(counts, monthly_spend(organization, first, last))
    climbing = ladder.climbing
    cohorts: dict[date, dict[str, tuple[int, int]]] = defaultdict(dict)
    for position, index in enumerate(climbing[:-1]):
        nxt = climbing[position + 1]
        targets = {"k_next": nxt}
        if pairs is None:
            rows = monthly_cohorts(organization, ladder, index, targets, first, last)
        else:
            rows = _summary_cohort_rows(pairs, index, targets)
        key = f"conversion_{ladder.stages[index].key}_{ladder.stages[nxt].key}"
        for month, row in rows.items():
            cohorts[month][key] = (int(row["k_next"]), int(row["n"]))
    return Figures(
        counts=counts,
        cohorts=cohorts,
        closed=closed,
        cycles=days,
        manual=monthly_manual(organization, months_between(first, last)),
        summarized=summarized,
    )


def cycle_quantile(organization: Organization, first: date, last: date, q: float) -> float | None:
    """The sales cycle's q-quantile over the months ``first`` to ``last``: what the
    scorecard's sales cycle row gives for them, without reading every first win when the
    summaries are built (the dashboard's year to date)."""
    if summary.ready(organization):
        return summary.cycle_quantile(organization, first, last, q)
    days = first_wins(organization, first, last)
    return stats.quantile(sorted(d for m in days for d in days[m]), q)
