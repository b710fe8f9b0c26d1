"""The scale benchmark's reference: the organization's rows exported to Parquet, and every
figure computed again with DuckDB, written from the definitions in PRODUCT.md and
docs/numbers.md (never with keepscore's Python).

Moments are exported as naive UTC timestamps; a period ``[from, until)`` is local midnight
(``settings.TIME_ZONE``) of its first day and of the day after its last, in UTC.
"""

from __future__ import annotations

import csv
import itertools
import time
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

#: table → (SELECT for SQLite and PostgreSQL alike, moments filled in by _ts; DuckDB columns)
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "stages": (
        "SELECT id, key, position, kind, "
        "CASE WHEN requires_qualification THEN 1 ELSE 0 END "
        "FROM leads_stage WHERE organization_id = %s",
        {
            "id": "BIGINT",
            "key": "VARCHAR",
            "position": "INTEGER",
            "kind": "VARCHAR",
            "requires_qualification": "BOOLEAN",
        },
    ),
    "channels": (
        "SELECT id, key, name FROM leads_channel WHERE organization_id = %s",
        {"id": "BIGINT", "key": "VARCHAR", "name": "VARCHAR"},
    ),
    "leads": (
        "SELECT id, channel_id, stage_id, owner_id, {first_touch_at}, value, sourced_by_id, "
        "{stage_entered_at} FROM leads_lead WHERE organization_id = %s",
        {
            "id": "BIGINT",
            "channel_id": "BIGINT",
            "stage_id": "BIGINT",
            "owner_id": "BIGINT",
            "first_touch_at": "TIMESTAMP",
            "value": "DECIMAL(14,2)",
            "sourced_by_id": "BIGINT",
            "stage_entered_at": "TIMESTAMP",
        },
    ),
    "stage_changes": (
        "SELECT id, lead_id, from_stage_id, to_stage_id, {at} "
        "FROM leads_stagechange WHERE organization_id = %s",
        {
            "id": "BIGINT",
            "lead_id": "BIGINT",
            "from_stage_id": "BIGINT",
            "to_stage_id": "BIGINT",
            "at": "TIMESTAMP",
        },
    ),
    "outcomes": (
        "SELECT id, lead_id, result, {at}, revenue, cost "
        "FROM leads_dealoutcome WHERE organization_id = %s",
        {
            "id": "BIGINT",
            "lead_id": "BIGINT",
            "result": "VARCHAR",
            "at": "TIMESTAMP",
            "revenue": "DECIMAL(14,2)",
            "cost": "DECIMAL(14,2)",
        },
    ),
    "activities": (
        "SELECT id, lead_id, kind, {at}, CASE WHEN with_buyer THEN 1 ELSE 0 END, by_id "
        "FROM activities_activity WHERE organization_id = %s",
        {
            "id": "BIGINT",
            "lead_id": "BIGINT",
            "kind": "VARCHAR",
            "at": "TIMESTAMP",
            "with_buyer": "BOOLEAN",
            "by_id": "BIGINT",
        },
    ),
    "objections": (
        "SELECT id, lead_id, tag, {at}, by_id FROM activities_objection WHERE organization_id = %s",
        {
            "id": "BIGINT",
            "lead_id": "BIGINT",
            "tag": "VARCHAR",
            "at": "TIMESTAMP",
            "by_id": "BIGINT",
        },
    ),
    "followups": (
        "SELECT id, lead_id, owner_id, due_on, due_time, {done_at} "
        "FROM followups_followup WHERE organization_id = %s",
        {
            "id": "BIGINT",
            "lead_id": "BIGINT",
            "owner_id": "BIGINT",
            "due_on": "DATE",
            "due_time": "TIME",
            "done_at": "TIMESTAMP",
        },
    ),
}


def export(organization_id: int, folder: Path) -> dict[str, Any]:
    """Every table above to ``folder/<table>.parquet``: read with the database cursor in
    chunks, staged as CSV, written to Parquet by DuckDB. Returns sizes and timings."""
    from django.db import connection

    folder.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    out: dict[str, Any] = {"tables": {}}
    started = time.perf_counter()
    for table, (select, columns) in TABLES.items():
        t0 = time.perf_counter()
        sql = select.format(
            first_touch_at=_ts("first_touch_at", vendor),
            at=_ts("at", vendor),
            stage_entered_at=_ts("stage_entered_at", vendor),
            done_at=_ts("done_at", vendor),
        )
        staged = folder / f"{table}.csv"
        rows = 0
        with connection.cursor() as cursor, staged.open("w", newline="") as f:
            cursor.execute(sql, [organization_id])
            writer = csv.writer(f)
            while chunk := cursor.fetchmany(50_000):
                writer.writerows(chunk)
                rows += len(chunk)
        target = folder / f"{table}.parquet"
        spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
        with duckdb.connect() as duck:
            duck.execute(
                f"COPY (SELECT * FROM read_csv('{staged}', header=false, columns={{{spec}}}, "
                f"nullstr='')) "
                f"TO '{target}' (FORMAT parquet)"
            )
        staged.unlink()
        out["tables"][table] = {
            "rows": rows,
            "bytes": target.stat().st_size,
            "s": round(time.perf_counter() - t0, 3),
        }
    out["parquet_bytes"] = sum(t["bytes"] for t in out["tables"].values())
    out["export_s"] = round(time.perf_counter() - started, 3)
    return out


def _ts(column: str, vendor: str) -> str:
    """A moment as naive UTC (ISO text, microseconds when any: DuckDB reads both)."""
    if vendor == "postgresql":
        return f"{column} AT TIME ZONE 'UTC'"
    return column  # SQLite keeps naive UTC text already


# --- periods -----------------------------------------------------------------------------


def bounds(start: date, end: date, zone_name: str) -> tuple[datetime, datetime]:
    """``[from, until)`` in naive UTC: local midnight of ``start`` and of ``end`` + 1 day."""
    zone = zoneinfo.ZoneInfo(zone_name)

    def utc(day: date) -> datetime:
        return datetime.combine(day, dtime.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    return utc(start), utc(end + timedelta(days=1))


# --- the reference computations ----------------------------------------------------------

_VIEWS = """
CREATE VIEW stages AS
  SELECT id, key, kind, requires_qualification,
         row_number() OVER (ORDER BY position, id) - 1 AS idx
  FROM read_parquet('{d}/stages.parquet');
CREATE VIEW channels AS SELECT * FROM read_parquet('{d}/channels.parquet');
CREATE VIEW leads AS SELECT * FROM read_parquet('{d}/leads.parquet');
CREATE VIEW sc AS SELECT * RENAME ("at" AS ts) FROM read_parquet('{d}/stage_changes.parquet');
CREATE VIEW outcomes AS SELECT * RENAME ("at" AS ts) FROM read_parquet('{d}/outcomes.parquet');
CREATE VIEW activities AS
  SELECT * RENAME ("at" AS ts) FROM read_parquet('{d}/activities.parquet');
CREATE VIEW objections AS
  SELECT * RENAME ("at" AS ts) FROM read_parquet('{d}/objections.parquet');
CREATE VIEW followups AS SELECT * FROM read_parquet('{d}/followups.parquet');
"""

#: when each lead first reached each stage: a stage that is not lost by entering it or any
#: later stage that is not lost; the lost stage only by entering it
_REACH = """
reach AS (
  SELECT c.lead_id, s.id AS stage_id, min(c.ts) AS ts
  FROM sc c
  JOIN stages t ON t.id = c.to_stage_id
  JOIN stages s ON (s.kind <> 'lost' AND t.kind <> 'lost' AND t.idx >= s.idx)
                OR (s.kind = 'lost' AND t.id = s.id)
  GROUP BY c.lead_id, s.id
)
"""


def _connect(folder: Path) -> duckdb.DuckDBPyConnection:
    duck = duckdb.connect()  # a fresh connection each time: nothing cached between runs
    duck.execute(_VIEWS.format(d=folder))
    return duck


def steps(duck: duckdb.DuckDBPyConnection) -> tuple[list[tuple[str, str]], list[str]]:
    """(consecutive pairs of stages that are not lost, then first → each won stage), and
    every stage key in report order (ladder order, the lost stage(s) last)."""
    rows = duck.execute("SELECT key, kind FROM stages ORDER BY idx").fetchall()
    climbing = [k for k, kind in rows if kind != "lost"]
    pairs = list(itertools.pairwise(climbing))
    for key, kind in rows:
        if kind == "won" and climbing and key != climbing[0] and (climbing[0], key) not in pairs:
            pairs.append((climbing[0], key))
    return pairs, climbing + [k for k, kind in rows if kind == "lost"]


def _conversions(
    duck: duckdb.DuckDBPyConnection,
    pairs: list[tuple[str, str]],
    since: datetime,
    until: datetime,
    group: str | None,
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(group, from, to) → (k, n): of the leads first observed at `from` in the period (their
    first change into it; for the overall pairs, first → won, their first change at all) (n),
    those with a change reaching `to` at or after that moment (k)."""
    if group == "channel":
        grouping = "ch.key"
        join = "JOIN leads l ON l.id = o.lead_id JOIN channels ch ON ch.id = l.channel_id"
    else:
        grouping, join = "'all'", ""
    climbing = [
        k for k, kind in duck.execute("SELECT key, kind FROM stages ORDER BY idx").fetchall()
        if kind != "lost"
    ]  # fmt: skip
    consecutive = set(itertools.pairwise(climbing))  # the rest are the overall steps
    values = ", ".join(
        f"('{a}', '{b}', {'true' if (a, b) not in consecutive else 'false'})" for a, b in pairs
    )
    sql = f"""
    WITH pairs(a, b, overall) AS (VALUES {values}),
    seen AS (SELECT c.lead_id, s.key, min(c.ts) AS ts FROM sc c
             JOIN stages s ON s.id = c.to_stage_id GROUP BY ALL),
    entry AS (SELECT lead_id, min(ts) AS ts FROM sc GROUP BY lead_id),
    cohort AS (
      SELECT p.a, p.b, x.lead_id, x.ts FROM pairs p JOIN seen x ON x.key = p.a
      WHERE NOT p.overall
      UNION ALL
      SELECT p.a, p.b, e.lead_id, e.ts FROM pairs p, entry e WHERE p.overall)
    SELECT {grouping} AS grp, o.a, o.b,
           count(*) FILTER (WHERE EXISTS (
             SELECT 1 FROM sc c JOIN stages t ON t.id = c.to_stage_id
             JOIN stages target ON target.key = o.b
             WHERE c.lead_id = o.lead_id AND c.ts >= o.ts
               AND ((target.kind <> 'lost' AND t.kind <> 'lost' AND t.idx >= target.idx)
                    OR (target.kind = 'lost' AND t.id = target.id)))) AS k,
           count(*) AS n
    FROM cohort o {join}
    WHERE o.ts >= $since AND o.ts < $until
    GROUP BY ALL
    """
    return {
        (grp, a, b): (k, n)
        for grp, a, b, k, n in duck.execute(sql, {"since": since, "until": until}).fetchall()
    }


def month_figures(folder: Path, since: datetime, until: datetime) -> dict[str, Any]:
    """One month's scorecard figures, flat: {name: value}."""
    duck = _connect(folder)
    p = {"since": since, "until": until}
    out: dict[str, Any] = {}
    out["new_leads"] = duck.execute(
        "SELECT count(*) FROM leads WHERE first_touch_at >= $since AND first_touch_at < $until", p
    ).fetchone()[0]
    entered = dict(
        duck.execute(
            """SELECT s.key, count(DISTINCT c.lead_id) FILTER (WHERE c.id IS NOT NULL)
               FROM stages s LEFT JOIN sc c
                 ON c.to_stage_id = s.id AND c.ts >= $since AND c.ts < $until
               GROUP BY s.key""",
            p,
        ).fetchall()
    )
    for key, n in entered.items():
        out[f"entered.{key}"] = n
    kinds = dict(
        duck.execute(
            """SELECT kind, count(*) FROM activities WHERE ts >= $since AND ts < $until
               GROUP BY kind""",
            p,
        ).fetchall()
    )
    for kind in ("call_attempt", "connect", "qualifying", "meeting", "presentation", "proposal"):
        out[f"activities.{kind}"] = kinds.get(kind, 0)
    out["sales_conversations"] = duck.execute(
        """SELECT count(*) FROM activities WHERE ts >= $since AND ts < $until
           AND kind IN ('connect', 'meeting') AND with_buyer""",
        p,
    ).fetchone()[0]
    won, revenue, cost, costed, costed_revenue = duck.execute(
        """SELECT count(*), coalesce(sum(revenue), 0), coalesce(sum(coalesce(cost, 0)), 0),
                  count(cost), coalesce(sum(revenue) FILTER (WHERE cost IS NOT NULL), 0)
           FROM outcomes WHERE result = 'won' AND ts >= $since AND ts < $until""",
        p,
    ).fetchone()
    revenue, cost, costed_revenue = Decimal(revenue), Decimal(cost), Decimal(costed_revenue)
    out["won"] = won
    out["revenue"] = revenue
    out["cost"] = cost
    # the margin of the deals with a recorded cost (a missing cost is unknown, not 0)
    margin = costed_revenue - cost if costed else None
    out["margin"] = margin
    out["margin_pct"] = (
        float(margin / costed_revenue * 100) if margin is not None and costed_revenue else None
    )
    k, n = duck.execute(
        """WITH last AS (
             SELECT lead_id, result FROM outcomes WHERE ts >= $since AND ts < $until
             QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY ts DESC, id DESC) = 1)
           SELECT count(*) FILTER (WHERE result = 'won'), count(*) FROM last""",
        p,
    ).fetchone()
    out["close_rate"] = (k, n)
    out["lost"] = n - k
    count, median, p80 = duck.execute(
        """WITH first_won AS (
             SELECT o.lead_id, o.ts, l.first_touch_at FROM outcomes o JOIN leads l
               ON l.id = o.lead_id WHERE o.result = 'won'
             QUALIFY row_number() OVER (PARTITION BY o.lead_id ORDER BY o.ts, o.id) = 1),
           days AS (
             SELECT (epoch_us(ts) - epoch_us(first_touch_at)) / 1e6 / 86400 AS d
             FROM first_won WHERE ts >= $since AND ts < $until)
           SELECT count(*), quantile_cont(d, 0.5), quantile_cont(d, 0.8) FROM days""",
        p,
    ).fetchone()
    out["cycle.count"] = count
    out["cycle.median"] = median
    out["cycle.p80"] = p80
    pairs, _order = steps(duck)
    conversions = _conversions(duck, pairs, since, until, None)
    for a, b in pairs:
        out[f"conversion.{a}>{b}"] = conversions.get(("all", a, b), (0, 0))
    duck.close()
    return out


def funnel_by_channel(folder: Path, since: datetime, until: datetime) -> dict[str, Any]:
    """The funnel by channel over a period, flat: {"<channel>.<figure>": value}."""
    duck = _connect(folder)
    p = {"since": since, "until": until}
    pairs, order = steps(duck)
    # the groups: channels of the leads with a stage change dated in the period
    groups = [
        key
        for (key,) in duck.execute(
            """SELECT DISTINCT ch.key FROM sc c JOIN leads l ON l.id = c.lead_id
               JOIN channels ch ON ch.id = l.channel_id
               WHERE c.ts >= $since AND c.ts < $until""",
            p,
        ).fetchall()
    ]
    reached = duck.execute(
        f"""WITH {_REACH}
            SELECT ch.key, s.key, count(*) FROM reach r
            JOIN stages s ON s.id = r.stage_id JOIN leads l ON l.id = r.lead_id
            JOIN channels ch ON ch.id = l.channel_id
            WHERE r.ts >= $since AND r.ts < $until GROUP BY ALL""",
        p,
    ).fetchall()
    entered = duck.execute(
        """SELECT ch.key, s.key, count(DISTINCT c.lead_id) FROM sc c
           JOIN stages s ON s.id = c.to_stage_id JOIN leads l ON l.id = c.lead_id
           JOIN channels ch ON ch.id = l.channel_id
           WHERE c.ts >= $since AND c.ts < $until GROUP BY ALL""",
        p,
    ).fetchall()
    conversions = _conversions(duck, pairs, since, until, "channel")
    duck.close()
    out: dict[str, Any] = {"groups": sorted(groups)}
    got_reached = {(g, s): n for g, s, n in reached}
    got_entered = {(g, s): n for g, s, n in entered}
    for g in groups:
        for s in order:
            out[f"{g}.reached.{s}"] = got_reached.get((g, s), 0)
            out[f"{g}.entered.{s}"] = got_entered.get((g, s), 0)
        for a, b in pairs:
            out[f"{g}.conversion.{a}>{b}"] = conversions.get((g, a, b), (0, 0))
    return out


def leads_page(folder: Path, channel_id: int, per_page: int) -> dict[str, Any]:
    """The lead list's first page for one channel: newest first touch first, and the count."""
    duck = _connect(folder)
    ids = [
        pk
        for (pk,) in duck.execute(
            """SELECT id FROM leads WHERE channel_id = $c
               ORDER BY first_touch_at DESC, id DESC LIMIT $n""",
            {"c": channel_id, "n": per_page},
        ).fetchall()
    ]
    count = duck.execute(
        "SELECT count(*) FROM leads WHERE channel_id = $c", {"c": channel_id}
    ).fetchone()[0]
    duck.close()
    return {"count": count, "ids": ids}


def dashboard(folder: Path, month_start: datetime, year_start: datetime) -> dict[str, Any]:
    """Per stage: leads now at it, and entries into it since ``month_start``; the median
    sales cycle of the leads first won since ``year_start`` (the cash card's)."""
    duck = _connect(folder)
    (median,) = duck.execute(
        """WITH first_won AS (
             SELECT o.lead_id, o.ts, l.first_touch_at FROM outcomes o JOIN leads l
               ON l.id = o.lead_id WHERE o.result = 'won'
             QUALIFY row_number() OVER (PARTITION BY o.lead_id ORDER BY o.ts, o.id) = 1)
           SELECT quantile_cont((epoch_us(ts) - epoch_us(first_touch_at)) / 1e6 / 86400, 0.5)
           FROM first_won WHERE ts >= $y""",
        {"y": year_start},
    ).fetchone()
    rows = duck.execute(
        """SELECT s.key,
                  (SELECT count(*) FROM leads l WHERE l.stage_id = s.id),
                  (SELECT count(*) FROM sc c WHERE c.to_stage_id = s.id AND c.ts >= $m)
           FROM stages s ORDER BY s.idx""",
        {"m": month_start},
    ).fetchall()
    duck.close()
    out: dict[str, Any] = {"cycle.ytd_median": median}
    for key, now, since in rows:
        out[f"{key}.now"] = now
        out[f"{key}.entered"] = since
    return out


def board(folder: Path) -> dict[str, Any]:
    """Per open stage: its leads now and their values summed (the board's column heads)."""
    duck = _connect(folder)
    rows = duck.execute(
        """SELECT s.key, count(l.id), coalesce(sum(l.value), 0)
           FROM stages s LEFT JOIN leads l ON l.stage_id = s.id
           WHERE s.kind = 'open' GROUP BY s.key, s.idx ORDER BY s.idx"""
    ).fetchall()
    duck.close()
    out: dict[str, Any] = {}
    for key, count, total in rows:
        out[f"{key}.count"] = count
        out[f"{key}.total"] = Decimal(total)
    return out


# --- the monthly reports (issue 16): months as rows, per member --------------------------


def months_of(start: date, end: date, zone_name: str) -> list[tuple[str, datetime, datetime]]:
    """(first day as YYYY-MM-DD, since, until) of every calendar month of ``[start, end]``,
    clipped to the period, in naive UTC."""
    out = []
    first = start.replace(day=1)
    since_all, until_all = bounds(start, end, zone_name)
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        since, until = bounds(first, following - timedelta(days=1), zone_name)
        out.append((first.isoformat(), max(since, since_all), min(until, until_all)))
        first = following
    return out


def _months_view(
    duck: duckdb.DuckDBPyConnection, months: list[tuple[str, datetime, datetime]]
) -> None:
    values = ", ".join(
        f"('{m}', TIMESTAMP '{since.isoformat(sep=' ')}', TIMESTAMP '{until.isoformat(sep=' ')}')"
        for m, since, until in months
    )
    duck.execute(f"CREATE TEMP VIEW months(m, since, until) AS VALUES {values}")


def activity_report(folder: Path, months: list[tuple[str, datetime, datetime]]) -> dict[str, Any]:
    """The activity report per month and member who logged them (docs/numbers.md, "Activity
    counts"), flat: {"<month>.<member id | none>.<count>": n}, zeros left out. A sales
    conversation is a connect or meeting with someone who can buy; it is won when the lead's
    last won outcome is at or after it."""
    duck = _connect(folder)
    _months_view(duck, months)
    rows = duck.execute(
        """WITH won AS (SELECT lead_id, max(ts) AS last FROM outcomes WHERE result = 'won'
                        GROUP BY lead_id),
           a AS (SELECT m.m, a.by_id, a.kind, a.with_buyer AND a.kind IN ('connect', 'meeting')
                        AS conversation, w.last >= a.ts AS won
                 FROM activities a JOIN months m ON a.ts >= m.since AND a.ts < m.until
                 LEFT JOIN won w ON w.lead_id = a.lead_id)
           SELECT m, by_id,
                  count(*) FILTER (WHERE kind = 'call_attempt'),
                  count(*) FILTER (WHERE kind = 'connect'),
                  count(*) FILTER (WHERE conversation),
                  count(*) FILTER (WHERE kind = 'qualifying'),
                  count(*) FILTER (WHERE kind = 'meeting'),
                  count(*) FILTER (WHERE kind = 'presentation'),
                  count(*) FILTER (WHERE kind = 'proposal'),
                  count(*) FILTER (WHERE conversation AND won)
           FROM a GROUP BY ALL"""
    ).fetchall()
    duck.close()
    names = (
        "call_attempts",
        "connects",
        "sales_conversations",
        "qualifying",
        "meetings",
        "presentations",
        "proposals",
        "conversations_won",
    )
    out: dict[str, Any] = {}
    for month, member, *counts in rows:
        for name, n in zip(names, counts, strict=True):
            if n:
                out[f"{month}.{'none' if member is None else member}.{name}"] = n
    return out


def jobs_report(folder: Path, months: list[tuple[str, datetime, datetime]]) -> dict[str, Any]:
    """Marketing & sales per member and month, flat: {"<member | none>.<month>.<count>": n}
    (zeros left out; a margin wherever there are won deals, None when none had a cost).
    Leads sourced: first touch in the month, by who sourced them; qualified: those first
    reaching the qualified stage in the month (the first open stage needing qualification,
    else the one keyed ``qualified``; reached by entering it or a later stage not lost);
    sales conversations and proposals: activities by who logged them; won deals, revenue and
    margin: won outcomes in the month of the leads each member owns."""
    duck = _connect(folder)
    _months_view(duck, months)
    out: dict[str, Any] = {}

    def put(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> None:
        for member, month, *values in rows:
            for name, value in zip(names, values, strict=True):
                if value or name == "margin":  # a margin wherever there are won deals
                    out[f"{'none' if member is None else member}.{month}.{name}"] = value

    put(
        duck.execute(
            """SELECT l.sourced_by_id, m.m, count(*) FROM leads l
               JOIN months m ON l.first_touch_at >= m.since AND l.first_touch_at < m.until
               GROUP BY ALL"""
        ).fetchall(),
        ("leads_sourced",),
    )
    put(
        duck.execute(
            """WITH q AS (
                 SELECT coalesce(
                   (SELECT min(idx) FROM stages WHERE kind = 'open' AND requires_qualification),
                   (SELECT min(idx) FROM stages WHERE key = 'qualified')) AS idx),
               reaching AS (SELECT s.id FROM stages s, q
                            WHERE s.kind <> 'lost' AND s.idx >= q.idx),
               first AS (SELECT c.lead_id, min(c.ts) AS ts FROM sc c
                         WHERE c.to_stage_id IN (SELECT id FROM reaching) GROUP BY c.lead_id)
               SELECT l.sourced_by_id, m.m, count(*) FROM first f
               JOIN leads l ON l.id = f.lead_id
               JOIN months m ON f.ts >= m.since AND f.ts < m.until
               GROUP BY ALL"""
        ).fetchall(),
        ("leads_qualified",),
    )
    put(
        duck.execute(
            """SELECT a.by_id, m.m,
                      count(*) FILTER (WHERE a.with_buyer AND a.kind IN ('connect', 'meeting')),
                      count(*) FILTER (WHERE a.kind = 'proposal')
               FROM activities a JOIN months m ON a.ts >= m.since AND a.ts < m.until
               GROUP BY ALL"""
        ).fetchall(),
        ("sales_conversations", "proposals"),
    )
    won = duck.execute(
        """SELECT l.owner_id, m.m, count(*), sum(o.revenue), count(o.cost),
                  sum(o.revenue) FILTER (WHERE o.cost IS NOT NULL), sum(o.cost)
           FROM outcomes o JOIN leads l ON l.id = o.lead_id
           JOIN months m ON o.ts >= m.since AND o.ts < m.until
           WHERE o.result = 'won' GROUP BY ALL"""
    ).fetchall()
    duck.close()
    put(
        [
            (
                member,
                month,
                n,
                Decimal(revenue),
                Decimal(costed_revenue) - Decimal(cost) if costed else None,
            )
            for member, month, n, revenue, costed, costed_revenue, cost in won
        ],
        ("won_deals", "revenue", "margin"),
    )
    return out


def objections_report(
    folder: Path, since: datetime, until: datetime, months: list[tuple[str, datetime, datetime]]
) -> dict[str, Any]:
    """The objections of the period, flat: per tag; per month and tag; per stage the lead was
    at when it was logged (its last stage change at or before it, ties by id; "" before the
    first) and tag; per channel and tag: {"tag.<tag>" | "month.<m>.<tag>" |
    "stage.<key>.<tag>" | "channel.<key>.<tag>": n}."""
    duck = _connect(folder)
    _months_view(duck, months)
    rows = duck.execute(
        """WITH o AS (SELECT * FROM objections WHERE ts >= $since AND ts < $until),
           then_ AS (
             SELECT o.id, c.to_stage_id FROM o JOIN sc c ON c.lead_id = o.lead_id AND c.ts <= o.ts
             QUALIFY row_number() OVER (PARTITION BY o.id ORDER BY c.ts DESC, c.id DESC) = 1)
           SELECT o.tag, m.m, coalesce(s.key, ''), ch.key, count(*)
           FROM o JOIN months m ON o.ts >= m.since AND o.ts < m.until
           LEFT JOIN then_ t ON t.id = o.id LEFT JOIN stages s ON s.id = t.to_stage_id
           JOIN leads l ON l.id = o.lead_id JOIN channels ch ON ch.id = l.channel_id
           GROUP BY ALL""",
        {"since": since, "until": until},
    ).fetchall()
    duck.close()
    out: dict[str, Any] = {}
    for tag, month, stage, channel, n in rows:
        for name in (
            f"tag.{tag}",
            f"month.{month}.{tag}",
            f"stage.{stage}.{tag}",
            f"channel.{channel}.{tag}",
        ):
            out[name] = out.get(name, 0) + n
    return out


def today(
    folder: Path, member_id: int, day: date, now: dtime, stalled_before: datetime, rows: int
) -> dict[str, Any]:
    """A member's Today page: open follow-ups (not done) they own due on or before ``day``
    and of those the overdue ones (due before ``day``, or on it at a time before ``now``); the
    leads they own at an open stage without any open follow-up, and those at a late stage
    (open, from the qualified one on: the first open stage needing qualification, else the
    one keyed ``qualified``) entered before ``stalled_before``: counts, and the first
    ``rows`` of each list (due soonest first; the leads waiting longest first)."""
    duck = _connect(folder)
    p = {"m": member_id, "day": day, "now": now}
    due = duck.execute(
        """SELECT id, due_on < $day OR (due_on = $day AND due_time < $now) FROM followups
           WHERE owner_id = $m AND done_at IS NULL AND due_on <= $day
           ORDER BY due_on, due_time, id""",  # the data's follow-ups have no time
        p,
    ).fetchall()
    mine = """leads l JOIN stages s ON s.id = l.stage_id
              WHERE l.owner_id = $m AND s.kind = 'open'"""
    without = [
        pk
        for (pk,) in duck.execute(
            f"""SELECT l.id FROM {mine} AND NOT EXISTS (
                  SELECT 1 FROM followups f WHERE f.lead_id = l.id AND f.done_at IS NULL)
                ORDER BY l.stage_entered_at, l.id""",
            {"m": member_id},
        ).fetchall()
    ]
    stalled = [
        pk
        for (pk,) in duck.execute(
            f"""WITH q AS (SELECT coalesce(
                  (SELECT min(idx) FROM stages WHERE kind = 'open' AND requires_qualification),
                  (SELECT min(idx) FROM stages WHERE key = 'qualified')) AS idx)
                SELECT l.id FROM {mine} AND l.stage_entered_at < $before
                  AND s.idx >= (SELECT idx FROM q)
                ORDER BY l.stage_entered_at, l.id""",
            {"m": member_id, "before": stalled_before},
        ).fetchall()
    ]
    duck.close()
    return {
        "due.count": len(due),
        "due.overdue": sum(1 for _pk, late in due if late),
        "due.ids": [pk for pk, _late in due[:rows]],
        "without.count": len(without),
        "without.ids": without[:rows],
        "stalled.count": len(stalled),
        "stalled.ids": stalled[:rows],
    }
