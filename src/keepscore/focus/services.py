"""The focus's one write: keep a month's diagnosis with a new review entry (called by the
scorecard's review, through ``scorecard.services.REVIEW_KEEPERS``). Reading the diagnosis is
``focus.selectors``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.focus.models import KeptDiagnosis
from keepscore.focus.recommendation import diagnose
from keepscore.focus.selectors import diagnosis_json


def keep(*, organization: Organization, month: date, by: Any = None) -> KeptDiagnosis:
    """Keep the diagnosis of a month's scorecard with its review: as of the month's last day
    (or today, for the month in progress). Called by each new review entry."""
    day = min(Period.month(month).end, timezone.localdate())
    diagnosis = diagnose(organization, day)
    return KeptDiagnosis.objects.create(
        organization=organization,
        month=month.replace(day=1),
        as_of=diagnosis.as_of,
        recommendation=diagnosis.recommendation,
        confidence=diagnosis.confidence,
        payload=diagnosis_json(diagnosis=diagnosis),
        by=by,
    )
