"""The columnar check's rules in SQL: which rows the one-pass reading is sure to accept.

:func:`classify` puts in place of the file's table (``f``) table ``t``, the cells the row
check reads (stripped as Python strips them: the ``py_strip`` macro of :func:`strip_macro`),
and table ``r``: each row's line, whether SQL is sure the one-pass reading accepts it
(``clean``: every text within its limit, a name, an email of the right shape, plain amounts,
a date of the column's format in the past, a known stage), its keys and what it would
create. The values that are few per file (sources, owners, who sourced, lost reasons,
status and stage) are read by the row check's own functions, once each, in the order the
file first uses them. :func:`values_sql` gives a row's values back to the row check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from keepscore.imports.cells import EARLIEST_YEAR, TEXT_LIMITS
from keepscore.imports.dates import PIVOT, DateFormat
from keepscore.imports.options import MATCH_KEYS
from keepscore.leads.models import StageKind

if TYPE_CHECKING:
    import duckdb

    from keepscore.imports.writing import LeadImport

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
ANY_DATE = r"[0-9]{1,4}(?:-[0-9]{1,2}-|/[0-9]{1,2}/|\.[0-9]{1,2}\.)[0-9]{1,4}" + _TIME
_DAYS_IN_MONTH = (
    "CASE WHEN {m} = 2 THEN (CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 "
    "THEN 29 ELSE 28 END) WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def strip_macro(duck: duckdb.DuckDBPyConnection) -> None:
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


def classify(duck: duckdb.DuckDBPyConnection, engine: LeadImport) -> None:
    """Table ``t``: the cells the check reads (text and amounts stripped as Python strips
    them; status, stage and created as they are), in place of the file's table. Table ``r``:
    every row's line, whether SQL is sure the one-pass reading accepts it (``clean``), its
    keys and what it would create."""
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
