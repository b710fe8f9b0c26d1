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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.months import month_add as add_months
from keepscore.common.months import month_parse, month_str, months_between
from keepscore.common.numbers import decimal_parse
from keepscore.common.validation import check_same_org, writer_user
from keepscore.economics.models import MONEY_DIGITS, MONEY_PLACES, Spend
from keepscore.leads.models import Channel

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
    audit.delete(rows=Spend.objects.for_org(organization).filter(pk=spend.pk))


@transaction.atomic
def spend_clear(
    *, organization: Organization, month: Any, channel: Any, campaign: str = ""
) -> bool:
    """Remove the spend of one month, channel and campaign; whether there was one."""
    first = month_check(month, ahead=None)
    found = channel_find(organization, channel)
    name = text_check(campaign, "campaign", MAX_CAMPAIGN)
    mine = Spend.objects.for_org(organization)
    return bool(audit.delete(rows=mine.filter(month=first, channel=found, campaign=name)))


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
                deleted = audit.delete(rows=mine.filter(month=first, channel=found, campaign=name))
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
