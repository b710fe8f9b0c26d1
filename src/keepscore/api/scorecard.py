"""A month's scorecard: ``GET /scorecard/{YYYY-MM}`` and ``GET /scorecard/current``.

The same JSON as ``keepscore scorecard --format json``. Percentages are fractions 0..1
(0.25 is 25%); money is a number in the organization's currency. Every member's token reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS
from keepscore.scorecard import services
from keepscore.scorecard.compute import scorecard_for, scorecard_json

router = Router(tags=["scorecard"])


class ScorecardMetricOut(Schema):
    key: str
    group: Literal["SUSPECT", "PROSPECT", "LEAD", "CUSTOMER"]
    name: str
    unit: Literal["count", "money", "percent", "days", "number"]
    value: float | None = Field(description="This month; percentages as fractions 0..1.")
    previous: float | None = Field(description="Last month.")
    same_month_last_year: float | None
    target: float | None = Field(description="This month's target.")
    ytd: float | None = Field(description="Year to date: a sum, or recomputed for rates.")
    goal: float | None = Field(description="The annual goal.")
    projected_year_end: float | None
    projected_low: float | None = Field(description="95% interval of the projection.")
    projected_high: float | None
    pace: Literal["on_track", "behind"] | None = Field(description="Only with an annual goal.")
    k: int | None = Field(description="Rates: the successes (k of n).")
    n: int | None
    ci_low: float | None = Field(description="Rates: the 95% Wilson interval.")
    ci_high: float | None


class ScorecardReviewOut(Schema):
    kind: Literal["note", "decision"]
    text: str
    by: str
    at: datetime


class ScorecardOut(Schema):
    organization: str
    month: str = Field(description="YYYY-MM")
    metrics: list[ScorecardMetricOut]
    reviews: list[ScorecardReviewOut]


def _scorecard(request: HttpRequest, month: str) -> dict[str, Any]:
    first = (
        timezone.localdate().replace(day=1) if month == "current" else services.month_parse(month)
    )
    return scorecard_json(scorecard_for(organization_of(request), first))


@router.get(
    "/scorecard/current",
    response={200: ScorecardOut, **ERRORS},
    summary="This month's scorecard",
)
def scorecard_current(request: HttpRequest) -> Any:
    """This month's scorecard (the month in progress, in the server's time zone)."""
    return _scorecard(request, "current")


@router.get(
    "/scorecard/{month}",
    response={200: ScorecardOut, **ERRORS},
    summary="A month's scorecard",
)
def scorecard_month(request: HttpRequest, month: str) -> Any:
    """The scorecard of ``month`` (YYYY-MM): each metric with last month, same month last
    year, target, year to date, annual goal and pace; then the month's review."""
    return _scorecard(request, month)
