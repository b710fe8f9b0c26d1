"""The check of a dry run over whole columns: the row check's result, found with DuckDB.

A dry run (the import's *Check*) of a large plain CSV is read by DuckDB into a table, and
SQL finds the *clean* rows: those the row check's one-pass reading
(:meth:`~keepscore.imports.fast_rows.FastRowReader.row_parser`) is certain to accept, no key
of which (id, email, phone) is shared with another row or with one of the organization's
leads. Their counts (leads per stage; the sources, members, lost reasons and campaigns they
use) are added up in SQL. Every other row — a bad row, a duplicate, a row sharing a key, a
row SQL cannot be sure of (a value outside ASCII where the rules fold case, an amount not
written plainly, a date with a time zone…) — goes through the row check itself, in line
order, so its errors, duplicates and warnings are the row check's own, word for word.

The values that are few per file (sources, owners, who sourced, lost reasons, status and
stage) are read by the row check's own functions, once per distinct value, in the order the
file first uses them, so what the import would create is listed in the same order too.

The file must be read by DuckDB exactly as Python's csv module reads it, so the columnar
check is used only where that is certain: a UTF-8 CSV at least
``settings.IMPORTS_COLUMNAR_MIN_BYTES`` long, one line per row (no quoted line breaks, no
blank lines, no lone carriage returns, no NUL), every row as wide as the header, quotes
DuckDB's strict reading accepts. Anything else — and any mapping the one-pass reading does
not take (stage dates, facts, defaults of text fields) — is checked row by row as before.

This module holds the check (:func:`check`) and its steps over the file; the rules that
sort its rows, written in SQL, are in :mod:`~keepscore.imports.columnar_rules`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from keepscore.imports.cells import phone_key
from keepscore.imports.checking import MAX_LISTED
from keepscore.imports.columnar_rules import ANY_DATE, classify, strip_macro, values_sql
from keepscore.imports.dates import ColumnDates
from keepscore.imports.options import MATCH_KEYS
from keepscore.leads.models import Lead

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import duckdb

    from keepscore.imports.engine import Progress
    from keepscore.imports.writing import LeadImport

#: below this size (bytes) the row check is quick enough, and DuckDB is not even loaded
COLUMNAR_MIN_BYTES = 4 * 1024 * 1024


@dataclass
class Columns:
    """What the columnar check found: the rows left to the row check, and the clean rows'
    counts for :meth:`~keepscore.imports.checking.RowCheck.check`."""

    duck: duckdb.DuckDBPyConnection
    #: SQL of a row's values (:func:`~keepscore.imports.columnar_rules.values_sql`)
    values: str
    clean_rows: int = 0
    clean_stages: dict[int, int] = field(default_factory=dict)
    clean_sources: set[str] = field(default_factory=set)
    clean_members: set[str] = field(default_factory=set)
    clean_reasons: set[str] = field(default_factory=set)
    #: (campaign, its first line) of the clean rows, in line order
    clean_campaigns: list[tuple[str, int]] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, values)`` of the rows the row check reads, in line order."""
        cursor = self.duck.execute(
            f"SELECT r.line, {self.values} FROM r JOIN t ON t.pos = r.line - 2 "
            "WHERE r.by_row ORDER BY r.line"
        )
        while batch := cursor.fetchmany(10_000):
            for line, *values in batch:
                yield line, values


def columnar_min_bytes() -> int:
    return int(getattr(settings, "IMPORTS_COLUMNAR_MIN_BYTES", COLUMNAR_MIN_BYTES))


def check(engine: LeadImport, progress: Progress | None) -> bool:
    """The dry run's check of ``engine``'s file over whole columns, its result in
    ``engine.result`` as the row check would leave it. False: this file or mapping is for
    the row check (nothing was changed)."""
    table = engine.table
    if (
        table.kind != "csv"
        or table.encoding not in ("utf-8", "utf-8-sig")
        or table.size < columnar_min_bytes()
        or not engine.fast_path_possible()
        or any(len(columns) != 1 for columns in engine.fields.values())
        or any(f != "created" for f, _i in engine.watching or ())
        or "created" in engine.unread
    ):
        return False
    import duckdb

    spill = tempfile.mkdtemp(prefix="keepscore-columnar-")  # DuckDB's, past its memory
    duck = duckdb.connect()
    try:
        duck.execute("SET temp_directory = ?", [spill])
        return _check(duck, engine, progress)
    except duckdb.Error:
        # not a file DuckDB reads strictly, or past its memory: the row check reads it
        # (it starts afresh; the formats, channels and members settled here are the same)
        log.warning(
            "columnar check of %s gave way to the row check", table.shown_name, exc_info=True
        )
        return False
    finally:
        duck.close()
        shutil.rmtree(spill, ignore_errors=True)


def _check(duck: duckdb.DuckDBPyConnection, engine: LeadImport, progress: Progress | None) -> bool:
    table = engine.table
    duck.execute("SET preserve_insertion_order = true")
    duck.execute("SET memory_limit = ?", [_memory_limit()])
    strip_macro(duck)
    _load(duck, table.path, table.delimiter, engine.width)
    rows = _count(duck, "SELECT count(*) FROM f")
    if rows + 1 != _physical_lines(table.path):  # None: never equal
        return False  # a row over several lines, or blank lines: line numbers would differ
    if progress is not None:
        progress("checking", 0.3)
    if engine.watching is not None:
        engine.watched = {}
        watching, engine.watching = engine.watching, None
        if not _dates_settle(duck, engine, watching[0][1]):
            return True  # the column's dates are ambiguous or mixed: said as problems
    columns = Columns(duck=duck, values=values_sql(engine.fields, engine.width))
    classify(duck, engine)
    if progress is not None:
        progress("checking", 0.6)
    _keys_shared(duck, engine)
    _clean_counts(duck, columns, _campaigns_known(engine))
    if progress is not None:
        progress("checking", 0.8)
    engine.check(None, keep=False, columns=columns)
    engine.result.columnar = True
    return True


def _campaigns_known(engine: LeadImport) -> int:
    leads = Lead.objects.for_org(engine.org).exclude(campaign="")
    return leads.values("campaign").distinct().count()


# --- reading the file ---------------------------------------------------------------------


def _physical_lines(path: Path) -> int | None:
    """The file's lines as Python's csv module counts them, or None when it may count them
    otherwise than DuckDB reads rows: a NUL, or a carriage return not before a line feed."""
    lines = 0
    last = b""
    with path.open("rb") as raw:
        while chunk := raw.read(8 * 1024 * 1024):
            if b"\x00" in chunk:
                return None
            both = last + chunk  # a \r\n split between two chunks
            if both.count(b"\r") != both.count(b"\r\n") + both.endswith(b"\r"):
                return None
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last == b"\r":
        return None
    return lines + (last not in (b"\n", b""))


def _memory_limit() -> str:
    return str(getattr(settings, "IMPORTS_COLUMNAR_MEMORY", "120MB"))


def _load(duck: duckdb.DuckDBPyConnection, path: Path, delimiter: str, width: int) -> None:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    duck.execute(
        "CREATE TABLE f AS SELECT * FROM read_csv(?, header = true, auto_detect = false, "
        f"columns = {columns}, delim = ?, quote = '\"', escape = '\"', strict_mode = true, "
        "null_padding = false, encoding = 'utf-8')",
        [str(path), delimiter],
    )


def _count(duck: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    found = duck.execute(sql, params or []).fetchone()
    return int(found[0]) if found else 0


# --- the date column ----------------------------------------------------------------------


def _dates_settle(duck: duckdb.DuckDBPyConnection, engine: LeadImport, index: int) -> bool:
    """The created column's format from every value (as the row check's watching settles
    it): each date part once, at its first line, and the values of another shape one by
    one, all in line order. False: the dates are ambiguous or mixed (result.problems)."""
    raw = f"coalesce(c{index}, '')"
    observable = f"{raw} <> '' AND length({raw}) < 100 AND py_strip({raw}) <> ''"
    found = duck.execute(
        f"""
        WITH v AS (
            SELECT rowid AS pos, {raw} AS value, regexp_full_match({raw}, '{ANY_DATE}') AS ok
            FROM f WHERE {observable}
        )
        SELECT min(pos), arg_min(value, pos) FROM v
        WHERE ok GROUP BY split_part(value, ' ', 1)
        UNION ALL
        SELECT pos, value FROM v WHERE NOT ok
        ORDER BY 1
        """
    ).fetchall()
    watcher = ColumnDates(column=engine.table.header[index], given=engine.given_format)
    for _at, value in found:
        watcher.observe(value)
    formats, labels, problems = engine._dates_settle({"created": watcher})
    engine._dates_use(formats, labels)
    if problems:
        engine.result.problems.extend(problems)
        return False
    return True


# --- duplicates -------------------------------------------------------------------------


def _keys_shared(duck: duckdb.DuckDBPyConnection, engine: LeadImport) -> None:
    """Mark for the row check every clean row with a key another row or a lead also has:
    the keys of the rows the row check reads (as it reads them) and of the organization's
    leads are put beside the clean rows' own."""
    use_x, use_e, use_p = (k in engine.result.match for k in MATCH_KEYS)
    if not (use_x or use_e or use_p):
        return
    kinds: list[str] = []
    values: list[str] = []

    def add(x: str, e: str, p: str) -> None:
        for kind, value in (("x", x), ("e", e), ("p", p)):
            if value:
                kinds.append(kind)
                values.append(value)

    for _pk, x, e, p in engine.known_key_rows():
        add(x, e, p)
    parse = engine.row_parser([], False)
    cursor = duck.execute(
        f"SELECT r.line, {values_sql(engine.fields, engine.width)} "
        "FROM r JOIN t ON t.pos = r.line - 2 WHERE NOT r.clean"
    )
    while batch := cursor.fetchmany(10_000):
        for line, *row in batch:
            parsed = parse(line, row)
            if isinstance(parsed, list):
                continue
            add(
                parsed.external_id if use_x else "",
                parsed.email if use_e else "",
                phone_key(parsed.phone) if use_p else "",
            )
    duck.execute("CREATE TABLE other (kind VARCHAR, v VARCHAR)")
    if values:
        duck.execute("INSERT INTO other SELECT unnest(?), unnest(?)", [kinds, values])
    duck.execute(
        """
        CREATE TABLE shared AS
        SELECT kind, v FROM (
            SELECT 'x' AS kind, x AS v FROM r WHERE clean AND x <> ''
            UNION ALL SELECT 'e', e FROM r WHERE clean AND e <> ''
            UNION ALL SELECT 'p', p FROM r WHERE clean AND p <> ''
            UNION ALL SELECT kind, v FROM other
        ) GROUP BY kind, v HAVING count(*) > 1
        """
    )
    duck.execute(
        """
        UPDATE r SET by_row = true WHERE clean AND (
            x IN (SELECT v FROM shared WHERE kind = 'x')
            OR e IN (SELECT v FROM shared WHERE kind = 'e')
            OR p IN (SELECT v FROM shared WHERE kind = 'p'))
        """
    )


def _clean_counts(duck: duckdb.DuckDBPyConnection, columns: Columns, known: int) -> None:
    """What the clean rows no other row shares a key with would create (they are all kept).
    ``known``: how many campaigns the organization has (of the first ``MAX_LISTED + known``
    campaigns, ``MAX_LISTED`` at least are new, when the file has that many)."""
    columns.clean_rows = _count(duck, "SELECT count(*) FROM r WHERE NOT by_row")
    columns.clean_stages = dict(
        duck.execute("SELECT stage, count(*) FROM r WHERE NOT by_row GROUP BY stage").fetchall()
    )
    for target, sql in (
        (columns.clean_sources, "SELECT DISTINCT source FROM r WHERE NOT by_row"),
        (
            columns.clean_members,
            "SELECT DISTINCT owner FROM r WHERE NOT by_row "
            "UNION SELECT DISTINCT sourced_by FROM r WHERE NOT by_row",
        ),
        (columns.clean_reasons, "SELECT DISTINCT reason FROM r WHERE NOT by_row"),
    ):
        target.update(v for (v,) in duck.execute(sql).fetchall())
    columns.clean_campaigns = [
        (c, int(line))
        for c, line in duck.execute(
            "SELECT campaign, min(line) AS first FROM r WHERE NOT by_row AND campaign <> '' "
            f"GROUP BY campaign ORDER BY first LIMIT {MAX_LISTED + known}"
        ).fetchall()
    ]
