"""Products and services, the default margin, and the amounts of a won deal.

A won deal's revenue and cost come from its lines (quantity x unit price, quantity x unit
cost), or are entered directly. A line's unit price is its product's price unless the line
gives another; its unit cost is the product's cost, or when the product has none, the unit
price x (1 - default margin), or 0 without a default margin. A directly entered deal without
a cost costs revenue x (1 - default margin) when a default margin is set. Computed amounts
are rounded to cents, half up (see ``docs/numbers.md``, "Money").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from keepscore.accounts.models import Organization
from keepscore.economics.models import MoneySettings, Product

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
#: the most lines one deal may have
MAX_LINES = 50
MAX_QUANTITY = Decimal("9999999999.99")  # DealLine.quantity: 12 digits, 2 places


def cents(value: Decimal) -> Decimal:
    """``value`` rounded to cents, half up (2.345 -> 2.35, -2.345 -> -2.35)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def money_check(value: Decimal | None, field: str, what: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite():
        raise ValidationError({field: f"{what} must be a number."})
    if value < 0:
        raise ValidationError({field: f"{what} cannot be negative."})
    if decimal_places(value.normalize()) > 2:
        raise ValidationError({field: f"{what} has at most 2 decimal places (cents)."})
    if value >= Decimal(10) ** 12:
        raise ValidationError({field: f"{what} is too large."})
    return value


# --- products -----------------------------------------------------------------------------


# --- the default margin -------------------------------------------------------------------


def _at_margin(amount: Decimal, margin_pct: Decimal) -> Decimal:
    """What ``amount`` of revenue costs at a margin of ``margin_pct`` %, in cents."""
    return cents(amount * (1 - margin_pct / HUNDRED))


# --- a won deal's amounts -------------------------------------------------------------------


@dataclass(frozen=True)
class LineIn:
    """A line as entered: a product, how many, and a unit price if not the product's."""

    product: Product
    quantity: Decimal
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class LineRow:
    """A line as written: its unit price and unit cost settled (cents)."""

    product: Product
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal

    @property
    def revenue(self) -> Decimal:
        return self.quantity * self.unit_price

    @property
    def cost(self) -> Decimal:
        return self.quantity * self.unit_cost


def _line_row(organization: Organization, n: int, line: LineIn, margin: Decimal | None) -> LineRow:
    where = f"Line {n}"
    product = line.product
    if product is None:
        raise ValidationError({"lines": f"{where}: choose a product."})
    if product.organization_id != organization.pk:
        raise ValidationError({"lines": f"{where}: that product is not in this organization."})
    if not product.active:
        raise ValidationError({"lines": f"{where}: {product.name} is no longer sold."})
    quantity = line.quantity
    if quantity is None or not quantity.is_finite() or quantity <= 0:
        raise ValidationError({"lines": f"{where}: the quantity must be more than 0."})
    if decimal_places(quantity.normalize()) > 2 or quantity > MAX_QUANTITY:
        raise ValidationError(
            {"lines": f"{where}: the quantity has at most 2 decimal places and 10 digits."}
        )
    unit_price = product.price if line.unit_price is None else line.unit_price
    try:
        money_check(unit_price, "lines", "The unit price")
    except ValidationError as error:
        raise ValidationError({"lines": f"{where}: {' '.join(error.messages)}"}) from None
    if product.cost is not None:
        unit_cost = product.cost
    elif margin is not None:
        unit_cost = _at_margin(unit_price, margin)
    else:
        unit_cost = Decimal("0.00")
    return LineRow(product=product, quantity=quantity, unit_price=unit_price, unit_cost=unit_cost)


def deal_amounts(
    organization: Organization,
    lines: Sequence[LineIn] | None = None,
    revenue: Decimal | None = None,
    cost: Decimal | None = None,
) -> tuple[Decimal | None, Decimal | None, list[LineRow]]:
    """A won deal's (revenue, cost, line rows).

    With lines: revenue = sum of quantity x unit price, cost = sum of quantity x unit cost,
    each rounded to cents; a revenue or cost entered as well is refused. Without: the revenue
    as entered (None when not entered: the caller says a won deal needs it) and the cost as
    entered, else revenue x (1 - default margin) when a default margin is set, else None.
    """
    margin = default_margin(organization)
    if lines:
        if revenue is not None:
            raise ValidationError({"revenue": "Enter the revenue or the products sold, not both."})
        if cost is not None:
            raise ValidationError({"cost": "With products sold, the cost comes from them."})
        if len(lines) > MAX_LINES:
            raise ValidationError({"lines": f"A deal has at most {MAX_LINES} lines."})
        rows = [_line_row(organization, n, line, margin) for n, line in enumerate(lines, 1)]
        return (
            cents(sum((r.revenue for r in rows), Decimal(0))),
            cents(sum((r.cost for r in rows), Decimal(0))),
            rows,
        )
    money_check(revenue, "revenue", "Revenue")
    money_check(cost, "cost", "Cost")
    if revenue is not None and cost is None and margin is not None:
        cost = _at_margin(revenue, margin)
    return revenue, cost, []


def default_margin(organization: Organization) -> Decimal | None:
    """The organization's default margin in percent, or None when it has none."""
    row = MoneySettings.objects.filter(organization=organization).first()
    return row.default_margin_pct if row is not None else None
