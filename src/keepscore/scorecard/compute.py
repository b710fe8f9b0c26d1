"""The scorecard of one month: every metric of the catalogue with last month, same month last
year, target, year to date, annual goal, pace and trend. ``docs/numbers.md`` ("Scorecard and
pace") states each rule.

The figures follow ``keepscore.funnel.services`` (the reference implementation), but are read
over the 13 months the scorecard needs (this month back to the same month last year). When
the organization's summaries are built (``keepscore.funnel.summary.ready``) the monthly counts,
cohorts, sales cycles and the year's close rate come from them (``summary.month_counts``,
``CohortCount``, ``summary.cycle_days``, ``summary.span_closed``); otherwise from a few
grouped queries over the stored rows, grouped by month on the database side in
``settings.TIME_ZONE`` (the first wins and the year's close rate: range queries bounded by the
months needed, on the indexes, with month boundaries computed in Python). The open pipeline
for pace is always read from the rows.

Units: percentages are fractions 0..1 here (manual values, targets and goals of percent
metrics are stored as points 0..100 and divided by 100); money is a float.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Round, TruncMonth
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, ActivityKind
from keepscore.common.months import month_add, months_between
from keepscore.economics.models import Spend
from keepscore.funnel import stats, summary
from keepscore.funnel.models import CohortCount
from keepscore.funnel.services import Ladder, Period, rate
from keepscore.funnel.stats import RateFigure
from keepscore.leads.models import DealOutcome, Lead, StageChange, StageKind
from keepscore.scorecard import pace, services
from keepscore.scorecard.catalogue import SPEND_KEYS, SPEND_RATIOS, MetricDef, metric_catalogue
from keepscore.scorecard.types import MetricRow, Scorecard

#: months of trend on each row, ending with the scorecard's month
TREND_MONTHS = 12
ADDITIVE = ("count", "money")

#: activity kind → the scorecard's count key
ACTIVITY_KEYS = {
    ActivityKind.CALL_ATTEMPT: "call_attempts",
    ActivityKind.CONNECT: "connects",
    ActivityKind.QUALIFYING: "qualifying_conversations",
    ActivityKind.PRESENTATION: "presentations",
    ActivityKind.PROPOSAL: "proposals",
}

Monthly = dict[date, dict[str, float]]
#: ``[since, until)``: the moments a read covers, when not whole months
Window = tuple[datetime, datetime]


# --- months ---------------------------------------------------------------------------------


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From local midnight on ``first``'s first day to the one after ``last``'s month."""
    return Period(first.replace(day=1), Period.month(last).end).bounds()


def _zone() -> Any:
    return timezone.get_default_timezone()


def _month_of(value: date | datetime) -> date:
    """A database month bucket as the first day of the local month."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, _zone())
        return value.date().replace(day=1)
    return value.replace(day=1)


def _by_month(rows: QuerySet[Any], field: str, window: Window | None = None) -> QuerySet[Any]:
    """``rows`` grouped by the local month of ``field`` (the ``month`` column). Rows read over
    a ``window`` (some days of one month) are all of that month: no truncation per row (on
    SQLite a Python function call each, 0.1 s for a few days at a million leads)."""
    if window is not None:
        month = _month_of(window[0])
        return rows.order_by().values(month=Value(month, output_field=DateField()))
    return rows.order_by().values(month=TruncMonth(field, tzinfo=_zone()))


# --- grouped reads: one small function per kind of row ---------------------------------------


def monthly_new_leads(
    organization: Organization, first: date, last: date, window: Window | None = None
) -> Monthly:
    """``{month: {"new_leads": n}}``: leads by the local month of their first touch."""
    since, until = window or _bounds(first, last)
    rows = Lead.objects.for_org(organization).filter(
        first_touch_at__gte=since, first_touch_at__lt=until
    )
    out: Monthly = defaultdict(dict)
    for row in _by_month(rows, "first_touch_at", window).annotate(n=Count("pk")):
        out[_month_of(row["month"])]["new_leads"] = row["n"]
    return out


def monthly_entries(
    organization: Organization, first: date, last: date, window: Window | None = None
) -> Monthly:
    """``{month: {"entered_<stage>": leads}}``: distinct leads with a change into the stage."""
    since, until = window or _bounds(first, last)
    keys = {s.pk: s.key for s in Ladder.of(organization).stages}
    # every stage named: a range of the (organization, to_stage, at) index per stage, not a
    # scan of the organization's history (a few days of a million leads: 0.7 s to ms)
    rows = StageChange.objects.for_org(organization).filter(
        to_stage_id__in=list(keys), at__gte=since, at__lt=until
    )
    out: Monthly = defaultdict(dict)
    for row in (
        _by_month(rows, "at", window)
        .annotate(n=Count("lead_id", distinct=True))
        .values("month", "to_stage_id", "n")
    ):
        out[_month_of(row["month"])][f"entered_{keys[row['to_stage_id']]}"] = row["n"]
    return out


def monthly_activities(
    organization: Organization, first: date, last: date, window: Window | None = None
) -> Monthly:
    """``{month: {activity key: count}}``; sales conversations are connects and meetings with
    someone who can buy."""
    since, until = window or _bounds(first, last)
    # every kind named: a range of the (organization, kind, at) index per kind
    rows = Activity.objects.for_org(organization).filter(
        kind__in=ActivityKind.values, at__gte=since, at__lt=until
    )
    out: Monthly = defaultdict(lambda: defaultdict(float))
    for row in (
        _by_month(rows, "at", window)
        .annotate(n=Count("pk"))
        .values("month", "kind", "with_buyer", "n")
    ):
        tally = out[_month_of(row["month"])]
        key = ACTIVITY_KEYS.get(row["kind"])
        if key is not None:
            tally[key] += row["n"]
        if row["with_buyer"] and row["kind"] in SALES_CONVERSATION_KINDS:
            tally["sales_conversations"] += row["n"]
    return out


def monthly_money(
    organization: Organization, first: date, last: date, window: Window | None = None
) -> Monthly:
    """``{month: {"revenue", "deals", "costed", "margin"}}`` of the won outcomes dated in the
    month: ``margin`` is over the ``costed`` deals (those with a recorded cost), and only
    there when there is one (a missing cost is unknown, not 0)."""
    since, until = window or _bounds(first, last)
    rows = DealOutcome.objects.for_org(organization).filter(
        result=DealOutcome.Result.WON, at__gte=since, at__lt=until
    )
    out: Monthly = defaultdict(dict)

    def cents(field: str) -> Any:
        # summed as whole cents: exact on SQLite too (it sums decimals as floats)
        return Coalesce(Sum(Cast(Round(F(field) * 100), BigIntegerField())), 0)

    # annotated under names of their own: F("revenue") is the column, not a sum of it
    costed = Q(cost__isnull=False)
    for row in _by_month(rows, "at", window).annotate(
        n_deals=Count("pk"),
        revenue_cents=cents("revenue"),
        cost_cents=cents("cost"),
        n_costed=Count("pk", filter=costed),
        costed_cents=Coalesce(
            Sum(Cast(Round(F("revenue") * 100), BigIntegerField()), filter=costed), 0
        ),
    ):
        out[_month_of(row["month"])].update(
            _money_counts(
                deals=row["n_deals"],
                revenue=Decimal(row["revenue_cents"]) / 100,
                cost=Decimal(row["cost_cents"]) / 100,
                costed=row["n_costed"],
                costed_revenue=Decimal(row["costed_cents"]) / 100,
            )
        )
    return out


def _money_counts(
    *, deals: int, revenue: Decimal, cost: Decimal, costed: int, costed_revenue: Decimal
) -> dict[str, float]:
    """A month's money counts: the margin only when some deal's cost was recorded."""
    out = {"deals": float(deals), "revenue": float(revenue), "costed": float(costed)}
    if costed:
        out.update(costed_revenue=float(costed_revenue), margin=float(costed_revenue - cost))
    return out


def monthly_spend(organization: Organization, first: date, last: date) -> Monthly:
    """``{month: {"spend": amount}}``: the marketing spend of every channel and campaign."""
    out: Monthly = defaultdict(dict)
    for row in (
        Spend.objects.for_org(organization)
        .filter(month__gte=first.replace(day=1), month__lte=last.replace(day=1))
        .order_by()
        .values("month")
        # summed as whole cents: exact on SQLite too
        .annotate(cents=Coalesce(Sum(Cast(Round(F("amount") * 100), BigIntegerField())), 0))
    ):
        out[_month_of(row["month"])]["spend"] = float(Decimal(row["cents"]) / 100)
    return out


def closed_counts(
    organization: Organization,
    first: date,
    last: date,
    monthly: bool = True,
    window: Window | None = None,
) -> dict[date, tuple[int, int]]:
    """``{month: (won, closed)}``: leads with an outcome dated in the month (or, with
    ``monthly=False``, in the whole span, under ``first``), each counted once by its last one.

    Distinct leads per result come from one grouped query; the few leads with both results
    in a bucket are settled by their last outcome (ordered by time, then id).
    """
    since, until = window or _bounds(first, last)
    # both results named: a range of the (organization, result, at) index for each
    rows = DealOutcome.objects.for_org(organization).filter(
        result__in=DealOutcome.Result.values, at__gte=since, at__lt=until
    )

    def bucket(value: Any) -> date:
        return _month_of(value) if monthly else first.replace(day=1)

    grouped = _by_month(rows, "at", window) if monthly else rows.order_by().values()
    won: dict[date, int] = defaultdict(int)
    lost: dict[date, int] = defaultdict(int)
    for row in grouped.annotate(n=Count("lead_id", distinct=True)).values(
        *(["month"] if monthly else []), "result", "n"
    ):
        tally = won if row["result"] == DealOutcome.Result.WON else lost
        tally[bucket(row.get("month"))] += row["n"]
    mixed_rows = (
        grouped.values(*(["month"] if monthly else []), "lead_id")
        .annotate(results=Count("result", distinct=True))
        .filter(results__gt=1)
    )
    mixed = {(bucket(r.get("month")), r["lead_id"]) for r in mixed_rows}
    if mixed:
        last_result: dict[tuple[date, int], str] = {}
        for lead, result, at in (
            rows.filter(lead_id__in={lead for _month, lead in mixed})
            .order_by("at", "id")
            .values_list("lead_id", "result", "at")
        ):
            last_result[(bucket(at), lead)] = result
        for key in mixed:
            # counted under both results: keep it under its last one only
            if last_result[key] == DealOutcome.Result.WON:
                lost[key[0]] -= 1
            else:
                won[key[0]] -= 1
    return {m: (won[m], won[m] + lost[m]) for m in set(won) | set(lost)}


def monthly_closed(closed: dict[date, tuple[int, int]]) -> Monthly:
    """``{month: {"customers": won, "lost": lost}}``: the close rate's leads of each month,
    from :func:`closed_counts`."""
    out: Monthly = defaultdict(dict)
    for month, (won, n) in closed.items():
        out[month].update(customers=won, lost=n - won)
    return out


def _month_starts(first: date, last: date) -> list[datetime]:
    """The first moments (aware) of every local month from ``first``'s to the one after
    ``last``'s: ``bisect`` on them gives a moment's month without converting it."""
    return [Period.month(m).bounds()[0] for m in months_between(first, month_add(last, 1))]


def _micros(moment: datetime) -> int:
    """An aware moment as whole microseconds since 1970 (exact)."""
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _micros_sql(column: str) -> str:
    """SQL: a stored moment as whole microseconds since 1970 (exact on both databases)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    # SQLite stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC)
    return (
        f"(CAST(strftime('%%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column} || '.000000', 21, 6) AS INTEGER))"
    )


def first_wins(organization: Organization, first: date, last: date) -> dict[date, list[float]]:
    """``{month: sorted cycle days}`` of the leads first won in the month.

    Only the won outcomes of the span are read (the outcome index), less the leads with a
    won outcome before it (the lead index); days and months are worked out from whole
    microseconds, so no moment is converted row by row.
    """
    since, until = _bounds(first, last)
    bounds = [_micros(start) for start in _month_starts(first, last)]
    months = months_between(first, month_add(last, 1))
    outcome_t, lead_t = DealOutcome._meta.db_table, Lead._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    won = DealOutcome.Result.WON.value
    sql = (
        f"SELECT w.won_us, {_micros_sql('l.first_touch_at')} FROM ("
        f"SELECT o.lead_id AS lead_id, MIN({_micros_sql('o.at')}) AS won_us FROM {outcome_t} o "
        "WHERE o.organization_id = %s AND o.result = %s AND o.at >= %s AND o.at < %s "
        f"AND NOT EXISTS (SELECT 1 FROM {outcome_t} p WHERE p.lead_id = o.lead_id "
        "AND p.result = %s AND p.at < %s) "
        f"GROUP BY o.lead_id) w JOIN {lead_t} l ON l.id = w.lead_id"
    )
    params: list[Any] = [organization.pk, won, adapt(since), adapt(until), won, adapt(since)]
    out: dict[date, list[float]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for won_us, touch_us in cursor.fetchall():
            month = months[bisect.bisect_right(bounds, won_us) - 1]
            # as timedelta.total_seconds() / 86400 does it
            out[month].append((won_us - touch_us) / 10**6 / 86400)
    for days in out.values():
        days.sort()
    return out


def span_closed(
    organization: Organization, first: date, last: date, monthly: dict[date, tuple[int, int]]
) -> tuple[int, int]:
    """``(won, closed)`` over the months ``first`` to ``last``: each lead with an outcome in
    the span once, by its last one; from the months' ``(won, closed)``.

    The months add up except for the leads with outcomes in more than one of them: one
    grouped read of the span's outcomes finds them (two or more outcomes, the first and the
    last in different months), and only theirs are read back, to replace their monthly
    shares by their share of the span.
    """
    months = months_between(first, last)
    won = sum(monthly.get(m, (0, 0))[0] for m in months)
    closed = sum(monthly.get(m, (0, 0))[1] for m in months)
    since, until = _bounds(first, last)
    starts = _month_starts(first, last)
    rows = DealOutcome.objects.for_org(organization).filter(
        result__in=DealOutcome.Result.values, at__gte=since, at__lt=until
    )
    spread = [
        lead
        for lead, low, high in rows.order_by()
        .values("lead_id")
        .annotate(n=Count("pk"), low=Min("at"), high=Max("at"))
        .filter(n__gt=1)
        .values_list("lead_id", "low", "high")
        if bisect.bisect_right(starts, low) != bisect.bisect_right(starts, high)
    ]
    is_won = DealOutcome.Result.WON
    for chunk in range(0, len(spread), 500):
        by_month: dict[tuple[int, int], str] = {}
        by_span: dict[int, str] = {}
        for lead, result, at in (
            rows.filter(lead_id__in=spread[chunk : chunk + 500])
            .order_by("at", "id")
            .values_list("lead_id", "result", "at")
        ):
            by_month[(bisect.bisect_right(starts, at), lead)] = result
            by_span[lead] = result
        for result in by_month.values():
            won, closed = won - (result == is_won), closed - 1
        for result in by_span.values():
            won, closed = won + (result == is_won), closed + 1
    return won, closed


def _reach_set(ladder: Ladder, index: int) -> list[int]:
    """The stages whose entry reaches stage ``index``: it and the later ones, lost excepted."""
    lost = ladder.lost
    return [s.pk for i, s in enumerate(ladder.stages) if i >= index and i not in lost]


def monthly_cohorts(
    organization: Organization,
    ladder: Ladder,
    index: int,
    targets: dict[str, int],
    first: date,
    last: date,
) -> Monthly:
    """The cohort of stage ``index`` per month: ``{month: {"n": observed, name: k}}``: the
    leads first observed at the stage in the month (their first change into it; a lead that
    skipped it is not in it), and of them (``k``) those that reached ``targets[name]`` (a
    later stage on the ladder) at or after that (no window)."""
    since, until = _bounds(first, last)
    stage = ladder.stages[index].pk
    same_lead = StageChange.objects.filter(lead_id=OuterRef("lead_id"))
    # the lead's first change into the stage: no earlier change of its lead into it
    observed = (
        StageChange.objects.for_org(organization)
        .filter(to_stage_id=stage, at__gte=since, at__lt=until)
        .filter(~Exists(same_lead.filter(to_stage_id=stage, at__lt=OuterRef("at"))))
    )
    counts = {
        name: Count(
            "lead_id",
            distinct=True,
            filter=Q(
                Exists(
                    same_lead.filter(to_stage_id__in=_reach_set(ladder, t), at__gte=OuterRef("at"))
                )
            ),
        )
        for name, t in targets.items()
    }
    out: Monthly = defaultdict(dict)
    for row in _by_month(observed, "at").annotate(n=Count("lead_id", distinct=True), **counts):
        out[_month_of(row["month"])].update({k: v for k, v in row.items() if k != "month"})
    return out


def monthly_manual(organization: Organization, months: Iterable[date]) -> Monthly:
    """``{month: {manual key: value}}`` as stored (percent metrics in points)."""
    out: Monthly = defaultdict(dict)
    for (key, month), value in services.manual_values(organization, months).items():
        out[month][key] = float(value)
    return out


@dataclass(frozen=True)
class OpenStage:
    """Leads open at a stage at a moment: how many, and their values (where set)."""

    index: int
    leads: int
    value_sum: float
    valued: int


def open_pipeline(organization: Organization, ladder: Ladder, until: datetime) -> list[OpenStage]:
    """The leads open just before ``until``, by the open stage they were at then.

    A lead's stage then is its current stage when it has not moved since; otherwise its last
    stage change before ``until``. Read on the indexes: the leads now at an open stage (by
    stage), and the leads moved since ``until`` (their stage changes since then, by stage and
    moment; a lead's ``stage_entered_at`` is its last change's moment).
    """
    open_ids = {s.pk: i for i, s in enumerate(ladder.stages) if s.kind == StageKind.OPEN}
    tally: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0])

    def add(rows: Any) -> None:
        for row in rows:
            if row["at_stage"] in open_ids:
                slot = tally[open_ids[row["at_stage"]]]
                slot[0] += row["n"]
                slot[1] += float(row["value_sum"] or 0)
                slot[2] += row["valued"]

    aggregates = {"n": Count("pk"), "value_sum": Sum("value"), "valued": Count("value")}
    # the moments are tested inside the aggregates: the stage index finds the open leads
    then = Q(first_touch_at__lt=until, stage_entered_at__lt=until)
    add(
        Lead.objects.for_org(organization)
        .filter(stage_id__in=list(open_ids))
        .order_by()
        .values(at_stage=F("stage_id"))
        .annotate(
            # (stage_entered_at, not the id: the index holds it, PostgreSQL's has no id)
            n=Count("stage_entered_at", filter=then),
            value_sum=Sum("value", filter=then),
            valued=Count("value", filter=then),
        )
    )
    since_then = StageChange.objects.for_org(organization).filter(
        to_stage_id__in=[s.pk for s in ladder.stages], at__gte=until
    )
    moved = Lead.objects.filter(
        pk__in=since_then.values("lead_id"), first_touch_at__lt=until, stage_entered_at__gte=until
    )
    if moved.exists():
        then = (
            StageChange.objects.filter(lead_id=OuterRef("pk"), at__lt=until)
            .order_by("-at", "-id")
            .values("to_stage_id")[:1]
        )
        add(
            moved.annotate(then=Subquery(then))
            .order_by()
            .values(at_stage=F("then"))
            .annotate(**aggregates)
        )
    return [OpenStage(i, int(t[0]), float(t[1]), int(t[2])) for i, t in sorted(tally.items())]


# --- the figures of the span ----------------------------------------------------------------


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


def _merge(*parts: Monthly) -> Monthly:
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
            _money_counts(
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
        counts = _merge(
            monthly_new_leads(organization, first, last),
            monthly_entries(organization, first, last),
            monthly_activities(organization, first, last),
            monthly_money(organization, first, last),
            monthly_closed(closed),
        )
    counts = _merge(counts, monthly_spend(organization, first, last))
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


# --- values of one metric ---------------------------------------------------------------------


def _count(figures: Figures, key: str, month: date) -> float:
    return float(figures.counts.get(month, {}).get(key, 0))


def _rate_of(figures: Figures, key: str, months: list[date]) -> RateFigure:
    """The rate over ``months`` (conversions: the cohorts add up; close rate: monthly)."""
    if key == "close_rate":
        pairs = [figures.closed.get(m, (0, 0)) for m in months]
    else:
        pairs = [figures.cohorts.get(m, {}).get(key, (0, 0)) for m in months]
    return rate(sum(k for k, _n in pairs), sum(n for _k, n in pairs))


def _cycle(figures: Figures, key: str, months: list[date]) -> float | None:
    q = CYCLE_QUANTILES[0] if key == "sales_cycle_median" else CYCLE_QUANTILES[1]
    return figures.cycles.quantile(months, q)


def cycle_quantile(organization: Organization, first: date, last: date, q: float) -> float | None:
    """The sales cycle's q-quantile over the months ``first`` to ``last``: what the
    scorecard's sales cycle row gives for them, without reading every first win when the
    summaries are built (the dashboard's year to date)."""
    if summary.ready(organization):
        return summary.cycle_quantile(organization, first, last, q)
    days = first_wins(organization, first, last)
    return stats.quantile(sorted(d for m in days for d in days[m]), q)


def _margin(figures: Figures, months: list[date]) -> float | None:
    """The margin of the months' deals whose cost was recorded: 0 without deals, None when
    there were deals but no cost was recorded for any."""
    if not any(_count(figures, "deals", m) for m in months):
        return 0.0
    if not _costed(figures, months):
        return None
    return sum(_count(figures, "margin", m) for m in months)


def _costed(figures: Figures, months: list[date]) -> bool:
    return any(_count(figures, "costed", m) for m in months)


def _margin_pct(figures: Figures, months: list[date]) -> float | None:
    """Margin / revenue of the deals whose cost was recorded."""
    revenue = sum(_count(figures, "costed_revenue", m) for m in months)
    margin = _margin(figures, months)
    return margin / revenue if margin is not None and revenue else None


def _spend_ratio(figures: Figures, key: str, months: list[date]) -> float | None:
    """Cost per lead, cost per customer or return on spend over the months, from the sums of
    the months (never a mean of monthly ratios). None ("not recorded") unless spend was
    recorded for every month (a month without spend is unknown, not free), or when the
    denominator is 0."""
    if not _spend_recorded(figures, months):
        return None
    spend = sum(_count(figures, "spend", m) for m in months)
    if key == "return_on_spend":
        margin = _margin(figures, months)
        return (margin - spend) / spend if spend and margin is not None else None
    if key == "cost_per_lead":
        leads = sum(_count(figures, "new_leads", m) for m in months)
        return spend / leads if leads else None
    # cost per customer: the leads won for the first time (the sales cycle's first wins)
    customers = _first_wins(figures, months)
    return spend / customers if customers else None


def _first_wins(figures: Figures, months: list[date]) -> int:
    return figures.cycles.count(months)


def recorded(figures: Figures, metric: MetricDef, months: list[date]) -> bool:
    """Whether what the metric is computed from was recorded over the months: the spend
    ratios need spend entered for every month (none entered is unknown, not free); the
    margin, margin % and return on spend a deal whose cost was recorded (a deal without one
    is unknown, not free)."""
    if metric.key in SPEND_KEYS and not _spend_recorded(figures, months):
        return False
    if metric.key in ("margin", "margin_pct", "return_on_spend"):
        return _costed(figures, months) or not any(_count(figures, "deals", m) for m in months)
    return True


def _spend_recorded(figures: Figures, months: list[date]) -> bool:
    return bool(months) and all("spend" in figures.counts.get(m, {}) for m in months)


def enough(figures: Figures, metric: MetricDef, months: list[date]) -> bool:
    """Whether the metric's value over the months rests on enough data to be shown (else
    "not enough data": no value, no change, no colour). One rule per figure, for every
    page, file and API: rates need ``min_n`` leads (``RateFigure.enough``); the sales
    cycle's quantiles :data:`~keepscore.funnel.stats.MIN_QUANTILE_N` first wins; return on
    spend :data:`~keepscore.funnel.stats.MIN_CUSTOMERS` customers (first wins). Counts,
    money and plain divisions (cost per lead, per customer, margin %) always do."""
    key = metric.key
    if metric.manual:
        return True
    if key == "close_rate" or key.startswith("conversion_"):
        return _rate_of(figures, key, months).enough
    if key.startswith("sales_cycle_"):
        return _first_wins(figures, months) >= stats.MIN_QUANTILE_N
    if key == "return_on_spend":
        return _first_wins(figures, months) >= stats.MIN_CUSTOMERS
    return True


def _manual(figures: Figures, metric: MetricDef, months: list[date]) -> float | None:
    """A manual metric over months: the value of one month; a sum (count, money) or a mean
    (other units) of the months that have one. Percentages become fractions."""
    values = [figures.manual[m][metric.key] for m in months if metric.key in figures.manual[m]]
    if not values:
        return None
    total = sum(values) if metric.unit in ADDITIVE else sum(values) / len(values)
    return total / 100 if metric.unit == "percent" else total


def metric_value(figures: Figures, metric: MetricDef, months: list[date]) -> float | None:
    """The metric over one month or several (year to date): sums for counts and money, rates
    and quantiles recomputed over the months."""
    key = metric.key
    if metric.manual:
        return _manual(figures, metric, months)
    if key == "close_rate" or key.startswith("conversion_"):
        return _rate_of(figures, key, months).rate
    if key.startswith("sales_cycle_"):
        return _cycle(figures, key, months)
    if key == "margin_pct":
        return _margin_pct(figures, months)
    if key == "margin":
        return _margin(figures, months)
    if key in SPEND_RATIOS:
        return _spend_ratio(figures, key, months)
    if key == "marketing_spend":
        recorded = _spend_recorded(figures, months)
        return sum(_count(figures, "spend", m) for m in months) if recorded else None
    return sum(_count(figures, key, m) for m in months)


def _manual_is_known(figures: Figures, metric: MetricDef, month: date) -> bool:
    return metric.key in figures.manual.get(month, {})


# --- the scorecard --------------------------------------------------------------------------


def _target_goal(value: Decimal | None, metric: MetricDef) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number / 100 if metric.unit == "percent" else number


def _change(value: float | None, previous: float | None) -> float | None:
    if value is None or previous is None:
        return None
    return value - previous


def same_days_comparable(metric: MetricDef) -> bool:
    """Whether a metric is compared over the same days of other months while its month
    runs: the flows of dated events (counts and money, not spend, which is entered by the
    month) and their ratios (close rate, margin %). Cohort conversions and cycles wait
    for the month's end: their leads have not had the same time."""
    if metric.manual or metric.key in SPEND_KEYS:
        return False
    return metric.unit in ADDITIVE or metric.key in ("close_rate", "margin_pct")


def same_days(organization: Organization, month: date, days: int) -> Figures:
    """The flows of the first ``days`` days of ``month`` (its whole length at most), read
    as a whole month's are (the same grouped reads, over a shorter window)."""
    end = min(month + timedelta(days=days - 1), Period.month(month).end)
    window = Period(month, end).bounds()
    closed = closed_counts(organization, month, month, window=window)
    counts = _merge(
        monthly_new_leads(organization, month, month, window),
        monthly_entries(organization, month, month, window),
        monthly_activities(organization, month, month, window),
        monthly_money(organization, month, month, window),
        monthly_closed(closed),
    )
    return Figures(counts=counts, cohorts={}, closed=closed, cycles=Cycles(), manual={})


def first_month(organization: Organization) -> date | None:
    """The organization's first month with data: its earliest lead's first touch."""
    first = Lead.objects.for_org(organization).aggregate(m=Min("first_touch_at"))["m"]
    return None if first is None else _month_of(first)


def scorecard_for(
    organization: Organization,
    month: date,
    today: date | None = None,
    only: Collection[str] | None = None,
    last_year_same_days: bool = True,
) -> Scorecard:
    """The scorecard of ``month`` (any day of it): every metric of the catalogue, in order
    (``only``: just the metrics with these keys, e.g. the dashboard's few;
    ``last_year_same_days=False``: without the same days of last year, which the dashboard
    does not show).

    While the month runs, its flows are also given for the same days of last month and of
    the same month last year, and the change is against the same days of last month (a
    like-for-like comparison); once it is over, against the whole of last month."""
    month = month.replace(day=1)
    today = today or timezone.localdate()
    ladder = Ladder.of(organization)
    first = month_add(month, -TREND_MONTHS)
    catalogue = [m for m in metric_catalogue(organization) if only is None or m.key in only]
    needs_cycles = any(
        m.key.startswith("sales_cycle") or m.key in ("cost_per_customer", "return_on_spend")
        for m in catalogue
    )
    figures = figures_read(organization, ladder, first, month, cycles=needs_cycles)
    year_months = months_between(date(month.year, 1, 1), month)
    previous, last_year = month_add(month, -1), month_add(month, -12)
    trend_months = [month_add(month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    targets = services.targets_for(organization, [month])
    goals = services.goals_for(organization, month.year)
    history_start = first_month(organization)
    if figures.summarized:
        ytd_closed = summary.span_closed(organization, year_months[0], month)
    else:
        ytd_closed = span_closed(organization, year_months[0], month, figures.closed)
    day = pace.as_of(month, today)
    days = day.day if month <= day < Period.month(month).end else None
    same: dict[date, Figures] = {}
    if days is not None and any(same_days_comparable(m) for m in catalogue):
        against = (previous, last_year) if last_year_same_days else (previous,)
        same = {m: same_days(organization, m, days) for m in against}
    rows = []
    for metric in catalogue:

        def at(m: date, metric: MetricDef = metric) -> float | None:
            if metric.manual and not _manual_is_known(figures, metric, m):
                return None
            return metric_value(figures, metric, [m])

        def shown(m: date, metric: MetricDef = metric) -> float | None:
            """The value when there is enough data for it (else None: no comparison)."""
            return at(m) if enough(figures, metric, [m]) else None

        value = at(month)
        figure: RateFigure | None = None
        if metric.key == "close_rate":
            won, closed = figures.closed.get(month, (0, 0))
            figure = rate(won, closed)
            ytd = rate(*ytd_closed).rate
        else:
            if metric.key.startswith("conversion_"):
                figure = _rate_of(figures, metric.key, [month])
            ytd = metric_value(figures, metric, year_months)
        is_enough = enough(figures, metric, [month])
        like: dict[date, float | None] = {}
        if same and same_days_comparable(metric):
            like = {
                m: metric_value(f, metric, [m]) if enough(f, metric, [m]) else None
                for m, f in same.items()
            }
        compared = like.get(previous) if days is not None else shown(previous)
        goal = _target_goal(goals.get(metric.key), metric)
        projected: pace.Projection | None = None
        additive = metric.unit in ADDITIVE and metric.key not in SPEND_KEYS
        if goal is not None and additive and ytd is not None:
            projected = pace.project(
                goal=goal,
                ytd=ytd,
                monthly={m: at(m) for m in months_between(first, month)},
                month=month,
                today=today,
                history_start=history_start,
                count=metric.unit == "count",
                higher_is_better=metric.higher_is_better,
            )
        rows.append(
            MetricRow(
                key=metric.key,
                name=metric.name,
                group=metric.group,
                unit=metric.unit,
                manual=metric.manual,
                value=value,
                previous=at(previous),
                change=_change(value if is_enough else None, compared),
                same_month_last_year=at(last_year),
                target=_target_goal(targets.get((metric.key, month)), metric),
                ytd=ytd,
                goal=goal,
                projection=projected,
                trend=tuple(at(m) for m in trend_months),
                rate=figure,
                higher_is_better=metric.higher_is_better,
                enough=is_enough,
                recorded=recorded(figures, metric, [month]),
                previous_same_days=like.get(previous),
                last_year_same_days=like.get(last_year),
            )
        )
    return Scorecard(
        organization=organization.name,
        slug=organization.slug,
        month=month,
        rows=tuple(rows),
        reviews=tuple(services.reviews_for(organization, month)),
        generated_at=timezone.now(),
        extra={"today": today},
        days=days,
        currency=organization.currency,
        number_locale=organization.number_locale,
    )


def scorecard_json(scorecard: Scorecard) -> dict[str, Any]:
    """The stable JSON of a scorecard (the CLI's ``--format json`` and the API). The
    whole-month fields stay as they are while the month runs; ``month_to_date`` says how
    many of its days have passed and each flow's ``*_same_days`` fields compare like for
    like (README, "Scorecard")."""
    return {
        "organization": scorecard.organization,
        "month": f"{scorecard.month:%Y-%m}",
        "currency": scorecard.currency,
        "month_to_date": None
        if scorecard.days is None
        else {"days": scorecard.days, "of_days": scorecard.days_in_month},
        "metrics": [
            {
                "key": r.key,
                "group": r.group,
                "name": r.name,
                "unit": r.unit,
                "value": r.value,
                "enough": r.enough,
                "recorded": r.recorded,
                "previous": r.previous,
                "previous_same_days": r.previous_same_days,
                "change": r.change,
                "same_month_last_year": r.same_month_last_year,
                "same_month_last_year_same_days": r.last_year_same_days,
                "target": r.target,
                "ytd": r.ytd,
                "goal": r.goal,
                "projected_year_end": r.projected_year_end,
                "projected_low": r.projected_low,
                "projected_high": r.projected_high,
                "pace": r.pace,
                "run_rate": r.projection.run_rate if r.projection else None,
                "run_months": [f"{m:%Y-%m}" for m in r.projection.run_months]
                if r.projection
                else [],
                "months_left": r.projection.months_left if r.projection else None,
                "k": r.rate.k if r.rate else None,
                "n": r.rate.n if r.rate else None,
                "ci_low": r.rate.ci_low if r.rate else None,
                "ci_high": r.rate.ci_high if r.rate else None,
            }
            for r in scorecard.rows
        ],
        "reviews": [
            {"kind": e.kind, "text": e.text, "by": e.by, "at": e.at.isoformat()}
            for e in scorecard.reviews
        ],
    }
