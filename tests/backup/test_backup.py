"""``keepscore backup`` and ``keepscore restore`` as real processes, on real databases: a
SQLite file under a temporary KEEPSCORE_HOME, or (under scripts/with-postgres.sh) databases
made for the test on the throwaway PostgreSQL cluster.

What is compared is read independently of the code under test: every row of every table,
through a plain DB-API connection, of the restored database against the backup's own copy
(SQLite: the file inside the archive; PostgreSQL: the dump restored by ``pg_restore`` alone
into a scratch database) or against the source when nothing was writing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from keepscore.backup.archive import BackupProblem
from keepscore.backup.postgres import binary

PG_URL = os.environ.get("DATABASE_URL", "")
VENDOR = "postgresql" if PG_URL.startswith("postgres") else "sqlite"
KEEPSCORE = [sys.executable, "-m", "keepscore.cli.main"]
TIMEOUT = 600


def _url_with(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@dataclass
class Install:
    """One keepscore installation: a home folder and its database."""

    home: Path
    url: str = ""  # DATABASE_URL on PostgreSQL; SQLite lives in the home
    databases: list[str] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
        env.update(
            KEEPSCORE_HOME=str(self.home),
            DJANGO_SETTINGS_MODULE="keepscore.config.settings",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        if self.url:
            env["DATABASE_URL"] = self.url
        return env

    def run(self, *args: str, ok: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*KEEPSCORE, *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def python(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", SETUP + code],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    @property
    def sqlite(self) -> Path:
        return self.home / "keepscore.sqlite3"

    def connect(self) -> Any:
        return psycopg.connect(self.url) if self.url else sqlite3.connect(self.sqlite)


SETUP = """
import os, django
django.setup()
"""


@pytest.fixture
def installs(tmp_path: Path) -> Iterator[Any]:
    """Makes empty installations of the suite's database vendor; drops their databases."""
    made: list[str] = []

    def make(name: str) -> Install:
        home = tmp_path / name
        home.mkdir()
        if VENDOR == "sqlite":
            return Install(home=home)
        database = f"ks_backup_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        made.append(database)
        return Install(home=home, url=_url_with(PG_URL, database))

    yield make
    if made:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            for database in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- reading every row, independently -------------------------------------------------


def _tables(connection: Any, sqlite: bool) -> list[str]:
    cursor = connection.cursor()
    if sqlite:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return sorted(row[0] for row in cursor.fetchall())


#: the audit log's events of backups and restores themselves: recorded after the copy
#: (a backup) or into the restored database (a restore), so they are the one difference
#: between a source and its restored copy; :func:`events_of` reads them
OWN_EVENTS = "('backed_up', 'restored')"


def every_row(connection: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted (the audit log without the events of backups and
    restores)."""
    sqlite = isinstance(connection, sqlite3.Connection)
    out = {}
    for table in _tables(connection, sqlite):
        cursor = connection.cursor()
        where = f" WHERE action NOT IN {OWN_EVENTS}" if table == "audit_auditevent" else ""
        cursor.execute(f'SELECT * FROM "{table}"{where}')
        out[table] = sorted((tuple(row) for row in cursor.fetchall()), key=repr)
    return out


def events_of(install: Install) -> list[tuple[Any, ...]]:
    """The audit log's events of backups and restores: (organization, action, via, summary)."""
    connection = install.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT organization_id, action, via, summary FROM audit_auditevent"
            f" WHERE action IN {OWN_EVENTS} ORDER BY id"
        )
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()


def organizations_of(install: Install) -> list[int]:
    connection = install.connect()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT id FROM accounts_organization ORDER BY id")
        return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def checksums(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, tuple[int, str]]:
    return {
        table: (len(r), hashlib.sha256(repr(r).encode()).hexdigest()) for table, r in rows.items()
    }


def rows_of(install: Install) -> dict[str, list[tuple[Any, ...]]]:
    connection = install.connect()
    try:
        return every_row(connection)
    finally:
        connection.close()


def archive_rows(archive: Path, scratch: Install) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the database inside the archive, read without keepscore: SQLite's file
    opened as it is, PostgreSQL's dump given to pg_restore alone (into ``scratch``)."""
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        name = manifest["database"]["file"]
        target = scratch.home / Path(name).name
        target.write_bytes(zf.read(name))
    if VENDOR == "sqlite":
        connection = sqlite3.connect(target)
        try:
            return every_row(connection)
        finally:
            connection.close()
    with psycopg.connect(scratch.url) as connection:
        major = connection.info.server_version // 10000
    done = subprocess.run(
        [str(binary("pg_restore", major)), "--no-owner", f"--dbname={scratch.url}", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return rows_of(scratch)


# --- writing while the backup runs ------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from keepscore.accounts.models import Membership, Organization
from keepscore.activities.services import activity_log
from keepscore.leads.models import Channel, Stage
from keepscore.leads.services import lead_create, lead_move

org = Organization.objects.get(slug="demo")
owner = Membership.objects.filter(organization=org, is_owner=True).first()
channel = Channel.objects.for_org(org).get(key="referral")
prospect = Stage.objects.for_org(org).get(key="prospect")
stop, log = Path(sys.argv[1]), open(sys.argv[2], "a")
i = 0
while not stop.exists():
    # two leads share a phone number each time: nothing merges them
    lead = lead_create(organization=org, name=f"writer-{i}", channel=channel, by=owner,
                       phone="+44 20 7946 0000")
    lead_move(lead=lead, to_stage=prospect, by=owner)
    activity_log(lead=lead, kind="connect", by=owner, with_buyer=True)
    log.write(f"{i} {time.time()}\\n")
    log.flush()
    i += 1
"""


def _logged(log: Path) -> list[tuple[int, float]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        i, at = line.split()
        out.append((int(i), float(at)))
    return out


def _wait_for(log: Path, n: int, writer: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while len(_logged(log)) < n:
        assert writer.poll() is None, writer.communicate()[1]
        assert time.monotonic() < deadline, "the writer does not write"
        time.sleep(0.05)


def _writer_leads(install: Install) -> list[str]:
    connection = install.connect()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT name FROM leads_lead WHERE name LIKE 'writer-%'")
        return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def test_a_backup_taken_while_leads_are_written_restores_to_the_same_rows(
    installs: Any, tmp_path: Path
) -> None:
    # given: the demo organization, an uploaded import file, and a writer adding leads
    # through the services (a lead, its move, a call) as fast as it can
    source = installs("source")
    source.run("demo", "--months", "3", "--today", "2025-06-30")
    upload = source.home / "imports" / "1" / "upload.csv"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"name,email\nAda,ada@example.com\n")
    stop, log = tmp_path / "stop", tmp_path / "writes.log"
    script = tmp_path / "writer.py"
    script.write_text(SETUP + WRITER)
    writer = subprocess.Popen(
        [sys.executable, str(script), str(stop), str(log)],
        env=source.env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(log, 10, writer)
        # when: the backup runs while the writer goes on
        began = time.time()
        made = source.run("backup", "--out", str(tmp_path / "during.zip"))
        ended = time.time()
        before = len(_logged(log))
        _wait_for(log, before + 10, writer)
    finally:
        stop.touch()
        _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "Backed up" in made.stdout
    # (the writer did commit leads while the backup ran)
    assert any(began < at < ended for _, at in _logged(log))

    # and: it is restored into a fresh installation
    target = installs("target")
    restored = target.run("restore", str(tmp_path / "during.zip"))
    assert "each equal to the backup" in restored.stdout

    # then: every row of every table is the backup's (read without keepscore)
    snapshot = archive_rows(tmp_path / "during.zip", installs("scratch"))
    after = rows_of(target)
    assert checksums(after) == checksums(snapshot)
    assert after == snapshot
    # and the manifest's counts are the restored ones
    manifest = json.loads(zipfile.ZipFile(tmp_path / "during.zip").read("manifest.json"))
    # (the queue of SQLite writers, whose tickets come and go with each write, is not a
    # file of the installation: it stays out of the archive)
    held = zipfile.ZipFile(tmp_path / "during.zip").namelist()
    assert not [name for name in held if "-writers/" in name]
    assert "home/imports/1/upload.csv" in held
    assert {t: c["rows"] for t, c in manifest["tables"].items()} == {
        t: len(r) for t, r in after.items()
    }
    # the snapshot is of one moment: the writer's leads 0..k-1, none missing, k between the
    # leads written before the backup began and those written by its end
    names = _writer_leads(target)
    k = len(names)
    assert sorted(names) == sorted(f"writer-{i}" for i in range(k))
    assert sum(1 for _, at in _logged(log) if at < began) <= k <= before + 1
    # ... and a consistent one: the summaries agree with the history they are kept from
    verified = target.run("summaries", "verify")  # exits 1 on any difference
    assert "demo: 0 differences" in verified.stdout, verified.stdout
    # and each organization's audit log says it was backed up (source) and restored
    # (target), from the command line, with what and from when
    orgs = organizations_of(source)
    backed_up = [e for e in events_of(source) if e[1] == "backed_up"]
    assert [e[0] for e in backed_up] == orgs and {e[2] for e in backed_up} == {"cli"}
    rows = sum(c["rows"] for c in manifest["tables"].values())
    home = [name for name in manifest["files"] if name.startswith("home/")]
    assert f"{len(manifest['tables'])} tables, {rows:,} rows, {len(home)} files" in backed_up[0][3]
    restored_events = events_of(target)
    assert [e[:3] for e in restored_events] == [(o, "restored", "cli") for o in orgs]
    made_at = manifest["created_at"][:16].replace("T", " ")
    assert f"from a backup made {made_at} UTC" in restored_events[0][3]
    # and the uploaded file came back, byte for byte; the source's secret key too
    assert (target.home / "imports" / "1" / "upload.csv").read_bytes() == upload.read_bytes()
    assert (target.home / "secret_key").read_text() == (source.home / "secret_key").read_text()
    assert len(names) >= 10

    # when: nothing writes any more, a second backup replaces the first (--force), and a
    # stale upload of the target goes
    stale = target.home / "imports" / "9" / "stale.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    source.run("backup", "--out", str(tmp_path / "after.zip"))
    refused = target.run("restore", str(tmp_path / "after.zip"), ok=False)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    target.run("restore", "--force", str(tmp_path / "after.zip"))

    # then: the target holds exactly the source's rows, read from both directly
    assert rows_of(target) == rows_of(source)
    assert not stale.exists()
    assert len(_writer_leads(target)) == len(_logged(log))


# --- refusals: nothing touched --------------------------------------------------------


@pytest.fixture
def archive(installs: Any, tmp_path: Path) -> tuple[Install, Path]:
    """A small installation (one organization, two leads) and its backup."""
    source = installs("small")
    source.run("migrate")
    source.python(
        """
from keepscore.accounts.services import organization_create, user_create
from keepscore.leads.models import Channel
from keepscore.leads.services import lead_create
owner = user_create(email="owner@small.test", password="correct-horse-battery-9")
org = organization_create(name="Small", slug="small", owner=owner)
for name in ("One", "Two"):
    lead_create(organization=org, name=name, channel=Channel.objects.for_org(org).first())
"""
    )
    path = tmp_path / "small.zip"
    source.run("backup", "--out", str(path))
    return source, path


def _rewrite(source: Path, target: Path, **changes: Any) -> None:
    """A copy of the archive with the manifest changed."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                for key, value in changes.items():
                    if key == "vendor":
                        manifest["database"]["vendor"] = value
                    else:
                        manifest[key] = value
                data = json.dumps(manifest).encode()
            zout.writestr(info, data)


def _damage(source: Path, target: Path) -> None:
    """A copy with bytes in the middle of the database's compressed data changed."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("database/"))
    local = info.header_offset
    name_len = int.from_bytes(data[local + 26 : local + 28], "little")
    extra_len = int.from_bytes(data[local + 28 : local + 30], "little")
    start = local + 30 + name_len + extra_len + info.compress_size // 2
    for i in range(start, start + 16):
        data[i] ^= 0x5A
    target.write_bytes(bytes(data))


def _error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _holds_no_tables(install: Install) -> bool:
    connection = install.connect()
    try:
        return not _tables(connection, isinstance(connection, sqlite3.Connection))
    finally:
        connection.close()


def test_restore_checks_the_whole_archive_before_touching_anything(
    archive: tuple[Install, Path], installs: Any, tmp_path: Path
) -> None:
    _, good = archive
    target = installs("empty")
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("name,email\n")
    no_manifest = tmp_path / "no-manifest.zip"
    with zipfile.ZipFile(no_manifest, "w") as zf:
        zf.writestr("leads.csv", "id,name\n")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[:-200])
    damaged = tmp_path / "damaged.zip"
    _damage(good, damaged)
    other = "postgresql" if VENDOR == "sqlite" else "sqlite"
    wrong_vendor = tmp_path / "wrong-vendor.zip"
    _rewrite(good, wrong_vendor, vendor=other)
    manifest = json.loads(zipfile.ZipFile(good).read("manifest.json"))
    future = dict(manifest["migrations"])
    future["leads"] = [*future["leads"], "9999_from_the_future"]
    newer = tmp_path / "newer.zip"
    _rewrite(good, newer, migrations=future)

    cases = {
        not_zip: "is not a keepscore backup: not a zip archive, or a damaged one",
        no_manifest: "is not a keepscore backup: it has no manifest.json",
        truncated: "not a zip archive, or a damaged one",
        damaged: "is damaged: database/",
        wrong_vendor: "this installation uses",
        newer: "made by a newer keepscore",
        tmp_path / "missing.zip": "no such file",
    }
    for path, expected in cases.items():
        line = _error(target.run("restore", str(path), ok=False))
        assert expected in line, (path.name, line)
        assert str(path.name) in line
        # nothing was touched: the target database holds no table, its home no file
        assert _holds_no_tables(target), path.name
        assert not (target.home / "imports").exists()

    # and the good archive restores into the same, still empty, target
    target.run("restore", str(good))
    assert len(_writer_like(target)) == 2


def _writer_like(install: Install) -> list[str]:
    connection = install.connect()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT name FROM leads_lead ORDER BY name")
        return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def test_restore_refuses_a_target_that_holds_data_or_files(
    archive: tuple[Install, Path], installs: Any
) -> None:
    source, path = archive
    # a target whose database holds an organization (not the backup's)
    busy = installs("busy")
    busy.run("migrate")
    busy.python(
        """
from keepscore.accounts.services import organization_create
organization_create(name="Busy", slug="busy")
"""
    )
    before = rows_of(busy)
    line = _error(busy.run("restore", str(path), ok=False))
    assert "the database holds data" in line and "--force" in line
    assert rows_of(busy) == before
    # a target whose database is empty but whose home holds uploaded files
    files = installs("files")
    upload = files.home / "imports" / "3" / "x.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text("name\nAda\n")
    line = _error(files.run("restore", str(path), ok=False))
    assert "holds 1 files" in line and "--force" in line
    assert _holds_no_tables(files)
    # --force replaces both
    busy.run("restore", "--force", str(path))
    assert rows_of(busy) == rows_of(source)


def test_an_older_backup_is_migrated_forward_after_the_restore(
    installs: Any, tmp_path: Path
) -> None:
    # given: a backup of a database one migration behind the code (the activities' last
    # migration not applied)
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    [(_, last)] = graph.leaf_nodes("activities")
    [(_, before)] = [
        p for p in graph.node_map[("activities", last)].parents if p[0] == "activities"
    ]
    source = installs("old")
    source.run("demo", "--months", "3", "--today", "2025-06-30")
    done = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "activities", before, "--verbosity", "0"],
        env=source.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    path = tmp_path / "old.zip"
    source.run("backup", "--out", str(path))
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert last not in manifest["migrations"]["activities"]

    # when: it is restored by this keepscore
    target = installs("new")
    restored = target.run("restore", str(path))

    # then: the rows are the backup's, and the missing migration is applied
    assert "1 migrations applied since" in restored.stdout
    rows = rows_of(target)
    assert ("activities", last) in {(row[1], row[2]) for row in rows["django_migrations"]}
    assert target.run("migrate").stdout.strip().endswith("is up to date.")
    old = rows_of(source)
    for table in ("leads_lead", "leads_stagechange", "activities_activity", "funnel_cohortcount"):
        assert rows[table] == old[table]


def test_backup_of_a_database_without_tables_says_there_is_nothing(
    installs: Any, tmp_path: Path
) -> None:
    empty = installs("bare")
    line = _error(empty.run("backup", "--out", str(tmp_path / "x.zip"), ok=False))
    assert "holds no keepscore tables: nothing to back up" in line
    assert "the database at " in line  # the command line says where it looked
    assert not (tmp_path / "x.zip").exists()


def test_a_missing_pg_dump_is_named_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEPSCORE_PG_BIN", str(tmp_path))
    with pytest.raises(BackupProblem) as caught:
        binary("pg_dump", 15)
    message = str(caught.value)
    assert f"pg_dump of PostgreSQL 15 (the server's version) is not in {tmp_path}" in message
    assert "postgresql-client-15" in message and "KEEPSCORE_PG_BIN" in message
    program = tmp_path / "pg_dump"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert binary("pg_dump", 15) == program


ONE_MOMENT = """
import csv, io, json, threading, zipfile
from django.db import connection
from keepscore.accounts.services import organization_create
from keepscore.exports import services
from keepscore.exports.writers import Table
from keepscore.leads.models import Channel, Lead
from keepscore.leads.services import lead_create

org = organization_create(name="Moment", slug="moment")
channel = Channel.objects.for_org(org).first()
lead_create(organization=org, name="Before", channel=channel)

def write():
    # another connection adds a lead (and its first stage change) and commits
    lead_create(organization=org, name="During", channel=channel)
    connection.close()

original = services.archive_tables

def tables(organization):
    out = original(organization)
    leads = out[0]

    def rows():
        yield from leads.rows
        # the leads are written: the other writer commits before the stage changes are read
        thread = threading.Thread(target=write)
        thread.start()
        thread.join()

    out[0] = Table(leads.name, leads.header, rows())
    return out

services.archive_tables = tables
buffer = io.BytesIO()
services.export_all(organization=org, out=buffer)
archive = zipfile.ZipFile(buffer)
read = lambda name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
print(json.dumps({
    "leads": [r["name"] for r in read("leads.csv")],
    "changes": [r["lead_key"] for r in read("stage_changes.csv")],
    "in_the_database": sorted(Lead.objects.filter(organization=org).values_list("name", flat=True)),
}))
"""


def test_export_all_reads_one_moment_while_another_connection_writes(installs: Any) -> None:
    """Outside any transaction (a real process, a real database file or server), the
    archive's tables agree: a lead committed by another connection while the export runs is
    in none of them, though it is in the database."""
    install = installs("moment")
    install.run("migrate")
    seen = json.loads(install.python(ONE_MOMENT).strip().splitlines()[-1])
    assert seen["in_the_database"] == ["Before", "During"]
    assert seen["leads"] == ["Before"]
    assert len(seen["changes"]) == 1
