"""A year's plan as the owner set it: the goal, and the assumptions they changed (the rest
are measured each time the plan is read)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from keepscore.common.models import OrgOwned, organization_key


class YearPlan(OrgOwned):
    class GoalKind(models.TextChoices):
        REVENUE = "revenue", "Revenue"
        MARGIN = "margin", "Margin"
        CUSTOMERS = "customers", "Customers"

    organization = organization_key(db_index=False)  # the unique (organization, year) leads
    year = models.PositiveSmallIntegerField()
    goal_kind = models.CharField(max_length=10, choices=GoalKind.choices)
    goal_amount = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    #: the assumptions set by hand: {"to_customer": 0.3, "deal_value": 2500, "cycle_months":
    #: 1, "share:<channel key>": 0.4, "cost_per_lead:<channel key>": 35, ...}
    overrides = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(
        "accounts.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    #: when the plan last wrote the scorecard's targets (None: never)
    accepted_at = models.DateTimeField(null=True, blank=True)
    #: what it wrote then: {"<metric key>:<YYYY-MM>": "<value>"} — a target that still holds
    #: its value is the plan's (the next acceptance may change it); any other was typed by hand
    written = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="yearplan_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.goal_kind} {self.goal_amount}"
