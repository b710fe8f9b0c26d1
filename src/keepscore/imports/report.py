"""An import's report: its result row by row, the job that records it, the rejected rows' file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.imports.models import ImportJob
from keepscore.imports.readers import Table, rows_with_retry
from keepscore.leads.models import Stage

#: errors kept for the report (the count goes on beyond)
MAX_ERRORS = 100_000


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str
    #: a duplicate's: the id of the existing lead it matched (None: an earlier row of the file)
    lead: int | None = None


#: errors a small file's report keeps (spend, manual values; the count goes on beyond)
MAX_FILE_ERRORS = 10_000


@dataclass
class FileImportResult:
    """What an all-or-nothing import of a small file (spend, manual values) did: its rows,
    what was created, updated or left as it was, and the problems by line and column."""

    file: str
    file_format: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    imported: bool = False
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.errors_total)

    def error(self, line: int, column: str, reason: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_FILE_ERRORS:
            self.errors.append(RowError(line, column, reason))

    def report_lines(self) -> list[str]:
        """``line N, column C: reason`` for every kept error."""
        return [
            f"line {e.line}, column {e.column}: {e.reason}"
            if e.column
            else f"line {e.line}: {e.reason}"
            for e in self.errors
        ]


class Named:
    """The organization's channels or manual metrics as a file names them: by key or by name,
    in any case. Each needs ``key``, ``name`` and ``active``."""

    def __init__(self, items: Iterable[Any], *, column: str, kind: str) -> None:
        items = list(items)
        self.by_key = {i.key: i for i in items}
        self.by_name = {i.name.strip().lower(): i for i in items}
        self.column, self.kind = column, kind

    def find(self, result: FileImportResult, line: int, name: str) -> tuple[Any, bool]:
        """The item a cell names (None: no such item) and whether it may be used: an empty
        cell, an unknown name or an inactive item is the line's error, in ``result``."""
        found = self.by_key.get(name.lower()) or self.by_name.get(name.lower())
        column = self.column
        if not name:
            result.error(line, column, f"no {column}")
        elif found is None:
            result.error(line, column, f"{name[:60]!r} is not a {self.kind}'s key or name")
        elif not found.active:
            result.error(line, column, f"the {column} {found.name} is inactive")
        else:
            return found, True
        return found, False


@dataclass
class ImportResult:
    kind: str
    file: str
    preset: str
    dry_run: bool = False
    skip_invalid: bool = False
    file_format: str = ""
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    imported: bool = False
    problems: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    duplicate_rows: list[RowError] = field(default_factory=list)
    #: rows imported as they are, with something odd about them
    warnings: list[RowError] = field(default_factory=list)
    warnings_total: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    date_formats: dict[str, str] = field(default_factory=dict)
    new_channels: list[str] = field(default_factory=list)
    new_members: list[str] = field(default_factory=list)
    new_lost_reasons: list[str] = field(default_factory=list)
    stage_changes: int = 0
    outcomes: int = 0
    rejected_path: Path | None = None
    job_id: int | None = None
    #: rows that match an existing lead, with ``update`` (dry run: would update them; the
    #: import: the leads it changed, a row with nothing new changing nothing)
    updated: int = 0
    #: what the import creates (filled by the check): "members" ({name, email, roles}),
    #: "channels", "campaigns", "lost_reasons", "facts" (names), "stages" (stage name → new
    #: leads ending there, in ladder order)
    would_create: dict[str, Any] = field(default_factory=dict)
    #: the keys a duplicate is found by, among MATCH_KEYS
    match: tuple[str, ...] = ()
    update: bool = False
    #: the check was done over whole columns (:mod:`keepscore.imports.columnar`)
    columnar: bool = False
    #: the leads the import created: {"first": id, "last": id, "at": their created_at (ISO)}
    #: (their ids run from first to last: one block of ids), for the lead list's filter
    created_leads: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Nothing could be imported because of problems or (without skip) bad rows."""
        return bool(self.problems) or (bool(self.errors_total) and not self.skip_invalid)

    def error(self, line: int, column: str, reason: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, reason))

    def warning(self, line: int, column: str, reason: str) -> None:
        self.warnings_total += 1
        if len(self.warnings) < MAX_ERRORS:
            self.warnings.append(RowError(line, column, reason))

    def duplicate(self, line: int, column: str, reason: str, lead: int | None = None) -> None:
        self.duplicates += 1
        if len(self.duplicate_rows) < MAX_ERRORS:
            self.duplicate_rows.append(RowError(line, column, reason, lead))


def stages_in_order(organization: Organization, stages: dict[str, int]) -> dict[str, int]:
    """A job report's leads per stage in ladder order (PostgreSQL's JSON keeps no order)."""
    names = Stage.objects.for_org(organization).order_by("position", "id")
    ordered = {n: stages[n] for n in names.values_list("name", flat=True) if n in stages}
    return {**ordered, **{n: c for n, c in stages.items() if n not in ordered}}


def rejected_write(table: Table, rejected: bytearray, result: ImportResult) -> None:
    """The rows with errors (not the duplicates), as they were, under the file's header."""
    bad = {e.line for e in result.errors}
    assert result.rejected_path is not None
    with result.rejected_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(table.header)

        def consume(rows: Iterator[tuple[int, list[str]]]) -> None:
            for line, values in rows:
                if line < len(rejected) and rejected[line] and line in bad:
                    writer.writerow(values)

        rows_with_retry(table, consume)


def job_record(
    organization: Organization, result: ImportResult, by: Membership | None, started: datetime
) -> None:
    if result.imported:
        status = ImportJob.Status.IMPORTED
    elif result.dry_run and not result.failed:
        status = ImportJob.Status.DRY_RUN
    else:
        status = ImportJob.Status.FAILED
    job = ImportJob.objects.create(
        organization=organization,
        kind=result.kind,
        file_name=result.file[:255],
        preset=result.preset[:30],
        status=status,
        rows=result.rows,
        created=result.created,
        duplicates=result.duplicates,
        rejected=result.rejected,
        report={
            "problems": result.problems,
            "errors": [[e.line, e.column, e.reason] for e in result.errors[:1000]],
            "errors_total": result.errors_total,
            # [line, key, reason, id of the lead matched (None: an earlier row of the file)]
            "duplicates": [
                [e.line, e.column, e.reason, e.lead] for e in result.duplicate_rows[:1000]
            ],
            "warnings": [[e.line, e.column, e.reason] for e in result.warnings[:1000]],
            "warnings_total": result.warnings_total,
            "date_formats": result.date_formats,
            # [column, field] pairs in the file's order (a JSON object's keys lose their order
            # in PostgreSQL's jsonb)
            "columns": [[column, target] for column, target in result.columns.items()],
            "new_channels": result.new_channels,
            "new_members": result.new_members,
            "would_create": result.would_create,
            "updated": result.updated,
            "match": list(result.match),
            "update": result.update,
            "created_leads": result.created_leads,
        },
        created_by=by.user if by is not None else None,
        started_at=started,
        finished_at=timezone.now(),
    )
    result.job_id = job.pk
    audit.imported(organization=organization, job=job)
