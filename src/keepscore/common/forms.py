"""Form pieces shared by every app: bounded dates (``keepscore.common.days``), and service
errors shown at their field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from keepscore.common.days import date_check


class DateField(forms.DateField):
    """A date between ``EARLIEST_DATE`` and ``LATEST_DATE``; any other is a field error."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            date_check(value)


class DateTimeField(forms.DateTimeField):
    """A date and time whose date is between ``EARLIEST_DATE`` and ``LATEST_DATE``."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            date_check(value.date())


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for e in errors:
                form.add_error(target, e)
    else:
        form.add_error(None, error)
