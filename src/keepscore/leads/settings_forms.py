"""Forms for the settings pages: they parse input; ``leads.settings_services`` decides."""

from __future__ import annotations

from typing import Any

from django import forms

from keepscore.leads.models import Group, StageKind


def initial_from(obj: Any, form_class: type[forms.Form]) -> dict[str, Any]:
    """The form's initial values read from an object with attributes of the same names."""
    return {name: getattr(obj, name) for name in form_class.base_fields}


class StageForm(forms.Form):
    name = forms.CharField(max_length=60)
    group = forms.ChoiceField(
        label="Scorecard group",
        choices=Group.choices,
        help_text="Where this stage counts on the scorecard.",
    )
    kind = forms.ChoiceField(
        choices=StageKind.choices,
        initial=StageKind.OPEN,
        help_text="Open stages are steps of the sale; the ladder needs one won and one lost.",
    )
    requires_qualification = forms.BooleanField(
        label="Gated by qualification",
        required=False,
        help_text="Leads reach this stage (or a later open one) only with every required "
        "qualification criterion met.",
    )
    playbook = forms.CharField(
        label="How we sell here",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What to do with a lead at this stage, so anyone can follow it.",
    )
    exit_criteria = forms.CharField(
        label="Exit criteria",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What must be true to leave this stage.",
    )


class CriterionForm(forms.Form):
    text = forms.CharField(
        label="Criterion",
        max_length=300,
        help_text="One line of what makes a lead qualified, e.g. “talking to the person who "
        "decides”.",
    )
    required = forms.BooleanField(
        required=False, initial=True, help_text="Must be met to pass the qualification gate."
    )
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive criteria are kept but not asked."
    )


class LostReasonForm(forms.Form):
    name = forms.CharField(label="Lost reason", max_length=100)
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive reasons are kept but not offered."
    )


class ChannelForm(forms.Form):
    name = forms.CharField(
        label="Channel",
        max_length=100,
        help_text="Where leads come from: walk-in, referral, trade show, …",
    )
    active = forms.BooleanField(
        required=False, initial=True, help_text="Inactive channels are kept but not offered."
    )
