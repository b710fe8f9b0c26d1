"""Deal outcomes: won (revenue, cost, margin) or lost (with a reason), per lead and for the
organization."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from keepscore.api.activities import From, To
from keepscore.api.auth import organization_of
from keepscore.api.leads import LeadId, Limit, Offset, channel_by_key, lead_get, page
from keepscore.api.schemas import ERRORS, Day, DealLineOut, Key, lines_of, money
from keepscore.common.days import DateRange
from keepscore.leads.models import DealOutcome

router = Router(tags=["outcomes"])

ChannelKey = Query(None, description="The key of the lead's channel.")


class DealOutcomeOut(Schema):
    id: int
    lead: int = Field(description="The lead's id.")
    lead_name: str
    result: DealOutcome.Result
    at: datetime
    revenue: str | None = Field(description="Won deals: the revenue, e.g. '1200.50'.")
    cost: str | None = Field(description="Won deals: the cost of the sale, if recorded.")
    margin: str | None = Field(
        description="Won deals: revenue minus cost; null when the cost was not recorded."
    )
    lost_reason: str | None = Field(description="Lost deals: the reason's name.")
    lost_note: str
    stage_change: int = Field(description="The id of the move that closed the deal.")
    lines: list[DealLineOut] = Field(description="Won deals: the products sold, if any.")

    @staticmethod
    def of(outcome: DealOutcome) -> DealOutcomeOut:
        return DealOutcomeOut(
            id=outcome.pk,
            lead=outcome.lead_id,
            lead_name=outcome.lead.name,
            result=DealOutcome.Result(outcome.result),
            at=outcome.at,
            revenue=money(outcome.revenue),
            cost=money(outcome.cost),
            margin=money(outcome.margin),
            lost_reason=outcome.lost_reason.name if outcome.lost_reason else None,
            lost_note=outcome.lost_note,
            stage_change=outcome.stage_change_id,
            lines=lines_of(outcome),
        )


class DealOutcomePage(Schema):
    items: list[DealOutcomeOut]
    count: int


def _outcomes() -> QuerySet[DealOutcome]:
    return (
        DealOutcome.objects.select_related("lead", "lost_reason")
        .prefetch_related("lines__product")
        .order_by("-at", "-id")
    )


@router.get("/outcomes", response={200: DealOutcomePage, **ERRORS}, summary="List deal outcomes")
def outcomes_list(
    request: HttpRequest,
    result: DealOutcome.Result | None = None,
    from_: Day | None = From,
    to: Day | None = To,
    channel: Key | None = ChannelKey,
    limit: int = Limit,
    offset: int = Offset,
) -> Any:
    organization = organization_of(request)
    qs = _outcomes().filter(organization=organization)
    if result:
        qs = qs.filter(result=result)
    qs = qs.filter(DateRange(from_, to).moments("at"))
    if channel is not None:
        qs = qs.filter(lead__channel=channel_by_key(organization, channel))
    count, outcomes = page(qs, limit, offset)
    return {"items": [DealOutcomeOut.of(o) for o in outcomes], "count": count}


@router.get(
    "/leads/{lead_id}/outcomes",
    response={200: list[DealOutcomeOut], **ERRORS},
    summary="A lead's deal outcomes",
)
def lead_outcomes(request: HttpRequest, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    return [DealOutcomeOut.of(o) for o in _outcomes().filter(lead=lead)]
