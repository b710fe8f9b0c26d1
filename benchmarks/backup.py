"""Backup, restore and the organization's round trip (``export all`` then ``import all``),
timed as a person runs them: each a real ``keepscore`` process. Not a test.

    .venv/bin/python benchmarks/backup.py                      the demo (24 months), SQLite
    bash scripts/with-postgres.sh .venv/bin/python benchmarks/backup.py     … on PostgreSQL
    .venv/bin/python benchmarks/backup.py --home /tmp/keepscore-scale-100000-…  --org scale-100000
        an installation kept by ``benchmarks/scale.py 100000 --keep`` (SQLite)

Steps, wall-clock seconds each:

1. ``keepscore backup --out FILE``: the archive's size against the database's;
2. ``keepscore restore FILE`` into a fresh KEEPSCORE_HOME (and, on PostgreSQL, a new
   database on the same server);
3. ``keepscore export all --org SLUG`` from the source and 4. ``keepscore import all --org
   SLUG-copy`` into the restored installation; then ``keepscore summaries verify`` of the
   copy (0 differences).

Prints the figures and merges them into benchmarks/backup.json under the database vendor and
the number of leads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "backup.json"
KEEPSCORE = [sys.executable, "-m", "keepscore.cli.main"]


def _env(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(KEEPSCORE_HOME=str(home), DJANGO_SETTINGS_MODULE="keepscore.config.settings")
    if url:
        env["DATABASE_URL"] = url
    return env


def run(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*KEEPSCORE, *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"keepscore {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return seconds, done.stdout


def _database(url: str, name: str, create: bool) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _python(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def measure(home: Path, url: str, slug: str, scratch: Path) -> dict[str, Any]:
    env = _env(home, url)
    facts = json.loads(
        _python(
            env,
            "import json, os\n"
            "from django.db import connection\n"
            "from keepscore.leads.models import Lead, StageChange\n"
            "from keepscore.activities.models import Activity\n"
            f"org = {{'organization__slug': {slug!r}}}\n"
            "if connection.vendor == 'postgresql':\n"
            "    c = connection.cursor()\n"
            "    c.execute('SELECT pg_database_size(current_database())')\n"
            "    size = c.fetchone()[0]\n"
            "else:\n"
            "    c = connection.cursor(); c.execute('PRAGMA wal_checkpoint(TRUNCATE)')\n"
            "    from django.conf import settings\n"
            "    size = os.path.getsize(settings.DATABASES['default']['NAME'])\n"
            "print(json.dumps({'vendor': connection.vendor, 'database_bytes': size,\n"
            "  'leads': Lead.objects.filter(**org).count(),\n"
            "  'stage_changes': StageChange.objects.filter(**org).count(),\n"
            "  'activities': Activity.objects.filter(**org).count()}))\n",
        )
    )
    out: dict[str, Any] = dict(facts)
    say(facts)
    archive = scratch / "backup.zip"
    out["backup_s"], _ = run(env, "backup", "--out", str(archive))
    out["backup_bytes"] = archive.stat().st_size
    say({k: out[k] for k in ("backup_s", "backup_bytes")})

    # the restored installation is a scratch one: the organization's copy goes there
    target_home = scratch / "restored"
    target_home.mkdir()
    target_url = _database(url, f"ks_restore_{uuid.uuid4().hex[:8]}", True) if url else ""
    target = _env(target_home, target_url)
    try:
        out["restore_s"], _ = run(target, "restore", str(archive))
        say({"restore_s": out["restore_s"]})
        export = scratch / "export.zip"
        out["export_all_s"], _ = run(env, "export", "all", "--org", slug, "--out", str(export))
        out["export_all_bytes"] = export.stat().st_size
        say({k: out[k] for k in ("export_all_s", "export_all_bytes")})
        copy = f"{slug}-copy"
        out["import_all_s"], _ = run(target, "import", "all", str(export), "--org", copy)
        say({"import_all_s": out["import_all_s"]})
        _, verified = run(target, "summaries", "verify", "--org", copy)
        out["import_all_verified"] = " 0 differences" in verified
    finally:
        if target_url:
            _database(url, urlsplit(target_url).path.lstrip("/"), False)
    return out


def say(what: dict[str, Any]) -> None:
    print(
        ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in what.items())
    )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="an existing installation (SQLite)")
    parser.add_argument("--org", default="demo", help="the organization to export and import")
    parser.add_argument("--months", type=int, default=24, help="the demo's months of history")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "") if args.home is None else ""
    scratch = Path(tempfile.mkdtemp(prefix="keepscore-backup-bench-"))
    made_url = ""
    try:
        if args.home is None:
            home = scratch / "source"
            home.mkdir()
            if url:
                made_url = _database(url, f"ks_bench_{uuid.uuid4().hex[:8]}", True)
            demo = ["demo", "--months", str(args.months), "--today", "2025-06-30"]
            run(_env(home, made_url), *demo)
        else:
            home = args.home
        result = measure(home, made_url, args.org, scratch)
    finally:
        if made_url:
            _database(url, urlsplit(made_url).path.lstrip("/"), False)
        shutil.rmtree(scratch, ignore_errors=True)
    for key, value in result.items():
        if isinstance(value, float):
            print(f"{key:<22} {value:,.1f}")
        elif isinstance(value, int) and not isinstance(value, bool):
            print(f"{key:<22} {value:,}")
        else:
            print(f"{key:<22} {value}")
    everything = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    everything.setdefault(result["vendor"], {})[str(result["leads"])] = {
        k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()
    }
    RESULTS.write_text(json.dumps(everything, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
