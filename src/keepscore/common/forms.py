"""Form pieces shared by every app: bounded dates, and service errors shown at their field."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

#: The dates a business records. Outside them a date is a typo (0001, 9999), and at the edges
#: of Python's calendar "the next day" or a time-zone conversion overflows (a 500).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_MESSAGE = f"Enter a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}."


def _check_date_range(day: date) -> None:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


class DateField(forms.DateField):
    """A date between ``EARLIEST_DATE`` and ``LATEST_DATE``; any other is a field error."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            _check_date_range(value)


class DateTimeField(forms.DateTimeField):
    """A date and time whose date is between ``EARLIEST_DATE`` and ``LATEST_DATE``."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            _check_date_range(value.date())


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for e in errors:
                form.add_error(target, e)
    else:
        form.add_error(None, error)
