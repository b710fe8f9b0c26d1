"""Channel economics as JSON: ``GET /economics?from=&to=`` (``ChannelEconomics.as_dict()``,
the same as ``keepscore economics --format json``). Any member's token may read them.

Dates are ``YYYY-MM-DD`` local dates (``settings.TIME_ZONE``); without them the period is the
last 12 full calendar months. Figures come from
``keepscore.economics.channels.channel_economics``; ``docs/numbers.md`` ("Channel economics")
says how each is computed.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.funnel import PeriodIn, PeriodOut
from keepscore.api.schemas import ERRORS
from keepscore.economics.channels import channel_economics

router = Router(tags=["economics"])


class LeadConversionOut(Schema):
    k: int = Field(description="Of the period's new leads, those won since.")
    n: int = Field(description="The period's new leads.")
    rate: float | None = Field(description="k / n; null when n is 0.")
    ci_low: float | None = Field(description="The 95% Wilson interval's low end.")
    ci_high: float | None = Field(description="The 95% Wilson interval's high end.")
    enough: bool = Field(description="n reached the minimum (KEEPSCORE_MIN_N, default 20).")


class ChannelEconomicsOut(Schema):
    key: str = Field(description="The channel's key; 'total' for the total row.")
    name: str
    spend: float | None = Field(
        description="The whole spend of every month the period touches; null: none was "
        "recorded for the channel (unknown, not 0)."
    )
    leads: int = Field(description="New leads: first touch in the period.")
    qualified: int = Field(description="Leads that reached the qualified stage in the period.")
    customers: int = Field(description="Leads won for the first time in the period.")
    conversion: LeadConversionOut
    revenue: float = Field(description="Of the deals won in the period.")
    cost: float = Field(description="The recorded costs of those deals.")
    costed_deals: int = Field(description="The deals won in the period with a recorded cost.")
    margin: float | None = Field(
        description="Revenue - cost of the deals with a recorded cost; null: there were won "
        "deals but none has a cost (unknown, not 100%)."
    )
    margin_pct: float | None = Field(
        description="margin / the revenue of the deals with a cost (a fraction); null: none."
    )
    cost_per_lead: float | None = Field(
        description="spend / leads; null without leads or without recorded spend."
    )
    cost_per_customer: float | None = Field(
        description="spend / customers; null without customers or without recorded spend."
    )
    return_on_spend: float | None = Field(
        description="(margin - spend) / spend (a fraction); null without spend or margin."
    )
    payback_months: float | None = Field(
        description="spend / (margin per month of the period); null without spend or without "
        "a positive margin."
    )
    too_small: bool = Field(
        description="Fewer than 5 customers: return on spend and payback rest on too few "
        "deals and are shown as 'not enough data' (the values stay here)."
    )
    too_small_reason: str


class EconomicsOut(Schema):
    currency: str = Field(
        description="The organization's currency (ISO 4217, e.g. 'EUR'): "
        "what the money figures are in."
    )
    period: PeriodOut
    months: float = Field(description="The period's length in months.")
    qualified_stage: str | None = Field(
        description="The key of the stage counted as qualified: the first stage behind the "
        "qualification gate, else the stage keyed 'qualified'; null when there is neither."
    )
    min_leads: int
    min_customers: int
    channels: list[ChannelEconomicsOut] = Field(
        description="By channel name: every active channel, and an inactive one with a figure."
    )
    total: ChannelEconomicsOut


@router.get(
    "/economics",
    response={200: EconomicsOut, **ERRORS},
    by_alias=True,
    summary="Channel economics: spend, leads, customers, margin and return per channel",
)
def economics_get(request: HttpRequest, filters: Query[PeriodIn]) -> Any:
    """Per channel (the lead's original source) and in total: spend, new leads, qualified
    leads, customers, conversion (k of n, 95% Wilson interval), revenue, cost, margin, cost
    per lead, cost per customer, return on spend and payback months."""
    return channel_economics(organization_of(request), filters.period()).as_dict()
