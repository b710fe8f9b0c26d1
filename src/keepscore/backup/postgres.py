"""PostgreSQL: ``pg_dump`` (custom format) of one snapshot, and a restore through
``pg_restore`` and ``psql`` in one transaction.

The backup opens a repeatable-read transaction, exports its snapshot and gives it to
``pg_dump``; the manifest's counts and checksums are read in the same snapshot, so they
describe exactly the dumped rows while writers go on. The restore drops what the target
database holds (its tables, sequences and functions) and replays the dump, all inside one
``psql --single-transaction``: a failure leaves the target as it was.

The client programs must be those of the server's major version: they are looked for in
``KEEPSCORE_PG_BIN`` when set, else in ``/usr/lib/postgresql/<major>/bin``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import IsolationLevel
from psycopg.conninfo import make_conninfo

from keepscore.backup.archive import CHUNK, BackupProblem
from keepscore.backup.tables import TableState, database_state, migrations_applied, table_names

PG_BIN = "/usr/lib/postgresql/{major}/bin"
#: the connection options libpq understands (Django's OPTIONS may hold others)
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}

#: what the target holds goes first (tables with their indexes, triggers and owned
#: sequences; then other sequences and the functions that are no extension's)
DROP_ALL = """
DO $keepscore$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE 'DROP VIEW IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE 'DROP TABLE IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'S'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE 'DROP SEQUENCE IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema()
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
END
$keepscore$;
"""


def _settings() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.DATABASES["default"])


def conninfo(db: dict[str, Any] | None = None) -> str:
    db = db or _settings()
    options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if k in LIBPQ_OPTIONS}
    params = {
        "dbname": db.get("NAME") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": str(db["PORT"]) if db.get("PORT") else None,
        **{k: str(v) for k, v in options.items()},
    }
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def client_env(db: dict[str, Any] | None = None) -> dict[str, str]:
    """The environment of pg_dump, pg_restore and psql: the database to use, the password
    passed in PGPASSWORD (never on a command line)."""
    db = db or _settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, name in (
        ("NAME", "PGDATABASE"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
    ):
        if db.get(key):
            env[name] = str(db[key])
    for key, value in (db.get("OPTIONS") or {}).items():
        if key in LIBPQ_OPTIONS:
            env[LIBPQ_OPTIONS[key]] = str(value)
    return env


def connect(db: dict[str, Any] | None = None) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(conninfo(db))
    except psycopg.Error as error:
        raise BackupProblem(f"cannot reach the PostgreSQL database: {_first(error)}") from None


def _first(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def server_major(connection: psycopg.Connection[Any]) -> int:
    return int(connection.info.server_version) // 10000


def server_version(connection: psycopg.Connection[Any]) -> str:
    row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else ""


def binary(name: str, major: int) -> Path:
    """The client program ``name`` of PostgreSQL ``major``, or a clear error."""
    folder = os.environ.get("KEEPSCORE_PG_BIN", "").strip()
    where = Path(folder) if folder else Path(PG_BIN.format(major=major))
    program = where / name
    if program.is_file() and os.access(program, os.X_OK):
        return program
    found = sorted(glob.glob(PG_BIN.format(major="*") + "/" + name))
    others = f" (found only {', '.join(found)})" if found else ""
    raise BackupProblem(
        f"{name} of PostgreSQL {major} (the server's version) is not in {where}{others}: "
        f"install the PostgreSQL {major} client programs (Debian, Ubuntu: apt-get install "
        f"postgresql-client-{major}) or set KEEPSCORE_PG_BIN to the folder holding {name}"
    )


class _Lines(threading.Thread):
    """Reads a process's stderr line by line: counts the lines holding ``marker``, keeps the
    last ones for an error message."""

    def __init__(self, stream: IO[bytes], marker: str | None = None) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.marker = marker
        self.count = 0
        self.tail: list[str] = []

    def run(self) -> None:
        for raw in self.stream:
            line = raw.decode("utf-8", "replace").rstrip()
            if self.marker is not None and self.marker in line:
                self.count += 1
            elif line:
                self.tail = [*self.tail[-9:], line]

    def error(self) -> str:
        errors = [line for line in self.tail if "error" in line.lower()]
        return (errors or self.tail or ["no message"])[-1]


def dump(
    target: Path, progress: Callable[[float], None] | None = None
) -> tuple[str, dict[str, list[str]], dict[str, TableState]]:
    """The database in ``target`` (pg_dump's custom format), with the server's version, the
    migrations applied and every table's count and checksum, all of one snapshot."""
    connection = connect()
    connection.isolation_level = IsolationLevel.REPEATABLE_READ
    connection.read_only = True
    try:
        version = server_version(connection)
        program = binary("pg_dump", server_major(connection))
        row = connection.execute("SELECT pg_export_snapshot()").fetchone()
        snapshot = str(row[0]) if row else ""
        tables = table_names(connection, "postgresql")
        process = subprocess.Popen(
            [
                str(program),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                "--verbose",
                "--no-password",
            ],
            env=client_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert process.stderr is not None
        lines = _Lines(process.stderr, "dumping contents of table")
        lines.start()
        total = max(1, len(tables))

        def both(read: float) -> None:
            if progress is not None:
                progress((min(1.0, lines.count / total) + read) / 2)

        # the checksums are read while pg_dump writes (two processes, one snapshot)
        states = database_state(connection, "postgresql", both)
        migrations = migrations_applied(connection, "postgresql")
        while process.poll() is None:
            both(1.0)
            time.sleep(0.1)
        lines.join()
        if process.returncode != 0:
            raise BackupProblem(f"pg_dump failed: {lines.error()}")
        connection.rollback()
    except psycopg.Error as error:
        raise BackupProblem(f"cannot read the PostgreSQL database: {_first(error)}") from None
    finally:
        connection.close()
    return version, migrations, states


def holds_data() -> bool:
    """Whether the target database has any user or organization."""
    with connect() as connection:
        tables = set(table_names(connection, "postgresql"))
        for table in ("accounts_organization", "accounts_user"):
            if table in tables and connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                return True
    return False


def dump_check(path: Path, where: str) -> int:
    """``pg_restore --list`` reads the dump (of the target server's version): the number of
    tables whose rows it holds."""
    with connect() as connection:
        program = binary("pg_restore", server_major(connection))
    done = subprocess.run(
        [str(program), "--list", str(path)],
        env=client_env(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BackupProblem(
            f"{where}: its database dump does not read: {message[-1] if message else 'no message'}"
        )
    listing = done.stdout.decode("utf-8", "replace").splitlines()
    return sum(1 for line in listing if " TABLE DATA " in line)


def restore(path: Path, tables: int, progress: Callable[[float], None] | None = None) -> None:
    """Replace what the target database holds by the dump, in one transaction."""
    with connect() as connection:
        major = server_major(connection)
    pg_restore, psql = binary("pg_restore", major), binary("psql", major)
    env = client_env()
    with tempfile.TemporaryFile() as restore_err:
        reader = subprocess.Popen(
            [str(pg_restore), "--no-owner", "--no-privileges", "--file=-", str(path)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=restore_err,
        )
        writer = subprocess.Popen(
            [
                str(psql),
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                "--file=-",
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert reader.stdout is not None and writer.stdin is not None
        assert writer.stderr is not None
        lines = _Lines(writer.stderr)
        lines.start()
        copied = 0
        tail = b""
        broken = False
        try:
            writer.stdin.write(DROP_ALL.encode())
            while chunk := reader.stdout.read(CHUNK):
                copied += (tail + chunk).count(b"\nCOPY ")
                tail = chunk[-6:]
                writer.stdin.write(chunk)
                if progress is not None and tables:
                    progress(min(1.0, copied / tables))
        except BrokenPipeError:
            broken = True  # psql stopped at an error: its message says which
        reader.wait()
        if reader.returncode != 0 and not broken:
            # the dump did not read to its end: psql must not commit what it got
            writer.kill()
            writer.wait()
            restore_err.seek(0)
            message = restore_err.read().decode("utf-8", "replace").strip().splitlines()
            raise BackupProblem(
                f"pg_restore failed, nothing restored: {message[-1] if message else 'no message'}"
            )
        with contextlib.suppress(BrokenPipeError):
            writer.stdin.close()
        writer.wait()
        lines.join()
        if writer.returncode != 0:
            raise BackupProblem(f"the restore failed, nothing restored: {lines.error()}")


def state() -> dict[str, TableState]:
    with connect() as connection:
        return database_state(connection, "postgresql")
