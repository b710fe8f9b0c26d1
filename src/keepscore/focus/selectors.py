"""Focus's reads for other code: diagnose, the diagnoses kept with a review, the diagnosis
as JSON.

Focus: where to put the effort now — sales, marketing, margins or cash — with the evidence.
The views, the API, the CLI and the other apps call it through this module:

- :func:`diagnose` and :class:`Diagnosis` come from
  :mod:`keepscore.focus.recommendation` (the recommendation and its sentence), ``LABELS`` and
  ``RECOMMENDATIONS`` from :mod:`keepscore.focus.models`;
- :class:`Indicator` from :mod:`keepscore.focus.indicators` (one module per group of
  indicators: ``money``, ``sales``, ``stall``, ``channels``, ``goal``);
- here: :func:`kept_for` (the diagnoses kept with a month's review, ``KeptDiagnosis``) and
  :func:`diagnosis_json`; keeping one is :func:`keepscore.focus.services.keep`.

The rules and thresholds are in docs/focus.md.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from keepscore.accounts.models import Organization
from keepscore.focus.indicators import Indicator
from keepscore.focus.models import LABELS, RECOMMENDATIONS, KeptDiagnosis
from keepscore.focus.recommendation import Diagnosis, diagnose

__all__ = [
    "LABELS",
    "RECOMMENDATIONS",
    "Diagnosis",
    "Indicator",
    "diagnose",
    "diagnosis_json",
    "kept_for",
]


def kept_for(*, organization: Organization, month: date) -> list[KeptDiagnosis]:
    """The diagnoses kept with a month's review, newest first."""
    return list(
        KeptDiagnosis.objects.for_org(organization)
        .filter(month=month.replace(day=1))
        .select_related("by")
        .order_by("-created_at", "-id")
    )


def _finite(value: Any) -> Any:
    """JSON-safe: no NaN or infinity anywhere in the evidence."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def diagnosis_json(*, diagnosis: Diagnosis) -> dict[str, Any]:
    return _finite(diagnosis.as_dict())
