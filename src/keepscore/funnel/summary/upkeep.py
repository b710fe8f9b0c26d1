"""Upkeep of the summaries: the state they were built under, and what the history recorder
asks of them: each lead's contributions taken away (-1) before a write and added (+1)
after it, activities and objections added or taken away, everything rebuilt. The set-based
SQL of the contributions is in ``lead_contributions`` and ``activity_contributions``.
Called only by the history recorder, through :class:`SummaryProjection`
(``projection.py``), in the writer's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, Objection
from keepscore.common.months import month_of
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.models import (
    CloseCount,
    CohortCount,
    CycleDayCount,
    EntryCount,
    FirstWin,
    MonthCount,
    ObjectionCount,
    ReachCount,
    StageCount,
    SummaryState,
    WonConversation,
)
from keepscore.funnel.summary.activity_contributions import (
    activities_contribute,
    activity_leads,
    objections_contribute,
    won_replace,
)
from keepscore.funnel.summary.lead_contributions import leads_contribute
from keepscore.funnel.summary.sql import (
    LEADS,
    PREPARED_UP_TO,
    bounds_ensure,
    leads_load,
    moment_parse,
    summary_cursor,
    temp_clear,
    temp_tables,
    upsert,
    zone_name,
)
from keepscore.history.projections import write_memo
from keepscore.leads.models import DealOutcome, Lead, Stage, StageChange

#: bump when what the tables hold changes: organizations are rebuilt before their next use
#: 6: by who sourced, won_leads, losses; 7: WonConversation, ObjectionCount; 8: the objections
#: only in ObjectionCount; 9: CycleDayCount
VERSION = 9
#: the groupings the summaries answer besides none (see ``readers.funnel``)
SUMMARY_GROUPINGS = (None, "channel", "owner")
TABLES = (
    CohortCount,
    ReachCount,
    EntryCount,
    MonthCount,
    CloseCount,
    FirstWin,
    CycleDayCount,
    StageCount,
    WonConversation,
    ObjectionCount,
)


# --- state ------------------------------------------------------------------------------


def ladder_signature(organization: Organization) -> str:
    rows = Stage.objects.for_org(organization).order_by("position", "id").values_list("pk", "kind")
    return ",".join(f"{pk}:{kind}" for pk, kind in rows)


def _current(state: SummaryState | None, organization: Organization) -> bool:
    return (
        state is not None
        and state.version == VERSION
        and state.zone == zone_name()
        and state.ladder == _signature(organization)
    )


def _signature(organization: Organization) -> str:
    """:func:`ladder_signature` from the write's ladder (:func:`_ladder`), read once."""
    try:
        ladder = _ladder(organization)
    except ValueError:  # no stages
        return ""
    return ",".join(f"{s.pk}:{s.kind}" for s in ladder.stages)


def _memo_clear(organization: Organization) -> None:
    memo = write_memo()
    for key in [k for k in memo if k[1] == organization.pk]:
        del memo[key]


def _ladder(organization: Organization) -> Ladder:
    """The organization's ladder, read once per write of the recorder (a ladder change
    clears it)."""
    memo = write_memo()
    key = ("ladder", organization.pk)
    if key not in memo:
        memo[key] = Ladder.of(organization)
    return memo[key]


def ready(organization: Organization) -> bool:
    """Whether the organization's summaries can be read: built, by this code, for its
    current ladder and time zone. Summaries built under another ladder, zone or version are
    rebuilt here, before use; never-built ones are built by the organization's next write
    (until then this is False and callers use the reference selectors). Once true during a
    write of the recorder, it stays so for that write (a ladder change asks again): its
    forget and its count read the state once."""
    memo = write_memo()
    key = ("ready", organization.pk)
    if memo.get(key):
        return True
    state = SummaryState.objects.filter(organization=organization).first()
    if state is None:
        return False
    if not _current(state, organization):
        with transaction.atomic():
            state = (
                SummaryState.objects.select_for_update().filter(organization=organization).first()
            )
            if not _current(state, organization):  # not rebuilt meanwhile by another request
                rebuild(organization)
    memo[key] = True
    return True


# --- the months' bounds -----------------------------------------------------------------


def _lead_bounds(organization: Organization, leads: Any) -> None:
    """Ensure MonthBound covers the moments of these leads (None: every lead)."""
    if isinstance(leads, list):
        bounds_ensure(*_moments_of(organization, leads))
        return
    changes = StageChange.objects.for_org(organization)
    rows = Lead.objects.for_org(organization)
    outcomes = DealOutcome.objects.for_org(organization)
    objections = Objection.objects.for_org(organization)
    if leads is not None:
        changes, rows, outcomes, objections = (
            changes.filter(lead__in=leads),
            rows.filter(pk__in=leads),
            outcomes.filter(lead__in=leads),
            objections.filter(lead__in=leads),
        )
    found = [
        changes.aggregate(lo=Min("at"), hi=Max("at")),
        rows.aggregate(lo=Min("first_touch_at"), hi=Max("first_touch_at")),
        outcomes.aggregate(lo=Min("at"), hi=Max("at")),
        objections.aggregate(lo=Min("at"), hi=Max("at")),
    ]
    lows = [f["lo"] for f in found if f["lo"] is not None]
    highs = [f["hi"] for f in found if f["hi"] is not None]
    if lows:
        bounds_ensure(min(lows), max(highs))


#: leads whose moments are read in one statement: it names each of them in its four parts,
#: and SQLite takes at most 32,766 parameters in one (PostgreSQL 65,535)
MOMENTS_CHUNK = 2_000


def _moments_of(organization: Organization, leads: list[int]) -> tuple[Any, Any]:
    """The earliest and latest moment of these leads' first touch, stage changes, outcomes
    and objections, in one query per :data:`MOMENTS_CHUNK` leads (a write's leads: a few)."""
    lows, highs = [], []
    for start in range(0, len(leads), MOMENTS_CHUNK):
        chunk = leads[start : start + MOMENTS_CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        parts = [
            f"SELECT MIN(at) AS lo, MAX(at) AS hi FROM {StageChange._meta.db_table} "
            f"WHERE organization_id = %s AND lead_id IN ({marks})",
            "SELECT MIN(first_touch_at), MAX(first_touch_at) FROM "
            f"{Lead._meta.db_table} WHERE organization_id = %s AND id IN ({marks})",
            f"SELECT MIN(at), MAX(at) FROM {DealOutcome._meta.db_table} "
            f"WHERE organization_id = %s AND lead_id IN ({marks})",
            f"SELECT MIN(at), MAX(at) FROM {Objection._meta.db_table} "
            f"WHERE organization_id = %s AND lead_id IN ({marks})",
        ]
        sql = f"SELECT MIN(lo), MAX(hi) FROM ({' UNION ALL '.join(parts)}) b"
        with summary_cursor(prepared=len(chunk) <= PREPARED_UP_TO) as cursor:
            cursor.execute(sql, [organization.pk, *chunk] * len(parts))
            low, high = cursor.fetchone()
        if low is not None:
            lows.append(moment_parse(low))
            highs.append(moment_parse(high))
    return (min(lows), max(highs)) if lows else (None, None)


# --- maintenance ------------------------------------------------------------------------


def _apply(organization: Organization, leads: Sequence[int] | QuerySet[Lead], sign: int) -> None:
    if not isinstance(leads, QuerySet):
        leads = list(leads)
        if not leads:
            return
    if sign > 0:  # what is taken away was counted before, its months' bounds made then
        _lead_bounds(organization, leads)
    ladder = _ladder(organization)
    # a service's write (a few leads) prepares its statements; a bulk write's (thousands of
    # leads) are planned for the rows of its own scratch tables
    prepared = not isinstance(leads, QuerySet) and len(leads) <= PREPARED_UP_TO
    with summary_cursor(prepared=prepared) as cursor:
        temp_tables(cursor)
        leads_load(cursor, leads)
        leads_contribute(cursor, organization, ladder, scoped=True, sign=sign)
        objections_contribute(cursor, organization, scoped=True, sign=sign)
        if sign > 0:  # a lead's rows are replaced whole, from its history as written
            won_replace(cursor, organization, scoped=True)


def leads_forget(organization: Organization, leads: Sequence[int] | QuerySet[Lead]) -> None:
    """Take these leads' contributions away, *before* a write that changes them."""
    if ready(organization):
        with transaction.atomic(savepoint=False):
            _apply(organization, leads, -1)


def leads_count(organization: Organization, leads: Sequence[int] | QuerySet[Lead]) -> None:
    """Add these leads' contributions, *after* they were written (or rewritten after a
    :func:`leads_forget`). Builds the organization's summaries when they are not ready."""
    with transaction.atomic(savepoint=False):
        if ready(organization):
            _apply(organization, leads, +1)
        else:
            rebuild(organization)


def _activities_query(
    organization: Organization, activities: QuerySet[Activity], sign: int
) -> None:
    found = activities.aggregate(lo=Min("at"), hi=Max("at"))
    if found["lo"] is None:
        return
    bounds_ensure(found["lo"], found["hi"])
    sql, params = activities.values("pk").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        temp_tables(cursor)
        temp_clear(cursor, LEADS)
        cursor.execute(f"INSERT INTO {LEADS} (id) SELECT * FROM ({sql}) q", params)
        activities_contribute(cursor, organization, f" AND a.id IN (SELECT id FROM {LEADS})", sign)
        if sign > 0:  # taken away: replaced when added back (after the change)
            activity_leads(cursor)
            won_replace(cursor, organization, scoped=True)


def activities_add(
    organization: Organization, activities: Iterable[Activity] | QuerySet[Activity]
) -> None:
    """Count new activities: model instances, or a queryset (set-based, for bulk writes)."""
    with transaction.atomic():
        if not ready(organization):
            rebuild(organization)
            return
        if isinstance(activities, QuerySet):
            _activities_query(organization, activities, +1)
            return
        counts: dict[tuple[date, str, int, int], int] = defaultdict(int)
        items = list(activities)
        channels = dict(
            Lead.objects.filter(pk__in={a.lead_id for a in items}).values_list("pk", "channel_id")
        )
        for a in items:
            key = (month_of(a.at), channels[a.lead_id], a.by_id or 0)
            counts[(key[0], f"activities.{a.kind}", key[1], key[2])] += 1
            if a.with_buyer and a.kind in SALES_CONVERSATION_KINDS:
                counts[(key[0], "sales_conversations", key[1], key[2])] += 1
        _month_counts_add(organization, counts)
        if any(a.with_buyer and a.kind in SALES_CONVERSATION_KINDS for a in items):
            with summary_cursor(prepared=len(items) <= PREPARED_UP_TO) as cursor:
                temp_tables(cursor)
                leads_load(cursor, [a.lead_id for a in items])
                won_replace(cursor, organization, scoped=True)


#: objections counted per statement (a bulk write may tell hundreds of thousands; SQLite
#: takes at most 32,766 parameters in one)
OBJECTIONS_CHUNK = 2_000


def objections_add(organization: Organization, objections: Iterable[Objection]) -> None:
    """Count new objections (instances, saved; their leads are counted already) by month,
    tag, stage then and channel in ObjectionCount, :data:`OBJECTIONS_CHUNK` at a time."""
    items = list(objections)
    if not items:
        return
    with transaction.atomic():
        if not ready(organization):
            rebuild(organization)
            return
        moments = [o.at for o in items]
        bounds_ensure(min(moments), max(moments))
        for start in range(0, len(items), OBJECTIONS_CHUNK):
            chunk = items[start : start + OBJECTIONS_CHUNK]
            with summary_cursor(prepared=len(chunk) <= PREPARED_UP_TO) as cursor:
                objections_contribute(
                    cursor, organization, scoped=False, sign=1, ids=[o.pk for o in chunk]
                )


def activities_forget(organization: Organization, activities: QuerySet[Activity]) -> None:
    """Take these activities away, *before* a write that changes them."""
    if ready(organization):
        with transaction.atomic():
            _activities_query(organization, activities, -1)


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
            + upsert(
                table, ("organization_id", "month", "metric", "channel", "member"), ("value",)
            ),
            [
                (organization.pk, adapt(month), metric, channel, member, n)
                for (month, metric, channel, member), n in counts.items()
            ],
        )


def rebuild(organization: Organization) -> None:
    """Recompute the organization's summaries from its stored rows (set-based SQL)."""
    _memo_clear(organization)
    with transaction.atomic():
        state, _created = SummaryState.objects.select_for_update().get_or_create(
            organization=organization,
            defaults={"version": 0, "ladder": "", "built_at": timezone.now()},
        )
        for model in TABLES:
            model.objects.filter(organization=organization).delete()
        _lead_bounds(organization, None)
        found = Activity.objects.for_org(organization).aggregate(lo=Min("at"), hi=Max("at"))
        bounds_ensure(found["lo"], found["hi"])
        if Stage.objects.for_org(organization).exists():
            ladder = Ladder.of(organization)
            with connection.cursor() as cursor:
                temp_tables(cursor)
                leads_contribute(cursor, organization, ladder, scoped=False, sign=1)
                activities_contribute(cursor, organization, "")
                won_replace(cursor, organization, scoped=False)
                objections_contribute(cursor, organization, scoped=False, sign=1)
        state.version = VERSION
        state.zone = zone_name()
        state.ladder = ladder_signature(organization)
        state.built_at = timezone.now()
        state.save()


def ladder_changed(organization: Organization) -> None:
    """After a ladder edit: rebuild when the order or kinds of the stages changed (and the
    summaries were built)."""
    _memo_clear(organization)
    state = SummaryState.objects.filter(organization=organization).first()
    if state is not None and state.ladder != ladder_signature(organization):
        rebuild(organization)
