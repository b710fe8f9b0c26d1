"""Two reports as JSON; any member's token may read them.

- ``GET /jobs?from=&to=``: marketing and sales, two jobs — per member and month, the time
  split beside leads sourced and qualified, sales conversations, proposals and won deals
  (``keepscore.funnel.jobs``); default period: this month and the five before;
- ``GET /objections/report?from=&to=``: the objections ranked, by month, by the stage at the
  time, by channel, and each tag's trend (``keepscore.funnel.objections``); default period: the
  last 12 full months. (A lead's objections are ``/leads/{lead_id}/objections``.)

Dates are ``YYYY-MM-DD`` local dates (``settings.TIME_ZONE``); a period spans at most 120
months.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.funnel import PeriodIn, PeriodOut
from keepscore.api.schemas import ERRORS, Day
from keepscore.common.periods import Period
from keepscore.funnel.filters import PeriodProblem
from keepscore.funnel.jobs import jobs_default_period, jobs_report, period_check
from keepscore.funnel.objections import objections_default_period, objections_report

router = Router(tags=["reports"])


class _CheckedPeriod(PeriodIn):
    def period(self) -> Period:
        period = super().period()
        try:
            period_check(period)
        except PeriodProblem as problem:
            raise ValidationError({problem.field: str(problem)}) from None
        return period


class JobsIn(_CheckedPeriod):
    from_: Day | None = Field(
        None, alias="from", description="YYYY-MM-DD; default: the first day of 5 months ago."
    )
    to: Day | None = Field(None, description="YYYY-MM-DD; default: the end of this month.")

    @staticmethod
    def default() -> Period:
        return jobs_default_period()


class JobCountsOut(Schema):
    leads_sourced: int = Field(
        description="Leads first touched in the month that the member brought in (sourced by)."
    )
    leads_qualified: int | None = Field(
        description="The leads the member sourced that first reached the qualified stage (or "
        "a later stage that is not lost) in the month; null without a qualified stage."
    )
    sales_conversations: int = Field(
        description="Connects and meetings with someone who can buy, logged by the member."
    )
    proposals: int = Field(description="Proposals sent, logged by the member.")
    won_deals: int = Field(description="Won outcomes of the member's leads dated in the month.")
    revenue: str = Field(description="Their revenue, a decimal string.")
    margin: str | None = Field(
        description="Revenue - cost of those with a recorded cost, a decimal string; null "
        "when none has a cost (unknown, not 100%)."
    )


class JobMonthOut(JobCountsOut):
    month: date = Field(description="The first day of the month.")


class MemberJobsOut(Schema):
    member_id: int | None = Field(description="The membership; null for work credited to no one.")
    label: str
    roles: list[str] = Field(description="owner, marketing, sales.")
    marketing_share: int | None = Field(description="% of time on marketing; null: not set.")
    sales_share: int | None = Field(description="100 - marketing_share; null: not set.")
    months: list[JobMonthOut] = Field(description="Every month overlapping the period.")
    total: JobCountsOut


class StageRefOut(Schema):
    key: str
    name: str


class JobTotalsOut(Schema):
    months: list[JobMonthOut]
    total: JobCountsOut


class JobsOut(Schema):
    period: PeriodOut
    qualified_stage: StageRefOut | None = Field(
        description="The stage 'leads qualified' counts: the first gated open stage, else the "
        "stage keyed 'qualified'."
    )
    members: list[MemberJobsOut]
    totals: JobTotalsOut


@router.get(
    "/jobs",
    response={200: JobsOut, **ERRORS},
    by_alias=True,
    summary="Marketing and sales, two jobs: per member and month",
)
def jobs_get(request: HttpRequest, filters: Query[JobsIn]) -> Any:
    """Each member's time split and roles beside marketing's output (leads sourced, leads
    qualified) and sales' (sales conversations, proposals, won deals with revenue and margin),
    per month of the period and in total."""
    return jobs_report(organization_of(request), filters.period()).as_dict()


class ObjectionsIn(_CheckedPeriod):
    from_: Day | None = Field(None, alias="from", description="YYYY-MM-DD; default: 12 months ago.")
    to: Day | None = Field(None, description="YYYY-MM-DD; default: the end of last month.")

    @staticmethod
    def default() -> Period:
        return objections_default_period()


class TagCountOut(Schema):
    tag: str
    label: str
    count: int
    share: float = Field(description="count / all objections of the period.")


class BreakdownOut(Schema):
    key: str = Field(
        description="A month (YYYY-MM-DD), a stage key ('' before any) or a channel key."
    )
    label: str
    counts: dict[str, int] = Field(description="Per tag of the ranked list.")
    total: int


class TagTrendOut(Schema):
    tag: str
    label: str
    months: list[date]
    counts: list[int]
    total: int
    slope_per_month: float = Field(
        description="Least-squares slope, objections per month per month."
    )
    z: float | None
    p_value: float | None = Field(description="Two-sided Poisson score test for a trend.")
    enough: bool = Field(description="At least KEEPSCORE_MIN_N (20) objections in the window.")
    rising: bool = Field(description="enough, slope > 0 and p < 0.05.")


class ObjectionsOut(Schema):
    period: PeriodOut
    total: int
    tags: list[TagCountOut] = Field(description="Most common first.")
    months: list[BreakdownOut]
    stages: list[BreakdownOut] = Field(
        description="By the stage the lead was at when the objection was logged."
    )
    channels: list[BreakdownOut] = Field(description="By the lead's original channel.")
    trends: list[TagTrendOut] = Field(
        description="Every tag over the 12 full months ending with the period's last month."
    )


@router.get(
    "/objections/report",
    response={200: ObjectionsOut, **ERRORS},
    by_alias=True,
    summary="The objections report: ranked, by month, stage at the time and channel; trends",
)
def objections_get(request: HttpRequest, filters: Query[ObjectionsIn]) -> Any:
    """The period's objections with count and share, broken down by month, by the stage the
    lead was at then (from the stage history) and by channel, and each tag's trend."""
    return objections_report(organization_of(request), filters.period()).as_dict()
