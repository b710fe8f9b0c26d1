"""Import speed: a plain CSV of N rows (fixed seed) into a fresh SQLite, through the engine.

    .venv/bin/python benchmarks/import_speed.py [ROWS ...]      (default: 100000 1000000)

Prints rows per second for the check alone (a dry run: over whole columns with DuckDB, see
``keepscore.imports.columnar``; and row by row, as the import itself checks), for the whole
import (check and write, in one transaction), and the peak memory (RSS) of the process, CPU
time (steadier when the machine is busy) and clock. Not a test.
"""

from __future__ import annotations

import csv
import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

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


def main(sizes: list[int]) -> None:
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


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
