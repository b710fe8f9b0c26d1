"""The activities' and objections' contributions to the summaries, in set-based SQL:
MonthCount's activity counts, each lead's sales conversations before its last win
(WonConversation, ``conversations_won``), and ObjectionCount. Called by ``upkeep``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keepscore.accounts.models import Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, Objection
from keepscore.funnel.models import MonthCount, ObjectionCount, WonConversation
from keepscore.funnel.summary.sql import (
    LEADS,
    bounds_ensure,
    moment_parse,
    month_sql,
    temp_clear,
    upsert,
)
from keepscore.leads.models import DealOutcome, Lead, StageChange


def activities_contribute(
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
        f"SELECT {month_sql('a.at')} AS month, a.kind, a.with_buyer, l.channel_id AS channel, "
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


def won_replace(cursor: Any, organization: Organization, scoped: bool) -> None:
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
    bounds_ensure(moment_parse(low), moment_parse(high))
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
        f"SELECT %s, a.lead_id, {month_sql('a.at')}, COALESCE(a.by_id, 0), l.channel_id, "
        "COUNT(*) FROM ("
        f"SELECT o.lead_id AS lead_id, MAX(o.at) AS last FROM {out_from} "
        f"WHERE {'+' if scoped else ''}o.organization_id = %s{out_scope} "
        f"AND o.result = '{won}' GROUP BY o.lead_id"
        f") w CROSS JOIN {act_t} a JOIN {lead_t} l ON l.id = a.lead_id "
        f"WHERE a.lead_id = w.lead_id AND a.at <= w.last AND a.with_buyer "
        f"AND a.kind IN ({kinds}) "
        f"GROUP BY a.lead_id, {month_sql('a.at')}, COALESCE(a.by_id, 0), l.channel_id",
        [org, org],
    )
    monthly(+1)


def activity_leads(cursor: Any) -> None:
    """ks_lead: the leads of the activities it holds (``upkeep._activities_query`` loads them)."""
    act_t = Activity._meta.db_table
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS ks_act_lead (id BIGINT PRIMARY KEY)")
    temp_clear(cursor, "ks_act_lead")
    cursor.execute(
        f"INSERT INTO ks_act_lead (id) SELECT DISTINCT a.lead_id FROM {LEADS} k "
        f"CROSS JOIN {act_t} a WHERE a.id = k.id"
    )
    temp_clear(cursor, LEADS)
    cursor.execute(f"INSERT INTO {LEADS} (id) SELECT id FROM ks_act_lead")


def objections_contribute(
    cursor: Any, organization: Organization, scoped: bool, sign: int, ids: Sequence[int] = ()
) -> None:
    """Add (sign +1) or take away (-1) to ObjectionCount the objections of the leads in
    ks_lead (every lead of the organization when not ``scoped``), or these objections
    (``ids``): each by its local month, tag, the stage its lead was at then and the lead's
    channel. Objections are told to the summaries once: with their ids (``upkeep.objections_add``:
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
        bounds_ensure(moment_parse(low), moment_parse(high))
    cursor.execute(
        f"INSERT INTO {count_t} (organization_id, month, tag, stage, channel, n) "
        f"SELECT %s, x.month, x.tag, x.stage, x.channel, {sign} * COUNT(*) FROM ("
        f"SELECT {month_sql('ob.at')} AS month, ob.tag AS tag, COALESCE(("
        f"SELECT sc.to_stage_id FROM {sc_t} sc WHERE sc.lead_id = ob.lead_id "
        "AND sc.at <= ob.at ORDER BY sc.at DESC, sc.id DESC LIMIT 1), 0) AS stage, "
        f"l.channel_id AS channel FROM {ob_from} JOIN {lead_t} l ON l.id = ob.lead_id "
        f"WHERE {where}) x WHERE true GROUP BY x.month, x.tag, x.stage, x.channel "
        + upsert(count_t, ("organization_id", "month", "tag", "stage", "channel"), ("n",)),
        [org, org, *ids],
    )
