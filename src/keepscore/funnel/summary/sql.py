"""The summaries' SQL, the same on SQLite and PostgreSQL: local months of stored moments
(from the ``MonthBound`` table, so no query converts time zones), exact microseconds, the
scratch tables a lead set is loaded into, additive upserts, and moments as raw SQL gives
them back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from keepscore.common.months import month_add, month_of, month_start
from keepscore.funnel.models import MonthBound
from keepscore.history.projections import write_memo
from keepscore.leads.models import Lead

#: the scratch table of the leads being counted
LEADS = "ks_lead"
#: MonthCount's metric of the objections of a tag: this and the tag


def pg() -> bool:
    return connection.vendor == "postgresql"


class _Prepared:
    """A PostgreSQL cursor binding its parameters on the server, which lets psycopg prepare
    the statements it runs again (see :func:`summary_cursor`); errors raised as Django's."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Any = None) -> _Prepared:
        with connection.wrap_database_errors:
            self.raw.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: Any) -> None:
        with connection.wrap_database_errors:
            self.raw.executemany(sql, rows)

    def fetchone(self) -> Any:
        return self.raw.fetchone()


#: PostgreSQL: a statement of the upkeep is prepared at its this-many-th run on a connection
#: (psycopg's default; a statement naming lead ids, run once, is never prepared)
PREPARE_AFTER = 5
#: writes of up to this many leads (or objections) prepare the upkeep's statements
PREPARED_UP_TO = 100


@contextmanager
def summary_cursor(*, prepared: bool) -> Iterator[Any]:
    """The cursor of the summaries' upkeep. ``prepared`` (the write of a few leads), on
    PostgreSQL: its statements are prepared once they ran :data:`PREPARE_AFTER` times on a
    connection. The same few dozen statements run at every write, and planning them took
    longer than running them (pg_stat_statements over the random-history tests: 5.5 s
    planning, 3.0 s executing). Django's cursors bind parameters in the client, which
    cannot prepare; this one binds on the server. Not for bulk writes: a plan kept from
    writes of one lead would be used for a scratch table of thousands."""
    with connection.cursor() as cursor:
        if not (prepared and pg()):
            yield cursor
            return
        import psycopg

        raw = connection.connection
        if raw.prepare_threshold is None:  # Django's: none prepared (its cursors cannot)
            raw.prepare_threshold = PREPARE_AFTER
        with psycopg.Cursor(raw) as server_side:
            yield _Prepared(server_side)


def zone_name() -> str:
    return str(timezone.get_default_timezone())


def month_sql(column: str) -> str:
    """SQL: the local month (first day) of a stored moment, from the MonthBound table."""
    zone = zone_name().replace("'", "''")
    table = MonthBound._meta.db_table
    return (
        f"(SELECT mb.month FROM {table} mb WHERE mb.zone = '{zone}' AND mb.since <= {column} "
        "ORDER BY mb.since DESC LIMIT 1)"
    )


def micros(column: str) -> str:
    """SQL: a stored moment as whole microseconds since 1970 (exact on both databases)."""
    if pg():
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    # SQLite stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC)
    return (
        f"(CAST(strftime('%%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column} || '.000000', 21, 6) AS INTEGER))"
    )


#: a day in microseconds
DAY_US = 86_400 * 10**6


def cycle_day(column: str) -> str:
    """SQL: whole days of a cycle in microseconds, rounded down (toward minus infinity: both
    databases' integer division rounds toward zero, which would put -1 µs in day 0)."""
    return (
        f"(CASE WHEN {column} >= 0 THEN {column} / {DAY_US} "
        f"ELSE -((-{column} - 1) / {DAY_US}) - 1 END)"
    )


def bounds_ensure(low: datetime | None, high: datetime | None) -> None:
    """Make sure MonthBound holds every month from ``low``'s to ``high``'s (local)."""
    if low is None or high is None:
        return
    zone = timezone.get_default_timezone()
    # one month more before: a moment's greatest bound
    first, last = month_start(month_of(low), back=1), month_of(high)
    wanted = []
    month = first
    while month <= last:
        wanted.append(month)
        month = month_add(month, 1)
    name = zone_name()
    have = MonthBound.objects.filter(zone=name, month__gte=first, month__lte=last).count()
    if have == len(wanted):
        return
    MonthBound.objects.bulk_create(
        [
            MonthBound(
                zone=name, month=m, since=datetime.combine(m, datetime.min.time(), tzinfo=zone)
            )
            for m in wanted
        ],
        ignore_conflicts=True,
        batch_size=500,
    )


def temp_tables(cursor: Any) -> None:
    """Create the scratch tables (once per connection; once per write of the recorder, which
    asks at each of its hooks, is enough to know they are there)."""
    memo = write_memo()
    if memo.get("temp_tables"):
        return
    if pg():
        big, moment, day = "bigint", "timestamptz", "date"
    else:
        big, moment, day = "integer", "text", "text"
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {LEADS} (id {big} PRIMARY KEY)")
    # each lead's reach of each stage, and its first observation of each (stage 0: its
    # entry into the funnel)
    for table in ("ks_reach", "ks_seen"):
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table} (lead_id {big}, stage_id {big}, "
            f"at {moment}, us {big}, month {day}, channel {big}, owner {big}, "
            "PRIMARY KEY (lead_id, stage_id))"
        )
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS ks_entry (lead_id {big}, stage_id {big}, month {day})"
    )
    memo["temp_tables"] = True


#: PostgreSQL: a temporary table whose file is larger than this is emptied with TRUNCATE,
#: a smaller one with DELETE (see ``temp_clear``)
TEMP_TRUNCATE_BYTES = 64 * 1024


def temp_clear(cursor: Any, table: str) -> None:
    """Empty one of the temporary tables above. SQLite: DELETE without a WHERE, which empties
    the table in place. PostgreSQL: autovacuum never sees a temporary table, so the rows a
    DELETE removes, and the rows of transactions rolled back, stay in its file as dead rows
    for the connection's life, and every later statement reads them (a test run's connection
    grew ks_reach to 84,000 dead rows and the cohort statement from 0.05 s to 1 s). TRUNCATE
    gives the table a new file, but costs ~2 ms (new files, catalog rows): five of them were
    a tenth of a lead move. So the file's size decides: above ``TEMP_TRUNCATE_BYTES`` (a few
    hundred rows) TRUNCATE, below it DELETE, whose dead rows the next statements read past
    in a few pages. The size is the file's own, right after a rollback too."""
    if pg():
        cursor.execute("SELECT pg_relation_size(%s)", [table])
        if cursor.fetchone()[0] > TEMP_TRUNCATE_BYTES:
            cursor.execute(f"TRUNCATE {table}")
            return
    cursor.execute(f"DELETE FROM {table}")


def leads_load(cursor: Any, leads: Sequence[int] | QuerySet[Lead]) -> None:
    temp_clear(cursor, LEADS)
    if isinstance(leads, QuerySet):
        sql, params = leads.values("pk").order_by().query.sql_with_params()
        cursor.execute(f"INSERT INTO {LEADS} (id) SELECT DISTINCT * FROM ({sql}) q", params)
    else:
        cursor.executemany(f"INSERT INTO {LEADS} (id) VALUES (%s)", [(pk,) for pk in set(leads)])


def values_sql(rows: Iterable[tuple[int, ...]]) -> str:
    return ", ".join("(" + ", ".join(str(int(v)) for v in row) + ")" for row in rows)


def upsert(table: str, key: Sequence[str], added: Sequence[str]) -> str:
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"


def moment_parse(value: Any) -> Any:
    """A moment as the database gives it back from raw SQL (SQLite: UTC text)."""
    if value is None or isinstance(value, datetime):
        return value
    found = parse_datetime(str(value))
    if found is not None and timezone.is_naive(found):
        found = timezone.make_aware(found, UTC)
    return found
