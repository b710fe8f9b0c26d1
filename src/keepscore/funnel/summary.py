"""Pre-aggregated funnel summaries, maintained as the data changes (docs/numbers.md,
"Summaries"). The same answers as ``keepscore.funnel.services`` for whole-month periods,
grouped by nothing, channel or owner, with ``within_days`` in ``WINDOWS`` (or None).

Tables (``keepscore.funnel.models``): ``CohortCount`` (reach cohorts and their
conversions), ``EntryCount`` (explicit entries, countable once per lead over any run of
months), ``MonthCount`` (additive monthly flows), ``CloseCount`` (the close rate's leads,
countable once per lead over any run of months), ``FirstWin`` (each won lead's first win
and sales cycle) and ``StageCount`` (leads now at each stage).

Maintenance, all in the caller's transaction (a failed write leaves them as they were):

- a lead's contributions are computed from its stored rows with set-based SQL, taken
  away by :func:`lead_forget` *before* a write that changes them (a move, an owner change)
  and added back by :func:`lead_count` *after* it (``lead_count`` alone for new leads);
- activities are added by :func:`activity_add` / :func:`activities_add`;
- :func:`organization_rebuild` recomputes everything (a ladder edit calls it through
  :func:`ladder_changed`). An organization whose summaries were never built is built on its
  first write; until then (and whenever the ladder differs from the one the counts were
  made with) :func:`ready` is False and callers use the reference services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Min, QuerySet, Sum
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, ActivityKind
from keepscore.funnel.models import (
    WINDOWS,
    CloseCount,
    CohortCount,
    EntryCount,
    FirstWin,
    MonthBound,
    MonthCount,
    StageCount,
    SummaryState,
)
from keepscore.funnel.services import (
    ALL_KEY,
    ALL_LABEL,
    NONE_KEY,
    NONE_LABEL,
    FunnelReport,
    Ladder,
    Period,
    Tally,
    _member_label,
    funnel_steps,
    grouping_check,
    report_assemble,
)
from keepscore.leads.models import Channel, DealOutcome, Lead, Stage, StageChange

#: bump when what the tables hold changes: organizations are rebuilt on their next write
VERSION = 3
GROUPINGS = (None, "channel", "owner")
NO_PREVIOUS = date(1, 1, 1)
#: CloseCount.next_month of a lead's last month with an outcome
NO_NEXT = date(9999, 12, 1)
_K = ("k_ever", *(f"k_{d}" for d in WINDOWS))
_LEADS = "ks_lead"

#: month_counts: metric names besides entered.<stage>, reached.<stage>
ACTIVITY_METRICS = tuple(f"activities.{kind}" for kind in ActivityKind.values)
MONEY_METRICS = ("revenue", "cost")


# --- state ------------------------------------------------------------------------------


def _ladder_signature(organization: Organization) -> str:
    rows = Stage.objects.for_org(organization).order_by("position", "id").values_list("pk", "kind")
    return ",".join(f"{pk}:{kind}" for pk, kind in rows)


def ready(organization: Organization) -> bool:
    """Whether the organization's summaries are built, by this code, for its current ladder."""
    state = SummaryState.objects.filter(organization=organization).first()
    return (
        state is not None
        and state.version == VERSION
        and state.ladder == _ladder_signature(organization)
    )


def supports(period: Period, by: str | None, within_days: int | None) -> bool:
    """Whether :func:`funnel` answers these arguments: whole months, by nothing, channel or
    owner, within_days None or one of ``WINDOWS``."""
    if by not in GROUPINGS:
        return False
    if within_days is not None and (isinstance(within_days, bool) or within_days not in WINDOWS):
        return False
    return period.start.day == 1 and (period.end + timedelta(days=1)).day == 1


# --- SQL helpers ------------------------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _zone_name() -> str:
    return str(timezone.get_default_timezone())


def _month_of(column: str) -> str:
    """SQL: the local month (first day) of a stored moment, from the MonthBound table."""
    zone = _zone_name().replace("'", "''")
    table = MonthBound._meta.db_table
    return (
        f"(SELECT mb.month FROM {table} mb WHERE mb.zone = '{zone}' AND mb.since <= {column} "
        "ORDER BY mb.since DESC LIMIT 1)"
    )


def _micros(column: str) -> str:
    """SQL: a stored moment as whole microseconds since 1970 (exact on both databases)."""
    if _pg():
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    # SQLite stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC)
    return (
        f"(CAST(strftime('%%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column} || '.000000', 21, 6) AS INTEGER))"
    )


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _local_month(at: datetime) -> date:
    return timezone.localtime(at, timezone.get_default_timezone()).date().replace(day=1)


def _bounds_ensure(low: datetime | None, high: datetime | None) -> None:
    """Make sure MonthBound holds every month from ``low``'s to ``high``'s (local)."""
    if low is None or high is None:
        return
    zone = timezone.get_default_timezone()
    first, last = _local_month(low) - timedelta(days=1), _local_month(high)
    first = _month_start(first)  # one month more before: a moment's greatest bound
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = _next_month(month)
    name = _zone_name()
    have = MonthBound.objects.filter(zone=name, month__gte=first, month__lte=last).count()
    if have == len(months):
        return
    MonthBound.objects.bulk_create(
        [
            MonthBound(
                zone=name, month=m, since=datetime.combine(m, datetime.min.time(), tzinfo=zone)
            )
            for m in months
        ],
        ignore_conflicts=True,
        batch_size=500,
    )


def _temp_tables(cursor: Any) -> None:
    if _pg():
        big, moment, day = "bigint", "timestamptz", "date"
    else:
        big, moment, day = "integer", "text", "text"
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_LEADS} (id {big} PRIMARY KEY)")
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS ks_reach (lead_id {big}, stage_id {big}, "
        f"at {moment}, us {big}, month {day}, channel {big}, owner {big}, "
        "PRIMARY KEY (lead_id, stage_id))"
    )
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS ks_entry (lead_id {big}, stage_id {big}, month {day})"
    )


def _leads_load(cursor: Any, leads: Sequence[int] | QuerySet[Lead]) -> None:
    cursor.execute(f"DELETE FROM {_LEADS}")
    if isinstance(leads, QuerySet):
        sql, params = leads.values("pk").order_by().query.sql_with_params()
        cursor.execute(f"INSERT INTO {_LEADS} (id) SELECT DISTINCT * FROM ({sql}) q", params)
    else:
        cursor.executemany(f"INSERT INTO {_LEADS} (id) VALUES (%s)", [(pk,) for pk in set(leads)])


def _values(rows: Iterable[tuple[int, ...]]) -> str:
    return ", ".join("(" + ", ".join(str(int(v)) for v in row) + ")" for row in rows)


def _upsert(table: str, key: Sequence[str], added: Sequence[str]) -> str:
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"


# --- contributions ----------------------------------------------------------------------


def _ladder_pairs(ladder: Ladder) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(entered stage id, reached stage id) pairs, and the cohort pairs (a, b): every stage
    with itself, and every two not-lost stages in ladder order."""
    stages = ladder.stages
    reaches = [
        (e.pk, t.pk)
        for i, e in enumerate(stages)
        for j, t in enumerate(stages)
        if ladder.reaches(i, j)
    ]
    climbing = ladder.climbing
    cohorts = [(s.pk, s.pk) for s in stages] + [
        (stages[i].pk, stages[j].pk) for i in climbing for j in climbing if i < j
    ]
    return reaches, cohorts


def _contribute(
    cursor: Any, organization: Organization, ladder: Ladder, scoped: bool, sign: int
) -> None:
    """Add (sign +1) or take away (-1) the contributions of the leads in ks_lead (every lead
    of the organization when not ``scoped``) to the count tables; replace (sign +1) or
    remove (-1) their FirstWin rows."""
    org = organization.pk
    sc_t, lead_t = StageChange._meta.db_table, Lead._meta.db_table
    out_t = DealOutcome._meta.db_table
    cohort_t, entry_t, month_t = (
        CohortCount._meta.db_table,
        EntryCount._meta.db_table,
        MonthCount._meta.db_table,
    )
    in_scope = f"IN (SELECT id FROM {_LEADS})"
    # scoped: the lead set drives the join (SQLite keeps CROSS JOIN's order: the lead index)
    sc_from = f"{_LEADS} k CROSS JOIN {sc_t} sc" if scoped else f"{sc_t} sc"
    sc_scope = " AND sc.lead_id = k.id" if scoped else ""
    # "+": not an index on the organization (SQLite), the lead's is the one to use
    sc_org = "+sc.organization_id" if scoped else "sc.organization_id"
    lead_scope = f" AND l.id {in_scope}" if scoped else ""
    out_from = f"{_LEADS} k CROSS JOIN {out_t} o" if scoped else f"{out_t} o"
    out_scope = " AND o.lead_id = k.id" if scoped else ""
    reaches, cohorts = _ladder_pairs(ladder)

    # each lead's reach of each stage: the earliest change that reaches it
    cursor.execute("DELETE FROM ks_reach")
    cursor.execute(
        f"WITH r (entered, target) AS (VALUES {_values(reaches)}) "
        "INSERT INTO ks_reach (lead_id, stage_id, at, us, month, channel, owner) "
        f"SELECT x.lead_id, x.target, x.at, {_micros('x.at')}, {_month_of('x.at')}, "
        "l.channel_id, "
        "COALESCE(l.owner_id, 0) FROM ("
        "SELECT sc.lead_id AS lead_id, r.target AS target, MIN(sc.at) AS at "
        f"FROM {sc_from} CROSS JOIN r "
        f"WHERE r.entered = sc.to_stage_id AND {sc_org} = %s{sc_scope} "
        "GROUP BY sc.lead_id, r.target"
        f") x JOIN {lead_t} l ON l.id = x.lead_id",
        [org],
    )
    windows = ", ".join(
        f"{sign} * SUM(CASE WHEN b.us - a.us <= {d * 86_400_000_000} THEN 1 ELSE 0 END)"
        for d in WINDOWS
    )
    cursor.execute(
        f"WITH p (a, b) AS (VALUES {_values(cohorts)}) "
        f"INSERT INTO {cohort_t} (organization_id, month, stage_a, stage_b, channel, owner, "
        f"{', '.join(_K)}) "
        f"SELECT %s, a.month, a.stage_id, b.stage_id, a.channel, a.owner, {sign} * COUNT(*), "
        f"{windows} FROM ks_reach a JOIN p ON p.a = a.stage_id "
        "JOIN ks_reach b ON b.lead_id = a.lead_id AND b.stage_id = p.b "
        "WHERE true GROUP BY a.month, a.stage_id, b.stage_id, a.channel, a.owner "
        + _upsert(
            cohort_t,
            ("organization_id", "month", "stage_a", "stage_b", "channel", "owner"),
            _K,
        ),
        [org],
    )

    # explicit entries: distinct (lead, stage, month), with the lead's previous such month
    cursor.execute("DELETE FROM ks_entry")
    cursor.execute(
        "INSERT INTO ks_entry (lead_id, stage_id, month) "
        f"SELECT DISTINCT sc.lead_id, sc.to_stage_id, {_month_of('sc.at')} "
        f"FROM {sc_from} WHERE {sc_org} = %s{sc_scope}",
        [org],
    )
    cursor.execute(
        f"INSERT INTO {entry_t} (organization_id, month, prev_month, stage, channel, owner, n) "
        f"SELECT %s, e.month, e.prev, e.stage_id, l.channel_id, COALESCE(l.owner_id, 0), "
        f"{sign} * COUNT(*) FROM ("
        "SELECT lead_id, stage_id, month, COALESCE(LAG(month) OVER "
        "(PARTITION BY lead_id, stage_id ORDER BY month), %s) AS prev FROM ks_entry"
        f") e JOIN {lead_t} l ON l.id = e.lead_id "
        "WHERE true GROUP BY e.month, e.prev, e.stage_id, l.channel_id, COALESCE(l.owner_id, 0) "
        + _upsert(
            entry_t,
            ("organization_id", "month", "stage", "prev_month", "channel", "owner"),
            ("n",),
        ),
        [org, NO_PREVIOUS],
    )

    # additive monthly flows of the leads: new leads, outcomes, the close rate's counts
    won = DealOutcome.Result.WON.value
    cursor.execute(
        "WITH oo AS ("
        f"SELECT o.id, o.lead_id, o.result, o.at, {_month_of('o.at')} AS month, o.revenue, "
        f"o.cost, l.channel_id AS channel FROM {out_from} JOIN {lead_t} l ON l.id = o.lead_id "
        f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope}), "
        "last AS (SELECT month, channel, result, ROW_NUMBER() OVER "
        "(PARTITION BY lead_id, month ORDER BY at DESC, id DESC) AS rn FROM oo) "
        f"INSERT INTO {month_t} (organization_id, month, metric, channel, member, value) "
        f"SELECT %s, u.month, u.metric, u.channel, 0, {sign} * SUM(u.v) FROM ("
        f"SELECT {_month_of('l.first_touch_at')} AS month, 'new_leads' AS metric, "
        f"l.channel_id AS channel, 1 AS v FROM {lead_t} l "
        f"WHERE l.organization_id = %s{lead_scope} "
        f"UNION ALL SELECT month, CASE WHEN result = '{won}' THEN 'won' ELSE 'lost' END, "
        "channel, 1 FROM oo "
        "UNION ALL SELECT month, 'revenue', channel, CAST(ROUND(revenue * 100) AS BIGINT) "
        f"FROM oo WHERE result = '{won}' "
        "UNION ALL SELECT month, 'cost', channel, CAST(ROUND(COALESCE(cost, 0) * 100) AS BIGINT) "
        f"FROM oo WHERE result = '{won}' "
        "UNION ALL SELECT month, 'closed', channel, 1 FROM last WHERE rn = 1 "
        "UNION ALL SELECT month, 'closed_won', channel, 1 FROM last "
        f"WHERE rn = 1 AND result = '{won}'"
        ") u WHERE true GROUP BY u.month, u.metric, u.channel "
        + _upsert(month_t, ("organization_id", "month", "metric", "channel", "member"), ("value",)),
        [org, org, org],
    )

    # the close rate over runs of months: each lead's last outcome of each month with one,
    # and the lead's next month with an outcome
    close_t = CloseCount._meta.db_table
    cursor.execute(
        "WITH oo AS ("
        f"SELECT o.id, o.lead_id, o.result, o.at, {_month_of('o.at')} AS month, "
        "l.channel_id AS channel, COALESCE(l.owner_id, 0) AS owner "
        f"FROM {out_from} JOIN {lead_t} l ON l.id = o.lead_id "
        f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope}), "
        "last AS (SELECT lead_id, month, channel, owner, result, ROW_NUMBER() OVER "
        "(PARTITION BY lead_id, month ORDER BY at DESC, id DESC) AS rn FROM oo), "
        "span AS (SELECT month, channel, owner, result, COALESCE(LEAD(month) OVER "
        "(PARTITION BY lead_id ORDER BY month), %s) AS next FROM last WHERE rn = 1) "
        f"INSERT INTO {close_t} (organization_id, month, next_month, channel, owner, closed, won) "
        f"SELECT %s, month, next, channel, owner, {sign} * COUNT(*), "
        f"{sign} * SUM(CASE WHEN result = '{won}' THEN 1 ELSE 0 END) FROM span "
        "WHERE true GROUP BY month, next, channel, owner "
        + _upsert(
            close_t,
            ("organization_id", "month", "next_month", "channel", "owner"),
            ("closed", "won"),
        ),
        [org, NO_NEXT, org],
    )

    # leads now at each stage
    stage_t = StageCount._meta.db_table
    cursor.execute(
        f"INSERT INTO {stage_t} (organization_id, stage, n) "
        f"SELECT %s, l.stage_id, {sign} * COUNT(*) FROM {lead_t} l "
        f"WHERE l.organization_id = %s{lead_scope} GROUP BY l.stage_id "
        + _upsert(stage_t, ("organization_id", "stage"), ("n",)),
        [org, org],
    )

    # each lead's first win: its month and the cycle from the first touch, in microseconds
    win_t = FirstWin._meta.db_table
    if scoped:
        cursor.execute(f"DELETE FROM {win_t} WHERE organization_id = %s AND lead {in_scope}", [org])
    if sign > 0:
        cursor.execute(
            f"INSERT INTO {win_t} (organization_id, month, channel, owner, lead, cycle_us) "
            f"SELECT %s, {_month_of('w.at')}, l.channel_id, COALESCE(l.owner_id, 0), w.lead_id, "
            f"{_micros('w.at')} - {_micros('l.first_touch_at')} FROM ("
            f"SELECT o.lead_id AS lead_id, MIN(o.at) AS at FROM {out_from} "
            f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope} "
            f"AND o.result = '{won}' GROUP BY o.lead_id"
            f") w JOIN {lead_t} l ON l.id = w.lead_id",
            [org, org],
        )


def _activities_contribute(cursor: Any, organization: Organization, scope: str) -> None:
    """Add the activities matched by ``scope`` (SQL on ``a``) to MonthCount."""
    org = organization.pk
    act_t, lead_t, month_t = (
        Activity._meta.db_table,
        Lead._meta.db_table,
        MonthCount._meta.db_table,
    )
    kinds = ", ".join(f"'{k}'" for k in SALES_CONVERSATION_KINDS)
    cursor.execute(
        "WITH aa AS ("
        f"SELECT {_month_of('a.at')} AS month, a.kind, a.with_buyer, l.channel_id AS channel, "
        f"COALESCE(a.by_id, 0) AS member FROM {act_t} a JOIN {lead_t} l ON l.id = a.lead_id "
        f"WHERE a.organization_id = %s{scope}) "
        f"INSERT INTO {month_t} (organization_id, month, metric, channel, member, value) "
        "SELECT %s, u.month, u.metric, u.channel, u.member, SUM(u.v) FROM ("
        "SELECT month, 'activities.' || kind AS metric, channel, member, 1 AS v FROM aa "
        "UNION ALL SELECT month, 'sales_conversations', channel, member, 1 FROM aa "
        f"WHERE with_buyer AND kind IN ({kinds})"
        ") u WHERE true GROUP BY u.month, u.metric, u.channel, u.member "
        + _upsert(month_t, ("organization_id", "month", "metric", "channel", "member"), ("value",)),
        [org, org],
    )


def _lead_bounds(organization: Organization, leads: Any) -> None:
    """Ensure MonthBound covers the moments of these leads (None: every lead)."""
    changes = StageChange.objects.for_org(organization)
    rows = Lead.objects.for_org(organization)
    outcomes = DealOutcome.objects.for_org(organization)
    if leads is not None:
        changes, rows, outcomes = (
            changes.filter(lead__in=leads),
            rows.filter(pk__in=leads),
            outcomes.filter(lead__in=leads),
        )
    found = [
        changes.aggregate(lo=Min("at"), hi=Max("at")),
        rows.aggregate(lo=Min("first_touch_at"), hi=Max("first_touch_at")),
        outcomes.aggregate(lo=Min("at"), hi=Max("at")),
    ]
    lows = [f["lo"] for f in found if f["lo"] is not None]
    highs = [f["hi"] for f in found if f["hi"] is not None]
    if lows:
        _bounds_ensure(min(lows), max(highs))


# --- maintenance ------------------------------------------------------------------------


def _apply(organization: Organization, leads: Sequence[int] | QuerySet[Lead], sign: int) -> None:
    if not isinstance(leads, QuerySet):
        leads = list(leads)
        if not leads:
            return
    _lead_bounds(organization, leads)
    ladder = Ladder.of(organization)
    with connection.cursor() as cursor:
        _temp_tables(cursor)
        _leads_load(cursor, leads)
        _contribute(cursor, organization, ladder, scoped=True, sign=sign)


def lead_forget(organization: Organization, leads: Sequence[int] | QuerySet[Lead]) -> None:
    """Take these leads' contributions away, *before* a write that changes them."""
    if ready(organization):
        with transaction.atomic():
            _apply(organization, leads, -1)


def lead_count(organization: Organization, leads: Sequence[int] | QuerySet[Lead]) -> None:
    """Add these leads' contributions, *after* they were written (or rewritten after a
    :func:`lead_forget`). Builds the organization's summaries when they are not ready."""
    with transaction.atomic():
        if ready(organization):
            _apply(organization, leads, +1)
        else:
            organization_rebuild(organization)


def activity_add(activity: Activity) -> None:
    """Count one new activity."""
    activities_add(activity.organization, [activity])


def activities_add(
    organization: Organization, activities: Iterable[Activity] | QuerySet[Activity]
) -> None:
    """Count new activities: model instances, or a queryset (set-based, for bulk writes)."""
    with transaction.atomic():
        if not ready(organization):
            organization_rebuild(organization)
            return
        if isinstance(activities, QuerySet):
            found = activities.aggregate(lo=Min("at"), hi=Max("at"))
            _bounds_ensure(found["lo"], found["hi"])
            sql, params = activities.values("pk").order_by().query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM ({sql}) q", params)
                if not cursor.fetchone()[0]:
                    return
                _temp_tables(cursor)
                cursor.execute(f"DELETE FROM {_LEADS}")
                cursor.execute(f"INSERT INTO {_LEADS} (id) SELECT * FROM ({sql}) q", params)
                _activities_contribute(
                    cursor, organization, f" AND a.id IN (SELECT id FROM {_LEADS})"
                )
            return
        counts: dict[tuple[date, str, int, int], int] = defaultdict(int)
        items = list(activities)
        channels = dict(
            Lead.objects.filter(pk__in={a.lead_id for a in items}).values_list("pk", "channel_id")
        )
        for a in items:
            key = (_local_month(a.at), channels[a.lead_id], a.by_id or 0)
            counts[(key[0], f"activities.{a.kind}", key[1], key[2])] += 1
            if a.with_buyer and a.kind in SALES_CONVERSATION_KINDS:
                counts[(key[0], "sales_conversations", key[1], key[2])] += 1
        _month_counts_add(organization, counts)


def _month_counts_add(
    organization: Organization, counts: dict[tuple[date, str, int, int], int]
) -> None:
    if not counts:
        return
    table = MonthCount._meta.db_table
    adapt = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (organization_id, month, metric, channel, member, value) "
            "VALUES (%s, %s, %s, %s, %s, %s) "
            + _upsert(
                table, ("organization_id", "month", "metric", "channel", "member"), ("value",)
            ),
            [
                (organization.pk, adapt(month), metric, channel, member, n)
                for (month, metric, channel, member), n in counts.items()
            ],
        )


def organization_rebuild(organization: Organization) -> None:
    """Recompute the organization's summaries from its stored rows (set-based SQL)."""
    with transaction.atomic():
        state, _created = SummaryState.objects.select_for_update().get_or_create(
            organization=organization,
            defaults={"version": 0, "ladder": "", "built_at": timezone.now()},
        )
        for model in (CohortCount, EntryCount, MonthCount, CloseCount, FirstWin, StageCount):
            model.objects.filter(organization=organization).delete()
        _lead_bounds(organization, None)
        found = Activity.objects.for_org(organization).aggregate(lo=Min("at"), hi=Max("at"))
        _bounds_ensure(found["lo"], found["hi"])
        if Stage.objects.for_org(organization).exists():
            ladder = Ladder.of(organization)
            with connection.cursor() as cursor:
                _temp_tables(cursor)
                _contribute(cursor, organization, ladder, scoped=False, sign=1)
                _activities_contribute(cursor, organization, "")
        state.version = VERSION
        state.ladder = _ladder_signature(organization)
        state.built_at = timezone.now()
        state.save()


def ladder_changed(organization: Organization) -> None:
    """After a ladder edit: rebuild when the order or kinds of the stages changed (and the
    summaries were built)."""
    state = SummaryState.objects.filter(organization=organization).first()
    if state is not None and state.ladder != _ladder_signature(organization):
        organization_rebuild(organization)


# --- readers ----------------------------------------------------------------------------


def _months(period: Period) -> tuple[date, date]:
    return period.start, _month_start(period.end)


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
    return {pk: (str(pk), _member_label(first, last, email)) for pk, first, last, email in rows}, (
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
    ids = {s.pk: i for i, s in enumerate(ladder.stages)}
    first, last = _months(period)
    names, unknown = _groups(organization, by)
    dim = {None: None, "channel": "channel", "owner": "owner"}[by]
    column = "k_ever" if within_days is None else f"k_{within_days}"
    size = len(ladder.stages)

    def group_of(value: Any) -> tuple[str, str]:
        return unknown if by is None else names.get(value, unknown)

    reached: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    entered: dict[str, list[int]] = defaultdict(lambda: [0] * size)
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
            reached[key][a] += row["n"]
        else:
            k[key][(a, b)] += row["k"]
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
        for j, (a, b) in enumerate(steps):
            tally.n[j] = reached[key][a]
            tally.k[j] = reached[key][a] if a == b else k[key][(a, b)]
    return report_assemble(ladder, period, by, within_days, tallies, labels)


def month_counts(
    organization: Organization, first_month: date, last_month: date
) -> dict[date, dict[str, int | Decimal]]:
    """Each month's additive figures, first_month to last_month (first days), every metric:

    ``new_leads``; ``entered.<stage>`` and ``reached.<stage>`` (every stage of the ladder);
    ``activities.<kind>`` (every kind) and ``sales_conversations``; ``won``, ``revenue``,
    ``cost`` (Decimals) and ``lost`` (outcomes dated in the month); ``closed`` and
    ``closed_won`` (the close rate's n and k).
    """
    first, last = _month_start(first_month), _month_start(last_month)
    ladder = Ladder.of(organization)
    keys = {s.pk: s.key for s in ladder.stages}
    metrics = [
        "new_leads",
        *(f"entered.{s.key}" for s in ladder.stages),
        *(f"reached.{s.key}" for s in ladder.stages),
        *ACTIVITY_METRICS,
        "sales_conversations",
        "won",
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
        month = _next_month(month)
    flows = (
        MonthCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
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
        CohortCount.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .filter(stage_a=F("stage_b"))
        .values("month", "stage_a")
        .order_by()
        .annotate(v=Sum("k_ever"))
    ):
        if r["stage_a"] in keys:
            out[r["month"]][f"reached.{keys[r['stage_a']]}"] = int(r["v"])
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
    first, last = _month_start(first_month), _month_start(last_month)
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
    first, last = _month_start(first_month), _month_start(last_month)
    adapt = connection.ops.adapt_datefield_value
    # read in order from the (organization, month, cycle_us) index; months are converted
    # once per month, not row by row (SQLite: as text, no converter runs on each row)
    month = "month" if _pg() else "CAST(month AS TEXT)"
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


__all__ = [
    "activities_add",
    "activity_add",
    "cycle_days",
    "funnel",
    "ladder_changed",
    "lead_count",
    "lead_forget",
    "month_counts",
    "organization_rebuild",
    "ready",
    "span_closed",
    "stage_counts",
    "supports",
]
