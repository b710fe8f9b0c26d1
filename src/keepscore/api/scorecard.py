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
from keepscore.common.months import month_parse
from keepscore.reports.month import plan_json
from keepscore.scorecard.compute import scorecard_json
from keepscore.scorecard.kept import scorecard_kept

router = Router(tags=["scorecard"])


class ScorecardMetricOut(Schema):
    key: str
    group: Literal["SUSPECT", "PROSPECT", "LEAD", "CUSTOMER"]
    name: str
    unit: Literal["count", "money", "percent", "days", "number"]
    value: float | None = Field(description="This month; percentages as fractions 0..1.")
    enough: bool = Field(
        description="False: the value rests on too little data and is shown as 'not enough "
        "data' (no change is given)."
    )
    recorded: bool = Field(
        description="False: what the value needs (spend) was never recorded; the value is null."
    )
    previous: float | None = Field(description="The whole of last month.")
    previous_same_days: float | None = Field(
        description="While the month runs: the same days of last month (flows only)."
    )
    change: float | None = Field(
        description="value - previous; while the month runs, value - previous_same_days. "
        "Null when either is missing or not enough data."
    )
    same_month_last_year: float | None
    same_month_last_year_same_days: float | None = Field(
        description="While the month runs: the same days of that month last year."
    )
    target: float | None = Field(description="This month's target.")
    ytd: float | None = Field(description="Year to date: a sum, or recomputed for rates.")
    goal: float | None = Field(description="The annual goal.")
    projected_year_end: float | None
    projected_low: float | None = Field(description="95% interval of the projection.")
    projected_high: float | None
    pace: Literal["ahead", "on_track", "at_risk", "behind", "not_enough_data"] | None = Field(
        description="Only with an annual goal (see docs/numbers.md, 'Pace')."
    )
    run_rate: float | None = Field(description="The mean of the run-rate months, a month.")
    run_months: list[str] = Field(description="The whole months of the run rate, YYYY-MM.")
    months_left: float | None = Field(description="Months of the year after the as-of day.")
    k: int | None = Field(description="Rates: the successes (k of n).")
    n: int | None
    ci_low: float | None = Field(description="Rates: the 95% Wilson interval.")
    ci_high: float | None


class ScorecardReviewOut(Schema):
    kind: Literal["note", "decision"]
    text: str
    by: str
    at: datetime


class MonthToDateOut(Schema):
    days: int = Field(description="Days of the month so far, today included.")
    of_days: int


class PlanCheckOut(Schema):
    verdict: Literal["on_plan", "sales", "marketing", "both", "watch", "early"] = Field(
        description="Where the gap to the saved plan is (docs/focus.md, 'plan_gap')."
    )
    sentence: str
    through: str = Field(description="YYYY-MM: January to this month is counted.")
    leads: int
    leads_plan: float
    customers: int
    customers_plan: float


class ScorecardOut(Schema):
    organization: str
    month: str = Field(description="YYYY-MM")
    currency: str = Field(
        description="The organization's currency (ISO 4217, e.g. 'EUR'): "
        "what the money figures are in."
    )
    month_to_date: MonthToDateOut | None = Field(
        description="While the month runs: how much of it has passed (null once it is over)."
    )
    metrics: list[ScorecardMetricOut]
    reviews: list[ScorecardReviewOut]
    plan: PlanCheckOut | None = Field(
        description="The year to date against the year's saved plan (null without one)."
    )


def _scorecard(request: HttpRequest, month: str) -> dict[str, Any]:
    first = timezone.localdate().replace(day=1) if month == "current" else month_parse(month)
    organization = organization_of(request)
    card = scorecard_kept(organization, first)
    return scorecard_json(card) | {"plan": plan_json(organization, card)}


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
