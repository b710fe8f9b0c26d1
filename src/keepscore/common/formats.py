"""Numbers as text (format_value): the one place numbers become text, for charts, pages, exports."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from keepscore.common.money import money_format

UNITS = ("count", "money", "percent", "days", "number")

MINUS = "\u2212"
DASH = "\u2013"
NO_VALUE = "\u2014"


def _group(number: float, decimals: int) -> str:
    """Thousands separators, ``decimals`` places, half rounded up (12.5 -> 13), a real minus."""
    exact = Decimal(repr(float(number))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    text = f"{abs(exact):,.{decimals}f}"
    return (MINUS if exact < 0 else "") + text


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _compact(number: float) -> str:
    size = abs(number)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = number / limit
            return _trim(_group(scaled, 1 if abs(scaled) < 100 else 0)) + suffix
    return _trim(_group(number, 0 if size >= 100 or number == int(number) else 1))


def format_value(
    value: float | None, unit: str, *, signed: bool = False, short: bool = False
) -> str:
    """A number as people read it: ``1,234``, ``56%``, ``12.5 days``; ``—`` for None.

    Units: ``count`` (whole numbers), ``money`` (in the active organization's currency:
    ``keepscore.common.money``),
    ``percent`` (a fraction 0..1 shown as %; a signed change is in percentage points, ``pp``),
    ``days`` and ``number``. ``signed`` puts ``+`` before positive numbers (for changes);
    ``short`` makes compact axis labels (``12k``, ``40%``, ``30d``).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NO_VALUE
    number = float(value)
    if unit == "percent":
        pct = round(number * 100, 6)  # 0.56 * 100 is 56.00000000000001
        if short:
            text = _trim(_group(pct, 0 if abs(pct) >= 10 or pct == int(pct) else 1)) + "%"
        else:
            decimals = 0 if abs(pct) >= 10 or pct == int(pct) else 1
            text = _group(pct, decimals) + (" pp" if signed else "%")
    elif unit == "money":
        # the active organization's currency, as its locale writes it (keepscore.common.money)
        return money_format(value, signed=signed, short=short)
    elif short:
        text = _compact(number) + ("d" if unit == "days" else "")
    elif unit == "count":
        text = _group(round(number), 0)
    elif unit == "days":
        decimals = 0 if number == int(number) or abs(number) >= 100 else 1
        text = _group(number, decimals)
        text += " day" if text in ("1", MINUS + "1") else " days"
    else:  # number
        text = _trim(_group(number, 2)) if abs(number) < 1000 else _group(number, 0)
    if signed and number > 0 and not text.startswith(("0 ", "0%", "0d")) and text != "0":
        text = "+" + text
    return text


def percent_of(part: float, whole: float) -> str:
    """``part`` as a percentage of ``whole`` (``—`` when ``whole`` is 0)."""
    return format_value(part / whole, "percent") if whole else NO_VALUE
