"""The focus page's date: the day the diagnosis is made as of."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

#: the earliest date a diagnosis can be asked for
EARLIEST = dt.date(2000, 1, 1)


class FocusDateForm(forms.Form):
    date = forms.DateField(
        label="As of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The diagnosis as the data stood at the end of this day (default: today).",
    )

    def clean_date(self) -> dt.date | None:
        day = self.cleaned_data.get("date")
        if day is None:
            return None
        if day < EARLIEST:
            raise forms.ValidationError(f"Choose a date from {EARLIEST:%d %b %Y} on.")
        if day > timezone.localdate():
            raise forms.ValidationError("A diagnosis cannot be made for a day in the future.")
        return day
