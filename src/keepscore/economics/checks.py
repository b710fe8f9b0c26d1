"""The checks of the economics' inputs, the same for every door: a month (not too far ahead),
an amount of money, a short text, a channel of the organization.

Amounts as people type them (``keepscore.common.numbers.decimal_parse``): ``1234.5``,
``1,234.50`` and ``1.234,50`` are 1234.50; ``1234,50`` and ``12,5`` use the comma as the
decimal point; a single comma followed by exactly three digits (``1,234``) is a thousands
separator (1234), never a decimal point. Currency signs and spaces are ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add as add_months
from keepscore.common.months import month_parse, month_str
from keepscore.common.numbers import decimal_parse
from keepscore.common.validation import check_same_org
from keepscore.economics.models import MONEY_DIGITS, MONEY_PLACES
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


# --- reads --------------------------------------------------------------------------------
