"""The checks of a scorecard value, the same for every door: a value in its metric's unit
(a target, a goal, a manual value), and a stored value and a refusal as text."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from keepscore.scorecard.catalogue import MetricDef
from keepscore.scorecard.models import VALUE_DIGITS, VALUE_PLACES

#: the largest value a value column holds (exclusive)
MAX_VALUE = Decimal(10) ** (VALUE_DIGITS - VALUE_PLACES)


#: errors a file's report keeps (targets file, manual values import; the count goes on beyond)
MAX_ERRORS = 10_000


def plain(*, value: Decimal | None) -> str | None:
    """A stored value as typed: ``12`` not ``12.0000``."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def value_check(*, metric: MetricDef, value: Any, field: str = "value") -> Decimal:
    """A value in the metric's unit: finite, under 10^12, at most 4 decimals; counts are whole
    and not negative, days not negative, percentages between -100 and 100."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{str(value)[:40]!r} is not a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    if abs(number) >= MAX_VALUE:
        raise ValidationError({field: f"The value must be less than {MAX_VALUE:,}."})
    if number != number.quantize(Decimal(1).scaleb(-VALUE_PLACES)):
        raise ValidationError({field: f"Use at most {VALUE_PLACES} decimals."})
    unit = metric.unit
    if unit in ("count", "days") and number < 0:
        raise ValidationError({field: f"{metric.name} cannot be negative."})
    if unit == "count" and number != number.to_integral_value():
        raise ValidationError({field: f"{metric.name} is a count: use a whole number."})
    if unit == "percent" and not -100 <= number <= 100:
        raise ValidationError({field: f"{metric.name} is a percentage: -100 to 100."})
    return number


def error_text(*, error: ValidationError) -> str:
    """A refused value's messages, as one text (for a grid's cell or a file's row)."""
    return " ".join(error.messages)
