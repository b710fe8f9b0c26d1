"""Writes for web forms: saving a form, and turning a submission into a lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from keepscore.accounts.models import Membership, Organization
from keepscore.followups.assignment import lead_assigned, round_robin_take
from keepscore.leads.models import Channel
from keepscore.leads.services import WEBSITE_FORM_CHANNEL, lead_create
from keepscore.leads.settings_services import channel_create
from keepscore.webforms.models import (
    Assign,
    FormField,
    UsedStamp,
    WebForm,
    WebFormSubmission,
    consent_version,
)
from keepscore.webforms.stamps import Stamp, stamp_max_age

CONSENT_NEEDED = "Tick the box to agree before sending."
#: the page the form was on, as passed by the embed script (cut to the lead's columns)
SOURCE_LIMITS = {
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "referrer": 500,
    "page_url": 500,
}


@dataclass(frozen=True)
class PageSource:
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referrer: str = ""
    page_url: str = ""

    @classmethod
    def of(cls, data: Any) -> PageSource:
        """From a dict or a QueryDict: only the known keys, without NULs, cut to length."""
        return cls(
            **{
                key: str(data.get(key) or "").replace("\x00", "").strip()[:limit]
                for key, limit in SOURCE_LIMITS.items()
            }
        )


@transaction.atomic
def webform_save(
    *,
    organization: Organization,
    name: str,
    fields: list[str],
    consent_text: str = "",
    thank_you_url: str = "",
    active: bool = True,
    assign: str = Assign.NOBODY,
    assign_to: Membership | None = None,
    first_contact_hours: int = 24,
    webform: WebForm | None = None,
) -> WebForm:
    """Create or edit a web form. It must ask for a name or a company (a lead needs one).

    ``assign``: who its new leads go to (nobody, ``assign_to``, or the sales members in
    turn); the assignee's first contact is due within ``first_contact_hours``."""
    known = [f.value for f in FormField]
    chosen = [f for f in known if f in fields]  # in the usual order, each once
    if set(fields) - set(known):
        raise ValidationError({"fields": "Choose from the lead's fields."})
    if FormField.NAME not in chosen and FormField.COMPANY not in chosen:
        raise ValidationError({"fields": "Ask for the name or the company (a lead needs one)."})
    form = webform or WebForm(organization=organization)
    if form.organization_id != organization.pk:
        raise ValidationError("This form belongs to another organization.")
    form.name = (name or "").strip()
    form.fields = chosen
    form.consent_text = (consent_text or "").strip()
    form.thank_you_url = (thank_you_url or "").strip()
    form.active = active
    if assign not in Assign.values:
        raise ValidationError({"assign": "Choose who the form's new leads go to."})
    if assign == Assign.MEMBER:
        if assign_to is None:
            raise ValidationError({"assign_to": "Choose the member who gets the new leads."})
        if assign_to.organization_id != organization.pk:
            raise ValidationError({"assign_to": "Choose a member of this organization."})
    form.assign = assign
    form.assign_to = assign_to if assign == Assign.MEMBER else None
    form.first_contact_hours = first_contact_hours
    form.full_clean()
    form.save()
    return form


def ip_hash(*, ip: str) -> str:
    """The client address, kept only as a keyed hash."""
    return salted_hmac("keepscore.webforms.ip", ip or "").hexdigest()


def _channel(organization: Organization) -> Channel:
    channel = Channel.objects.for_org(organization).filter(key=WEBSITE_FORM_CHANNEL).first()
    if channel is None:
        channel = channel_create(
            organization=organization, key=WEBSITE_FORM_CHANNEL, name="Website form"
        )
    return channel


def assignee_for(*, webform: WebForm) -> Membership | None:
    """Who a new lead of this form goes to: nobody, its named member (nobody once removed),
    or the next sales member in turn (the form's row locked: concurrent posts take turns)."""
    if webform.assign == Assign.MEMBER:
        if webform.assign_to_id is None:
            return None
        return Membership.objects.select_related("user").filter(pk=webform.assign_to_id).first()
    if webform.assign == Assign.ROUND_ROBIN:
        return round_robin_take(WebForm, webform.pk, "round_robin_last")
    return None


class StampUsed(Exception):
    """This stamp already made a lead: the post is a repeat (a double click, a reload, a
    replay) and makes nothing."""


def _stamp_use(stamp: Stamp) -> None:
    """Mark the stamp used, or StampUsed. A concurrent post with the same stamp waits on the
    unique row (PostgreSQL) or the write lock (SQLite) and then finds it taken."""
    now = timezone.now()
    try:
        with transaction.atomic():
            UsedStamp.objects.create(digest=stamp.digest, used_at=now)
    except IntegrityError:
        raise StampUsed from None
    # stamps this old are refused before they get here: their rows are no longer needed
    UsedStamp.objects.filter(used_at__lt=now - timedelta(seconds=stamp_max_age())).delete()


@transaction.atomic
def webform_submit(
    *,
    webform: WebForm,
    data: dict[str, str],
    source: PageSource,
    stamp: Stamp,
    ip: str = "",
) -> WebFormSubmission:
    """A new lead at the first stage, channel ``website-form``, with the page's UTMs and
    referrer. When the form asks for consent, ``data["consent"]`` says the box was ticked
    (refused otherwise); the submission keeps the consent text, its version and when.

    The form's stamp is accepted once: posted again, it raises StampUsed and makes nothing.
    """
    if not webform.active:
        raise ValidationError("This form is closed.")
    if webform.consent_text and not data.get("consent"):
        raise ValidationError({"consent": CONSENT_NEEDED})
    _stamp_use(stamp)
    values: dict[str, Any] = {f: (data.get(f) or "").strip() for f in webform.fields}
    name = values.pop(FormField.NAME, "") or values.get(FormField.COMPANY, "")
    if not name:
        raise ValidationError({"name": "Enter your name."})
    organization = webform.organization
    assignee = assignee_for(webform=webform)
    lead = lead_create(
        organization=organization,
        name=name,
        channel=_channel(organization),
        owner=assignee,
        utm_source=source.utm_source,
        utm_medium=source.utm_medium,
        utm_campaign=source.utm_campaign,
        referrer=source.referrer,
        **values,
    )
    now = timezone.now()
    submission = WebFormSubmission.objects.create(
        organization=organization,
        form=webform,
        lead=lead,
        consent_text=webform.consent_text,
        consent_version=consent_version(webform.consent_text),
        consented_at=now if webform.consent_text else None,
        submitted_at=now,
        ip_hash=ip_hash(ip=ip),
        page_url=source.page_url,
    )
    lead_assigned(lead=lead, assignee=assignee, hours=webform.first_contact_hours, now=now)
    return submission
