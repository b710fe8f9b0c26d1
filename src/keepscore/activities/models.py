"""What was done with a lead (activities) and why people hesitate (objections)."""

from __future__ import annotations

from django.db import models

from keepscore.common.models import organization_key
from keepscore.common.recorded import Recorded


class ActivityKind(models.TextChoices):
    CALL_ATTEMPT = "call_attempt", "Call attempt"
    CONNECT = "connect", "Connect"
    QUALIFYING = "qualifying", "Qualifying conversation"
    MEETING = "meeting", "Meeting"
    PRESENTATION = "presentation", "Presentation"
    PROPOSAL = "proposal", "Proposal sent"
    EMAIL = "email", "Email"
    NOTE = "note", "Note"


#: A sales conversation is a connect or meeting with someone who can buy.
SALES_CONVERSATION_KINDS = (ActivityKind.CONNECT, ActivityKind.MEETING)


class Activity(Recorded):
    # the indexes below start with the organization and with the lead
    organization = organization_key(db_index=False)
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    with_buyer = models.BooleanField(
        "with someone who can buy",
        default=False,
        help_text="Makes a connect or meeting a sales conversation.",
    )
    outcome = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            # with_buyer too: the month counts by kind and "with the buyer" (sales
            # conversations) are read from the index alone; the lead too: the focus's
            # conversations of the week, month and quarter by lead (160 to 78 ms at 1M leads)
            models.Index(
                fields=["organization", "kind", "at", "with_buyer", "lead"],
                name="activity_org_kind_lead",
            ),
            models.Index(fields=["lead", "at"], name="activity_lead_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"

    @property
    def is_sales_conversation(self) -> bool:
        return self.with_buyer and self.kind in SALES_CONVERSATION_KINDS


class ObjectionTag(models.TextChoices):
    PRICE = "price", "Price"
    TIMING = "timing", "Timing"
    COMPETITOR = "competitor", "Competitor"
    NEED = "need", "No need"
    TRUST = "trust", "Trust"
    AUTHORITY = "authority", "No authority"
    OTHER = "other", "Other"


class Objection(Recorded):
    """Sales' feedback on why people hesitate or say no, for marketing to answer."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="objections")
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="objections"
    )
    tag = models.CharField(max_length=20, choices=ObjectionTag.choices)
    text = models.TextField(blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="objections",
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "tag", "at"], name="objection_org_tag")]

    def __str__(self) -> str:
        return self.get_tag_display()
