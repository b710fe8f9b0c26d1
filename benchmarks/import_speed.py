"""Import speed: a plain CSV of N rows (fixed seed) into a fresh SQLite, through the engine.

    .venv/bin/python benchmarks/import_speed.py [ROWS ...]      (default: 100000 1000000)

Prints rows per second for the check alone (a dry run: over whole columns with DuckDB, see
``keepscore.imports.columnar``; and row by row, as the import itself checks), for the whole
import (check and write, in one transaction), and the peak memory (RSS) of the process, CPU
time (steadier when the machine is busy) and clock. Not a test.

    bash scripts/with-postgres.sh .venv/bin/python benchmarks/import_speed.py --postgres 30000

On PostgreSQL (``--postgres``: the server of ``--database-url``, default $DATABASE_URL),
whether the first large import on a new database runs as fast as on one whose tables hold
rows and statistics (issue 16: the summaries' statements planned while the statistics said
the lead and stage-change tables were empty took 207 s instead of 8.8 s;
``keepscore.history.bulk`` now runs ANALYZE on the tables a bulk block filled). The
scale benchmark's rows by default (``--rows history``: several stage changes per lead,
outcomes, owners; ``--rows plain``: the CSV above), each timed import in a new
organization, in two new databases on the server, each in its own process (a new session):

- *fresh*: the first import right after ``migrate``; then *warm*: the same file again,
  into another organization, once the tables hold its rows and their statistics;
- *after a rollback*: an import rolled back, then ``ANALYZE`` (as autovacuum would, after
  tests whose transactions rolled back), so that the statistics say the tables have pages
  but no rows (what made the slow plan; not ``VACUUM ANALYZE``: VACUUM cuts the empty
  pages off, and with no pages on file the planner goes by the table's actual size), then
  the import; and first, unless
  ``--unfixed-timeout 0``, the same without the fix (``ANALYZE_AFTER`` out of reach), its
  statements capped by ``statement_timeout`` (120 s by default) and rolled back.

Prints rows/s for each and their ratio to *warm*, and adds them to the list of runs of the
size in ``benchmarks/import_pg.json`` (``--out``), with the date, the PostgreSQL version and
the load average (on a busy machine, compare the runs of one day).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_PG = HERE / "import_pg.json"

FIRST = ["Ada", "Bob", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea"]
LAST = ["Smith", "Jones", "Brown", "Lee", "Garcia", "Khan", "Müller", "Rossi", "Dubois", "Ng"]
SOURCES = ["Walk-in", "Referral", "Website form", "Trade show", "Email", "Search", "Ads"]
STAGES = ["suspect", "prospect", "lead"]


def generate(path: Path, rows: int, seed: int = 20240601) -> None:
    rng = random.Random(seed)
    start = datetime(2020, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["name", "email", "phone", "company", "source", "created", "stage", "value"]
        )
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 365 * 4))
            writer.writerow(
                [
                    f"{first} {last}",
                    f"{first.lower()}.{last.lower()}.{i}@example.com",
                    f"+1 555 {i:07d}",
                    f"Company {i % 5000}",
                    rng.choice(SOURCES),
                    created.strftime("%Y-%m-%d %H:%M"),
                    rng.choice(STAGES),
                    f"{rng.randrange(0, 100000) / 100:.2f}",
                ]
            )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sqlite(sizes: list[int]) -> None:
    home = tempfile.mkdtemp(prefix="keepscore-bench-")
    os.environ["KEEPSCORE_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "keepscore.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.test import override_settings

    from keepscore.accounts.services import organization_create
    from keepscore.imports.services import import_leads

    print(f"SQLite in {home}; baseline RSS {peak_mb():.0f} MB")
    for n in sizes:
        path = Path(home) / f"plain-{n}.csv"
        generate(path, n)
        size = path.stat().st_size / 1e6
        org = organization_create(name=f"Bench {n}", slug=f"bench-{n}")
        t0, c0 = time.perf_counter(), time.process_time()
        # the columnar check at every size (the app leaves files under 4 MB to the row one)
        with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=0):
            checked = import_leads(organization=org, path=path, dry_run=True)
        t1, c1 = time.perf_counter(), time.process_time()
        check_peak = peak_mb()
        with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=10**15):
            by_rows = import_leads(organization=org, path=path, dry_run=True)
        t2, c2 = time.perf_counter(), time.process_time()
        done = import_leads(organization=org, path=path)
        t3, c3 = time.perf_counter(), time.process_time()
        assert checked.columnar and not by_rows.columnar
        same = ("rows", "rejected", "duplicates", "errors", "would_create")
        assert all(getattr(checked, f) == getattr(by_rows, f) for f in same)  # the same check
        assert not checked.failed and done.created == n, (checked.problems, checked.errors[:3])
        print(
            f"{n:>9,} rows ({size:.0f} MB): check {n / (c1 - c0):>9,.0f} rows/s CPU, "
            f"{n / (t1 - t0):>9,.0f} clock ({t1 - t0:.1f} s, over whole columns; "
            f"peak RSS {check_peak:.0f} MB)"
        )
        print(
            f"{'':>9} row by row: check {n / (c2 - c1):>9,.0f} rows/s CPU, "
            f"{n / (t2 - t1):>9,.0f} clock; import {n / (c3 - c2):>9,.0f} rows/s CPU, "
            f"{n / (t3 - t2):>9,.0f} clock ({t3 - t2:.1f} s); peak RSS {peak_mb():.0f} MB"
        )
        path.unlink()


# --- PostgreSQL: the first large import on a new database against a warm one (issue 16) ----

#: the tables whose statistics made the slow plan, shown before each import
PLANNED = ("leads_lead", "leads_stagechange")


class _RolledBack(Exception):
    """Rolls the timed import back."""


@contextmanager
def _phases() -> Iterator[dict[str, float]]:
    """Seconds spent by bulk blocks in the projections (the summaries) and in ANALYZE."""
    import keepscore.history.bulk as bulk_module

    spent = {"projections_s": 0.0, "analyze_s": 0.0}
    tell, analyze = bulk_module.tell, bulk_module._analyze

    def timing(fn: Callable[..., Any], key: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - t0

        return timed

    bulk_module.tell = timing(tell, "projections_s")
    bulk_module._analyze = timing(analyze, "analyze_s")
    try:
        yield spent
    finally:
        bulk_module.tell, bulk_module._analyze = tell, analyze


def _statistics() -> dict[str, dict[str, float]]:
    """What the planner believes of the lead and stage-change tables (pg_class)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relpages, reltuples FROM pg_class WHERE relname = ANY(%s) "
            "ORDER BY relname",
            [list(PLANNED)],
        )
        return {name: {"pages": pages, "rows": rows} for name, pages, rows in cursor.fetchall()}


def _analyze_all() -> None:
    """ANALYZE the whole database (outside any transaction), as autovacuum would."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _timed_import(
    label: str,
    path: Path,
    n: int,
    *,
    roll_back: bool = False,
    unfixed: bool = False,
    timeout_s: float = 0,
) -> dict[str, Any]:
    """Import ``path`` into a new organization in one transaction; its timings."""
    from django.db import OperationalError, transaction

    import keepscore.history.bulk as bulk_module
    from keepscore.accounts.services import organization_create
    from keepscore.imports.services import import_leads

    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    org = organization_create(name=f"Bench {label}", slug=slug)
    before = _statistics()
    threshold = bulk_module.ANALYZE_AFTER
    if unfixed:
        bulk_module.ANALYZE_AFTER = 10**15  # never: the code before the fix
    timed_out = False
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with _phases() as spent, transaction.atomic():
            if timeout_s:
                with transaction.get_connection().cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
            try:
                result = import_leads(organization=org, path=path)
            except OperationalError as error:
                if "statement timeout" not in str(error):
                    raise
                timed_out = True
            else:
                assert not result.failed and result.created == n, (
                    result.problems,
                    [(e.line, e.column, e.reason) for e in result.errors[:3]],
                )
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            if roll_back or timed_out:
                raise _RolledBack
    except _RolledBack:
        pass
    finally:
        bulk_module.ANALYZE_AFTER = threshold
    say = "timed out" if timed_out else f"{n / seconds:>7,.0f} rows/s"
    print(
        f"  {label:<22} {say:>14} ({seconds:6.1f} s; summaries {spent['projections_s']:6.1f} s, "
        f"ANALYZE {spent['analyze_s']:.2f} s){'; rolled back' if roll_back else ''}",
        flush=True,
    )
    return {
        "seconds": round(seconds, 2),
        "rows_per_s": None if timed_out else round(n / seconds),
        "timed_out": timed_out,
        "rolled_back": roll_back or timed_out,
        "summaries_s": round(spent["projections_s"], 2),
        "analyze_s": round(spent["analyze_s"], 2),
        "client_cpu_s": round(cpu, 2),
        "statistics_before": before,
    }


def postgres_one(scenario: str, path: Path, n: int, unfixed_timeout: float, out: Path) -> None:
    """One scenario on a new database (DATABASE_URL), in this new process: its timings."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "keepscore.config.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    assert connection.vendor == "postgresql", connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    runs: dict[str, Any] = {}
    if scenario == "fresh":
        runs["fresh"] = _timed_import("Fresh", path, n)
        runs["warm"] = _timed_import("Warm", path, n)
    else:
        runs["rolled_back"] = _timed_import("Rolled back", path, n, roll_back=True)
        _analyze_all()
        if unfixed_timeout:
            runs["after_rollback_unfixed"] = _timed_import(
                "After rollback, no fix",
                path,
                n,
                roll_back=True,
                unfixed=True,
                timeout_s=unfixed_timeout,
            )
            _analyze_all()
        runs["after_rollback"] = _timed_import("After rollback", path, n)
    out.write_text(json.dumps({"postgresql": version, "runs": runs}))


def postgres(sizes: list[int], url: str, rows: str, unfixed_timeout: float, out: Path) -> None:
    from scale import _postgres_database, _pythonpath

    results = json.loads(out.read_text()) if out.exists() else {}
    for n in sizes:
        home = Path(tempfile.mkdtemp(prefix="keepscore-bench-pg-"))
        path = home / f"{rows}-{n}.csv"
        if rows == "plain":
            generate(path, n)
        else:
            import scale_data

            scale_data.csv_write(path, n)
        load_before = os.getloadavg()
        started = datetime.now(UTC)
        print(f"{n:,} rows ({rows}, {path.stat().st_size / 1e6:.1f} MB) on PostgreSQL", flush=True)
        found: dict[str, Any] = {}
        for scenario in ("fresh", "rollback"):
            name = f"keepscore_import_{scenario}_{n}_{os.getpid()}"
            env = {**os.environ, "KEEPSCORE_HOME": str(home), "PYTHONPATH": _pythonpath()}
            env["DATABASE_URL"] = _postgres_database(url, name, True)
            env.setdefault("TIME_ZONE", "UTC")
            part = home / f"{scenario}.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--scenario", scenario]
            cmd += [str(n), "--csv", str(path), "--part", str(part)]
            cmd += ["--unfixed-timeout", str(unfixed_timeout), "--rows", rows]
            try:
                subprocess.run(cmd, env=env, check=True)
            finally:
                _postgres_database(url, name, False)
            done = json.loads(part.read_text())
            found["postgresql"] = done["postgresql"]
            found.setdefault("runs", {}).update(done["runs"])
        runs = found["runs"]
        warm = runs["warm"]["rows_per_s"]
        for key in ("fresh", "after_rollback", "after_rollback_unfixed"):
            if key in runs and runs[key]["rows_per_s"]:
                runs[key]["versus_warm"] = round(runs[key]["rows_per_s"] / warm, 2)
        line = (
            f"  fresh / warm {runs['fresh']['versus_warm']:.2f}, after a rollback / warm "
            f"{runs['after_rollback']['versus_warm']:.2f}"
        )
        unfixed = runs.get("after_rollback_unfixed")
        if unfixed is not None and unfixed["timed_out"]:
            line += f"; without the fix: over {unfixed['seconds']:.0f} s (statement_timeout)"
        elif unfixed is not None:
            line += f"; without the fix: {unfixed['versus_warm']:.2f}"
        print(line, flush=True)
        results.setdefault(str(n), []).append(
            {
                "date": started.isoformat(timespec="seconds"),
                "rows": rows,
                "csv_mb": round(path.stat().st_size / 1e6, 1),
                "postgresql": found["postgresql"],
                "unfixed_timeout_s": unfixed_timeout or None,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "runs": runs,
            }
        )
        out.write_text(json.dumps(results, indent=2) + "\n")
        shutil.rmtree(home, ignore_errors=True)
    print(f"results: {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, help="numbers of rows")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="time the first import on a new PostgreSQL database against a warm one "
        "(default size 30000) instead of SQLite",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="the PostgreSQL server (default: $DATABASE_URL); new databases are made on it",
    )
    parser.add_argument(
        "--rows",
        choices=("history", "plain"),
        default="history",
        help="PostgreSQL: the scale benchmark's rows with their stage history, or the plain CSV",
    )
    parser.add_argument(
        "--unfixed-timeout",
        type=float,
        default=120,
        metavar="SECONDS",
        help="PostgreSQL: statement_timeout of the import after a rollback without the fix "
        "(0: skip it)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_PG, help="PostgreSQL: the JSON")
    parser.add_argument("--scenario", choices=("fresh", "rollback"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--part", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scenario:
        postgres_one(args.scenario, args.csv, args.sizes[0], args.unfixed_timeout, args.part)
    elif args.postgres:
        if not args.database_url.startswith("postgres"):
            parser.error("--postgres needs a server: --database-url postgres://… or DATABASE_URL")
        sizes = args.sizes or [30_000]
        postgres(sizes, args.database_url, args.rows, args.unfixed_timeout, args.out)
    else:
        sqlite(args.sizes or [100_000, 1_000_000])


if __name__ == "__main__":
    main()
