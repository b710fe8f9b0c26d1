"""Kept diagnoses: the focus as it was computed when a month's scorecard was reviewed, so
past diagnoses can be seen as they were (the data behind them may change afterwards)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from keepscore.common.models import OrgOwned, organization_key

#: what a diagnosis may recommend, and how the pages say it
RECOMMENDATIONS = ("sales", "marketing", "margins", "cash", "balanced", "not_enough_data")
LABELS = {
    "sales": "Focus on sales",
    "marketing": "Focus on marketing",
    "margins": "Fix the margins",
    "cash": "Mind the cash",
    "balanced": "Balanced: keep the rhythm",
    "not_enough_data": "Not enough data yet",
}


class KeptDiagnosis(OrgOwned):
    """One diagnosis, kept with a month's scorecard (append-only: a new review keeps a new
    one)."""

    organization = organization_key(db_index=False)  # kept_org_month starts with it
    month = models.DateField(help_text="The scorecard's month (its first day).")
    as_of = models.DateField(help_text="The date the diagnosis was computed for.")
    recommendation = models.CharField(max_length=20)
    confidence = models.CharField(max_length=10)
    #: the whole diagnosis as ``keepscore focus --format json`` prints it
    payload = models.JSONField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "month"], name="kept_org_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.recommendation}"

    @property
    def label(self) -> str:
        return LABELS.get(self.recommendation, self.recommendation)
