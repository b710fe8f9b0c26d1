"""Upkeep of the summaries: each lead's contributions computed from its stored rows with
set-based SQL, added (+1) or taken away (-1); activities added or taken away; everything
rebuilt. Called only by the history recorder, through :class:`SummaryProjection`
(``projection.py``), in the writer's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from keepscore.accounts.models import Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, Objection
from keepscore.funnel.models import (
    ENTRY,
    WINDOWS,
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
from keepscore.funnel.services import Ladder
from keepscore.funnel.summary.sql import (
    LEADS,
    bounds_ensure,
    cycle_day,
    leads_load,
    local_month,
    micros,
    month_of,
    temp_clear,
    temp_tables,
    upsert,
    values_sql,
    zone_name,
)
from keepscore.history.projections import write_memo
from keepscore.leads.models import DealOutcome, Lead, Stage, StageChange

#: bump when what the tables hold changes: organizations are rebuilt before their next use
#: 6: by who sourced, won_leads, losses; 7: WonConversation, ObjectionCount; 8: the objections
#: only in ObjectionCount; 9: CycleDayCount
VERSION = 9
#: the groupings the summaries answer besides none (see ``readers.funnel``)
GROUPINGS = (None, "channel", "owner")
NO_PREVIOUS = date(1, 1, 1)
#: CloseCount.next_month of a lead's last month with an outcome
NO_NEXT = date(9999, 12, 1)
#: MonthCount's metric of the leads first reaching a stage, by who sourced them: this and the
#: stage's id (the marketing & sales report's leads qualified, ``keepscore.funnel.jobs``)
SOURCED_REACHED = "sourced_reached."
_K = ("k_ever", *(f"k_{d}" for d in WINDOWS))
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
        and state.ladder == ladder_signature(organization)
    )


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
    (until then this is False and callers use the reference services). Once true during a
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


# --- contributions ----------------------------------------------------------------------


def _ladder_pairs(ladder: Ladder) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(entered stage id, reached stage id) pairs, and the cohort pairs (a, b) with a != b:
    every two not-lost stages in ladder order, and the funnel's entry (0) with each not-lost
    stage (each stage's cohort with itself is counted apart)."""
    stages = ladder.stages
    reaches = [
        (e.pk, t.pk)
        for i, e in enumerate(stages)
        for j, t in enumerate(stages)
        if ladder.reaches(i, j)
    ]
    climbing = ladder.climbing
    cohorts = [(stages[i].pk, stages[j].pk) for i in climbing for j in climbing if i < j] + [
        (ENTRY, stages[j].pk) for j in climbing
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
    in_scope = f"IN (SELECT id FROM {LEADS})"
    # scoped: the lead set drives the join (SQLite keeps CROSS JOIN's order: the lead index)
    sc_from = f"{LEADS} k CROSS JOIN {sc_t} sc" if scoped else f"{sc_t} sc"
    sc_scope = " AND sc.lead_id = k.id" if scoped else ""
    # "+": not an index on the organization (SQLite), the lead's is the one to use
    sc_org = "+sc.organization_id" if scoped else "sc.organization_id"
    lead_scope = f" AND l.id {in_scope}" if scoped else ""
    out_from = f"{LEADS} k CROSS JOIN {out_t} o" if scoped else f"{out_t} o"
    out_scope = " AND o.lead_id = k.id" if scoped else ""
    reaches, cohorts = _ladder_pairs(ladder)

    def moments(table: str, select: str) -> None:
        """Fill a (lead, stage, at) table from ``select`` with the moments' microseconds,
        local months and the lead's channel and owner."""
        temp_clear(cursor, table)
        cursor.execute(
            f"INSERT INTO {table} (lead_id, stage_id, at, us, month, channel, owner) "
            f"SELECT x.lead_id, x.stage_id, x.at, {micros('x.at')}, {month_of('x.at')}, "
            f"l.channel_id, COALESCE(l.owner_id, 0) FROM ({select}) x "
            f"JOIN {lead_t} l ON l.id = x.lead_id",
            [org] * select.count("%s"),
        )

    # each lead's reach of each stage: the earliest change that reaches it
    moments(
        "ks_reach",
        f"WITH r (entered, target) AS (VALUES {values_sql(reaches)}) "
        "SELECT sc.lead_id AS lead_id, r.target AS stage_id, MIN(sc.at) AS at "
        f"FROM {sc_from} CROSS JOIN r "
        f"WHERE r.entered = sc.to_stage_id AND {sc_org} = %s{sc_scope} "
        "GROUP BY sc.lead_id, r.target",
    )
    # each lead's first observation of each stage (its first change into it), and its entry
    # into the funnel (stage 0: its first change)
    moments(
        "ks_seen",
        "SELECT sc.lead_id AS lead_id, sc.to_stage_id AS stage_id, MIN(sc.at) AS at "
        f"FROM {sc_from} WHERE {sc_org} = %s{sc_scope} GROUP BY sc.lead_id, sc.to_stage_id "
        f"UNION ALL SELECT sc.lead_id, {ENTRY}, MIN(sc.at) "
        f"FROM {sc_from} WHERE {sc_org} = %s{sc_scope} GROUP BY sc.lead_id",
    )

    def windows(delay: str) -> str:
        return ", ".join(
            f"{sign} * SUM(CASE WHEN {delay} <= {d * 86_400_000_000} THEN 1 ELSE 0 END)"
            for d in WINDOWS
        )

    every = ", ".join(f"{sign} * COUNT(*)" for _ in WINDOWS)
    key = ("organization_id", "month", "stage_a", "stage_b", "channel", "owner")
    insert = (
        f"INSERT INTO {cohort_t} (organization_id, month, stage_a, stage_b, channel, owner, "
        f"{', '.join(_K)}) "
    )
    # the cohorts themselves: each stage's first observations, and the entries (n)
    cursor.execute(
        insert + f"SELECT %s, o.month, o.stage_id, o.stage_id, o.channel, o.owner, "
        f"{sign} * COUNT(*), {every} FROM ks_seen o "
        "WHERE true GROUP BY o.month, o.stage_id, o.channel, o.owner " + upsert(cohort_t, key, _K),
        [org],
    )
    # reaching b at or after the cohort's moment: usually b's reach itself (a stage is
    # reached at the latest when a later one is); when the lead reached b before it was
    # observed at a (it moved back), the first change reaching b at or after that
    cursor.execute(
        f"WITH p (a, b) AS (VALUES {values_sql(cohorts)}), "
        f"r (entered, target) AS (VALUES {values_sql(reaches)}), "
        "later AS ("
        "SELECT o.lead_id, o.month, o.channel, o.owner, p.a, p.b, o.us AS since, "
        "CASE WHEN b.us >= o.us THEN b.us ELSE ("
        f"SELECT MIN({micros('sc.at')}) FROM {sc_t} sc JOIN r ON r.entered = sc.to_stage_id "
        "WHERE sc.lead_id = o.lead_id AND r.target = p.b AND sc.at >= o.at"
        ") END AS us "
        "FROM ks_seen o JOIN p ON p.a = o.stage_id "
        "JOIN ks_reach b ON b.lead_id = o.lead_id AND b.stage_id = p.b) "
        + insert
        + f"SELECT %s, month, a, b, channel, owner, {sign} * COUNT(*), {windows('us - since')} "
        "FROM later WHERE us IS NOT NULL GROUP BY month, a, b, channel, owner "
        + upsert(cohort_t, key, _K),
        [org],
    )

    # reach per stage and month, and how many of those reached it by skipping it
    reach_t = ReachCount._meta.db_table
    cursor.execute(
        f"INSERT INTO {reach_t} (organization_id, month, stage, channel, owner, reached, skipped) "
        f"SELECT %s, r.month, r.stage_id, r.channel, r.owner, {sign} * COUNT(*), "
        f"{sign} * SUM(CASE WHEN s.us IS NULL OR s.us > r.us THEN 1 ELSE 0 END) "
        "FROM ks_reach r LEFT JOIN ks_seen s ON s.lead_id = r.lead_id AND s.stage_id = r.stage_id "
        "WHERE true GROUP BY r.month, r.stage_id, r.channel, r.owner "
        + upsert(
            reach_t,
            ("organization_id", "month", "stage", "channel", "owner"),
            ("reached", "skipped"),
        ),
        [org],
    )

    # explicit entries: distinct (lead, stage, month), with the lead's previous such month
    temp_clear(cursor, "ks_entry")
    cursor.execute(
        "INSERT INTO ks_entry (lead_id, stage_id, month) "
        f"SELECT DISTINCT sc.lead_id, sc.to_stage_id, {month_of('sc.at')} "
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
        + upsert(
            entry_t,
            ("organization_id", "month", "stage", "prev_month", "channel", "owner"),
            ("n",),
        ),
        [org, NO_PREVIOUS],
    )

    # additive monthly flows of the leads: new leads (member: who sourced the lead),
    # outcomes and the close rate's counts (member: the lead's owner), and each stage's reach
    # by who sourced the lead (``sourced_reached.<stage id>``: marketing's leads qualified)
    won = DealOutcome.Result.WON.value
    cursor.execute(
        "WITH oo AS ("
        f"SELECT o.id, o.lead_id, o.result, o.at, {month_of('o.at')} AS month, o.revenue, "
        "o.cost, l.channel_id AS channel, COALESCE(l.owner_id, 0) AS member "
        f"FROM {out_from} JOIN {lead_t} l ON l.id = o.lead_id "
        f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope}), "
        "last AS (SELECT month, channel, member, result, ROW_NUMBER() OVER "
        "(PARTITION BY lead_id, month ORDER BY at DESC, id DESC) AS rn FROM oo) "
        f"INSERT INTO {month_t} (organization_id, month, metric, channel, member, value) "
        f"SELECT %s, u.month, u.metric, u.channel, u.member, {sign} * SUM(u.v) FROM ("
        f"SELECT {month_of('l.first_touch_at')} AS month, 'new_leads' AS metric, "
        "l.channel_id AS channel, COALESCE(l.sourced_by_id, 0) AS member, 1 AS v "
        f"FROM {lead_t} l WHERE l.organization_id = %s{lead_scope} "
        f"UNION ALL SELECT r.month, '{SOURCED_REACHED}' || CAST(r.stage_id AS TEXT), "
        "r.channel, COALESCE(l.sourced_by_id, 0), 1 "
        f"FROM ks_reach r JOIN {lead_t} l ON l.id = r.lead_id "
        # the new leads of the month with a won outcome (at any time): the conversion's k
        f"UNION ALL SELECT {month_of('l.first_touch_at')}, 'won_leads', l.channel_id, "
        "COALESCE(l.sourced_by_id, 0), 1 "
        f"FROM {lead_t} l WHERE l.organization_id = %s{lead_scope} AND EXISTS ("
        f"SELECT 1 FROM {out_t} w WHERE w.lead_id = l.id AND w.result = '{won}') "
        f"UNION ALL SELECT month, CASE WHEN result = '{won}' THEN 'won' ELSE 'lost' END, "
        "channel, member, 1 FROM oo "
        "UNION ALL SELECT month, 'revenue', channel, member, "
        f"CAST(ROUND(revenue * 100) AS BIGINT) FROM oo WHERE result = '{won}' "
        "UNION ALL SELECT month, 'cost', channel, member, "
        f"CAST(ROUND(COALESCE(cost, 0) * 100) AS BIGINT) FROM oo WHERE result = '{won}' "
        # the deals whose cost was recorded: the margin is theirs (a missing cost is unknown)
        "UNION ALL SELECT month, 'costed', channel, member, 1 "
        f"FROM oo WHERE result = '{won}' AND cost IS NOT NULL "
        "UNION ALL SELECT month, 'costed_revenue', channel, member, "
        "CAST(ROUND(revenue * 100) AS BIGINT) "
        f"FROM oo WHERE result = '{won}' AND cost IS NOT NULL "
        # the deals won below their cost
        "UNION ALL SELECT month, 'losses', channel, member, 1 FROM oo "
        f"WHERE result = '{won}' AND cost > revenue "
        "UNION ALL SELECT month, 'closed', channel, member, 1 FROM last WHERE rn = 1 "
        "UNION ALL SELECT month, 'closed_won', channel, member, 1 FROM last "
        f"WHERE rn = 1 AND result = '{won}'"
        ") u WHERE true GROUP BY u.month, u.metric, u.channel, u.member "
        + upsert(month_t, ("organization_id", "month", "metric", "channel", "member"), ("value",)),
        [org, org, org, org],
    )

    # the close rate over runs of months: each lead's last outcome of each month with one,
    # and the lead's next month with an outcome
    close_t = CloseCount._meta.db_table
    cursor.execute(
        "WITH oo AS ("
        f"SELECT o.id, o.lead_id, o.result, o.at, {month_of('o.at')} AS month, "
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
        + upsert(
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
        + upsert(stage_t, ("organization_id", "stage"), ("n",)),
        [org, org],
    )

    # each lead's first win: its month and the cycle from the first touch, in microseconds;
    # and their count by month and whole days of the cycle, taken away before the rows go
    # and added once they are written
    win_t, day_t = FirstWin._meta.db_table, CycleDayCount._meta.db_table
    win_scope = f" AND w.lead {in_scope}" if scoped else ""

    def days(sign: int) -> None:
        day = cycle_day("w.cycle_us")
        cursor.execute(
            f"INSERT INTO {day_t} (organization_id, month, day, n) "
            f"SELECT %s, w.month, {day}, {sign} * COUNT(*) FROM {win_t} w "
            f"WHERE w.organization_id = %s{win_scope} GROUP BY w.month, {day} "
            + upsert(day_t, ("organization_id", "month", "day"), ("n",)),
            [org, org],
        )

    if scoped:
        days(-1)
        cursor.execute(f"DELETE FROM {win_t} WHERE organization_id = %s AND lead {in_scope}", [org])
    if sign > 0:
        cursor.execute(
            f"INSERT INTO {win_t} (organization_id, month, channel, owner, lead, cycle_us) "
            f"SELECT %s, {month_of('w.at')}, l.channel_id, COALESCE(l.owner_id, 0), w.lead_id, "
            f"{micros('w.at')} - {micros('l.first_touch_at')} FROM ("
            f"SELECT o.lead_id AS lead_id, MIN(o.at) AS at FROM {out_from} "
            f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope} "
            f"AND o.result = '{won}' GROUP BY o.lead_id"
            f") w JOIN {lead_t} l ON l.id = w.lead_id",
            [org, org],
        )
        days(1)


def _activities_contribute(
    cursor: Any, organization: Organization, scope: str, sign: int = 1
) -> None:
    """Add (sign +1) or take away (-1) the activities matched by ``scope`` (SQL on ``a``)
    in MonthCount."""
    org = organization.pk
    act_t, lead_t, month_t = (
        Activity._meta.db_table,
        Lead._meta.db_table,
        MonthCount._meta.db_table,
    )
    kinds = ", ".join(f"'{k}'" for k in SALES_CONVERSATION_KINDS)
    cursor.execute(
        "WITH aa AS ("
        f"SELECT {month_of('a.at')} AS month, a.kind, a.with_buyer, l.channel_id AS channel, "
        f"COALESCE(a.by_id, 0) AS member FROM {act_t} a JOIN {lead_t} l ON l.id = a.lead_id "
        f"WHERE a.organization_id = %s{scope}) "
        f"INSERT INTO {month_t} (organization_id, month, metric, channel, member, value) "
        f"SELECT %s, u.month, u.metric, u.channel, u.member, {sign} * SUM(u.v) FROM ("
        "SELECT month, 'activities.' || kind AS metric, channel, member, 1 AS v FROM aa "
        "UNION ALL SELECT month, 'sales_conversations', channel, member, 1 FROM aa "
        f"WHERE with_buyer AND kind IN ({kinds})"
        ") u WHERE true GROUP BY u.month, u.metric, u.channel, u.member "
        + upsert(month_t, ("organization_id", "month", "metric", "channel", "member"), ("value",)),
        [org, org],
    )


def _won_replace(cursor: Any, organization: Organization, scoped: bool) -> None:
    """Replace the WonConversation rows of the leads in ks_lead (every lead of the
    organization when not ``scoped``) by their sales conversations dated at or before their
    last won outcome, and MonthCount's ``conversations_won`` by the difference. Replacing a
    lead's rows is idempotent: the lead and activity hooks may both ask it in one write."""
    org = organization.pk
    act_t, lead_t, out_t = (
        Activity._meta.db_table,
        Lead._meta.db_table,
        DealOutcome._meta.db_table,
    )
    won_t, month_t = WonConversation._meta.db_table, MonthCount._meta.db_table
    in_scope = f" AND w.lead IN (SELECT id FROM {LEADS})" if scoped else ""
    key = ("organization_id", "month", "metric", "channel", "member")

    def monthly(sign: int) -> None:
        cursor.execute(
            f"INSERT INTO {month_t} (organization_id, month, metric, channel, member, value) "
            f"SELECT %s, w.month, 'conversations_won', w.channel, w.member, {sign} * SUM(w.n) "
            f"FROM {won_t} w WHERE w.organization_id = %s{in_scope} "
            "GROUP BY w.month, w.channel, w.member " + upsert(month_t, key, ("value",)),
            [org, org],
        )

    monthly(-1)
    kinds = ", ".join(f"'{k}'" for k in SALES_CONVERSATION_KINDS)
    # the months of the conversations (a bulk write counts its leads before its activities)
    lead_scope = f"{LEADS} k CROSS JOIN {act_t} a" if scoped else f"{act_t} a"
    cursor.execute(
        f"SELECT MIN(a.at), MAX(a.at) FROM {lead_scope} WHERE "
        + ("a.lead_id = k.id AND +" if scoped else "")
        + f"a.organization_id = %s AND a.with_buyer AND a.kind IN ({kinds})",
        [org],
    )
    low, high = cursor.fetchone()
    bounds_ensure(_moment(low), _moment(high))
    cursor.execute(
        f"DELETE FROM {won_t} WHERE organization_id = %s"
        + (f" AND lead IN (SELECT id FROM {LEADS})" if scoped else ""),
        [org],
    )
    # scoped: the lead set drives the join (SQLite keeps CROSS JOIN's order: the lead index)
    out_from = f"{LEADS} k CROSS JOIN {out_t} o" if scoped else f"{out_t} o"
    out_scope = " AND o.lead_id = k.id" if scoped else ""
    won = DealOutcome.Result.WON.value
    cursor.execute(
        f"INSERT INTO {won_t} (organization_id, lead, month, member, channel, n) "
        f"SELECT %s, a.lead_id, {month_of('a.at')}, COALESCE(a.by_id, 0), l.channel_id, "
        "COUNT(*) FROM ("
        f"SELECT o.lead_id AS lead_id, MAX(o.at) AS last FROM {out_from} "
        f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope} "
        f"AND o.result = '{won}' GROUP BY o.lead_id"
        f") w CROSS JOIN {act_t} a JOIN {lead_t} l ON l.id = a.lead_id "
        f"WHERE a.lead_id = w.lead_id AND a.at <= w.last AND a.with_buyer "
        f"AND a.kind IN ({kinds}) "
        f"GROUP BY a.lead_id, {month_of('a.at')}, COALESCE(a.by_id, 0), l.channel_id",
        [org, org],
    )
    monthly(+1)


def _activity_leads(cursor: Any) -> None:
    """ks_lead: the leads of the activities it holds (``_activities_query`` loads them)."""
    act_t = Activity._meta.db_table
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS ks_act_lead (id BIGINT PRIMARY KEY)")
    temp_clear(cursor, "ks_act_lead")
    cursor.execute(
        f"INSERT INTO ks_act_lead (id) SELECT DISTINCT a.lead_id FROM {LEADS} k "
        f"CROSS JOIN {act_t} a WHERE a.id = k.id"
    )
    temp_clear(cursor, LEADS)
    cursor.execute(f"INSERT INTO {LEADS} (id) SELECT id FROM ks_act_lead")


def _objections_contribute(
    cursor: Any, organization: Organization, scoped: bool, sign: int, ids: Sequence[int] = ()
) -> None:
    """Add (sign +1) or take away (-1) to ObjectionCount the objections of the leads in
    ks_lead (every lead of the organization when not ``scoped``), or these objections
    (``ids``): each by its local month, tag, the stage its lead was at then and the lead's
    channel. Objections are told to the summaries once: with their ids (``objections_add``:
    written one at a time, or in bulk for leads the write does not count again) or in a
    bulk write that counts their leads (which tells no ``objections_add`` for them)."""
    org = organization.pk
    ob_t, sc_t, lead_t = (
        Objection._meta.db_table,
        StageChange._meta.db_table,
        Lead._meta.db_table,
    )
    count_t = ObjectionCount._meta.db_table
    if ids:
        ob_from, ob_scope = f"{ob_t} ob", f" AND ob.id IN ({', '.join(['%s'] * len(ids))})"
    elif scoped:
        ob_from, ob_scope = f"{LEADS} k CROSS JOIN {ob_t} ob", " AND ob.lead_id = k.id"
    else:
        ob_from, ob_scope = f"{ob_t} ob", ""
    org_col = "+ob.organization_id" if scoped and not ids else "ob.organization_id"
    where = f"{org_col} = %s{ob_scope}"
    if sign > 0:  # taken away: counted before, its months' bounds made then
        cursor.execute(f"SELECT MIN(ob.at), MAX(ob.at) FROM {ob_from} WHERE {where}", [org, *ids])
        low, high = cursor.fetchone()
        bounds_ensure(_moment(low), _moment(high))
    cursor.execute(
        f"INSERT INTO {count_t} (organization_id, month, tag, stage, channel, n) "
        f"SELECT %s, x.month, x.tag, x.stage, x.channel, {sign} * COUNT(*) FROM ("
        f"SELECT {month_of('ob.at')} AS month, ob.tag AS tag, COALESCE(("
        f"SELECT sc.to_stage_id FROM {sc_t} sc WHERE sc.lead_id = ob.lead_id "
        "AND sc.at <= ob.at ORDER BY sc.at DESC, sc.id DESC LIMIT 1), 0) AS stage, "
        f"l.channel_id AS channel FROM {ob_from} JOIN {lead_t} l ON l.id = ob.lead_id "
        f"WHERE {where}) x WHERE true GROUP BY x.month, x.tag, x.stage, x.channel "
        + upsert(count_t, ("organization_id", "month", "tag", "stage", "channel"), ("n",)),
        [org, org, *ids],
    )


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


def _moments_of(organization: Organization, leads: list[int]) -> tuple[Any, Any]:
    """The earliest and latest moment of these leads' first touch, stage changes, outcomes
    and objections, in one query (a write's leads: a few)."""
    marks = ", ".join(["%s"] * len(leads))
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
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization.pk, *leads] * len(parts))
        low, high = cursor.fetchone()
    return _moment(low), _moment(high)


def _moment(value: Any) -> Any:
    """A moment as the database gives it back from raw SQL (SQLite: UTC text)."""
    if value is None or isinstance(value, datetime):
        return value
    found = parse_datetime(str(value))
    if found is not None and timezone.is_naive(found):
        found = timezone.make_aware(found, UTC)
    return found


# --- maintenance ------------------------------------------------------------------------


def _apply(organization: Organization, leads: Sequence[int] | QuerySet[Lead], sign: int) -> None:
    if not isinstance(leads, QuerySet):
        leads = list(leads)
        if not leads:
            return
    if sign > 0:  # what is taken away was counted before, its months' bounds made then
        _lead_bounds(organization, leads)
    ladder = _ladder(organization)
    with connection.cursor() as cursor:
        temp_tables(cursor)
        leads_load(cursor, leads)
        _contribute(cursor, organization, ladder, scoped=True, sign=sign)
        _objections_contribute(cursor, organization, scoped=True, sign=sign)
        if sign > 0:  # a lead's rows are replaced whole, from its history as written
            _won_replace(cursor, organization, scoped=True)


def leads_forget(organization: Organization, leads: Sequence[int] | QuerySet[Lead]) -> None:
    """Take these leads' contributions away, *before* a write that changes them."""
    if ready(organization):
        with transaction.atomic():
            _apply(organization, leads, -1)


def leads_count(organization: Organization, leads: Sequence[int] | QuerySet[Lead]) -> None:
    """Add these leads' contributions, *after* they were written (or rewritten after a
    :func:`leads_forget`). Builds the organization's summaries when they are not ready."""
    with transaction.atomic():
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
        _activities_contribute(cursor, organization, f" AND a.id IN (SELECT id FROM {LEADS})", sign)
        if sign > 0:  # taken away: replaced when added back (after the change)
            _activity_leads(cursor)
            _won_replace(cursor, organization, scoped=True)


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
            key = (local_month(a.at), channels[a.lead_id], a.by_id or 0)
            counts[(key[0], f"activities.{a.kind}", key[1], key[2])] += 1
            if a.with_buyer and a.kind in SALES_CONVERSATION_KINDS:
                counts[(key[0], "sales_conversations", key[1], key[2])] += 1
        _month_counts_add(organization, counts)
        if any(a.with_buyer and a.kind in SALES_CONVERSATION_KINDS for a in items):
            with connection.cursor() as cursor:
                temp_tables(cursor)
                leads_load(cursor, [a.lead_id for a in items])
                _won_replace(cursor, organization, scoped=True)


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
            with connection.cursor() as cursor:
                _objections_contribute(
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
                _contribute(cursor, organization, ladder, scoped=False, sign=1)
                _activities_contribute(cursor, organization, "")
                _won_replace(cursor, organization, scoped=False)
                _objections_contribute(cursor, organization, scoped=False, sign=1)
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
