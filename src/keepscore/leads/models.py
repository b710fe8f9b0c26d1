"""Leads, where they came from, the stage ladder and the append-only stage history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from keepscore.common.days import days_since
from keepscore.common.models import OrgOwned, organization_key
from keepscore.common.recorded import Recorded

#: an erased lead's name (``keepscore.privacy``); its other personal data is blank
ERASED_NAME = "Erased person"
#: what an erasure leaves in a text that may not be empty (the override reason of a stage
#: change that overrode the checklist: the check constraint wants one); the database lets
#: an erasure write only this or "" (migration 0008)
ERASED_TEXT = "(erased)"


class Group(models.TextChoices):
    """The four scorecard groups every stage belongs to."""

    SUSPECT = "SUSPECT", "Suspect"
    PROSPECT = "PROSPECT", "Prospect"
    LEAD = "LEAD", "Lead"
    CUSTOMER = "CUSTOMER", "Customer"


class StageKind(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Channel(OrgOwned):
    """A marketing channel: walk-in, phone, website form, referral, …"""

    name = models.CharField(max_length=100)
    key = models.SlugField(max_length=60)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="channel_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(Recorded):
    """A step of the organization's funnel ladder, with its playbook."""

    name = models.CharField(max_length=60)
    key = models.SlugField(max_length=60)
    position = models.PositiveSmallIntegerField()
    group = models.CharField(max_length=10, choices=Group.choices)
    kind = models.CharField(max_length=5, choices=StageKind.choices, default=StageKind.OPEN)
    requires_qualification = models.BooleanField(
        default=False,
        help_text="Leads reach this stage (or any later open stage) only with every "
        "required qualification criterion met.",
    )
    playbook = models.TextField("how we sell here", blank=True)
    exit_criteria = models.TextField(blank=True, help_text="What must be true to leave.")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="stage_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class LostReason(OrgOwned):
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="lost_reason_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Lead(Recorded):
    """A person or business in the funnel, from first touch to won or lost.

    The original source (channel, campaign, UTM) is fixed at first touch: services never
    change it. Later touches are kept as ``Touch`` rows.
    """

    # the indexes below start with the organization: no index of its own (faster writes)
    organization = organization_key(db_index=False)
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    owner = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.RESTRICT, related_name="leads", db_index=False
    )
    value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Expected deal value.",
    )
    first_touch_at = models.DateTimeField()
    stage_entered_at = models.DateTimeField()
    # original source: set once at first touch
    channel = models.ForeignKey(
        Channel, on_delete=models.RESTRICT, related_name="leads", db_index=False
    )
    campaign = models.CharField(max_length=200, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    #: the source system's id (an import's ``id`` column), to find duplicates
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    #: qualification facts kept from an import (e.g. Olist's business_segment, lead_type)
    facts = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: who brought the lead in (the member who recorded it, or an import's column), apart
    #: from its owner (who works it now): marketing's work is credited by this
    sourced_by = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sourced_leads",
        verbose_name="sourced by",
        help_text="Who brought the lead in; the owner is who works it.",
    )
    #: when the person's data was erased (``keepscore.privacy``): the lead is a tombstone,
    #: its anonymous history still counts
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-first_touch_at", "-id"]
        indexes = [
            # the board reads each column's newest cards from it, backwards, and its counts
            # and values from the index alone (value: 250 to 22 ms at 1M leads); the open
            # pipeline (scorecard, focus) counts the leads open at a moment from it alone
            # (first_touch_at: 440 to 47 ms at 1M leads)
            models.Index(
                fields=["organization", "stage", "stage_entered_at", "value", "first_touch_at"],
                name="lead_org_stage_open",
            ),
            # a member's Today page: their open leads, each stage's in order of entry, and
            # the counts, from the index (not every lead of the organization)
            models.Index(
                fields=["organization", "owner", "stage", "stage_entered_at"],
                name="lead_org_owner_stage",
            ),
            models.Index(fields=["organization", "channel"], name="lead_org_channel"),
            models.Index(fields=["organization", "-first_touch_at"], name="lead_org_touch"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | models.Q(value__gte=0),
                name="lead_value_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def days_at_stage(self) -> int:
        """Calendar days since the lead entered its current stage."""
        return days_since(self.stage_entered_at)


class Touch(Recorded):
    """A later touch: the lead came back through a channel (the first touch is on Lead)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches")
    at = models.DateTimeField()
    channel = models.ForeignKey(Channel, on_delete=models.RESTRICT, related_name="touches")
    campaign = models.CharField(max_length=200, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]


class StageChange(Recorded):
    """Append-only: a lead moved from one stage to another. Never updated.

    A database trigger (see migrations) refuses UPDATE on this table; corrections are new
    stage changes.
    """

    # only the two indexes below (they start with the organization and the lead): every
    # other index would slow the bulk writes of imports; stages and users are rarely deleted
    organization = organization_key(db_index=False)
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.RESTRICT, related_name="+", db_index=False
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.RESTRICT, related_name="+", db_index=False)
    at = models.DateTimeField()
    # PROTECT, not SET_NULL: nulling it would rewrite history (deactivate users instead)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    note = models.TextField(blank=True)
    qualification_override = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # with the lead: the leads of a span's changes into some stages are read from the
            # index alone (the lead lists the reports link to: "first reached the stage in
            # October" at 1,000,000 leads, 467 ms before, 312 ms after)
            models.Index(
                fields=["organization", "to_stage", "at", "lead"], name="sc_org_to_at_lead"
            ),
            models.Index(fields=["lead", "at"], name="sc_lead_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(qualification_override=False) | ~models.Q(override_reason=""),
                name="stage_change_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage_id} → {self.to_stage_id} at {self.at}"


class DealOutcome(Recorded):
    """Won (revenue and cost, so margin) or lost (with a reason), written with the move."""

    class Result(models.TextChoices):
        WON = "won", "Won"
        LOST = "lost", "Lost"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="outcomes")
    stage_change = models.OneToOneField(
        StageChange, on_delete=models.CASCADE, related_name="outcome"
    )
    organization = organization_key(db_index=False)  # outcome_org_at_cover starts with it
    result = models.CharField(max_length=4, choices=Result.choices)
    at = models.DateTimeField()
    revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, null=True, blank=True, on_delete=models.RESTRICT, related_name="outcomes"
    )
    lost_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # covering: the won deals of a span are counted, summed and their leads counted
        # from the index alone (no row read); by revenue: the median deal of a span is read
        # in order, up to its middle (no sort of the span's deals)
        indexes = [
            models.Index(
                fields=["organization", "result", "at", "revenue", "lead"],
                name="outcome_org_at_cover",
            ),
            models.Index(
                fields=["organization", "result", "revenue", "at"], name="outcome_org_revenue"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(result="won", revenue__isnull=False, revenue__gte=0)
                    & (models.Q(cost__isnull=True) | models.Q(cost__gte=0))
                )
                | models.Q(result="lost", lost_reason__isnull=False),
                name="outcome_won_revenue_lost_reason",
            ),
        ]

    @property
    def margin(self) -> Decimal | None:
        """Revenue minus cost; None when either was not recorded (unknown, not 100%)."""
        if self.revenue is None or self.cost is None:
            return None
        return self.revenue - self.cost


class StageCorrection(Recorded):
    """A stage change undone as a mistake: a new entry of the history, never edited.

    The mistaken change (and its deal outcome, if it closed the deal) leaves the table the
    figures read, so it stops counting everywhere; what it said is kept here word for word
    (``change_*`` and ``outcome``), with who undid it, when and why. The lead goes back to
    the stage it came from. Only a lead's latest change can be undone (services: see
    ``keepscore.leads.corrections``).
    """

    organization = organization_key(db_index=False)  # correction_lead starts with the lead
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="corrections")
    #: the undone change as it was: its id, stages, moment, author and note
    change_id = models.BigIntegerField()
    change_from = models.ForeignKey(Stage, on_delete=models.RESTRICT, related_name="+")
    change_to = models.ForeignKey(Stage, on_delete=models.RESTRICT, related_name="+")
    change_at = models.DateTimeField()
    change_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    change_note = models.TextField(blank=True)
    #: the deal outcome it wrote (result, revenue, cost, lost reason, lines), or null
    outcome = models.JSONField(null=True, blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="correction_lead")]

    def __str__(self) -> str:
        return f"{self.lead_id}: undid {self.change_from_id} → {self.change_to_id}"


class QualificationCriterion(OrgOwned):
    """One line of the organization's written definition of a qualified lead."""

    text = models.CharField(max_length=300)
    required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class QualificationAnswer(OrgOwned):
    """Whether a lead meets one criterion, as last ticked."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="qualification")
    criterion = models.ForeignKey(
        QualificationCriterion, on_delete=models.CASCADE, related_name="answers"
    )
    met = models.BooleanField(default=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "criterion"], name="qualification_unique"),
        ]
