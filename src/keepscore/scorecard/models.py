"""Manual metrics and their monthly values, targets, annual goals and the monthly review.

Months are stored as the first day of the month (``month`` columns are ``DateField``); targets
and goals name their metric by key, so they hold for computed and manual metrics alike.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from keepscore.common.models import OrgOwned
from keepscore.scorecard.catalogue import MetricDef

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
