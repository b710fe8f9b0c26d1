"""The spend import: month, channel, campaign, amount and note from a CSV or XLSX file,
every row checked (line, column, reason) before anything is written; all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from keepscore.accounts.models import Membership, Organization
from keepscore.common.months import month_str
from keepscore.common.validation import writer_user
from keepscore.economics.checks import MAX_CAMPAIGN, MAX_NOTE, amount_check, month_check, text_check
from keepscore.economics.models import Spend
from keepscore.imports.readers import (
    MAX_FIELD,
    FileProblem,
    path_of,
    rows_with_retry,
    table_open,
)
from keepscore.imports.report import FileImportResult, Named
from keepscore.leads.models import Channel

REQUIRED = ("month", "channel", "amount")
OPTIONAL = ("campaign", "note")


@dataclass
class SpendImportResult(FileImportResult):
    total: Decimal = Decimal(0)  # of the amounts the file sets


@dataclass(frozen=True)
class _Valid:
    line: int
    amount: Decimal
    note: str


class _Checker:
    """Checks every row as it is read; keeps the valid ones (a few small values each)."""

    def __init__(self, organization: Organization, header: list[str], result: SpendImportResult):
        names = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise FileProblem(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                "(the header must have month, channel, amount; campaign and note are optional)"
            )
        duplicated = sorted(
            {n for n in names if n in (*REQUIRED, *OPTIONAL) and names.count(n) > 1}
        )
        if duplicated:
            raise FileProblem(f"the column {', '.join(duplicated)} is in the header twice")
        self.width = len(header)
        self.index = {c: names.index(c) for c in (*REQUIRED, *OPTIONAL) if c in names}
        result.ignored_columns = [h for h in header if h.strip().lower() not in self.index]
        self.channels = Named(
            Channel.objects.for_org(organization), column="channel", kind="channel"
        )
        self.result = result
        self.rows: dict[tuple[date, int, str], _Valid] = {}

    def cell(self, values: list[str], column: str) -> str:
        i = self.index.get(column)
        return values[i].strip() if i is not None and i < len(values) else ""

    def check(self, line: int, values: list[str]) -> None:
        result = self.result
        result.rows += 1
        if any(len(v) > MAX_FIELD for v in values):
            result.error(line, "", f"a value is longer than {MAX_FIELD:,} characters")
            return
        if len(values) > self.width and any(v.strip() for v in values[self.width :]):
            result.error(
                line,
                "",
                f"{len(values)} values for {self.width} columns (an amount like 1,234.50 "
                "must be quoted in a comma-separated file)",
            )
            return
        ok = True
        month = None
        try:
            month = month_check(self.cell(values, "month"))
        except ValidationError as error:
            result.error(line, "month", " ".join(error.messages))
            ok = False
        channel, usable = self.channels.find(result, line, self.cell(values, "channel"))
        ok = ok and usable
        amount = None
        try:
            amount = amount_check(self.cell(values, "amount"))
        except ValidationError as error:
            result.error(line, "amount", " ".join(error.messages))
            ok = False
        campaign = note = ""
        try:
            campaign = text_check(self.cell(values, "campaign"), "campaign", MAX_CAMPAIGN)
        except ValidationError as error:
            result.error(line, "campaign", " ".join(error.messages))
            ok = False
        try:
            note = text_check(self.cell(values, "note"), "note", MAX_NOTE)
        except ValidationError as error:
            result.error(line, "note", " ".join(error.messages))
            ok = False
        if not ok or month is None or channel is None or amount is None:
            return
        key = (month, channel.pk, campaign)
        seen = self.rows.get(key)
        if seen is not None:
            what = f"{channel.key} {month_str(month)}" + (f" “{campaign}”" if campaign else "")
            result.error(line, "channel", f"{what} is already on line {seen.line}")
            return
        self.rows[key] = _Valid(line, amount, note)


def spend_import(
    organization: Organization,
    file: Any,
    by: Membership | None = None,
    dry_run: bool = False,
    *,
    progress: Callable[[str, float], None] | None = None,
) -> SpendImportResult:
    """Import spend from a CSV (or XLSX) file: columns ``month`` (YYYY-MM or a YYYY-MM-DD
    date), ``channel`` (key or name), ``amount``, and optional ``campaign`` and ``note``.

    ``file`` is a path or an open binary file. CSV in UTF-8 (with or without BOM) or
    Windows-1252, separated by commas, semicolons or tabs. All or nothing: with any bad row
    (reported as line, column, reason) or a row for the same month, channel and campaign as
    an earlier one, nothing is written. Amounts are set, not added: importing the same file
    again changes nothing.
    """
    user = writer_user(organization, by)
    path, temporary = path_of(file)
    result = SpendImportResult(file=str(getattr(file, "name", None) or path.name))
    result.dry_run = dry_run
    try:
        table = table_open(path)
        result.file_format = table.describe()
        checker = _Checker(organization, table.header, result)

        def consume(rows: Any) -> None:
            result.rows = result.errors_total = 0
            result.errors = []
            checker.rows = {}
            for n, (line, values) in enumerate(rows):
                checker.check(line, values)
                if progress is not None and n % 1000 == 0 and table.size:
                    progress("checking", min(table.position[0] / table.size, 1.0))

        rows_with_retry(table, consume)
        if not result.rows and not result.errors_total:
            raise FileProblem(f"{result.file} has a header but no rows")
    except FileProblem as problem:
        result.problems.append(str(problem))
        return result
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    result.total = sum((v.amount for v in checker.rows.values()), Decimal(0))
    if result.failed or dry_run:
        return result
    if progress is not None:
        progress("writing", 1.0)
    channels = {c.pk: c for c in Channel.objects.for_org(organization)}
    with transaction.atomic():
        existing = {
            (r.month, r.channel_id, r.campaign): r
            for r in Spend.objects.for_org(organization).filter(
                month__in={month for month, _pk, _c in checker.rows}
            )
        }
        for (month, pk, campaign), valid in checker.rows.items():
            row = existing.get((month, pk, campaign))
            if row is None:
                Spend.objects.create(
                    organization=organization,
                    month=month,
                    channel=channels[pk],
                    campaign=campaign,
                    amount=valid.amount,
                    note=valid.note,
                    by=user,
                )
                result.created += 1
            elif row.amount != valid.amount or row.note != valid.note:
                row.amount = valid.amount
                row.note = valid.note
                row.by = user
                row.save(update_fields=["amount", "note", "by", "updated_at"])
                result.updated += 1
            else:
                result.unchanged += 1
    result.imported = True
    return result
