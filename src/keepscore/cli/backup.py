"""``keepscore backup`` and ``keepscore restore``: the whole installation in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from keepscore.cli.common import (
    database_check,
    database_description,
    django_setup,
    errors,
    fail,
    progress_bar,
    say,
)


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def backup(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", dir_okay=False, help="The archive to write (a .zip file)."),
    ],
) -> None:
    """Back up everything: the database (every organization) and the files under
    KEEPSCORE_HOME (import uploads, the secret key), with a manifest, in one archive.

    SQLite is copied through its online backup API and PostgreSQL dumped with pg_dump (of
    the server's version: /usr/lib/postgresql/<major>/bin, or KEEPSCORE_PG_BIN), both as
    of one moment while the app keeps working. The archive holds every record and the
    secret key: keep it as safe as the database.
    """
    with errors():
        django_setup()
        from keepscore.backup.archive import BackupProblem
        from keepscore.backup.services import backup_create

        database_check()
        try:
            with progress_bar() as update:
                result = backup_create(
                    out=out,
                    progress=update,
                    database=f"the database at {database_description()}",
                )
        except BackupProblem as problem:
            fail(str(problem))
        rows = f"{result.rows:,} rows in {result.tables} tables"
        say(
            f"Backed up {escape(database_description())} ({rows}) and {result.files} files "
            f"to {escape(str(result.path))} ({_size(result.size)}) in {result.seconds:.1f} s."
        )


def restore(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="An archive of `keepscore backup`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a database and home that hold data already."),
    ] = False,
) -> None:
    """Restore a backup into an empty database and KEEPSCORE_HOME (--force replaces what is
    there). The archive is checked whole first; nothing is touched if anything is wrong.
    The database is then migrated forward when the backup is from an older keepscore.

    Stop `keepscore serve` first.
    """
    with errors():
        django_setup()
        from keepscore.backup.archive import BackupProblem
        from keepscore.backup.services import backup_restore

        database_check()
        try:
            with progress_bar() as update:
                result = backup_restore(path=file, force=force, progress=update)
        except BackupProblem as problem:
            fail(str(problem))
        migrated = (
            f"; {result.migrations_applied} migrations applied since"
            if result.migrations_applied
            else ""
        )
        say(
            f"Restored {escape(str(file))} (made {escape(result.backup_created_at)}) into "
            f"{escape(database_description())}: {result.rows:,} rows in {result.tables} "
            f"tables, each equal to the backup, and {result.files} files{migrated}; "
            f"{result.seconds:.1f} s."
        )
