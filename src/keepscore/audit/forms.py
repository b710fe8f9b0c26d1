"""The audit log page's filter: a period, an action, a member, a door."""

from __future__ import annotations

from typing import Any

from django import forms

from keepscore.audit.models import Action, Via
from keepscore.audit.selectors import AuditFilters
from keepscore.common.forms import DateField


class AuditFilterForm(forms.Form):
    # bounded dates: 9999-12-31 plus the day after it overflowed (a 500)
    since = DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    until = DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    action = forms.ChoiceField(label="What", required=False, choices=[("", "Anything")])
    user = forms.TypedChoiceField(
        label="Who", required=False, coerce=int, empty_value=None, choices=[("", "Anyone")]
    )
    via = forms.ChoiceField(label="Through", required=False, choices=[("", "Anywhere")])

    def __init__(self, *args: Any, members: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = {
            "action": [("", "Anything"), *Action.choices],
            "via": [("", "Anywhere"), *Via.choices],
            "user": [("", "Anyone"), *[(m.user_id, m.user.email) for m in members]],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end is before the start.")
        return data

    def filters(self) -> AuditFilters:
        """The valid fields' filters (call after ``is_valid()``)."""
        data = getattr(self, "cleaned_data", {})
        return AuditFilters(
            since=data.get("since"),
            until=data.get("until"),
            action=data.get("action") or "",
            user_id=data.get("user"),
            via=data.get("via") or "",
        )
