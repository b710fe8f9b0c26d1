"""The manual values import: a CSV or XLSX file of metric,month,value rows, all or nothing.

Every row is checked first, then the values are written (set, not added).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from keepscore.accounts.models import Membership, Organization
from keepscore.common.months import month_parse, month_str
from keepscore.common.numbers import decimal_parse
from keepscore.common.validation import writer_user
from keepscore.imports.readers import (
    MAX_FIELD,
    FileProblem,
    Table,
    path_of,
    rows_with_retry,
    table_open,
)
from keepscore.imports.report import FileImportResult, Named
from keepscore.scorecard.checks import error_text, value_check
from keepscore.scorecard.models import ManualMetric, ManualValue

COLUMNS = ("metric", "month", "value")


class MetricImportResult(FileImportResult):
    """What an import of manual values did."""


class _Checker:
    """Reads and checks every row; keeps the valid ones (three small values each)."""

    def __init__(self, organization: Organization, table: Table, result: MetricImportResult):
        header = [h.strip().lower() for h in table.header]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise FileProblem(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                "(the header must have metric, month, value)"
            )
        self.index = {c: header.index(c) for c in COLUMNS}
        result.ignored_columns = [h for h in table.header if h.strip().lower() not in COLUMNS]
        self.metrics = Named(
            ManualMetric.objects.for_org(organization), column="metric", kind="manual metric"
        )
        self.result = result
        self.rows: dict[tuple[int, date], tuple[int, Decimal]] = {}

    def cell(self, values: list[str], column: str) -> str:
        i = self.index[column]
        return values[i].strip() if i < len(values) else ""

    def check(self, line: int, values: list[str]) -> None:
        result = self.result
        result.rows += 1
        if any(len(v) > MAX_FIELD for v in values):
            result.error(line, "", f"a value is longer than {MAX_FIELD:,} characters")
            return
        metric, ok = self.metrics.find(result, line, self.cell(values, "metric"))
        month = None
        try:
            month = month_parse(self.cell(values, "month"))
        except ValidationError as error:
            result.error(line, "month", error_text(error=error))
            ok = False
        text = self.cell(values, "value")
        value = None
        if not text:
            result.error(line, "value", "no value")
            ok = False
        else:
            number = decimal_parse(text)
            if number is None:
                result.error(line, "value", f"{text[:40]!r} is not a number")
                ok = False
            elif metric is not None:
                try:
                    value = value_check(metric=metric.definition(), value=number)
                except ValidationError as error:
                    result.error(line, "value", error_text(error=error))
                    ok = False
        if not ok or metric is None or month is None or value is None:
            return
        seen = self.rows.get((metric.pk, month))
        if seen is not None:
            result.error(
                line,
                "metric",
                f"{metric.key} for {month_str(month)} is already on line {seen[0]}",
            )
            return
        self.rows[(metric.pk, month)] = (line, value)


def metrics_import(
    organization: Organization,
    path_or_file: Any,
    by: Membership | None = None,
    *,
    dry_run: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> MetricImportResult:
    """Import manual values from a CSV or XLSX file with the columns ``metric,month,value``.

    ``metric`` is a manual metric's key or name, ``month`` YYYY-MM. All or nothing: with any
    bad row (reported with its line, column and reason) nothing is written. Values are set,
    not added, so importing the same file again changes nothing.
    """
    user = writer_user(organization, by)
    path, temporary = path_of(path_or_file)
    result = MetricImportResult(file=getattr(path_or_file, "name", None) or path.name)
    result.dry_run = dry_run
    try:
        table = table_open(path)
        result.file_format = table.describe()
        checker = _Checker(organization, table, result)

        def consume(rows: Any) -> None:
            result.rows = result.errors_total = 0
            result.errors = []
            checker.rows = {}
            for n, (line, values) in enumerate(rows):
                checker.check(line, values)
                if progress is not None and n % 1000 == 0 and table.size:
                    progress("checking", min(table.position[0] / table.size, 1.0))

        rows_with_retry(table, consume)
    except FileProblem as problem:
        result.problems.append(str(problem))
        return result
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    if result.failed or dry_run:
        return result
    if progress is not None:
        progress("writing", 1.0)
    metrics = {m.pk: m for m in ManualMetric.objects.for_org(organization)}
    with transaction.atomic():
        existing = {
            (row.metric_id, row.month): row
            for row in ManualValue.objects.for_org(organization).filter(
                month__in={month for _pk, month in checker.rows}
            )
        }
        for (pk, month), (_line, value) in checker.rows.items():
            row = existing.get((pk, month))
            if row is None:
                ManualValue.objects.create(
                    organization=organization, metric=metrics[pk], month=month, value=value, by=user
                )
                result.created += 1
            elif row.value != value:
                row.value = value
                row.by = user
                row.save(update_fields=["value", "by", "updated_at"])
                result.updated += 1
            else:
                result.unchanged += 1
    result.imported = True
    return result
