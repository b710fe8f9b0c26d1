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
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from keepscore.imports.dates import PIVOT, ColumnDates, DateFormat

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import duckdb

    from keepscore.imports.engine import Progress
    from keepscore.imports.writing import LeadImport

#: below this size (bytes) the row check is quick enough, and DuckDB is not even loaded
COLUMNAR_MIN_BYTES = 4 * 1024 * 1024
#: Python's whitespace (what str.strip() removes; a test checks it is every such character)
WHITESPACE = (
    "\x09\x0a\x0b\x0c\x0d\x1c\x1d\x1e\x1f\x20\x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: the row check's email rule (``cells.EMAIL``) in RE2, its \s spelt out as Python's
_NOT_IN_EMAIL = "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + '@<>(),;:"\\[\\]'
_EMAIL = f"[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}]+\\.[^{_NOT_IN_EMAIL}.]{{2,}}"
#: the one character DuckDB's lower() folds otherwise than Python's (a test checks them all)
LOWER_DIFFERS = "\u0130"
_PLAIN_MONEY_ASCII = r"[0-9]{1,12}(\.[0-9]{0,2})?"
#: a time after the date as the conservative reading takes it (the row check takes more)
_TIME = r"(?: (?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?)?"
#: any date of the candidates' shape (both separators the same), for watching a column: its
#: date part is what comes before the first space
_ANY_DATE = r"[0-9]{1,4}(?:-[0-9]{1,2}-|/[0-9]{1,2}/|\.[0-9]{1,2}\.)[0-9]{1,4}" + _TIME
_DAYS_IN_MONTH = (
    "CASE WHEN {m} = 2 THEN (CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 "
    "THEN 29 ELSE 28 END) WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
)


@dataclass
class Columns:
    """What the columnar check found: the rows left to the row check, and the clean rows'
    counts for :meth:`~keepscore.imports.checking.RowCheck.check`."""

    duck: duckdb.DuckDBPyConnection
    #: SQL of a row's values (:func:`values_sql`)
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
    _strip_macro(duck)
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
    _classify(duck, engine)
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
    from keepscore.leads.models import Lead

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


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _strip_macro(duck: duckdb.DuckDBPyConnection) -> None:
    """``py_strip(x)``: ``x`` (NULL: "") stripped as Python's str.strip() strips it. Most
    values start and end with something else than whitespace: they are kept as they are."""
    ws = _sql_text(WHITESPACE)
    duck.execute(
        f"""
        CREATE MACRO py_strip(x) AS CASE
            WHEN x IS NULL THEN ''
            WHEN contains({ws}, left(x, 1)) OR contains({ws}, right(x, 1)) THEN trim(x, {ws})
            ELSE x END
        """
    )


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
            SELECT rowid AS pos, {raw} AS value, regexp_full_match({raw}, '{_ANY_DATE}') AS ok
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


def _date_parts(fmt: DateFormat) -> dict[str, str]:
    """SQL of the created cell read in ``fmt`` (over ``created_raw`` and its ``day``, the
    part before the first space): whether it has the shape, and its year, month and day."""
    year = "[0-9]{2}" if fmt.short else "[0-9]{4}"
    day = "[0-9]{1,2}"
    sep = "\\" + fmt.sep if fmt.sep == "." else fmt.sep
    pattern = sep.join((year, day, day) if fmt.order == "ymd" else (day, day, year)) + _TIME
    a, b, c = (f"TRY_CAST(split_part(day, '{fmt.sep}', {n}) AS INTEGER)" for n in (1, 2, 3))
    y, m, d = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[fmt.order]
    if fmt.short:  # the pivot of dates.PIVOT
        y = f"({y} + CASE WHEN {y} < {PIVOT} THEN 2000 ELSE 1900 END)"
    return {"d_shape": f"regexp_full_match(created_raw, '{pattern}')", "d_y": y, "d_m": m, "d_d": d}


def _date_ok(cutoff: int, earliest: int) -> str:
    """SQL: the created cell (:func:`_date_parts`) is a date the one-pass reading takes,
    local, before the ``cutoff`` day (YYYYMMDD) and not before the ``earliest`` year."""
    days = _DAYS_IN_MONTH.format(m="d_m", y="d_y")
    return (
        f"(d_shape AND d_m BETWEEN 1 AND 12 AND d_d BETWEEN 1 AND {days} "
        f"AND d_y >= {earliest} AND d_y * 10000 + d_m * 100 + d_d < {cutoff})"
    )


# --- the rows -----------------------------------------------------------------------------


def _mapped(
    duck: duckdb.DuckDBPyConnection,
    name: str,
    sql: str,
    condition: str,
    read: Callable[[str], str | None],
) -> None:
    """Table ``name`` (raw, key) of the distinct values of ``sql`` over the rows where
    ``condition`` holds, in the order the file first uses them, each read by ``read`` (a
    key, or None when the value is an error: its rows go to the row check)."""
    values = duck.execute(
        f"SELECT v FROM (SELECT {sql} AS v, pos FROM t WHERE {condition}) "
        "WHERE v <> '' GROUP BY v ORDER BY min(pos)"
    ).fetchall()
    raws = [v for (v,) in values]
    keys = [read(v) for v in raws]
    duck.execute(f"CREATE TABLE {name} (raw VARCHAR, key VARCHAR)")
    if raws:
        duck.execute(f"INSERT INTO {name} SELECT unnest(?), unnest(?)", [raws, keys])


def _classify(duck: duckdb.DuckDBPyConnection, engine: LeadImport) -> None:
    """Table ``t``: the cells the check reads (text and amounts stripped as Python strips
    them; status, stage and created as they are), in place of the file's table. Table ``r``:
    every row's line, whether SQL is sure the one-pass reading accepts it (``clean``), its
    keys and what it would create."""
    from keepscore.imports.cells import EARLIEST_YEAR, TEXT_LIMITS
    from keepscore.imports.options import MATCH_KEYS

    fields = engine.fields
    duck.execute(
        "CREATE TABLE t AS SELECT rowid AS pos, "
        + ", ".join(
            [f"py_strip(c{i}) AS {name}" for name, i in _stripped(fields)]
            + [f"coalesce(c{i}, '') AS {name}" for name, i in _raw(fields)]
        )
        + " FROM f"
    )
    duck.execute("DROP TABLE f")  # t holds all the row check reads (memory: one copy)

    def text(name: str) -> str:
        return name if name in fields else "''"

    # the values that are few: read by the row check's own functions, in first-use order
    def effective(name: str, default: str) -> str:
        t, limit = text(name), TEXT_LIMITS[name]
        return f"CASE WHEN length({t}) BETWEEN 1 AND {limit} THEN {t} ELSE {_sql_text(default)} END"

    def source_key(source: str) -> str | None:
        key = source.lower()
        if key in engine.channels:
            return key
        errors: list[tuple[str, str]] = []
        key = engine._channel(source, errors)
        return None if errors else key

    def owner_key(field_name: str) -> Callable[[str], str | None]:
        def read(owner: str) -> str | None:
            errors: list[tuple[str, str]] = []
            key = engine._owner(owner, errors, field=field_name)
            return None if errors else key

        return read

    source = effective("source", engine.source_default or "")
    owner = effective("owner", "")
    sourced_by = effective("sourced_by", "")
    reason = effective("lost_reason", engine.lost_reason_default)
    _mapped(duck, "sources", source, "true", source_key)
    _owners_mapped(duck, engine, [("owner", owner), ("sourced_by", sourced_by)], owner_key)

    # status and stage: each pair once, read as the one pass reads it (the plan), and as
    # the row check's _stage reads it (lost: its reason is looked up)
    status_raw = "status_raw" if "status" in fields else "''"
    stage_raw = "stage_raw" if "stage" in fields else "''"
    pairs = duck.execute(
        f"SELECT {status_raw} AS st, {stage_raw} AS sg FROM t GROUP BY ALL"
    ).fetchall()
    plan_of = engine.stage_planner()
    status_i = fields["status"][0] if "status" in fields else -1
    stage_i = fields["stage"][0] if "stage" in fields else -1
    duck.execute(
        "CREATE TABLE plans (st VARCHAR, sg VARCHAR, ok BOOLEAN, pk BIGINT, two BOOLEAN, "
        "won BOOLEAN, lost_plan BOOLEAN, lost BOOLEAN)"
    )
    duck.executemany(
        "INSERT INTO plans VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (st, sg, plan is not None, *(plan or (0, False, False, False)), lost)
            for (st, sg), plan, lost in _plans(pairs, plan_of, engine, status_i, stage_i)
        ],
    )
    _mapped(
        duck,
        "reasons",
        reason,
        f"EXISTS (SELECT 1 FROM plans WHERE plans.st = {status_raw} AND plans.sg = {stage_raw} "
        "AND plans.lost)",
        engine._reason,
    )

    # the few values' keys: joined where the file has the column, else one constant each
    joins = [f"LEFT JOIN plans pl ON pl.st = {status_raw} AND pl.sg = {stage_raw}"]

    def lookup(alias: str, table: str, raw: str, name: str, kind: str = "") -> str:
        also = f" AND {alias}.field = '{kind}'" if kind else ""
        if name in fields:
            joins.append(f"LEFT JOIN {table} {alias} ON {alias}.raw = {raw}{also}")
            return f"{alias}.key"
        also = f" AND field = '{kind}'" if kind else ""
        return f"(SELECT key FROM {table} WHERE raw = {raw}{also})"

    # derived once per row (inner query), then the conditions over them (outer)
    fmt = engine.formats["created"]
    inner = {
        "k_source": lookup("src", "sources", source, "source"),
        "k_owner": lookup("ow", "owners", owner, "owner", "owner"),
        "k_sourced_by": lookup("sb", "owners", sourced_by, "sourced_by", "sourced_by"),
        "k_reason": lookup("rs", "reasons", reason, "lost_reason"),
        "pl_ok": "pl.ok",
        "pl_pk": "pl.pk",
        "pl_won": "pl.won",
        "pl_lost": "pl.lost_plan",
        "email_l": f"lower({text('email')})",
        "digits": f"regexp_replace({text('phone')}, '[^0-9]', '', 'g')",
        **_date_parts(fmt),
    }
    # as the one pass: a local date before this day is not in the future, whatever the zone
    cutoff = engine.latest.astimezone(UTC).replace(tzinfo=None) - timedelta(days=2)
    conditions = [
        f"length({text(name)}) <= {limit}" for name, limit in TEXT_LIMITS.items() if name in fields
    ]
    name_ok = [f"{text('name')} <> ''", f"{text('company')} <> ''"]
    if "first_name" in fields or "last_name" in fields:
        name_ok.append(f"py_strip({text('first_name')} || ' ' || {text('last_name')}) <> ''")
    if engine.preset.name_from_id:
        name_ok.append(f"{text('external_id')} <> ''")
    conditions.append("(" + " OR ".join(name_ok) + ")")
    email = text("email")
    conditions.append(
        f"({email} = '' OR (NOT contains({email}, '{LOWER_DIFFERS}') "
        f"AND regexp_full_match(email_l, '{_EMAIL}')))"
    )
    conditions.append(f"strlen({text('phone')}) = length({text('phone')})")
    for name in ("value", "revenue", "cost"):
        t = text(name)
        conditions.append(f"({t} = '' OR regexp_full_match({t}, '{_PLAIN_MONEY_ASCII}'))")
    conditions.append(
        _date_ok(cutoff.year * 10000 + cutoff.month * 100 + cutoff.day, EARLIEST_YEAR)
    )
    conditions.append("k_source IS NOT NULL")
    conditions.append(f"({text('owner')} = '' OR k_owner IS NOT NULL)")
    conditions.append(f"({text('sourced_by')} = '' OR k_sourced_by IS NOT NULL)")
    conditions.append("pl_ok")
    # a won row needs its revenue (as the one pass finds it), a lost row its reason
    if "revenue" in fields:
        revenue = f"{text('revenue')} <> ''" + (
            " OR true" if engine.revenue_given is not None else ""
        )
    else:
        revenue = f"{text('value')} <> ''" + (
            " OR true" if engine.revenue_default is not None else ""
        )
    conditions.append(f"(NOT pl_won OR {revenue})")
    conditions.append("(NOT pl_lost OR k_reason IS NOT NULL)")
    use_x, use_e, use_p = (k in engine.result.match for k in MATCH_KEYS)
    key_x = text("external_id") if use_x else "''"
    key_e = "email_l" if use_e else "''"
    key_p = "CASE WHEN length(digits) >= 7 THEN digits ELSE '' END" if use_p else "''"
    duck.execute(
        f"""
        CREATE TABLE r AS
        SELECT pos + 2 AS line,
            {" AND ".join(f"coalesce({c}, false)" for c in conditions)} AS clean,
            {key_x} AS x, {key_e} AS e, {key_p} AS p,
            pl_pk AS stage, k_source AS source, coalesce(k_owner, '') AS owner,
            coalesce(k_sourced_by, '') AS sourced_by,
            CASE WHEN pl_lost THEN k_reason ELSE '' END AS reason,
            {text("campaign")} AS campaign,
            false AS by_row
        FROM (
            SELECT t.*, {", ".join(f"{sql} AS {name}" for name, sql in inner.items())}
            FROM (SELECT *, split_part(created_raw, ' ', 1) AS day FROM t) t
            {" ".join(joins)}
        )
        """
    )
    duck.execute("UPDATE r SET by_row = NOT clean")


def _stripped(fields: dict[str, list[int]]) -> list[tuple[str, int]]:
    from keepscore.imports.cells import TEXT_LIMITS

    names = [*TEXT_LIMITS, "value", "revenue", "cost"]
    return [(name, fields[name][0]) for name in names if name in fields]


def _raw(fields: dict[str, list[int]]) -> list[tuple[str, int]]:
    return [
        (f"{name}_raw", fields[name][0])
        for name in ("status", "stage", "created")
        if name in fields
    ]


def values_sql(fields: dict[str, list[int]], width: int) -> str:
    """SQL of a row's values for the row check, from table ``t``: each mapped column's cell
    (stripped where the row check strips it; as it is for status, stage and created), ""
    for the columns the mapping ignores (the row check never reads them)."""
    columns = ["''"] * width
    for name, i in [*_stripped(fields), *_raw(fields)]:
        columns[i] = f"t.{name}"
    return ", ".join(columns)


def _plans(
    pairs: list[tuple[str, str]],
    plan_of: Callable[[str, str], Any],
    engine: LeadImport,
    status_i: int,
    stage_i: int,
) -> Iterator[tuple[tuple[str, str], Any, bool]]:
    """Each (status, stage) pair: its one-pass plan, and whether the row check's
    :meth:`_stage` reads it as lost (its lost reason is then looked up)."""
    from keepscore.leads.models import StageKind

    for st, sg in pairs:
        synthetic = [""] * engine.width
        if status_i >= 0:
            synthetic[status_i] = st
        if stage_i >= 0:
            synthetic[stage_i] = sg
        final = engine._stage(synthetic, [])
        yield (st, sg), plan_of(st, sg), final is not None and final.kind == StageKind.LOST


def _owners_mapped(
    duck: duckdb.DuckDBPyConnection,
    engine: LeadImport,
    owners: list[tuple[str, str]],
    owner_key: Callable[[str], Callable[[str], str | None]],
) -> None:
    """Table ``owners`` (field, raw, key): the owners and who sourced, read in the order the
    file first names them (a row's owner before its sourced_by), as the row check does."""
    selects = [
        f"SELECT {i} AS o, {_sql_text(name)} AS field, {sql} AS v, pos FROM t"
        for i, (name, sql) in enumerate(owners)
        if name in engine.fields
    ]
    found = []
    if selects:
        found = duck.execute(
            f"SELECT field, v FROM ({' UNION ALL '.join(selects)}) WHERE v <> '' "
            "GROUP BY field, v ORDER BY min(pos), min(o)"
        ).fetchall()
    fields_, raws, keys = [], [], []
    for field_name, raw in found:
        fields_.append(field_name)
        raws.append(raw)
        keys.append(owner_key(field_name)(raw))
    duck.execute("CREATE TABLE owners (field VARCHAR, raw VARCHAR, key VARCHAR)")
    if raws:
        duck.execute(
            "INSERT INTO owners SELECT unnest(?), unnest(?), unnest(?)", [fields_, raws, keys]
        )


# --- duplicates -------------------------------------------------------------------------


def _keys_shared(duck: duckdb.DuckDBPyConnection, engine: LeadImport) -> None:
    """Mark for the row check every clean row with a key another row or a lead also has:
    the keys of the rows the row check reads (as it reads them) and of the organization's
    leads are put beside the clean rows' own."""
    from keepscore.imports.cells import phone_key
    from keepscore.imports.options import MATCH_KEYS

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
    from keepscore.imports.checking import MAX_LISTED

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
