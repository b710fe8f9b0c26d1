"""The database connection's settings, as the server sees them."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_runs_without_jit_and_sqlite_with_foreign_keys():
    """PostgreSQL: no JIT compilation (keepscore's short index reads paid 10-15 ms each for
    it); SQLite: foreign keys enforced (off by default in SQLite)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
        else:
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
