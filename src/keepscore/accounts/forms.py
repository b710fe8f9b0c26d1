"""Forms for members: they parse input; the services in accounts.services decide."""

from __future__ import annotations

from typing import Any

from django import forms


class MemberRolesForm(forms.Form):
    is_owner = forms.BooleanField(
        label="Owner", required=False, help_text="Sees and changes everything, settings too."
    )
    is_marketing = forms.BooleanField(
        label="Marketing", required=False, help_text="Produces leads."
    )
    is_sales = forms.BooleanField(
        label="Sales", required=False, help_text="Converts leads into customers."
    )
    marketing_share = forms.IntegerField(
        label="Time on marketing (%)",
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1}),
        help_text="For someone who does both jobs: the share of their time on marketing, "
        "0 to 100; the rest is sales. Leave empty when it does not apply.",
    )


class MemberAddForm(MemberRolesForm):
    email = forms.EmailField(
        help_text="If this person already has a keepscore login, they are added as they are."
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    no_login = forms.BooleanField(
        label="No login",
        required=False,
        help_text="A member whose work is recorded by others; they get no password.",
    )

    field_order = [
        "email",
        "first_name",
        "last_name",
        "is_owner",
        "is_marketing",
        "is_sales",
        "marketing_share",
        "no_login",
    ]

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data as ``member_create`` takes it."""
        data = dict(self.cleaned_data)
        data["can_login"] = not data.pop("no_login")
        return data
