"""``backup_create`` and ``backup_restore``: the whole installation in one archive and back.

What a backup holds: the database (every organization), the files kept under
``KEEPSCORE_HOME`` (the uploads of web imports, the generated secret key; not the collected
static files, which ``keepscore serve`` makes again) and the manifest. A restore goes only
into an empty database and home unless forced, and checks the archive first: nothing is
touched until the whole archive has been read and found whole, of the target's database
vendor and of migrations this keepscore knows. After the restore every table's count and
checksum are compared with the manifest's, then the database is migrated forward when the
backup is older than the code.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

import keepscore
from keepscore.audit import services as audit
from keepscore.backup import postgres, sqlite
from keepscore.backup.archive import (
    Archive,
    ArchiveWriter,
    BackupProblem,
    Manifest,
    Progress,
    archive_read,
    tree_remove,
)
from keepscore.backup.tables import TableState

#: folders of KEEPSCORE_HOME a backup leaves out: made again by keepscore itself
HOME_SKIP = ("static",)
#: the folder of uploaded import files: replaced as a whole by a forced restore
UPLOADS = "imports"
#: the scratch folders of a backup or restore running (never part of a backup)
SCRATCH = (".backup-", ".restore-")
DATABASE_FILES = {"sqlite": "database/keepscore.sqlite3", "postgresql": "database/keepscore.pgdump"}


@dataclass
class BackupResult:
    path: Path
    vendor: str
    size: int
    tables: int
    rows: int
    files: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class RestoreResult:
    path: Path
    vendor: str
    tables: int
    rows: int
    files: int
    migrations_applied: int
    seconds: float
    backup_created_at: str = ""


def _noop(phase: str, fraction: float) -> None:
    pass


def _home() -> Path:
    return Path(settings.KEEPSCORE_HOME)


def vendor() -> str:
    return str(connection.vendor)


def sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def _migrate_forward() -> int:
    """Apply the migrations the restored database lacks; how many."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    if pending:
        call_command("migrate", interactive=False, verbosity=0)
    return pending


def _database_files() -> tuple[set[Path], Path | None]:
    """The SQLite database and its companions (never copied as files), and the folder of
    its queue of writers (tickets that come and go with every write)."""
    if vendor() != "sqlite":
        return set(), None
    path = sqlite_path().resolve()
    companions = {path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal")}
    return {path, *companions}, path.with_name(path.name + "-writers")


def _ours(name: str) -> bool:
    """A file keepscore writes for a moment (a partial archive, a key being made)."""
    return name.startswith(".") and (".partial" in name or name.startswith(".secret_key."))


def home_files(*, leave_out: Collection[Path] = ()) -> list[Path]:
    """The files under KEEPSCORE_HOME a backup holds (relative paths)."""
    home = _home().resolve()
    database, writers = _database_files()
    skip = database | {p.resolve() for p in leave_out}
    out: list[Path] = []
    for path in sorted(home.rglob("*")):
        if writers is not None and path.is_relative_to(writers):
            continue
        relative = path.relative_to(home)
        if relative.parts[0] in HOME_SKIP or any(p.startswith(SCRATCH) for p in relative.parts):
            continue
        if path.is_symlink() or not path.is_file() or _ours(path.name):
            continue
        if path.resolve() in skip:
            continue
        out.append(relative)
    return out


# --- backup -----------------------------------------------------------------------------


def _share(
    progress: Progress, phase: str, done: int, part: int, total: int
) -> Callable[[float], None]:
    """The progress of one part of a phase, as the whole phase's."""
    return lambda fraction: progress(phase, (done + fraction * part) / total)


def backup_create(
    *, out: Path, progress: Progress = _noop, database: str = "the database"
) -> BackupResult:
    """Write the archive to ``out`` (first beside it, then moved into place). ``database``:
    how a message names the database (the command line says where it is)."""
    started = time.monotonic()
    kind = vendor()
    if kind not in DATABASE_FILES:
        raise BackupProblem(f"backups of a {kind} database are not supported")
    out = out.resolve()
    if out.is_dir():
        raise BackupProblem(f"{out} is a folder: give the archive's file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=out.parent) as scratch:
        copy = Path(scratch) / Path(DATABASE_FILES[kind]).name
        created_at = timezone.now().isoformat()
        if kind == "sqlite":
            progress("copying the database", 0.0)
            sqlite.snapshot(sqlite_path(), copy)
            progress("reading the copy", 0.0)
            migrations, states = sqlite.describe(copy)
            server = ""
        else:
            server, migrations, states = postgres.dump(
                copy, lambda f: progress("dumping the database", f)
            )
        if not migrations.get("accounts"):
            raise BackupProblem(f"{database} holds no keepscore tables: nothing to back up")
        files = home_files(leave_out={out, partial})
        sources = [(DATABASE_FILES[kind], copy)]
        sources += [(f"home/{f.as_posix()}", _home() / f) for f in files]
        total = sum(source.stat().st_size for _, source in sources) or 1
        try:
            with partial.open("wb") as fh:
                with ArchiveWriter(fh) as writer:
                    done = 0
                    for name, source in sources:
                        part = source.stat().st_size
                        writer.add(
                            name,
                            source,
                            compress=not name.endswith(".pgdump"),  # pg_dump compresses already
                            progress=_share(progress, "writing the archive", done, part, total),
                        )
                        done += part
                    writer.finish(
                        Manifest(
                            keepscore_version=keepscore.__version__,
                            vendor=kind,
                            server_version=server,
                            created_at=created_at,
                            database_file=DATABASE_FILES[kind],
                            migrations=migrations,
                            tables={
                                name: {"rows": s.rows, "sha256": s.sha256}
                                for name, s in states.items()
                            },
                        )
                    )
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, out)
        except OSError as error:
            about = f" ({error.filename})" if error.filename not in (None, str(partial)) else ""
            raise BackupProblem(f"cannot write {out}: {error.strerror or error}{about}") from None
        finally:
            partial.unlink(missing_ok=True)
    audit.installation(
        action="backed_up",
        summary=f"the whole installation ({kind}): {len(states)} tables, "
        f"{sum(s.rows for s in states.values()):,} rows, {len(files)} files",
    )
    return BackupResult(
        path=out,
        vendor=kind,
        size=out.stat().st_size,
        tables=len(states),
        rows=sum(s.rows for s in states.values()),
        files=len(files),
        seconds=time.monotonic() - started,
        counts={name: s.rows for name, s in states.items()},
    )


# --- restore ----------------------------------------------------------------------------


def _migrations_check(archive: Archive) -> None:
    """Every migration the backup's database had applied must be one this code knows."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(
        f"{app}.{name}"
        for app, names in archive.manifest.migrations.items()
        for name in names
        if (app, name) not in known
    )
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise BackupProblem(
            f"{archive.path} was made by a newer keepscore ({archive.manifest.keepscore_version}"
            f"; migrations unknown here: {shown}): restore it with that version or a later one"
        )
    if not archive.manifest.migrations.get("accounts"):
        raise BackupProblem(f"{archive.path}: its database holds no keepscore tables")


def target_describe() -> tuple[bool, list[Path]]:
    """Whether the target database holds data, and the files of the home a restore would
    replace or leave beside the backup's (the secret key aside)."""
    kind = vendor()
    holds = sqlite.holds_data(sqlite_path()) if kind == "sqlite" else postgres.holds_data()
    files = [f for f in home_files() if str(f) != "secret_key"]
    return holds, files


def _differences(expected: dict[str, dict[str, object]], got: dict[str, TableState]) -> list[str]:
    out = []
    for name, want in sorted(expected.items()):
        have = got.get(name)
        if have is None:
            out.append(f"{name} is missing")
        elif have.rows != want.get("rows"):
            out.append(f"{name} has {have.rows} rows, the backup {want.get('rows')}")
        elif have.sha256 != want.get("sha256"):
            out.append(f"{name} differs from the backup")
    out.extend(f"{name} is not in the backup" for name in sorted(set(got) - set(expected)))
    return out


def backup_restore(*, path: Path, force: bool = False, progress: Progress = _noop) -> RestoreResult:
    """Restore the archive at ``path`` into this installation's database and home."""
    started = time.monotonic()
    archive = archive_read(path, progress)
    manifest = archive.manifest
    kind = vendor()
    if manifest.vendor != kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupProblem(
            f"{path} holds a {names[manifest.vendor]} database and this installation uses "
            f"{names.get(kind, kind)}: restore it where DATABASE_URL names a "
            f"{names[manifest.vendor]} database (to move organizations between databases, "
            "use `keepscore export all` and `keepscore import all`)"
        )
    _migrations_check(archive)
    holds, files = target_describe()
    if (holds or files) and not force:
        what = []
        if holds:
            what.append("the database holds data")
        if files:
            what.append(f"{_home()} holds {len(files)} files ({files[0]}…)")
        raise BackupProblem(
            f"not restoring over what is there ({' and '.join(what)}): restore into an empty "
            "KEEPSCORE_HOME and database, or add --force to replace them by the backup"
        )
    home = _home()
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=home) as scratch:
        copy = Path(scratch) / Path(manifest.database_file).name
        archive.extract(manifest.database_file, copy, lambda f: progress("reading the database", f))
        if kind == "sqlite":
            sqlite.check(copy, str(path))
        else:
            tables = postgres.dump_check(copy, str(path))
        # the archive is whole and fits: from here on, the target is replaced
        connections.close_all()
        if kind == "sqlite":
            sqlite.restore(copy, sqlite_path(), lambda f: progress("restoring the database", f))
        else:
            postgres.restore(copy, tables, lambda f: progress("restoring the database", f))
    if force:
        tree_remove(home / UPLOADS)
    members = archive.home_files()
    for i, member in enumerate(members):
        archive.extract(member, home / member.removeprefix("home/"), None)
        progress("restoring files", (i + 1) / len(members))
    progress("checking the restored database", 0.0)
    got = sqlite.state(sqlite_path()) if kind == "sqlite" else postgres.state()
    differences = _differences(manifest.tables, got)
    if differences:
        raise BackupProblem(
            f"the restored database does not match the backup: {'; '.join(differences[:5])}"
        )
    connections.close_all()
    progress("migrating", 0.0)
    pending = _migrate_forward()
    audit.installation(
        action="restored",
        summary=f"from a backup made {manifest.created_at[:16].replace('T', ' ')} UTC by keepscore "
        f"{manifest.keepscore_version}",
    )
    return RestoreResult(
        path=path,
        vendor=kind,
        tables=len(got),
        rows=sum(s.rows for s in got.values()),
        files=len(members),
        migrations_applied=pending,
        seconds=time.monotonic() - started,
        backup_created_at=manifest.created_at,
    )
