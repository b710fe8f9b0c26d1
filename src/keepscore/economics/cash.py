"""The cash position: cash on hand and monthly fixed costs per month, and the runway.

**Runway** (months) = cash on hand / monthly fixed costs of the latest entry at or before
the month asked about, rounded to two decimals: how many months the business can pay its
fixed costs from the cash it has, selling nothing more. No runway (None) without an entry
or with fixed costs of 0 (nothing to run out on); 0 when the cash is 0 or negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.months import month_str
from keepscore.common.validation import check_same_org
from keepscore.economics.models import CashPosition
from keepscore.economics.spend import MAX_NOTE, amount_check, month_check, text_check

RUNWAY_PLACES = Decimal("0.01")


def runway_months(position: CashPosition | None) -> Decimal | None:
    """cash on hand / monthly fixed costs (two decimals); None without a position or with no
    fixed costs; 0 when the cash is 0 or below."""
    if position is None or position.monthly_fixed_costs <= 0:
        return None
    if position.cash_on_hand <= 0:
        return Decimal(0)
    ratio = position.cash_on_hand / position.monthly_fixed_costs
    return ratio.quantize(RUNWAY_PLACES, rounding=ROUND_HALF_UP)


@transaction.atomic
def cash_set(
    organization: Organization,
    month: Any,
    cash_on_hand: Any,
    monthly_fixed_costs: Any,
    note: str = "",
    by: Membership | None = None,
) -> CashPosition:
    """Set the cash position of a month (this month or an earlier one); setting it again
    replaces it. Cash on hand may be negative (an overdraft); fixed costs may not."""
    check_same_org(organization, by=by)
    first = month_check(month, ahead=0)
    cash = amount_check(cash_on_hand, "cash_on_hand", negative=True)
    fixed = amount_check(monthly_fixed_costs, "monthly_fixed_costs", what="Fixed costs")
    text = text_check(note, "note", MAX_NOTE)
    user = by.user if by is not None else None
    row = CashPosition.objects.for_org(organization).filter(month=first).first()
    if row is None:
        return CashPosition.objects.create(
            organization=organization,
            month=first,
            cash_on_hand=cash,
            monthly_fixed_costs=fixed,
            note=text,
            by=user,
        )
    if (row.cash_on_hand, row.monthly_fixed_costs, row.note) != (cash, fixed, text):
        row.cash_on_hand, row.monthly_fixed_costs, row.note, row.by = cash, fixed, text, user
        row.save(update_fields=["cash_on_hand", "monthly_fixed_costs", "note", "by", "updated_at"])
    return row


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


def cash_row(position: CashPosition) -> CashRow:
    return CashRow(
        month=position.month,
        cash_on_hand=position.cash_on_hand,
        monthly_fixed_costs=position.monthly_fixed_costs,
        runway=runway_months(position),
        note=position.note,
        by=position.by.email if position.by is not None else "",
        updated_at=position.updated_at,
    )


def cash_history(organization: Organization) -> list[CashRow]:
    """Every entry of the organization, the latest month first, each with its runway."""
    rows = CashPosition.objects.for_org(organization).select_related("by").order_by("-month")
    return [cash_row(p) for p in rows]


def cash_current(organization: Organization, on: date | None = None) -> CashPosition | None:
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


def cash_delete(*, organization: Organization, month: Any) -> bool:
    """Remove a month's entry; whether there was one."""
    first = month_check(month, ahead=None)
    return bool(audit.delete(rows=CashPosition.objects.for_org(organization).filter(month=first)))
