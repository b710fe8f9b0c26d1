"""Marketing spend per month, channel and campaign, and the cash position with its runway.
Months are ``YYYY-MM``; amounts are strings with two decimals (``"1200.50"``).

Reading is open to every member's token; writing needs an owner's or a marketing member's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from keepscore.api.auth import member_of, organization_of
from keepscore.api.schemas import ERRORS, MAX_ID, ErrorOut, Money, MonthQuery, Text, money
from keepscore.common.months import month_str
from keepscore.economics import selectors, services

router = Router(tags=["spend"])
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 403: ErrorOut}
SpendId = Path(..., ge=1, le=MAX_ID)
MONTH = "YYYY-MM"


class SpendOut(Schema):
    id: int
    month: str = Field(description=MONTH)
    channel: str = Field(description="The channel's key.")
    campaign: str = Field(description="Empty: the channel's spend outside any campaign.")
    amount: str
    note: str
    by: str | None = Field(description="The email of who set it.")
    updated_at: datetime

    @staticmethod
    def of(row: selectors.SpendRow) -> SpendOut:
        return SpendOut(
            id=row.id,
            month=month_str(row.month),
            channel=row.channel,
            campaign=row.campaign,
            amount=money(row.amount) or "0.00",
            note=row.note,
            by=row.by or None,
            updated_at=row.updated_at,
        )


class SpendListOut(Schema):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from", description="The first month asked for.")
    to: str | None = Field(description="The last month asked for.")
    items: list[SpendOut]
    channel_totals: dict[str, str] = Field(description="Channel key -> its spend.")
    total: str


class SpendFilters(Schema):
    model_config = ConfigDict(populate_by_name=True)

    from_: MonthQuery | None = Field(None, alias="from", description="First month, YYYY-MM.")
    to: MonthQuery | None = Field(None, description="Last month, YYYY-MM.")
    channel: Text | None = Field(
        None, description="Only this channel (key or name).", max_length=100
    )


class SpendIn(Schema):
    month: Text = Field(description=MONTH)
    channel: Text = Field(description="The channel's key or name.")
    campaign: Text = Field("", description="A campaign of the channel; empty for none.")
    amount: Money = Field(description="Set, not added: it replaces what the month had.")
    note: Text = ""


class CashOut(Schema):
    month: str = Field(description=MONTH)
    cash_on_hand: str
    monthly_fixed_costs: str
    runway_months: str | None = Field(
        description="cash on hand / monthly fixed costs; null without fixed costs."
    )
    note: str
    by: str | None
    updated_at: datetime

    @staticmethod
    def of(row: selectors.CashRow) -> CashOut:
        return CashOut(
            month=row.month_text,
            cash_on_hand=money(row.cash_on_hand) or "0.00",
            monthly_fixed_costs=money(row.monthly_fixed_costs) or "0.00",
            runway_months=money(row.runway),
            note=row.note,
            by=row.by or None,
            updated_at=row.updated_at,
        )


class CashListOut(Schema):
    current: CashOut | None = Field(description="The latest entry up to this month.")
    items: list[CashOut] = Field(description="Every entry, the latest month first.")


class CashIn(Schema):
    month: Text = Field(description=f"{MONTH}: this month or an earlier one.")
    cash_on_hand: Money = Field(description="May be negative (an overdraft).")
    monthly_fixed_costs: Money
    note: Text = ""


@router.get(
    "/spend",
    response={200: SpendListOut, **ERRORS},
    by_alias=True,
    summary="Spend per month, channel and campaign",
)
def spend_list(request: HttpRequest, filters: Query[SpendFilters]) -> Any:
    """Every spend row from ``from`` to ``to`` (both included; all months when left out),
    with the totals per channel and in all."""
    table = selectors.spend_for(
        organization=organization_of(request),
        first_month=filters.from_,
        last_month=filters.to,
        channel=filters.channel,
    )
    return SpendListOut(
        **{"from": month_str(table.first) if table.first else None},
        to=month_str(table.last) if table.last else None,
        items=[SpendOut.of(r) for r in table.rows],
        channel_totals={k: money(v) or "0.00" for k, v in table.channel_totals.items()},
        total=money(table.total) or "0.00",
    )


@router.put(
    "/spend",
    response={200: SpendOut, **WRITE_ERRORS},
    summary="Set the spend of a month, channel and campaign",
)
def spend_put(request: HttpRequest, payload: SpendIn) -> Any:
    organization = organization_of(request)
    row = services.spend_set(
        organization=organization,
        month=payload.month,
        channel=payload.channel,
        amount=payload.amount,
        campaign=payload.campaign,
        note=payload.note,
        by=member_of(request),
    )
    return SpendOut.of(selectors.spend_row(row=row))


@router.delete(
    "/spend/{spend_id}", response={204: None, **WRITE_ERRORS}, summary="Remove a spend row"
)
def spend_remove(request: HttpRequest, spend_id: int = SpendId) -> Any:
    organization = organization_of(request)
    found = selectors.spend_get(organization=organization, spend_id=spend_id)
    if found is None:
        raise Http404("No such spend")
    services.spend_delete(organization=organization, spend=found)
    return Status(204, None)


@router.get("/cash", response={200: CashListOut, **ERRORS}, summary="The cash position")
def cash_list(request: HttpRequest) -> Any:
    """The current position (the latest entry up to this month) with its runway, and every
    entry."""
    organization = organization_of(request)
    current = selectors.cash_current(organization=organization)
    return CashListOut(
        current=CashOut.of(selectors.cash_row(position=current)) if current is not None else None,
        items=[CashOut.of(r) for r in selectors.cash_history(organization=organization)],
    )


@router.put("/cash", response={200: CashOut, **WRITE_ERRORS}, summary="Set a month's cash")
def cash_put(request: HttpRequest, payload: CashIn) -> Any:
    row = services.cash_set(
        organization=organization_of(request),
        month=payload.month,
        cash_on_hand=payload.cash_on_hand,
        monthly_fixed_costs=payload.monthly_fixed_costs,
        note=payload.note,
        by=member_of(request),
    )
    return CashOut.of(selectors.cash_row(position=row))
