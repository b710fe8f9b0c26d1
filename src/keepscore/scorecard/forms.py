"""Forms for the scorecard pages: they parse input; ``scorecard.services`` decides."""

from __future__ import annotations

from typing import Any

from django import forms

from keepscore.scorecard.models import (
    GROUP_CHOICES,
    UNIT_CHOICES,
    WEEKDAY_CHOICES,
    WHICH_CHOICES,
    ReviewKind,
)
from keepscore.scorecard.services import MAX_REVIEW


class ManualMetricForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="e.g. “Website visitors”.")
    group = forms.ChoiceField(
        label="Scorecard group", choices=GROUP_CHOICES, help_text="Where the metric counts."
    )
    unit = forms.ChoiceField(choices=UNIT_CHOICES, initial="count")
    higher_is_better = forms.BooleanField(label="Higher is better", required=False, initial=True)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive metrics are kept but not shown."
    )


class ManualMetricAddForm(ManualMetricForm):
    key = forms.CharField(
        required=False,
        max_length=50,
        help_text="How imports and the API name it (made from the name if left empty); "
        "it cannot change later.",
    )

    field_order = ["name", "key", "group", "unit", "higher_is_better", "description", "active"]


class ReviewForm(forms.Form):
    kind = forms.ChoiceField(choices=ReviewKind.choices, initial=ReviewKind.NOTE)
    text = forms.CharField(
        label="Note or decision",
        max_length=MAX_REVIEW,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReviewMeetingForm(forms.Form):
    """The monthly review meeting; ``review_meeting.meeting_set`` checks it."""

    which = forms.TypedChoiceField(
        label="Which",
        coerce=int,
        choices=WHICH_CHOICES,
        initial=1,
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week",
        coerce=int,
        choices=WEEKDAY_CHOICES,
        initial=1,
    )
    at = forms.TimeField(
        label="Time", initial="09:00", widget=forms.TimeInput(attrs={"type": "time"})
    )
    days_before = forms.IntegerField(
        label="Days before",
        min_value=0,
        max_value=28,
        initial=2,
        help_text="How many days before the meeting the scorecard goes to the attendees.",
    )
    active = forms.BooleanField(
        label="Send the scorecard before the meeting", required=False, initial=True
    )
    attendees = forms.MultipleChoiceField(
        label="Who attends", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["attendees"].choices = members  # type: ignore[attr-defined]
