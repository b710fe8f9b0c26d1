"""A lead's contributions to the summaries, in set-based SQL: its reach, cohorts and
explicit entries, the monthly flows of its outcomes, its close-rate runs, its stage now and
its first win; added (sign +1) or taken away (-1) for the leads in ks_lead, or for every
lead of the organization (a rebuild). Called by ``upkeep``."""

from __future__ import annotations

from datetime import date
from typing import Any

from keepscore.accounts.models import Organization
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.models import (
    ENTRY,
    WINDOWS,
    CloseCount,
    CohortCount,
    CycleDayCount,
    EntryCount,
    FirstWin,
    MonthCount,
    ReachCount,
    StageCount,
)
from keepscore.funnel.summary.sql import (
    LEADS,
    cycle_day,
    micros,
    month_sql,
    temp_clear,
    upsert,
    values_sql,
)
from keepscore.leads.models import DealOutcome, Lead, StageChange

#: EntryCount.prev_month of a lead's first month with a change into a stage
NO_PREVIOUS = date(1, 1, 1)
#: CloseCount.next_month of a lead's last month with an outcome
NO_NEXT = date(9999, 12, 1)
#: MonthCount's metric of the leads first reaching a stage, by who sourced them: this and the
#: stage's id (the marketing & sales report's leads qualified, ``keepscore.funnel.jobs``)
SOURCED_REACHED = "sourced_reached."
_K = ("k_ever", *(f"k_{d}" for d in WINDOWS))


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


def leads_contribute(
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
            f"SELECT x.lead_id, x.stage_id, x.at, {micros('x.at')}, {month_sql('x.at')}, "
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
        f"SELECT DISTINCT sc.lead_id, sc.to_stage_id, {month_sql('sc.at')} "
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
        f"SELECT o.id, o.lead_id, o.result, o.at, {month_sql('o.at')} AS month, o.revenue, "
        "o.cost, l.channel_id AS channel, COALESCE(l.owner_id, 0) AS member "
        f"FROM {out_from} JOIN {lead_t} l ON l.id = o.lead_id "
        f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope}), "
        "last AS (SELECT month, channel, member, result, ROW_NUMBER() OVER "
        "(PARTITION BY lead_id, month ORDER BY at DESC, id DESC) AS rn FROM oo) "
        f"INSERT INTO {month_t} (organization_id, month, metric, channel, member, value) "
        f"SELECT %s, u.month, u.metric, u.channel, u.member, {sign} * SUM(u.v) FROM ("
        f"SELECT {month_sql('l.first_touch_at')} AS month, 'new_leads' AS metric, "
        "l.channel_id AS channel, COALESCE(l.sourced_by_id, 0) AS member, 1 AS v "
        f"FROM {lead_t} l WHERE l.organization_id = %s{lead_scope} "
        f"UNION ALL SELECT r.month, '{SOURCED_REACHED}' || CAST(r.stage_id AS TEXT), "
        "r.channel, COALESCE(l.sourced_by_id, 0), 1 "
        f"FROM ks_reach r JOIN {lead_t} l ON l.id = r.lead_id "
        # the new leads of the month with a won outcome (at any time): the conversion's k
        f"UNION ALL SELECT {month_sql('l.first_touch_at')}, 'won_leads', l.channel_id, "
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
        f"SELECT o.id, o.lead_id, o.result, o.at, {month_sql('o.at')} AS month, "
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
            f"SELECT %s, {month_sql('w.at')}, l.channel_id, COALESCE(l.owner_id, 0), w.lead_id, "
            f"{micros('w.at')} - {micros('l.first_touch_at')} FROM ("
            f"SELECT o.lead_id AS lead_id, MIN(o.at) AS at FROM {out_from} "
            f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope} "
            f"AND o.result = '{won}' GROUP BY o.lead_id"
            f") w JOIN {lead_t} l ON l.id = w.lead_id",
            [org, org],
        )
        days(1)
