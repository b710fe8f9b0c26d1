"""The settings form for a web form, and the public form a website visitor fills in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from keepscore.accounts.models import Membership, Organization
from keepscore.webforms.models import Assign, FormField, WebForm, consent_version
from keepscore.webforms.services import CONSENT_NEEDED
from keepscore.webforms.stamps import Stamp, StampRefused, stamp_check, stamp_sign

#: a submission sooner than this after the form was shown is a bot's (settings can lower it)
MIN_FILL_SECONDS = 3
CONSENT_CHANGED = "This text has just changed: please read it and tick the box again."


class WebFormForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="For you; visitors do not see it.")
    ask = forms.MultipleChoiceField(
        label="Fields",
        choices=FormField.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="The lead's fields the form asks for: the name or the company among them.",
    )
    consent_text = forms.CharField(
        label="Consent text",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown as a box visitors must tick before sending; each submission keeps "
        "the text as shown, its version and when it was ticked.",
    )
    thank_you_url = forms.URLField(
        label="Thank-you page",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Where visitors go after sending; empty shows a built-in thank-you page.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)
    assign = forms.ChoiceField(
        label="New leads go to",
        choices=Assign.choices,
        initial=Assign.NOBODY,
        required=False,
        widget=forms.RadioSelect,
        help_text="The member who gets a new lead is its owner, gets an email and a "
        "first-contact call to make.",
    )
    assign_to = forms.ModelChoiceField(
        label="Named member",
        queryset=Membership.objects.none(),
        required=False,
        help_text="When new leads go to a named member.",
    )
    first_contact_hours = forms.IntegerField(
        label="First contact within (hours)",
        min_value=1,
        max_value=720,
        initial=24,
        required=False,
        help_text="The assignee's first-contact call is due this many hours after the lead "
        "arrives.",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assign_to"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Membership.objects.filter(organization=organization).select_related("user")

    def clean_assign(self) -> str:
        return str(self.cleaned_data.get("assign") or Assign.NOBODY)

    def clean_first_contact_hours(self) -> int:
        hours = self.cleaned_data.get("first_contact_hours")
        return 24 if hours is None else int(hours)

    @staticmethod
    def initial_for(webform: WebForm) -> dict[str, Any]:
        return {
            "name": webform.name,
            "ask": webform.fields,
            "consent_text": webform.consent_text,
            "thank_you_url": webform.thank_you_url,
            "active": webform.active,
            "assign": webform.assign,
            "assign_to": webform.assign_to_id,
            "first_contact_hours": webform.first_contact_hours,
        }


def min_fill_seconds() -> int:
    return int(getattr(settings, "WEBFORM_MIN_FILL_SECONDS", MIN_FILL_SECONDS))


def rendered_stamp(webform: WebForm, *, head_start: int = 0) -> str:
    """A signed, timestamped, unique token put in the form when it is shown."""
    return stamp_sign(webform.key, head_start=head_start)


class PassThrough(forms.Field):
    """A hidden value taken as sent (the service cleans and cuts it): never a field error."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)


class ConsentBox(forms.CheckboxInput):
    """Ticked only by what a ticked box sends ("on", or "true", "1", "yes"): consent is
    never read into anything else (Django's box takes "0" or "no" as ticked)."""

    TICKED = frozenset({"on", "true", "1", "yes"})

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        value = data.get(name)
        return isinstance(value, str) and value.strip().lower() in self.TICKED


PUBLIC_FIELDS: dict[str, Any] = {
    FormField.NAME: lambda: forms.CharField(label="Name", max_length=200),
    FormField.COMPANY: lambda: forms.CharField(label="Company", max_length=200),
    FormField.EMAIL: lambda: forms.EmailField(label="Email", max_length=254),
    FormField.PHONE: lambda: forms.CharField(label="Phone", max_length=40),
    FormField.NOTES: lambda: forms.CharField(
        label="Message", max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    ),
}


class PublicForm(forms.Form):
    """The form a website visitor fills in. ``spam`` says why a submission is ignored.

    Besides the chosen fields: a honeypot (``website``, hidden by CSS: people leave it
    empty, bots fill it), a signed render time (``ts``) and the page's source (UTMs,
    referrer, page URL) passed by the embed script. When the form has a consent text, a
    box to tick (``consent``, unticked, required) with the version of the text shown
    (``consent_version``): a text edited since is refused, to be read and ticked again.
    """

    website = forms.CharField(label="Website (leave empty)", required=False)
    ts = PassThrough()
    utm_source = PassThrough()
    utm_medium = PassThrough()
    utm_campaign = PassThrough()
    referrer = PassThrough()
    page_url = PassThrough()

    def __init__(self, *args: Any, webform: WebForm, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "ks_%s")
        super().__init__(*args, **kwargs)
        self.webform = webform
        self.spam: str | None = None
        self.stamp: Stamp | None = None
        self.stamp_expired = False
        visible = {name: PUBLIC_FIELDS[name]() for name in webform.fields if name in PUBLIC_FIELDS}
        for name, field in visible.items():
            field.required = name == FormField.NAME or (
                name == FormField.COMPANY and FormField.NAME not in visible
            )
            if name == FormField.EMAIL:
                field.widget.attrs["autocomplete"] = "email"
        self.fields = {**visible, **self.fields}
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        if webform.consent_text:
            self.fields["consent"] = forms.BooleanField(
                label=webform.consent_text,
                required=True,
                widget=ConsentBox,
                error_messages={"required": CONSENT_NEEDED},
            )
            self.fields["consent_version"] = PassThrough()

    @property
    def consent_version_shown(self) -> str:
        """The version of the consent text this form shows (put in the page)."""
        return consent_version(self.webform.consent_text)

    def clean_consent_version(self) -> str:
        shown = str(self.cleaned_data.get("consent_version") or "")
        if shown != self.consent_version_shown:
            # the owner edited the text after the visitor read it: what was ticked is not it
            self.add_error("consent", CONSENT_CHANGED)
        return shown

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("website"):
            self.spam = "honeypot"
            return data
        try:
            self.stamp = stamp_check(str(data.get("ts") or ""), form_key=self.webform.key)
        except StampRefused as refused:
            self.stamp_expired = refused.expired
            raise forms.ValidationError(str(refused), code="stamp") from None
        if self.stamp.age <= min_fill_seconds():
            self.spam = "too_fast"
        return data

    def next_stamp(self) -> str:
        """The stamp for the form shown again. A person who kept the page open too long
        and sends it again at once is not taken for a bot: the new stamp starts early."""
        return rendered_stamp(
            self.webform, head_start=min_fill_seconds() + 1 if self.stamp_expired else 0
        )

    def lead_data(self) -> dict[str, str]:
        """The lead's fields as typed, and ``consent`` ("yes") when the box was ticked."""
        data = {name: self.cleaned_data.get(name) or "" for name in self.webform.fields}
        if self.cleaned_data.get("consent"):
            data["consent"] = "yes"
        return data
