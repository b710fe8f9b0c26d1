"""The sales cycle from the summaries: each month's first wins counted by whole days of their
cycle (CycleDayCount), read once for a run of months; from them, each month's count and any
quantile of a month or of a run of months, from only the first wins of the days that hold
the quantile's ranks (FirstWin's (organization, month, cycle_us) index)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import groupby
from operator import itemgetter

from django.db import connection

from keepscore.accounts.models import Organization
from keepscore.common.months import month_start, months_between
from keepscore.funnel import stats
from keepscore.funnel.models import CycleDayCount, FirstWin
from keepscore.funnel.summary.sql import DAY_US, pg

#: a run of months, first and last (the same month for one)
Span = tuple[date, date]


class CycleDays:
    """The first wins of the months ``first_month`` to ``last_month`` by whole days of their
    cycle, read in one query (a few hundred rows a month)."""

    def __init__(self, organization: Organization, first_month: date, last_month: date) -> None:
        self.organization = organization
        first, last = month_start(first_month), month_start(last_month)
        self.span: Span = (first, last)
        adapt = connection.ops.adapt_datefield_value
        # in the order of the (organization, month, day) key; SQLite's months as text, each
        # converted once, not row by row
        month = "month" if pg() else "CAST(month AS TEXT)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {month}, day, n FROM {CycleDayCount._meta.db_table} "
                "WHERE organization_id = %s AND month >= %s AND month <= %s AND n > 0 "
                "ORDER BY month, day",
                [organization.pk, adapt(first), adapt(last)],
            )
            rows = cursor.fetchall()
        #: {month: [(day, n), ...] by day}, months without a first win left out
        self.by_month: dict[date, list[tuple[int, int]]] = {}
        for found, group in groupby(rows, key=itemgetter(0)):
            key = found if isinstance(found, date) else date.fromisoformat(found)
            self.by_month[key] = [(int(day), int(n)) for _m, day, n in group]

    def counts(self) -> dict[date, int]:
        """``{month: n}``: how many leads were first won in each month."""
        return {month: sum(n for _d, n in days) for month, days in self.by_month.items()}

    def count(self, first_month: date, last_month: date) -> int:
        first, last = month_start(first_month), month_start(last_month)
        return sum(
            sum(n for _d, n in self.by_month.get(m, [])) for m in months_between(first, last)
        )

    def _days(self, span: Span) -> list[tuple[int, int]]:
        """The span's first wins by day, its months added up day by day."""
        first, last = span
        if first == last:
            return self.by_month.get(first, [])
        total: dict[int, int] = defaultdict(int)
        for month, days in self.by_month.items():
            if first <= month <= last:
                for day, n in days:
                    total[day] += n
        return sorted(total.items())

    def quantiles(
        self, spans: Iterable[Span], qs: Sequence[float]
    ) -> dict[Span, dict[float, float]]:
        """``{span: {q: days}}``: the q-quantiles of each span's sales cycle days (spans
        without a first win left out), in one query: for each span, its days added up to
        find the day holding each rank the quantiles need (``stats.quantile_neighbours``),
        then only those days' first wins, one index seek per month."""
        asked: list[tuple[Span, Ranks]] = []
        for span in dict.fromkeys((month_start(a), month_start(b)) for a, b in spans):
            if not self.span[0] <= span[0] <= span[1] <= self.span[1]:
                raise ValueError(f"{span} is not a run of the months read, {self.span}")
            ranks = Ranks(self._days(span), qs)
            if ranks.needed:
                asked.append((span, ranks))
        if not asked:
            return {}
        adapt = connection.ops.adapt_datefield_value
        parts, params = [], []
        for k, ((first, last), ranks) in enumerate(asked):
            months = [adapt(m) for m in months_between(first, last) if m in self.by_month]
            where = f"month IN ({', '.join(['%s'] * len(months))})"
            for day in ranks.needed:
                parts.append(
                    f"SELECT {k} AS k, {day} AS d, cycle_us FROM {FirstWin._meta.db_table} "
                    f"WHERE organization_id = %s AND {where} AND cycle_us >= %s AND cycle_us < %s"
                )
                params += [self.organization.pk, *months, day * DAY_US, (day + 1) * DAY_US]
        values: dict[tuple[int, int], list[int]] = defaultdict(list)
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for k, day, cycle_us in cursor.fetchall():
                values[(int(k), int(day))].append(int(cycle_us))
        return {
            span: ranks.quantiles({day: sorted(values[(k, day)]) for day in ranks.needed})
            for k, (span, ranks) in enumerate(asked)
        }


class Ranks:
    """Where the ranks the q-quantiles of some first wins need fall, from their counts by
    day: ``needed`` is ``{day: [(rank, rank within the day), ...]}``."""

    def __init__(self, days: list[tuple[int, int]], qs: Sequence[float]) -> None:
        n = sum(count for _day, count in days)
        self.around = {q: stats.quantile_neighbours(n, q) for q in qs} if n else {}
        ranks = sorted({r for below, above, _t in self.around.values() for r in (below, above)})
        self.needed: dict[int, list[tuple[int, int]]] = defaultdict(list)
        before = 0  # first wins in the days before this one
        for day, count in days:
            if not ranks:
                break
            while ranks and ranks[0] < before + count:
                rank = ranks.pop(0)
                self.needed[day].append((rank, rank - before))
            before += count

    def quantiles(self, cycles: dict[int, list[int]]) -> dict[float, float]:
        """``{q: days}`` from the needed days' cycles in µs, each day's sorted."""
        at: dict[int, float] = {}  # rank: days
        for day, in_day in self.needed.items():
            # as the reference: seconds, then days (one division by a day in µs differs in
            # the last bit)
            at.update((rank, cycles[day][offset] / 10**6 / 86400) for rank, offset in in_day)
        return {
            q: stats.interpolate(at[below], at[above], t)
            for q, (below, above, t) in self.around.items()
        }


def cycle_quantiles(
    organization: Organization, first_month: date, last_month: date, qs: Sequence[float]
) -> dict[float, float]:
    """``{q: days}``: the q-quantiles of the sales cycle's days over the months
    ``first_month`` to ``last_month`` (empty without a first win), by :class:`CycleDays`."""
    span = (month_start(first_month), month_start(last_month))
    return CycleDays(organization, *span).quantiles([span], qs).get(span, {})


def cycle_quantile(
    organization: Organization, first_month: date, last_month: date, q: float
) -> float | None:
    """The q-quantile of :func:`cycle_quantiles` (None without any first win)."""
    return cycle_quantiles(organization, first_month, last_month, [q]).get(q)
