"""Numbers as people type them in forms and spreadsheets."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

#: currency signs, spaces (also no-break) and the apostrophe of 1'234 are not the number
_NOISE = re.compile(r"[\s$€£¥%'\u00a0]")
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")


def decimal_parse(text: str) -> Decimal | None:
    """``1234.5``, ``1,234.50``, ``1.234,50``, ``€ 12``, ``12%`` → a Decimal; None if not.

    With both separators the last one is the decimal point; a lone comma is a thousands
    separator only in groups of three (``1,234``), else the decimal point (``12,5``).
    """
    s = _NOISE.sub("", text)
    if "," in s and "." in s:
        s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "")
        s = s.replace(",", ".")
    elif "," in s:
        s = s.replace(",", "") if _THOUSANDS.fullmatch(s) else s.replace(",", ".")
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
