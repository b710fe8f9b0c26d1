"""Web forms and what was submitted through them."""

from __future__ import annotations

import hashlib
import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from keepscore.common.models import OrgOwned


class FormField(models.TextChoices):
    """The lead fields a web form can ask for."""

    NAME = "name", "Name"
    COMPANY = "company", "Company"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    NOTES = "notes", "Message"


def consent_version(text: str) -> str:
    """The version of a consent text: the first 12 hex digits of its SHA-256. The same text
    has the same version wherever and whenever it is shown (editing it back gives the old
    version back), and anyone holding the text can check the version stored with it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] if text else ""


def new_key() -> str:
    return secrets.token_urlsafe(16)


class Assign(models.TextChoices):
    """Who a web form's new leads go to."""

    NOBODY = "nobody", "Nobody (leave unassigned)"
    MEMBER = "member", "A named member"
    ROUND_ROBIN = "round_robin", "Sales members in turn (round-robin)"


class WebForm(OrgOwned):
    """A form for the business's website. Public at ``/f/<key>/``: the key, never the pk."""

    name = models.CharField(max_length=100)
    fields = models.JSONField(default=list, help_text="Lead fields asked for, in order.")
    consent_text = models.TextField(
        blank=True, help_text="Shown above the submit button and stored with each lead."
    )
    thank_you_url = models.URLField(
        max_length=500, blank=True, help_text="Where to go after a submission (optional)."
    )
    active = models.BooleanField(default=True)
    key = models.CharField(max_length=40, unique=True, default=new_key, editable=False)
    #: who its new leads go to (keepscore.followups.assignment), and their first contact
    assign = models.CharField(max_length=12, choices=Assign.choices, default=Assign.NOBODY)
    assign_to = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member who gets its new leads (when assigned to a named member).",
    )
    first_contact_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text="The assignee's first contact is due within this many hours.",
    )
    #: the membership round-robin assigned a lead to last (an id: a member removed since
    #: still marks the place in the turn)
    round_robin_last = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebFormSubmission(OrgOwned):
    """One accepted submission: the lead it made and, when the form asked for consent, the
    text the visitor ticked, its version (:func:`consent_version`) and when."""

    form = models.ForeignKey(WebForm, on_delete=models.PROTECT, related_name="submissions")
    lead = models.OneToOneField(
        "leads.Lead", on_delete=models.CASCADE, related_name="web_form_submission"
    )
    consent_text = models.TextField(blank=True)
    consent_version = models.CharField(max_length=16, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField()
    ip_hash = models.CharField(max_length=64, blank=True)
    page_url = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]


class UsedStamp(models.Model):
    """A public form's stamp that made a lead: the same stamp posted again makes nothing.

    Written in the lead's transaction; rows older than the stamp's validity are pruned (an
    expired stamp is refused anyway). Holds no personal data and no organization: a digest.
    """

    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.digest
