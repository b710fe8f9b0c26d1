"""Forms for members: they parse input; the services in accounts.services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms


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


class InvitationForm(forms.Form):
    email = forms.EmailField(help_text="They get an email with a link to join.")
    is_owner = MemberRolesForm.base_fields["is_owner"]
    is_marketing = MemberRolesForm.base_fields["is_marketing"]
    is_sales = MemberRolesForm.base_fields["is_sales"]


class JoinForm(forms.Form):
    """A new member's name and password, from an invitation's link."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not a common password, not only digits.",
    )
    password_again = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password_again") != data["password"]:
            self.add_error("password_again", "The two passwords differ.")
        return data


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, sending through keepscore.mail's worker, its link on KEEPSCORE_URL (never
    the host the request named: a forged Host header cannot redirect the link)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from django.conf import settings
        from django.urls import reverse

        from keepscore import mail

        path = reverse(
            "password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        # sent by the worker: the page answers as fast for a known address as for an unknown
        # one (no hint by timing either); a failure is the worker's, in its log
        mail.send_later(
            to=to_email,
            subject="Reset your keepscore password",
            template="mail/password_reset",
            context={
                "email": to_email,
                "link": mail.app_url(path),
                "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
        )
