"""Manual metrics and their monthly values, targets, annual goals and the monthly review.

Months are stored as the first day of the month (``month`` columns are ``DateField``); targets
and goals name their metric by key, so they hold for computed and manual metrics alike.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models

from keepscore.common.models import OrgOwned
from keepscore.scorecard.types import MetricDef

GROUP_CHOICES = [
    ("SUSPECT", "Suspect"),
    ("PROSPECT", "Prospect"),
    ("LEAD", "Lead"),
    ("CUSTOMER", "Customer"),
]
UNIT_CHOICES = [
    ("count", "Count"),
    ("money", "Money"),
    ("percent", "Percent"),
    ("days", "Days"),
    ("number", "Number"),
]
#: every value column: up to 12 digits before the point and 4 after
VALUE_DIGITS = 16
VALUE_PLACES = 4


def _value_field() -> models.DecimalField:
    return models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)


class ManualMetric(OrgOwned):
    """A metric the business enters or imports each month (website visitors, downloads, …)."""

    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    group = models.CharField(max_length=10, choices=GROUP_CHOICES)
    unit = models.CharField(max_length=10, choices=UNIT_CHOICES, default="count")
    higher_is_better = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], name="scorecard_manual_metric_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def definition(self) -> MetricDef:
        return MetricDef(
            key=self.key,
            name=self.name,
            group=self.group,
            unit=self.unit,  # type: ignore[arg-type]
            manual=True,
            higher_is_better=self.higher_is_better,
            description=self.description,
        )


class ManualValue(OrgOwned):
    """A manual metric's value for one month (set again, never added to)."""

    metric = models.ForeignKey(ManualMetric, on_delete=models.CASCADE, related_name="values")
    month = models.DateField(help_text="The first day of the month.")
    value = _value_field()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["month", "metric_id"]
        indexes = [models.Index(fields=["organization", "month"], name="scorecard_value_org_month")]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "month"], name="scorecard_manual_value_unique"
            ),
        ]


class Target(OrgOwned):
    """A metric's target for one month."""

    metric_key = models.CharField(max_length=130)
    month = models.DateField(help_text="The first day of the month.")
    value = _value_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["month", "metric_key"]
        indexes = [
            models.Index(fields=["organization", "month"], name="scorecard_target_org_month")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "metric_key", "month"], name="scorecard_target_unique"
            ),
        ]


class Goal(OrgOwned):
    """A metric's annual goal (revenue, customers, …)."""

    metric_key = models.CharField(max_length=130)
    year = models.PositiveSmallIntegerField()
    value = _value_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year", "metric_key"]
        indexes = [models.Index(fields=["organization", "year"], name="scorecard_goal_org_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "metric_key", "year"], name="scorecard_goal_unique"
            ),
        ]


class ReviewKind(models.TextChoices):
    NOTE = "note", "Note"
    DECISION = "decision", "Decision"


class ReviewEntry(OrgOwned):
    """Append-only: a note or decision of a month's review meeting. Never edited or deleted."""

    month = models.DateField(help_text="The first day of the month reviewed.")
    kind = models.CharField(max_length=8, choices=ReviewKind.choices, default=ReviewKind.NOTE)
    text = models.TextField()
    # PROTECT, not SET_NULL: nulling it would rewrite the record of who wrote what
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["organization", "month"], name="scorecard_review_org_month")
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="scorecard_review_text"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind}: {self.text[:40]}"


#: the meeting's "which weekday of the month" and its weekday (Monday 0, as date.weekday())
WHICH_CHOICES = [(1, "First"), (2, "Second"), (3, "Third"), (4, "Fourth"), (5, "Last")]
WEEKDAY_CHOICES = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ReviewMeeting(OrgOwned):
    """The organization's monthly review meeting: "the <which> <weekday> of the month" at
    a time of day (the app's time zone), who attends, and how many days before it the
    month's scorecard goes to them (``keepscore.reports.review_mail``). One per
    organization; attendees are members of that organization only (the services check)."""

    which = models.PositiveSmallIntegerField(
        "which weekday of the month",
        choices=WHICH_CHOICES,
        default=1,
    )
    weekday = models.PositiveSmallIntegerField(
        choices=WEEKDAY_CHOICES,
        default=1,
    )
    at = models.TimeField("time", default=time(9, 0))
    days_before = models.PositiveSmallIntegerField(
        "days before", default=2, help_text="How many days before the meeting the mail goes."
    )
    active = models.BooleanField("send the scorecard before the meeting", default=True)
    attendees = models.ManyToManyField(
        "accounts.Membership", blank=True, related_name="review_meetings"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="scorecard_meeting_one"),
            models.CheckConstraint(
                condition=models.Q(which__gte=1, which__lte=5), name="scorecard_meeting_which"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="scorecard_meeting_weekday"
            ),
            models.CheckConstraint(
                condition=models.Q(days_before__lte=28), name="scorecard_meeting_days_before"
            ),
        ]


class ReviewMailSent(OrgOwned):
    """What the review mail sent: one row per organization and month reviewed, so the
    hourly run (or a second worker) never sends a month's mail twice. A mail sent by hand
    (``keepscore review send``) is not recorded here and does not stop the scheduled one."""

    month = models.DateField(help_text="The first day of the month reviewed.")
    meeting_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    recipients = models.TextField(help_text="The addresses it went to, one a line.")

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month"], name="scorecard_review_mail_once"
            ),
        ]


class DataRevision(OrgOwned):
    """How many times the organization's data has changed: one row per organization, its
    ``revision`` raised in the same transaction as every write that can change a report
    (the history through the recorder, targets, goals, spend, the plan, settings…; see
    :mod:`keepscore.scorecard.kept`). A report kept under one revision is never shown once
    the revision has moved on."""

    revision = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="scorecard_data_revision_once"),
        ]

    def __str__(self) -> str:
        return f"data of {self.organization_id}: revision {self.revision}"
