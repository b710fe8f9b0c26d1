"""The focus diagnosis as JSON: ``GET /focus?date=YYYY-MM-DD``. Any member's token may read
it. The body is ``keepscore.focus.selectors.diagnosis_json`` (docs/focus.md), the same as
``keepscore focus --format json``.
"""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS, Day
from keepscore.focus.forms import EARLIEST
from keepscore.focus.selectors import diagnose, diagnosis_json

router = Router(tags=["focus"])

Status = Literal["alert", "watch", "ok", "info", "missing"]
Side = Literal["sales", "marketing", "margins", "cash"]
Confidence = Literal["high", "medium", "low", "none"]


class IndicatorOut(Schema):
    key: str = Field(description="cash_runway, sales_conversations, best_channels, …")
    title: str
    question: int | None = Field(
        description="Which of the five questions it answers (1…5); null for the indicators."
    )
    status: Status = Field(
        description="alert: pushes toward its side; watch: worth a look; ok; info: an "
        "answer that pushes nowhere; missing: the data to judge is not there."
    )
    pushes: Side | None = Field(description="The side an alert pushes toward.")
    value: float | None = Field(description="The headline number, in `unit`.")
    unit: str
    confidence: Confidence
    evidence: dict[str, Any] = Field(description="The numbers behind it (counts, rates, trend).")
    explanation: str = Field(description="One sentence a business owner understands.")


class FocusOut(Schema):
    organization: str
    currency: str = Field(
        description="The organization's currency (ISO 4217, e.g. 'EUR'): "
        "what the money figures are in."
    )
    as_of: str = Field(description="YYYY-MM-DD: the data as it stood at the end of this day.")
    recommendation: Literal["sales", "marketing", "margins", "cash", "balanced", "not_enough_data"]
    confidence: Confidence
    sentence: str
    missing: list[str] = Field(description="What is needed before advising (when not enough).")
    scores: dict[str, int] = Field(description="Alerts per side.")
    indicators: list[IndicatorOut]


class FocusIn(Schema):
    date: Day | None = Field(None, description="YYYY-MM-DD, up to today; default: today.")


@router.get(
    "/focus",
    response={200: FocusOut, **ERRORS},
    summary="Focus on sales or marketing? The diagnosis with its indicators",
)
def focus_get(request: HttpRequest, filters: Query[FocusIn]) -> Any:
    """The recommendation (sales, marketing, margins, cash, balanced, or not_enough_data),
    its confidence and sentence, and every indicator with its status and evidence."""
    day = filters.date
    if day is not None and not EARLIEST <= day <= timezone.localdate():
        raise ValidationError({"date": f"Choose a day from {EARLIEST} to today."})
    return diagnosis_json(diagnosis=diagnose(organization_of(request), day))
