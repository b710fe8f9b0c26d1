"""The economics' reads: the spend table of a span (with its CSV rows), one spend entry,
the cash position and its runway, the products for sale and the default margin. The
channel economics report is ``economics.channels``.

**Runway** (months) = cash on hand / monthly fixed costs of the latest entry at or before
the month asked about, rounded to two decimals: how many months the business can pay its
fixed costs from the cash it has, selling nothing more. No runway (None) without an entry
or with fixed costs of 0 (nothing to run out on); 0 when the cash is 0 or negative."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.months import month_str, months_between
from keepscore.common.validation import check_same_org
from keepscore.economics.checks import month_check
from keepscore.economics.models import (
    CashPosition,
    Product,
    Spend,
)
from keepscore.leads.models import Channel


def spend_get(*, organization: Organization, spend_id: Any) -> Spend | None:
    """The organization's spend row of that id, or None (another organization's too)."""
    try:
        pk = int(spend_id)
    except (TypeError, ValueError):
        return None
    if not 1 <= pk < 2**63:
        return None
    return Spend.objects.for_org(organization).select_related("channel").filter(pk=pk).first()


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


def spend_row(*, row: Spend) -> SpendRow:
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
    *,
    organization: Organization,
    first_month: Any = None,
    last_month: Any = None,
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
        table.rows.append(spend_row(row=r))
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


def spend_csv_rows(*, table: SpendTable) -> Iterable[list[Any]]:
    """The rows in the importer's columns (an export imports back unchanged)."""
    for r in table.rows:
        yield [month_str(r.month), r.channel, r.campaign, f"{r.amount:.2f}", r.note]


def runway_months(*, position: CashPosition | None) -> Decimal | None:
    """cash on hand / monthly fixed costs (two decimals); None without a position or with no
    fixed costs; 0 when the cash is 0 or below."""
    if position is None or position.monthly_fixed_costs <= 0:
        return None
    if position.cash_on_hand <= 0:
        return Decimal(0)
    ratio = position.cash_on_hand / position.monthly_fixed_costs
    return ratio.quantize(RUNWAY_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CashRow:
    month: date
    cash_on_hand: Decimal
    monthly_fixed_costs: Decimal
    runway: Decimal | None
    note: str
    by: str
    updated_at: datetime

    @property
    def month_text(self) -> str:
        return month_str(self.month)


def cash_row(*, position: CashPosition) -> CashRow:
    return CashRow(
        month=position.month,
        cash_on_hand=position.cash_on_hand,
        monthly_fixed_costs=position.monthly_fixed_costs,
        runway=runway_months(position=position),
        note=position.note,
        by=position.by.email if position.by is not None else "",
        updated_at=position.updated_at,
    )


def cash_history(*, organization: Organization) -> list[CashRow]:
    """Every entry of the organization, the latest month first, each with its runway."""
    rows = CashPosition.objects.for_org(organization).select_related("by").order_by("-month")
    return [cash_row(position=p) for p in rows]


def cash_current(*, organization: Organization, on: date | None = None) -> CashPosition | None:
    """The latest entry at or before the month of ``on`` (today by default), or None."""
    day = on or timezone.localdate()
    month = day.replace(day=1)
    return (
        CashPosition.objects.for_org(organization)
        .filter(month__lte=month)
        .select_related("by")
        .order_by("-month")
        .first()
    )


def products_for_sale(*, organization: Organization) -> list[Product]:
    return list(Product.objects.for_org(organization).filter(active=True))


EXPORT_COLUMNS = ["month", "channel", "campaign", "amount", "note"]


RUNWAY_PLACES = Decimal("0.01")
