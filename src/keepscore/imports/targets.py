"""The targets file: a year's targets and goals as CSV, and such a file read back, all or none.

Written as ``metric,key,Jan..Dec,goal``; read back into the targets grid
(:mod:`keepscore.scorecard.grids`), every cell checked first.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from keepscore.accounts.models import Organization
from keepscore.common.months import months_of, year_check
from keepscore.imports.report import RowError
from keepscore.scorecard.catalogue import metric_catalogue
from keepscore.scorecard.checks import MAX_ERRORS, error_text, plain
from keepscore.scorecard.grids import (
    MONTH_COLUMNS,
    MONTH_NAMES,
    GridSaved,
    cell_parse,
    grid_metrics,
    grid_save,
)
from keepscore.scorecard.selectors import goals_for, targets_for

#: the targets file: the metric in words, its key (what the upload goes by), months, goal
CSV_HEADER = ("metric", "key", *MONTH_NAMES, "goal")
#: rows of a targets file at most (an organization has a few dozen metrics)
MAX_CSV_ROWS = 2_000
MAX_CSV_CELL = 1_000


def targets_csv(organization: Organization, year: Any) -> tuple[str, int]:
    """The year's targets and goals as CSV (:data:`CSV_HEADER`), one row per metric of the
    grid, in its order; and how many rows. Percentages in points, money as plain numbers."""
    number = year_check(year)
    targets = targets_for(organization=organization, months=months_of(number))
    goals = goals_for(organization=organization, year=number)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    rows = 0
    for _group, metrics in grid_metrics(organization):
        for m in metrics:
            months = [plain(value=targets.get((m.key, first))) or "" for first in months_of(number)]
            writer.writerow([m.name, m.key, *months, plain(value=goals.get(m.key)) or ""])
            rows += 1
    return out.getvalue(), rows


@dataclass
class TargetsFileResult:
    """A targets file read: its errors by row and column (nothing written when any), or what
    it changed."""

    file: str
    rows: int = 0
    problems: list[str] = field(default_factory=list)  # the file as a whole
    errors: list[RowError] = field(default_factory=list)
    saved: GridSaved | None = None

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.errors)

    def error(self, row: int, column: str, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, reason))

    def lines(self) -> list[str]:
        """Every problem in words: ``row 4, column Mar: 'abc' is not a number.``"""
        rows = [
            f"row {e.line}, column {e.column}: {e.reason}"
            if e.column
            else f"row {e.line}: {e.reason}"
            for e in self.errors
        ]
        return [*self.problems, *rows]


_HEADER_WORDS = {
    "metric": "metric",
    "name": "metric",
    "key": "key",
    "goal": "goal",
    "annual goal": "goal",
    **{name.lower(): column for name, column in zip(MONTH_NAMES, MONTH_COLUMNS, strict=True)},
    **{
        date(2000, n, 1).strftime("%B").lower(): column
        for n, column in enumerate(MONTH_COLUMNS, start=1)
    },
}


def _text_lines(file: Any) -> Generator[str, None, None]:
    """The lines of an upload (bytes as UTF-8, a BOM dropped) or of a text file, read once."""
    source = getattr(file, "file", file)  # Django's UploadedFile wraps the real file
    if hasattr(source, "seek"):
        source.seek(0)
    first = source.read(0) if hasattr(source, "read") else ""
    if isinstance(first, bytes):
        text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
        try:
            for line in text:  # not ``yield from``: closing it would close the upload
                yield line
        finally:
            text.detach()  # the upload closes its own file
    else:
        for line in source:
            yield line.lstrip("\ufeff") if isinstance(line, str) else line


def _delimiter(header: str) -> str:
    """The header's separator: the commonest of , ; and tab (spreadsheets in many languages
    save with ;)."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def targets_csv_read(
    organization: Organization, year: Any, file: Any, *, name: str = "", dry_run: bool = False
) -> TargetsFileResult:
    """Read a targets file (as :func:`targets_csv` writes it: ``metric,key,Jan..Dec,goal``;
    ``;`` or tab separators too) and, when every cell is good, save it like the grid. The
    metric is found by its key, else its name; a month or goal column left out of the file
    stays as it is, an empty cell clears. All or nothing: any bad cell is reported by row
    (the header is row 1) and column, and nothing is written."""
    number = year_check(year)
    result = TargetsFileResult(file=name or getattr(file, "name", "") or "the file")
    lines = _text_lines(file)
    try:
        return _targets_read(organization, number, lines, result, dry_run)
    finally:
        lines.close()  # while the upload is still open


def _targets_read(
    organization: Organization,
    number: int,
    lines: Iterator[str],
    result: TargetsFileResult,
    dry_run: bool,
) -> TargetsFileResult:
    catalogue = metric_catalogue(organization)
    by_key = {m.key: m for m in catalogue}
    by_name = {m.name.strip().lower(): m for m in catalogue}
    rows: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    try:
        first = next(lines, "")
        if not first.strip():
            result.problems.append("The file is empty: it needs the header metric,key,Jan,…,goal.")
            return result
        reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first))
        header = [h.strip() for h in next(reader)]
        columns: dict[int, str] = {}
        for i, text in enumerate(header):
            if not text:
                continue
            column = _HEADER_WORDS.get(text.lower())
            if column is None:
                result.problems.append(
                    f"Column {i + 1} “{text[:40]}” is not one of metric, key, Jan to Dec, goal."
                )
            elif column in columns.values():
                result.problems.append(f"The column {text[:40]} is in the header twice.")
            else:
                columns[i] = column
        if not {"key", "metric"} & set(columns.values()):
            result.problems.append("The header needs a key or a metric column.")
        if result.problems:
            return result
        for index, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            result.rows += 1
            if result.rows > MAX_CSV_ROWS:
                result.problems.append(f"The file has more than {MAX_CSV_ROWS:,} rows.")
                return result
            cells = {columns[i]: v for i, v in enumerate(values) if i in columns}
            labels = {columns[i]: header[i] for i in columns}
            long = [c for c, v in cells.items() if len(v) > MAX_CSV_CELL]
            if long:
                for c in long:
                    result.error(index, labels[c], f"longer than {MAX_CSV_CELL:,} characters")
                continue
            key, metric_name = cells.get("key", "").strip(), cells.get("metric", "").strip()
            metric = by_key.get(key.lower()) if key else by_name.get(metric_name.lower())
            if metric is None:
                which, text = ("key", key) if key else ("metric", metric_name)
                result.error(
                    index,
                    labels.get(which, which),
                    f"{text[:60]!r} is not a metric of this organization"
                    if text
                    else "no metric on this row",
                )
                continue
            if metric.key in seen:
                result.error(index, "", f"{metric.name} is already on row {seen[metric.key]}")
                continue
            seen[metric.key] = index
            row: dict[str, Any] = {}
            for column, value in cells.items():
                if column in ("key", "metric"):
                    continue
                try:
                    row[column] = cell_parse(metric, value, column)
                except ValidationError as error:
                    result.error(index, labels[column], error_text(error=error))
            rows[metric.key] = row
    except UnicodeDecodeError:
        result.problems.append("The file is not UTF-8 text: save it as “CSV UTF-8”.")
        return result
    except csv.Error as error:
        result.problems.append(f"The file is not readable CSV: {error}.")
        return result
    if result.failed or dry_run:
        return result
    with transaction.atomic():
        what = f"targets file of {number} ({result.rows} rows)"
        result.saved = grid_save(organization, number, rows, "imported", what)
    return result
