"""Follow-ups: the next step with a lead (what, when, who), open until done.

A follow-up is a plan, not history: it can be rescheduled, reassigned and done. What was
actually done is an activity (logged when a follow-up that was one is marked done).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import models

from keepscore.activities.models import ActivityKind
from keepscore.common.models import OrgOwned


class FollowUpKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    PROPOSAL = "proposal", "Send proposal"
    OTHER = "other", "Other"


#: the activity a follow-up of each kind is when done (a call: reached them or not)
ACTIVITY_OF = {
    FollowUpKind.EMAIL: ActivityKind.EMAIL,
    FollowUpKind.MEETING: ActivityKind.MEETING,
    FollowUpKind.PROPOSAL: ActivityKind.PROPOSAL,
}


class FollowUp(OrgOwned):
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="followups")
    kind = models.CharField(max_length=10, choices=FollowUpKind.choices)
    due_on = models.DateField("due")
    due_time = models.TimeField("at", null=True, blank=True)
    owner = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
        help_text="Who does it; the lead's owner unless said otherwise.",
    )
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the activity logged when it was done (a call, an email, …), if it was one
    activity = models.ForeignKey(
        "activities.Activity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
    )

    class Meta:
        ordering = ["due_on", "due_time", "id"]
        indexes = [
            models.Index(fields=["organization", "done_at", "due_on"], name="followup_org_due"),
            models.Index(fields=["lead", "done_at"], name="followup_lead_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on:%Y-%m-%d}"

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def overdue(self, now: datetime) -> bool:
        """Open and past due: a day before ``now``'s, or today at a time already passed."""
        if self.done_at is not None:
            return False
        today = now.date()
        if self.due_on != today:
            return self.due_on < today
        return self.due_time is not None and self.due_time < now.time()

    def due_today(self, today: date) -> bool:
        return self.done_at is None and self.due_on == today


class DigestSent(OrgOwned):
    """A morning digest sent to a member for a local day: one per member and day, so the
    hourly run (or a late one after a stop) sends it once (keepscore.followups.digest)."""

    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.CASCADE, related_name="digests"
    )
    day = models.DateField()
    due_today = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "day"], name="digest_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"digest {self.day:%Y-%m-%d}"
