"""The economics' writes: marketing spend (set, replace a month, clear, delete), the cash
position, products and the default margin. Each is atomic and validates first (the checks of
``economics.checks``); a refused write raises a
``ValidationError`` naming the field and changes nothing. Setting a month's spend again
replaces it (set, not add), so entering or importing the same numbers twice changes nothing.
Reads are ``economics.selectors``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.validation import check_same_org, name_free, writer_user
from keepscore.economics.checks import (
    MAX_CAMPAIGN,
    MAX_NOTE,
    amount_check,
    channel_find,
    month_check,
    text_check,
)
from keepscore.economics.models import (
    CashPosition,
    MoneySettings,
    Product,
    Spend,
)
from keepscore.economics.products import HUNDRED, decimal_places, money_check
from keepscore.leads.models import Channel


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
    *,
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


@transaction.atomic
def cash_set(
    *,
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


def cash_delete(*, organization: Organization, month: Any) -> bool:
    """Remove a month's entry; whether there was one."""
    first = month_check(month, ahead=None)
    return bool(audit.delete(rows=CashPosition.objects.for_org(organization).filter(month=first)))


@transaction.atomic
def product_save(
    *,
    organization: Organization,
    name: str,
    price: Decimal,
    cost: Decimal | None = None,
    active: bool = True,
    product: Product | None = None,
) -> Product:
    """Add a product (or service) or change one. Its name is unique in the organization (any
    case); price >= 0; cost >= 0 or empty (then the default margin gives its cost)."""
    if product is not None:
        check_same_org(organization, product=product)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A product needs a name."})
    name_free(model=Product, organization=organization, name=name, what="product", other=product)
    if price is None:
        raise ValidationError({"price": "A product needs its price."})
    price = money_check(price, "price", "The price")  # type: ignore[assignment]
    cost = money_check(cost, "cost", "The cost")
    product = product or Product(organization=organization)
    product.name = name
    product.price = price
    product.cost = cost
    product.active = active
    product.full_clean(exclude=["organization"], validate_constraints=False)
    product.save()
    return product


@transaction.atomic
def product_retire(*, product: Product) -> Product:
    """No longer sold: kept with the deals that sold it, no longer offered for new ones."""
    if product.active:
        product.active = False
        product.save(update_fields=["active"])
    return product


@transaction.atomic
def default_margin_set(*, organization: Organization, pct: Decimal | None) -> MoneySettings:
    """Set the default margin (-100..100 %, at most 2 decimal places), or clear it (None)."""
    field = "default_margin_pct"
    if pct is not None:
        if not pct.is_finite():
            raise ValidationError({field: "The default margin must be a number."})
        if not Decimal(-100) <= pct <= HUNDRED:
            raise ValidationError({field: "The default margin is between -100 and 100 %."})
        if decimal_places(pct.normalize()) > 2:
            raise ValidationError({field: "The default margin has at most 2 decimal places."})
    row, _ = MoneySettings.objects.get_or_create(organization=organization)
    row.default_margin_pct = pct
    row.full_clean(exclude=["organization"])
    row.save()
    return row
