"""A cell's value as an import reads it: text limits, amounts, emails, phones, channel names.

The lead import's rows and options, the deals import and the columnar check (which must
take a cell exactly as the row check does) read cells by these.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import tzinfo
from decimal import Decimal

from django.conf import settings

from keepscore.common.numbers import decimal_parse
from keepscore.imports.readers import MAX_FIELD

#: dates before this year are errors (a typo, or a spreadsheet's day zero)
EARLIEST_YEAR = 1900

EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]{2,}")
_NOT_DIGIT = re.compile(r"\D")
#: what phone numbers usually hold besides digits (a C-level delete before the regex)
_PHONE_PUNCTUATION = str.maketrans("", "", " +-().\t/")
_MAX_MONEY = Decimal("1e12")
CENT = Decimal("0.01")
#: the usual amount (``1234.5``): read directly, the same as the general path below
PLAIN_MONEY = re.compile(r"\d{1,12}(?:\.\d{0,2})?")

TEXT_LIMITS = {
    "external_id": 100,
    "name": 200,
    "company": 200,
    "email": 254,
    "phone": 40,
    "notes": MAX_FIELD,
    "campaign": 200,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "owner": 200,
    "sourced_by": 200,
    "source": 100,
    "lost_reason": 100,
    "first_name": 150,
    "last_name": 150,
}


def money_parse(text: str) -> Decimal | str:
    """A non-negative amount (``1234.5``, ``1,234.50``, ``1.234,50``, ``€ 12``), or the reason."""
    if PLAIN_MONEY.fullmatch(text):
        return Decimal(text).quantize(CENT)
    value = decimal_parse(text) if "%" not in text else None
    if value is None:
        return f"{short(text)} is not an amount"
    if value < 0:
        return "cannot be negative"
    if value >= _MAX_MONEY:
        return "is too large"
    if value != value.quantize(Decimal("0.01")):
        return "has more than 2 decimals"
    return value.quantize(Decimal("0.01"))


def phone_key(phone: str) -> str:
    digits = phone.translate(_PHONE_PUNCTUATION)
    if not digits.isascii() or not digits.isdigit():
        digits = _NOT_DIGIT.sub("", digits)
    return digits if len(digits) >= 7 else ""


def channel_name(source: str) -> str:
    """The name of the channel a new source becomes (``paid_search`` → ``Paid search``)."""
    return source.replace("_", " ").capitalize() if source.islower() else source


def short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[:n] + "…")


def local_zone() -> tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)
