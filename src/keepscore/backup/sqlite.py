"""SQLite: a consistent copy of the live database through SQLite's online backup API, and a
restore of a copy into the target file, both in one step each.

The copy is taken in a single ``backup`` step: SQLite holds one read snapshot for all of
it, so writers (WAL mode) go on meanwhile and the copy is the database as it was at one
moment. The restore copies the checked file into the target through the same API: the
target's connection writes it in one transaction (all or nothing).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from keepscore.backup.archive import BackupProblem
from keepscore.backup.tables import TableState, database_state, migrations_applied, table_names

#: pages copied per step of a restore (the source is ours alone there: no restarts)
RESTORE_PAGES = 4096
TIMEOUT = 60


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def snapshot(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` in ``target`` (a new file, without a WAL)."""
    if not source.is_file():
        raise BackupProblem(f"there is no SQLite database at {source}")
    src = sqlite3.connect(source, timeout=TIMEOUT)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # one step: one read snapshot for the whole copy
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as error:
        raise BackupProblem(f"cannot copy the SQLite database {source}: {error}") from None
    finally:
        src.close()


def describe(path: Path) -> tuple[dict[str, list[str]], dict[str, TableState]]:
    """The migrations and every table's count and checksum of the database file."""
    connection = sqlite3.connect(path)
    try:
        return migrations_applied(connection, "sqlite"), database_state(connection, "sqlite")
    finally:
        connection.close()


def check(path: Path, where: str) -> None:
    """The database file reads as SQLite and passes SQLite's quick check."""
    try:
        connection = sqlite3.connect(_read_only(path), uri=True)
        try:
            result = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupProblem(f"{where} is damaged: its database: {error}") from None
    if result != [("ok",)]:
        first = result[0][0] if result else "no answer"
        raise BackupProblem(f"{where} is damaged: its database fails SQLite's check: {first}")


def holds_data(path: Path) -> bool:
    """Whether the database at ``path`` has any user or organization."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(path, timeout=TIMEOUT)
    try:
        tables = set(table_names(connection, "sqlite"))
        for table in ("accounts_organization", "accounts_user"):
            if table in tables and connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                return True
        return False
    finally:
        connection.close()


def restore(source: Path, target: Path, progress: Callable[[float], None] | None) -> None:
    """Replace the database at ``target`` by the copy at ``source``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(_read_only(source), uri=True)
    try:
        dst = sqlite3.connect(target, timeout=TIMEOUT)
        try:

            def step(status: int, remaining: int, total: int) -> None:
                if progress is not None and total:
                    progress((total - remaining) / total)

            src.backup(dst, pages=RESTORE_PAGES, progress=step)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    except sqlite3.Error as error:
        raise BackupProblem(f"cannot write the SQLite database {target}: {error}") from None
    finally:
        src.close()


def state(path: Path) -> dict[str, TableState]:
    connection = sqlite3.connect(path, timeout=TIMEOUT)
    try:
        return database_state(connection, "sqlite")
    finally:
        connection.close()
