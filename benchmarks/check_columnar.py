"""Import speed, item 9's question: would a columnar check reach 100,000 rows/s?

    .venv/bin/python benchmarks/check_columnar.py [ROWS]      (default: 1000000)

Writes the plain CSV that ``benchmarks/import_speed.py`` writes (same seed), then checks it
twice and prints rows per second (CPU time of the process) for each:

- the engine's check (``import_leads(dry_run=True)``): Python per row;
- a prototype of the same plain rules done by DuckDB over whole columns: every value read
  as text, names and sources present, emails of the engine's shape, phones of 7+ digits,
  dates read in the column's format, amounts of at most 2 decimals, and duplicate emails,
  phones within the file (window counts).

The prototype is a measurement, not the engine: it checks a plain file only (no presets,
dates detected by hand, no organization's leads to match). Not a test.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from import_speed import generate

CHECK = r"""
WITH raw AS (
    SELECT row_number() OVER () + 1 AS line, * FROM read_csv(
        ?, header = true, all_varchar = true, delim = ',', quote = '"'
    )
), parsed AS (
    SELECT line,
        trim(name) AS name,
        lower(trim(email)) AS email,
        regexp_replace(phone, '[^0-9]', '', 'g') AS phone_digits,
        trim(source) AS source,
        try_strptime(trim(created), '%Y-%m-%d %H:%M') AS created_at,
        trim(created) AS created_raw,
        trim(value) AS value_raw,
        TRY_CAST(trim(value) AS DECIMAL(14, 2)) AS value_num
    FROM raw
), checked AS (
    SELECT *,
        count(*) OVER (PARTITION BY email) AS same_email,
        count(*) OVER (PARTITION BY phone_digits) AS same_phone
    FROM parsed
)
SELECT
    count(*) AS rows,
    count(*) FILTER (WHERE name = '' OR name IS NULL) AS no_name,
    count(*) FILTER (WHERE source = '' OR source IS NULL) AS no_source,
    count(*) FILTER (
        WHERE email <> '' AND NOT regexp_full_match(email, '[^@\s]+@[^@\s]+\.[^@\s.]{2,}')
    ) AS bad_email,
    count(*) FILTER (WHERE created_raw <> '' AND created_at IS NULL) AS bad_date,
    count(*) FILTER (
        WHERE value_raw <> '' AND (value_num IS NULL OR NOT regexp_full_match(
            value_raw, '\d{1,12}(\.\d{0,2})?'))
    ) AS bad_value,
    count(*) FILTER (WHERE email <> '' AND same_email > 1) AS duplicate_email,
    count(*) FILTER (WHERE length(phone_digits) >= 7 AND same_phone > 1) AS duplicate_phone
FROM checked
"""


def main(rows: int) -> None:
    home = tempfile.mkdtemp(prefix="keepscore-columnar-")
    os.environ["KEEPSCORE_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "keepscore.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from keepscore.accounts.services import organization_create
    from keepscore.imports.services import import_leads

    path = Path(home) / f"plain-{rows}.csv"
    generate(path, rows)
    org = organization_create(name="Columnar", slug="columnar")
    c0 = time.process_time()
    checked = import_leads(organization=org, path=path, dry_run=True)
    c1 = time.process_time()
    assert not checked.failed, (checked.problems, checked.errors[:3])
    print(f"{rows:>9,} rows: the engine's check  {rows / (c1 - c0):>10,.0f} rows/s (CPU)")
    with duckdb.connect() as duck:
        duck.execute("SET threads = 1")  # the CPU of one process, as the engine's
        c0, w0 = time.process_time(), time.perf_counter()
        found = duck.execute(CHECK, [str(path)]).fetchone()
        c1, w1 = time.process_time(), time.perf_counter()
    assert found is not None and found[0] == rows, found
    assert found[1:6] == (0, 0, 0, 0, 0), found  # the file is valid: the engine agrees
    print(
        f"{rows:>9,} rows: a columnar check   {rows / (c1 - c0):>10,.0f} rows/s (CPU), "
        f"{rows / (w1 - w0):,.0f} rows/s (clock, one thread); "
        f"duplicates within the file: {found[6]:,} by email, {found[7]:,} by phone"
    )
    path.unlink()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
