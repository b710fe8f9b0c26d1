"""Fast inserts for imports: explicit ids reserved up front, rows written with executemany.

Ids are reserved before the rows are written so stage changes and outcomes can point at
their lead without reading anything back: from the table's sequence on PostgreSQL, and on
SQLite (one writer at a time: the import holds the write lock for its whole transaction)
above the largest id ever used.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

_HEAD = ("id", "organization_id", "created_at")


class Inserter:
    """``INSERT`` of whole rows (every concrete column, id first) into one model's table."""

    def __init__(self, model: type[Model]) -> None:
        self.table = model._meta.db_table
        columns = [f.column for f in model._meta.concrete_fields]
        # id, organization_id, created_at first, whichever model redeclares its organization
        head = [c for c in _HEAD if c in columns]
        self.columns = head + [c for c in columns if c not in head]
        quote = connection.ops.quote_name
        cols = ", ".join(quote(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        self.sql = f"INSERT INTO {quote(self.table)} ({cols}) VALUES ({marks})"

    def index(self, column: str) -> int:
        return self.columns.index(column)

    def ids(self, n: int) -> Iterator[int]:
        """``n`` new ids for this table."""
        if n <= 0:
            return iter(())
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, n],
                )
                return iter([row[0] for row in cursor.fetchall()])
            # SQLite updates its AUTOINCREMENT counter past explicit ids by itself
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(self.table)}")
            top = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            row = cursor.fetchone()
            start = max(top, row[0] if row else 0) + 1
            return iter(range(start, start + n))

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, rows)
