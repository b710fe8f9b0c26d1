"""Marketing spend: what the business put into each channel (and campaign) in a month.

Writes are atomic and validate first; a refused write raises a ``ValidationError`` naming
the field and changes nothing. Setting a month's spend again replaces it (set, not add), so
entering or importing the same numbers twice changes nothing.

Amounts as people type them (``keepscore.common.numbers.decimal_parse``): ``1234.5``,
``1,234.50`` and ``1.234,50`` are 1234.50; ``1234,50`` and ``12,5`` use the comma as the
decimal point; a single comma followed by exactly three digits (``1,234``) is a thousands
separator (1234), never a decimal point. Currency signs and spaces are ignored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.numbers import decimal_parse
from keepscore.common.validation import check_same_org, writer_user
from keepscore.economics.models import MONEY_DIGITS, MONEY_PLACES, Spend
from keepscore.imports.readers import (
    MAX_FIELD,
    FileProblem,
    path_of,
    rows_with_retry,
    table_open,
)
from keepscore.imports.report import RowError
from keepscore.leads.models import Channel
from keepscore.scorecard.compute import month_add as add_months
from keepscore.scorecard.compute import months_between
from keepscore.scorecard.services import month_parse, month_str

#: the largest amount a money column holds (exclusive)
MAX_AMOUNT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)
#: spend may be entered (budgeted) this many months ahead of the current month, no further
MAX_MONTHS_AHEAD = 12
MAX_CAMPAIGN = 200
MAX_NOTE = 300


# --- checks -------------------------------------------------------------------------------


def month_check(value: Any, field: str = "month", *, ahead: int | None = MAX_MONTHS_AHEAD) -> date:
    """A month: ``YYYY-MM`` (or ``YYYY-MM-DD`` text, taken as its month) or the date of its
    first day; at most ``ahead`` months after the current month (None: no limit)."""
    if isinstance(value, datetime):
        raise ValidationError({field: "Give a month (YYYY-MM), not a time."})
    if isinstance(value, date):
        if value.day != 1:
            raise ValidationError({field: "A month is stored as its first day: use YYYY-MM-01."})
        month = month_parse(value, field)
    else:
        month = month_parse(str(value if value is not None else ""), field)
    if ahead is not None:
        latest = add_months(timezone.localdate().replace(day=1), ahead)
        if month > latest:
            raise ValidationError(
                {field: f"{month_str(month)} is too far ahead: the latest is {month_str(latest)}."}
            )
    return month


def amount_check(
    value: Any, field: str = "amount", *, negative: bool = False, what: str = "Spend"
) -> Decimal:
    """An amount of money: a number (as :func:`decimal_parse` reads text), finite, under
    10^12, with at most two decimals; not negative unless ``negative``."""
    if isinstance(value, bool):
        raise ValidationError({field: "Enter an amount."})
    if isinstance(value, Decimal):
        number: Decimal | None = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    else:
        text = str(value if value is not None else "").strip()
        if not text:
            raise ValidationError({field: "Enter an amount."})
        number = decimal_parse(text)
        if number is None:
            raise ValidationError({field: f"{text[:40]!r} is not a number."})
    assert number is not None
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    if abs(number) >= MAX_AMOUNT:
        raise ValidationError({field: f"The amount must be less than {MAX_AMOUNT:,}."})
    try:
        exact = number == number.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValidationError({field: "Use at most 2 decimals (cents)."})
    if number < 0 and not negative:
        raise ValidationError({field: f"{what} cannot be negative."})
    return number + 0  # -0 is 0


def text_check(value: Any, field: str, limit: int) -> str:
    text = str(value if value is not None else "").strip()
    if "\x00" in text:
        raise ValidationError({field: "Text cannot contain NUL characters."})
    if len(text) > limit:
        raise ValidationError({field: f"At most {limit} characters (this has {len(text)})."})
    return text


def channel_find(organization: Organization, channel: Any, field: str = "channel") -> Channel:
    """The organization's active channel: a Channel, or its key or name (any case)."""
    if isinstance(channel, Channel):
        check_same_org(organization, **{field: channel})
        found: Channel | None = channel
    else:
        text = str(channel if channel is not None else "").strip()
        if not text:
            raise ValidationError({field: "Choose a channel."})
        channels = Channel.objects.for_org(organization)
        found = channels.filter(key=text.lower()).first()
        if found is None:
            found = next((c for c in channels if c.name.strip().lower() == text.lower()), None)
        if found is None:
            raise ValidationError({field: f"{text[:60]!r} is not a channel of this organization."})
    assert found is not None
    if not found.active:
        raise ValidationError({field: f"The channel {found.name} is inactive."})
    return found


# --- writes -------------------------------------------------------------------------------


def _write(
    organization: Organization,
    month: date,
    channel: Channel,
    campaign: str,
    amount: Decimal,
    note: str | None,
    user: Any,
) -> tuple[Spend, str]:
    """Set one row; returns it and "created", "updated" or "unchanged"."""
    row = (
        Spend.objects.for_org(organization)
        .filter(month=month, channel=channel, campaign=campaign)
        .first()
    )
    if row is None:
        row = Spend.objects.create(
            organization=organization,
            month=month,
            channel=channel,
            campaign=campaign,
            amount=amount,
            note=note or "",
            by=user,
        )
        return row, "created"
    if row.amount == amount and (note is None or row.note == note):
        return row, "unchanged"
    row.amount = amount
    if note is not None:
        row.note = note
    row.by = user
    row.save(update_fields=["amount", "note", "by", "updated_at"])
    return row, "updated"


@transaction.atomic
def spend_set(
    organization: Organization,
    month: Any,
    channel: Any,
    amount: Any,
    campaign: str = "",
    note: str | None = "",
    by: Membership | None = None,
) -> Spend:
    """Set the spend of one month, channel and campaign (``campaign`` "" is the channel's
    spend outside any named campaign). ``channel`` is a Channel or its key or name;
    ``note`` None keeps the note a row has."""
    user = writer_user(organization, by)
    first = month_check(month)
    found = channel_find(organization, channel)
    number = amount_check(amount)
    name = text_check(campaign, "campaign", MAX_CAMPAIGN)
    text = None if note is None else text_check(note, "note", MAX_NOTE)
    row, _ = _write(organization, first, found, name, number, text, user)
    return row


def spend_get(organization: Organization, spend_id: Any) -> Spend | None:
    """The organization's spend row of that id, or None (another organization's too)."""
    try:
        pk = int(spend_id)
    except (TypeError, ValueError):
        return None
    if not 1 <= pk < 2**63:
        return None
    return Spend.objects.for_org(organization).select_related("channel").filter(pk=pk).first()


@transaction.atomic
def spend_delete(*, organization: Organization, spend: Spend) -> None:
    """Remove a spend row of the organization."""
    check_same_org(organization, spend=spend)
    audit.delete(Spend.objects.for_org(organization).filter(pk=spend.pk))


@transaction.atomic
def spend_clear(
    *, organization: Organization, month: Any, channel: Any, campaign: str = ""
) -> bool:
    """Remove the spend of one month, channel and campaign; whether there was one."""
    first = month_check(month, ahead=None)
    found = channel_find(organization, channel)
    name = text_check(campaign, "campaign", MAX_CAMPAIGN)
    mine = Spend.objects.for_org(organization)
    return bool(audit.delete(mine.filter(month=first, channel=found, campaign=name)))


@dataclass(frozen=True)
class SpendEntry:
    """One cell of a month's grid: ``amount`` None clears it."""

    channel: Any
    campaign: str
    amount: Any


@transaction.atomic
def spend_month_set(
    *,
    organization: Organization,
    month: Any,
    entries: Mapping[str, SpendEntry],
    by: Membership | None = None,
) -> dict[str, int]:
    """Set (or clear) many cells of one month at once: all or nothing. A refused cell is a
    ValidationError named by its key in ``entries``; the notes rows have are kept."""
    first = month_check(month)
    user = writer_user(organization, by)
    problems: dict[str, list[str]] = {}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "cleared": 0}
    for key, entry in entries.items():
        try:
            found = channel_find(organization, entry.channel)
            name = text_check(entry.campaign, "campaign", MAX_CAMPAIGN)
            if entry.amount is None or entry.amount == "":
                mine = Spend.objects.for_org(organization)
                deleted = audit.delete(mine.filter(month=first, channel=found, campaign=name))
                counts["cleared"] += bool(deleted)
                continue
            number = amount_check(entry.amount)
            _row, what = _write(organization, first, found, name, number, None, user)
            counts[what] += 1
        except ValidationError as error:
            problems.setdefault(key, []).extend(error.messages)
    if problems:
        raise ValidationError(problems)
    return counts


# --- reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendRow:
    id: int
    month: date
    channel: str  # key
    channel_name: str
    campaign: str
    amount: Decimal
    note: str
    by: str
    updated_at: datetime


def spend_row(row: Spend) -> SpendRow:
    return SpendRow(
        id=row.pk,
        month=row.month,
        channel=row.channel.key,
        channel_name=row.channel.name,
        campaign=row.campaign,
        amount=row.amount,
        note=row.note,
        by=row.by.email if row.by is not None else "",
        updated_at=row.updated_at,
    )


@dataclass
class SpendTable:
    """The spend of a range of months: every row, and the sums per month and channel."""

    first: date | None
    last: date | None
    rows: list[SpendRow] = field(default_factory=list)
    #: channel key -> name, for the channels with spend and the active ones, by name
    channels: dict[str, str] = field(default_factory=dict)
    #: (month, channel key) -> the channel's spend in the month (all its campaigns)
    cells: dict[tuple[date, str], Decimal] = field(default_factory=dict)
    channel_totals: dict[str, Decimal] = field(default_factory=dict)
    month_totals: dict[date, Decimal] = field(default_factory=dict)
    total: Decimal = Decimal(0)

    @property
    def months(self) -> list[date]:
        """Every month of the range (of the rows, when the range is open)."""
        months = [r.month for r in self.rows]
        first = self.first or (min(months) if months else None)
        last = self.last or (max(months) if months else None)
        if first is None or last is None:
            return []
        return months_between(first, last)

    def campaigns(self, month: date, channel: str) -> list[SpendRow]:
        return [r for r in self.rows if r.month == month and r.channel == channel and r.campaign]


def spend_for(
    organization: Organization,
    first_month: Any = None,
    last_month: Any = None,
    *,
    channel: Any = None,
) -> SpendTable:
    """The organization's spend from ``first_month`` to ``last_month`` (both included; None
    leaves that end open), optionally of one channel (a Channel, key or name, active or not).
    """
    first = month_check(first_month, "from", ahead=None) if first_month not in (None, "") else None
    last = month_check(last_month, "to", ahead=None) if last_month not in (None, "") else None
    if first is not None and last is not None and first > last:
        raise ValidationError({"to": "The last month comes before the first."})
    rows = Spend.objects.for_org(organization).select_related("channel", "by")
    if first is not None:
        rows = rows.filter(month__gte=first)
    if last is not None:
        rows = rows.filter(month__lte=last)
    if channel not in (None, ""):
        if isinstance(channel, Channel):
            check_same_org(organization, channel=channel)
            one: Channel | None = channel
        else:
            text = str(channel).strip().lower()
            one = next(
                (
                    c
                    for c in Channel.objects.for_org(organization)
                    if c.key == text or c.name.strip().lower() == text
                ),
                None,
            )
            if one is None:
                raise ValidationError(
                    {"channel": f"{str(channel)[:60]!r} is not a channel of this organization."}
                )
        rows = rows.filter(channel=one)
    table = SpendTable(first=first, last=last)
    cells: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    by_channel: dict[str, Decimal] = defaultdict(Decimal)
    by_month: dict[date, Decimal] = defaultdict(Decimal)
    names: dict[str, str] = {}
    for r in rows.order_by("month", "channel__name", "campaign"):
        key = r.channel.key
        names[key] = r.channel.name
        table.rows.append(spend_row(r))
        cells[(r.month, key)] += r.amount
        by_channel[key] += r.amount
        by_month[r.month] += r.amount
    if channel in (None, ""):
        for c in Channel.objects.for_org(organization).filter(active=True):
            names.setdefault(c.key, c.name)
    table.channels = dict(sorted(names.items(), key=lambda kv: (kv[1].lower(), kv[0])))
    table.cells = dict(cells)
    table.channel_totals = dict(by_channel)
    table.month_totals = dict(by_month)
    table.total = sum(by_channel.values(), Decimal(0))
    return table


def spend_csv_rows(table: SpendTable) -> Iterable[list[Any]]:
    """The rows in the importer's columns (an export imports back unchanged)."""
    for r in table.rows:
        yield [month_str(r.month), r.channel, r.campaign, f"{r.amount:.2f}", r.note]


EXPORT_COLUMNS = ["month", "channel", "campaign", "amount", "note"]


# --- import: month,channel,campaign,amount,note from CSV (or XLSX) ---------------------------

REQUIRED = ("month", "channel", "amount")
OPTIONAL = ("campaign", "note")
#: errors kept for the report (the count goes on beyond)
MAX_ERRORS = 10_000


@dataclass
class SpendImportResult:
    file: str
    file_format: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    total: Decimal = Decimal(0)
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
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, reason))

    def report_lines(self) -> list[str]:
        """``line N, column C: reason`` for every kept error."""
        return [
            f"line {e.line}, column {e.column}: {e.reason}"
            if e.column
            else f"line {e.line}: {e.reason}"
            for e in self.errors
        ]


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


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
        channels = list(Channel.objects.for_org(organization))
        self.by_key = {c.key: c for c in channels}
        self.by_name = {c.name.strip().lower(): c for c in channels}
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
            result.error(line, "month", _message(error))
            ok = False
        name = self.cell(values, "channel")
        channel = self.by_key.get(name.lower()) or self.by_name.get(name.lower())
        if not name:
            result.error(line, "channel", "no channel")
            ok = False
        elif channel is None:
            result.error(line, "channel", f"{name[:60]!r} is not a channel's key or name")
            ok = False
        elif not channel.active:
            result.error(line, "channel", f"the channel {channel.name} is inactive")
            ok = False
        amount = None
        try:
            amount = amount_check(self.cell(values, "amount"))
        except ValidationError as error:
            result.error(line, "amount", _message(error))
            ok = False
        campaign = note = ""
        try:
            campaign = text_check(self.cell(values, "campaign"), "campaign", MAX_CAMPAIGN)
        except ValidationError as error:
            result.error(line, "campaign", _message(error))
            ok = False
        try:
            note = text_check(self.cell(values, "note"), "note", MAX_NOTE)
        except ValidationError as error:
            result.error(line, "note", _message(error))
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
