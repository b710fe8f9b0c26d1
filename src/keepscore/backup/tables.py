"""Every table of a database, its row count and a checksum of its rows, read through a plain
DB-API connection (``sqlite3`` or ``psycopg``): what a backup's manifest records and what a
restore is checked against.

A table's checksum is the SHA-256 of its rows in primary-key order, each value written in
one canonical text form, so two databases of the same vendor holding the same rows give the
same checksum whatever their connections' settings (time zone, JSON decoding).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

#: rows fetched at a time while checksumming
FETCH = 5_000


@dataclass(frozen=True)
class TableState:
    rows: int
    sha256: str


def _canon(value: Any) -> str:
    """One text form per value: type-tagged, times in UTC, JSON with sorted keys."""
    if value is None:
        return "N"
    if isinstance(value, bool):
        return "b1" if value else "b0"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, float):
        return f"f{value!r}"
    if isinstance(value, Decimal):
        return f"d{value}"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return f"t{value.isoformat()}"
    if isinstance(value, date | time):
        return f"t{value.isoformat()}"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"x{bytes(value).hex()}"
    if isinstance(value, dict | list):
        return "j" + json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "s" + str(value)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(connection: Any, vendor: str) -> list[str]:
    """The database's own tables (SQLite's internal ones left out), by name."""
    cursor = connection.cursor()
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\' ORDER BY name"
        )
    else:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        )
    return [str(row[0]) for row in cursor.fetchall()]


def _order(connection: Any, vendor: str, table: str) -> list[str]:
    """The table's primary-key columns (all its columns when it has none)."""
    cursor = connection.cursor()
    if vendor == "sqlite":
        cursor.execute(f"PRAGMA table_info({quote(table)})")
        info = cursor.fetchall()  # cid, name, type, notnull, default, pk
        ranked = sorted((int(row[5]), str(row[1])) for row in info if row[5])
        return [name for _, name in ranked] or [str(row[1]) for row in info]
    cursor.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
        [quote(table)],
    )
    keys = [str(row[0]) for row in cursor.fetchall()]
    if keys:
        return keys
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [quote(table)],
    )
    return [str(row[0]) for row in cursor.fetchall()]


def table_state(connection: Any, vendor: str, table: str) -> TableState:
    """The table's row count and checksum."""
    order = ", ".join(quote(c) for c in _order(connection, vendor, table))
    digest = hashlib.sha256()
    rows = 0
    cursor = connection.cursor()
    cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")
    while True:
        batch = cursor.fetchmany(FETCH)
        if not batch:
            break
        for row in batch:
            digest.update("\x1f".join(_canon(v) for v in row).encode("utf-8", "surrogatepass"))
            digest.update(b"\x1e")
        rows += len(batch)
    return TableState(rows=rows, sha256=digest.hexdigest())


def database_state(
    connection: Any, vendor: str, progress: Callable[[float], None] | None = None
) -> dict[str, TableState]:
    """Every table's count and checksum, by table name."""
    names = table_names(connection, vendor)
    out: dict[str, TableState] = {}
    for i, name in enumerate(names):
        out[name] = table_state(connection, vendor, name)
        if progress is not None:
            progress((i + 1) / len(names))
    return out


def migrations_applied(connection: Any, vendor: str) -> dict[str, list[str]]:
    """The migrations recorded as applied, by app (none when the database was never
    migrated)."""
    if "django_migrations" not in table_names(connection, vendor):
        return {}
    cursor = connection.cursor()
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    out: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        out.setdefault(str(app), []).append(str(name))
    return out
