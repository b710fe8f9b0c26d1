"""Forms for follow-ups: add one, mark it done, move its day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.selectors import members_of
from keepscore.common.forms import DateField
from keepscore.followups.models import FollowUpKind


def _set_members(form: forms.BaseForm, organization: Organization, name: str) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = members_of(organization=organization)


class FollowUpForm(forms.Form):
    """A next step: what, when (tomorrow unless said), who (the lead's owner unless said)."""

    kind = forms.ChoiceField(label="Next step", choices=FollowUpKind.choices)
    due_on = DateField(
        label="Due",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Say the day it is due."},
    )
    due_time = forms.TimeField(
        label="At", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    owner = forms.ModelChoiceField(
        label="Who", queryset=Membership.objects.none(), required=False, empty_label="Lead's owner"
    )
    note = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args: Any, organization: Organization, today: date, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "followup_%s")
        kwargs.setdefault("initial", {"due_on": today + timedelta(days=1), "kind": "call"})
        super().__init__(*args, **kwargs)
        _set_members(self, organization, "owner")


class DoneForm(forms.Form):
    """Done: a call says whether it reached them (a connect) or not (a call attempt)."""

    reached = forms.TypedChoiceField(
        choices=[("1", "Reached them"), ("0", "No answer")],
        coerce=lambda value: value == "1",
        required=False,
        empty_value=None,
    )
    notes = forms.CharField(max_length=2000, required=False)


class RescheduleForm(forms.Form):
    """A new day: given, or ``days`` from today (1: tomorrow, 7: next week)."""

    due_on = DateField(required=False)
    days = forms.IntegerField(min_value=0, max_value=366, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("due_on") is None and data.get("days") is None:
            raise forms.ValidationError("Say the new day.")
        return data

    def day(self, today: date) -> date:
        d = self.cleaned_data
        return d["due_on"] if d.get("due_on") else today + timedelta(days=d["days"])


class MemberPickForm(forms.Form):
    """Whose day the Today page shows (owners only; empty: one's own)."""

    member = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_members(self, organization, "member")
