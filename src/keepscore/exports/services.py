"""Writing exports to a file: one table (CSV, XLSX or JSON Lines), or a zip of every table.

``export_write`` writes one export and records it in the audit log; ``export_all`` writes
every table of ``export all`` (``exports.tables``), read at one moment, one CSV each, with a
``manifest.json``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone

import keepscore
from keepscore.accounts.models import Organization
from keepscore.audit import services as audit
from keepscore.common.money import xlsx_number_format
from keepscore.exports.tables import (
    archive_tables,
    export_activities,
    export_leads,
    export_outcomes,
    export_stage_changes,
)
from keepscore.exports.writers import (
    Table,
    csv_chunks,
    csv_write,
    escape_reversible,
    jsonl_chunks,
    xlsx_write,
)
from keepscore.leads.selectors import LeadFilters

#: 2: every table ``import all`` needs for a faithful copy (leads keyed by ``key``, the
#: other tables by ``lead_key``; override reasons, the outcome's stage change, money,
#: scorecard settings, follow-ups, corrections) and text escaped reversibly
FORMAT_VERSION = 2
KIND = "keepscore export"
NOTES = {
    "text": "A text cell starting with = + - @ a tab, a carriage return or ' was written with "
    "one more ' in front (so a spreadsheet does not run it): take one leading ' away to read "
    "it back.",
    "ids": "Leads are known by their key (ks-<id>), which other tables name in lead_key; "
    "the id column of leads is the external id a lead was imported with, else its key.",
    "times": "ISO 8601 with the offset from UTC.",
}

KINDS: dict[str, Callable[..., Table]] = {
    "leads": export_leads,
    "stage-changes": export_stage_changes,
    "activities": export_activities,
    "outcomes": export_outcomes,
}


@contextmanager
def one_moment() -> Iterator[None]:
    """Reads inside see the database as it was at one moment, while others go on writing:
    a leads table and a stage changes table that agree. PostgreSQL: a repeatable-read
    transaction; SQLite: a deferred (read) transaction, which in WAL mode holds one
    snapshot without taking the write lock. Inside a transaction already: that one's view.
    """
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")  # it only read


def export_all(*, organization: Organization, out: IO[bytes]) -> dict[str, Any]:
    """Every record of the organization: a zip of one CSV per table and ``manifest.json``.

    Rows stream into the archive (``out`` is a file, e.g. a temporary one); returns the
    manifest.
    """
    counts: dict[str, int] = {}
    with (
        one_moment(),
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for table in archive_tables(organization):
            with (
                archive.open(f"{table.name}.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
            ):
                counts[table.name] = csv_write(table, text, escape=escape_reversible)
        manifest = {
            "kind": KIND,
            "format_version": FORMAT_VERSION,
            "keepscore_version": keepscore.__version__,
            "organization": {
                "name": organization.name,
                "slug": organization.slug,
                "currency": organization.currency,
                "number_locale": organization.number_locale,
            },
            "exported_at": timezone.now().isoformat(),
            "counts": counts,
            "files": [f"{name}.csv" for name in counts],
            "notes": NOTES,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return manifest


def export_write(
    *,
    organization: Organization,
    kind: str,
    fmt: str,
    out: IO[bytes],
    filters: LeadFilters | None = None,
) -> int | None:
    """Write one export to a binary file: ``kind`` from KINDS or ``all`` (always a zip).

    Returns the number of rows (None for ``all``).
    """
    if kind == "all":
        manifest = export_all(organization=organization, out=out)
        audit.exported(
            organization=organization, kind=kind, fmt="zip", rows=sum(manifest["counts"].values())
        )
        return None
    table = (
        export_leads(organization=organization, filters=filters)
        if kind == "leads"
        else (KINDS[kind](organization=organization))
    )
    if fmt == "xlsx":
        rows = xlsx_write(table, out, xlsx_number_format(organization))
    else:
        count = 0
        chunks = csv_chunks(table) if fmt == "csv" else jsonl_chunks(table)
        for chunk in chunks:
            out.write(chunk.encode("utf-8"))
            count += 1
        rows = count - 1 if fmt == "csv" else count
    audit.exported(organization=organization, kind=kind, fmt=fmt, rows=rows)
    return rows
