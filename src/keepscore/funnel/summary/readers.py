"""Reading the summaries: the funnel of whole months by nothing, channel or owner, each
month's additive figures, the close rate and sales cycle over runs of months, and the leads
now at each stage. The same answers as ``keepscore.funnel.selectors`` (the reference)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Sum

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import ActivityKind
from keepscore.common.months import month_add, month_start
from keepscore.common.periods import Period
from keepscore.funnel.funnel_report import (
    FunnelReport,
    Tally,
    funnel_steps,
    overall_steps,
    report_assemble,
)
from keepscore.funnel.groupings import (
    ALL_KEY,
    ALL_LABEL,
    NONE_KEY,
    NONE_LABEL,
    grouping_check,
    member_label,
)
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.models import (
    ENTRY,
    WINDOWS,
    CloseCount,
    CohortCount,
    EntryCount,
    FirstWin,
    MonthCount,
    ObjectionCount,
    ReachCount,
    StageCount,
)
from keepscore.funnel.summary.lead_contributions import SOURCED_REACHED
from keepscore.funnel.summary.sql import pg
from keepscore.funnel.summary.upkeep import SUMMARY_GROUPINGS
from keepscore.leads.models import Channel

#: the funnel's entry cohort among ladder indexes (CohortCount's stage 0)
ENTRY_INDEX = -1
#: month_counts: metric names besides entered.<stage>, reached.<stage>
ACTIVITY_METRICS = tuple(f"activities.{kind}" for kind in ActivityKind.values)
MONEY_METRICS = ("revenue", "cost", "costed_revenue")


def supports(period: Period, by: str | None, within_days: int | None) -> bool:
    """Whether :func:`funnel` answers these arguments: whole months, by nothing, channel or
    owner, within_days None or one of ``WINDOWS``."""
    if by not in SUMMARY_GROUPINGS:
        return False
    if within_days is not None and (isinstance(within_days, bool) or within_days not in WINDOWS):
        return False
    return period.start.day == 1 and (period.end + timedelta(days=1)).day == 1


def _months(period: Period) -> tuple[date, date]:
    return period.start, month_start(period.end)


def _groups(
    organization: Organization, by: str | None
) -> tuple[dict[int, tuple[str, str]], tuple[str, str]]:
    """Stored dimension id → (group key, label); and the group of an unknown id."""
    if by is None:
        return {}, (ALL_KEY, ALL_LABEL)
    if by == "channel":
        return {
            pk: (key, name)
            for pk, key, name in Channel.objects.for_org(organization).values_list(
                "pk", "key", "name"
            )
        }, (NONE_KEY, NONE_LABEL)
    rows = Membership.objects.filter(organization=organization).values_list(
        "pk", "user__first_name", "user__last_name", "user__email"
    )
    return {pk: (str(pk), member_label(first, last, email)) for pk, first, last, email in rows}, (
        NONE_KEY,
        NONE_LABEL,
    )


def funnel(
    organization: Organization,
    period: Period,
    by: str | None = None,
    within_days: int | None = None,
) -> FunnelReport:
    """``services.funnel`` from the summaries (see :func:`supports` for the arguments)."""
    grouping_check(by)
    if not supports(period, by, within_days):
        raise ValueError(f"the summaries do not answer {period}, by={by!r}, {within_days=}")
    ladder = Ladder.of(organization)
    steps = funnel_steps(ladder)
    overall = overall_steps(ladder)
    ids = {s.pk: i for i, s in enumerate(ladder.stages)}
    ids[ENTRY] = ENTRY_INDEX
    first, last = _months(period)
    names, unknown = _groups(organization, by)
    dim = {None: None, "channel": "channel", "owner": "owner"}[by]
    column = "k_ever" if within_days is None else f"k_{within_days}"
    size = len(ladder.stages)

    def group_of(value: Any) -> tuple[str, str]:
        return unknown if by is None else names.get(value, unknown)

    reached: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    skipped: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    entered: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    seen: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    k: dict[str, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
    labels: dict[str, str] = {}
    fields = ["stage_a", "stage_b"] + ([dim] if dim else [])
    cohorts = (
        CohortCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .values(*fields)
        .order_by()
        .annotate(n=Sum("k_ever"), k=Sum(column))
    )
    for row in cohorts:
        a, b = ids.get(row["stage_a"]), ids.get(row["stage_b"])
        if a is None or b is None:
            continue
        key, label = group_of(row.get(dim) if dim else None)
        labels[key] = label
        if a == b:
            seen[key][a] += row["n"]  # the cohort: first observed at a (or entering)
        else:
            k[key][(a, b)] += row["k"]
    for row in (
        ReachCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .values(*(["stage"] + ([dim] if dim else [])))
        .order_by()
        .annotate(n=Sum("reached"), s=Sum("skipped"))
    ):
        i = ids.get(row["stage"])
        if i is None or i == ENTRY_INDEX:
            continue
        key, label = group_of(row.get(dim) if dim else None)
        labels[key] = label
        reached[key][i] += row["n"]
        skipped[key][i] += row["s"]
    entries = (
        EntryCount.objects.filter(
            organization=organization, month__gte=first, month__lte=last, prev_month__lt=first
        )
        .values(*(["stage"] + ([dim] if dim else [])))
        .order_by()
        .annotate(n=Sum("n"))
    )
    for row in entries:
        i = ids.get(row["stage"])
        if i is None:
            continue
        key, label = group_of(row.get(dim) if dim else None)
        labels[key] = label
        entered[key][i] += row["n"]
    keys = set(reached) | set(entered)
    if by is None:
        keys.add(ALL_KEY)
        labels[ALL_KEY] = ALL_LABEL
    else:
        keys = {key for key in keys if any(reached[key]) or any(entered[key])}
    tallies: dict[str, Tally] = {}
    for key in keys:
        tally = tallies[key] = Tally(size, len(steps))
        tally.reached, tally.entered = reached[key], entered[key]
        tally.skipped = skipped[key]
        for j, (a, b) in enumerate(steps):
            source = ENTRY_INDEX if j in overall else a
            tally.n[j] = seen[key][source]
            tally.k[j] = k[key][(source, b)]
    return report_assemble(ladder, period, by, within_days, tallies, labels)


def month_counts(
    organization: Organization, first_month: date, last_month: date
) -> dict[date, dict[str, int | Decimal]]:
    """Each month's additive figures, first_month to last_month (first days), every metric:

    ``new_leads`` and ``won_leads`` (those of them with a won outcome, at any time);
    ``entered.<stage>`` and ``reached.<stage>`` (every stage of the ladder);
    ``activities.<kind>`` (every kind), ``sales_conversations`` and ``conversations_won``;
    ``won``, ``revenue``, ``cost`` (Decimals), ``losses`` (won deals below their cost) and
    ``lost`` (outcomes dated in the month); ``closed`` and ``closed_won`` (the close rate's n
    and k). The objections are counted apart (:func:`objection_months`).
    """
    first, last = month_start(first_month), month_start(last_month)
    ladder = Ladder.of(organization)
    keys = {s.pk: s.key for s in ladder.stages}
    metrics = [
        "new_leads",
        "won_leads",
        *(f"entered.{s.key}" for s in ladder.stages),
        *(f"reached.{s.key}" for s in ladder.stages),
        *ACTIVITY_METRICS,
        "sales_conversations",
        "conversations_won",
        "won",
        "costed",
        "losses",
        "lost",
        "closed",
        "closed_won",
    ]
    out: dict[date, dict[str, int | Decimal]] = {}
    month = first
    while month <= last:
        row: dict[str, int | Decimal] = dict.fromkeys(metrics, 0)
        row.update(dict.fromkeys(MONEY_METRICS, Decimal("0.00")))
        out[month] = row
        month = month_add(month, 1)
    flows = (
        MonthCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .exclude(metric__startswith=SOURCED_REACHED)
        .values("month", "metric")
        .order_by()
        .annotate(v=Sum("value"))
    )
    for r in flows:
        if r["metric"] in MONEY_METRICS:
            out[r["month"]][r["metric"]] = (Decimal(r["v"]) / 100).quantize(Decimal("0.01"))
        else:
            out[r["month"]][r["metric"]] = int(r["v"])
    for r in (
        ReachCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .values("month", "stage")
        .order_by()
        .annotate(v=Sum("reached"))
    ):
        if r["stage"] in keys:
            out[r["month"]][f"reached.{keys[r['stage']]}"] = int(r["v"])
    for r in (
        EntryCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .values("month", "stage")
        .order_by()
        .annotate(v=Sum("n"))
    ):
        if r["stage"] in keys:
            out[r["month"]][f"entered.{keys[r['stage']]}"] = int(r["v"])
    return out


def span_closed(organization: Organization, first_month: date, last_month: date) -> tuple[int, int]:
    """``(won, closed)``: the close rate's k and n over the months ``first_month`` to
    ``last_month``, each lead with an outcome dated in them once, by its last one (the
    ``CloseCount`` rows of the months whose next month with an outcome is after them)."""
    first, last = month_start(first_month), month_start(last_month)
    found = CloseCount.objects.filter(
        organization=organization, month__gte=first, month__lte=last, next_month__gt=last
    ).aggregate(won=Sum("won"), closed=Sum("closed"))
    return int(found["won"] or 0), int(found["closed"] or 0)


def cycle_days(
    organization: Organization, first_month: date, last_month: date
) -> dict[date, list[float]]:
    """``{month: sorted cycle days}`` of the leads first won in each month, ``first_month`` to
    ``last_month`` (months without one left out). Days are as the reference computes them:
    ``timedelta.total_seconds() / 86400`` of the whole microseconds."""
    first, last = month_start(first_month), month_start(last_month)
    adapt = connection.ops.adapt_datefield_value
    # read in order from the (organization, month, cycle_us) index; months are converted
    # once per month, not row by row (SQLite: as text, no converter runs on each row)
    month = "month" if pg() else "CAST(month AS TEXT)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {month}, cycle_us FROM {FirstWin._meta.db_table} "
            "WHERE organization_id = %s AND month >= %s AND month <= %s ORDER BY month, cycle_us",
            [organization.pk, adapt(first), adapt(last)],
        )
        rows = cursor.fetchall()
    out: dict[date, list[float]] = {}
    for found, group in groupby(rows, key=itemgetter(0)):
        days = [cycle_us / 10**6 / 86400 for _month, cycle_us in group]
        days.sort()  # sorted already: the index's order
        out[found if isinstance(found, date) else date.fromisoformat(found)] = days
    return out


def stage_counts(organization: Organization) -> dict[int, int]:
    """Leads now at each stage, by stage id (stages with none may be missing)."""
    return dict(
        StageCount.objects.filter(organization=organization, n__gt=0).values_list("stage", "n")
    )


#: jobs_cells: MonthCount's metrics, by the report's columns
_JOBS_METRICS = {
    "new_leads": "leads_sourced",
    "sales_conversations": "sales_conversations",
    f"activities.{ActivityKind.PROPOSAL.value}": "proposals",
    "won": "won_deals",
    "costed": "costed",
}


def jobs_cells(
    organization: Organization, months: list[date], qualified_stage: int | None
) -> dict[tuple[int | None, int], dict[str, Any]]:
    """The marketing & sales report's counts (``keepscore.funnel.jobs``) of these whole
    months (first days, in order, consecutive) from MonthCount: ``{(member id or None, month
    index): {column: value}}``, a column only where it is not 0, as the reference's grouped
    counts give them. A member no longer in the organization is None (the reference's
    rows lost theirs: SET NULL)."""
    index = {month: i for i, month in enumerate(months)}
    members = set(Membership.objects.filter(organization=organization).values_list("pk", flat=True))
    wanted = [*_JOBS_METRICS, *MONEY_METRICS]
    if qualified_stage is not None:
        wanted.append(f"{SOURCED_REACHED}{qualified_stage}")
    sums: dict[tuple[int | None, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        MonthCount.objects.filter(
            organization=organization,
            month__gte=months[0],
            month__lte=months[-1],
            metric__in=wanted,
        )
        .values("month", "metric", "member")
        .order_by()
        .annotate(v=Sum("value"))
    ):
        member = row["member"] if row["member"] in members else None
        sums[(member, index[row["month"]])][row["metric"]] += int(row["v"])
    cells: dict[tuple[int | None, int], dict[str, Any]] = {}
    for key, found in sums.items():
        cell: dict[str, Any] = {}
        for metric, column in _JOBS_METRICS.items():
            if found.get(metric) and column != "costed":
                cell[column] = found[metric]
        if qualified_stage is not None and found.get(f"{SOURCED_REACHED}{qualified_stage}"):
            cell["leads_qualified"] = found[f"{SOURCED_REACHED}{qualified_stage}"]
        if "sales_conversations" in cell or "proposals" in cell:
            cell.setdefault("sales_conversations", 0)
            cell.setdefault("proposals", 0)
        if found.get("won"):
            cent = Decimal("0.01")
            cell["costed"] = found.get("costed", 0)
            cell["revenue"] = (Decimal(found.get("revenue", 0)) / 100).quantize(cent)
            margin = Decimal(found.get("costed_revenue", 0) - found.get("cost", 0)) / 100
            cell["margin"] = margin.quantize(cent)
        if cell:
            cells[key] = cell
    return cells


def activity_months(
    organization: Organization, period: Period, by_member: bool
) -> dict[tuple[date, int | None], dict[str, int]]:
    """The activity report's counts per month of a whole-month period (and per member who
    logged them, None for no one, when ``by_member``): ``activities.<kind>``,
    ``sales_conversations`` and ``conversations_won`` summed over channels; only the months
    and members with an activity."""
    first, last = _months(period)
    fields = ("month", "metric", "member") if by_member else ("month", "metric")
    rows = (
        MonthCount.objects.filter(
            organization=organization,
            month__gte=first,
            month__lte=last,
            metric__in=[*ACTIVITY_METRICS, "sales_conversations", "conversations_won"],
        )
        .values(*fields)
        .order_by()
        .annotate(v=Sum("value"))
    )
    out: dict[tuple[date, int | None], dict[str, int]] = defaultdict(dict)
    for r in rows:
        if r["v"]:
            member = (r["member"] or None) if by_member else None
            out[(r["month"], member)][r["metric"]] = int(r["v"])
    # a month and member with no activity counts nothing (their other metrics are 0 too)
    return {key: found for key, found in out.items() if any(found.get(m) for m in ACTIVITY_METRICS)}


def objection_months(
    organization: Organization, period: Period
) -> list[tuple[date, str, int | None, int, int]]:
    """The objections of a whole-month period: (month, tag, the stage the lead was at then
    (None: before its first stage change), the lead's channel, how many), non-zero only."""
    first, last = _months(period)
    rows = (
        ObjectionCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .values_list("month", "tag", "stage", "channel")
        .order_by()
        .annotate(v=Sum("n"))
    )
    return [
        (month, tag, stage or None, channel, int(v)) for month, tag, stage, channel, v in rows if v
    ]
