"""The erasure's confirmation: an explicit tick, never presumed."""

from __future__ import annotations

from django import forms

from keepscore.webforms.forms import ConsentBox


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: their personal data is removed for good; it cannot be undone.",
        required=True,
        widget=ConsentBox,  # only a ticked box's value counts
        error_messages={"required": "Tick the box to confirm the erasure."},
    )
