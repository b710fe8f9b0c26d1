"""Activity counts as JSON: ``GET /activity?from=&to=&grain=&by=``. Any member's token may
read them.

Dates are ``YYYY-MM-DD`` local dates (``settings.TIME_ZONE``); without them the period is the
last 3 full calendar months. The body is ``keepscore.funnel.activity_views.report_dict``; the
counts come from ``keepscore.funnel.selectors.activity_counts`` (docs/numbers.md, "Activity
counts").
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.funnel import PeriodIn, PeriodOut
from keepscore.api.schemas import ERRORS, Day
from keepscore.common.periods import Period
from keepscore.funnel.activity import activity_default_period, report_dict, span_check
from keepscore.funnel.filters import PeriodProblem

router = Router(tags=["funnel"])


class ActivityCountRowOut(Schema):
    bucket_start: date = Field(
        description="The first day of the week (Monday), month or quarter; it can fall before "
        "the period starts (only activities in the period are counted)."
    )
    member_id: int | None = Field(
        description="The membership that logged the activities; null for activities logged by "
        "no one, and for the totals and the rows of by=all."
    )
    member_label: str = Field(description="The member's name or email, '(none)', or 'All members'.")
    call_attempts: int
    connects: int = Field(description="Connects, with a buyer or not.")
    sales_conversations: int = Field(
        description="Connects and meetings with someone who can buy (with_buyer)."
    )
    qualifying: int = Field(description="Qualifying conversations.")
    meetings: int = Field(description="Meetings, with a buyer or not.")
    presentations: int
    proposals: int = Field(description="Proposals sent.")
    conversations_won: int = Field(
        description="Sales conversations whose lead has a won outcome dated at or after the "
        "conversation (a later win counts, so this can grow after the period)."
    )
    won_share: float | None = Field(
        description="conversations_won / sales_conversations; null without sales conversations."
    )


class ActivityCountsOut(Schema):
    period: PeriodOut
    grain: Literal["week", "month", "quarter"]
    by: Literal["member", "all"]
    rows: list[ActivityCountRowOut] = Field(
        description="Every bucket overlapping the period (empty ones included); with "
        "by=member, one per bucket and member who logged an activity in the period, ordered "
        "by bucket, then member label."
    )
    totals: list[ActivityCountRowOut] = Field(description="One row per bucket: all members.")


class ActivityCountsIn(PeriodIn):
    from_: Day | None = Field(None, alias="from", description="YYYY-MM-DD; default: 3 months ago.")
    to: Day | None = Field(None, description="YYYY-MM-DD; default: the end of last month.")
    grain: Literal["week", "month", "quarter"] = Field(
        "month", description="Count per week (from Monday), month or quarter."
    )
    by: Literal["member", "all"] = Field(
        "member", description="member: a row per member; all: all members together."
    )

    @staticmethod
    def default() -> Period:
        return activity_default_period()

    def period(self) -> Period:
        period = super().period()
        try:
            span_check(period, self.grain)
        except PeriodProblem as problem:
            raise ValidationError({problem.field: str(problem)}) from None
        return period


@router.get(
    "/activity",
    response={200: ActivityCountsOut, **ERRORS},
    by_alias=True,
    summary="Activity counts per week, month or quarter, per member",
)
def activity_get(request: HttpRequest, filters: Query[ActivityCountsIn]) -> Any:
    """Call attempts, connects, sales conversations, qualifying conversations, meetings,
    presentations, proposals and the sales conversations that led to a won deal, per bucket
    (and per member), with a totals row per bucket."""
    period = filters.period()
    return report_dict(organization_of(request), period, filters.grain, filters.by == "member")
