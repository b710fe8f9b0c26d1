"""The scorecard's reads of the stored rows, grouped by local month; the open pipeline.

New leads, stage entries, activities, won deals' money, spend, closed outcomes, first wins and
cohorts, month by month; the open pipeline at a moment and the first month with data. They give
the figures (:mod:`keepscore.scorecard.figures`) and the year's close rate when the
organization's summaries are not built (``keepscore.funnel.summary.ready``); spend, a running
month's same days and the open pipeline for pace are always read here. The rows are grouped by
month on the database side in ``settings.TIME_ZONE`` (the first wins and the year's close
rate: range queries bounded by the months needed, on the indexes, with month boundaries
computed in Python).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
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
from keepscore.common.periods import Period
from keepscore.economics.models import Spend
from keepscore.funnel.ladder import Ladder
from keepscore.leads.models import DealOutcome, Lead, StageChange, StageKind

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
            money_counts(
                deals=row["n_deals"],
                revenue=Decimal(row["revenue_cents"]) / 100,
                cost=Decimal(row["cost_cents"]) / 100,
                costed=row["n_costed"],
                costed_revenue=Decimal(row["costed_cents"]) / 100,
            )
        )
    return out


def money_counts(
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


def first_month(organization: Organization) -> date | None:
    """The organization's first month with data: its earliest lead's first touch."""
    first = Lead.objects.for_org(organization).aggregate(m=Min("first_touch_at"))["m"]
    return None if first is None else _month_of(first)
