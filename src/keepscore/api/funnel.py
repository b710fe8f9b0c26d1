"""The funnel as JSON: ``GET /funnel`` (the report of ``FunnelReport.as_dict()``) and
``GET /funnel/cycle`` (the sales cycle). Any member's token may read them.

Dates are ``YYYY-MM-DD`` local dates (``settings.TIME_ZONE``); without them the period is
the last 12 full calendar months. Figures come from ``keepscore.funnel.selectors``;
``docs/numbers.md`` says how each is computed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS, Day, Text
from keepscore.common.periods import Period
from keepscore.funnel import selectors
from keepscore.funnel.filters import (
    DEFAULT_BY,
    MAX_WITHIN_DAYS,
    PeriodProblem,
    by_parse,
    default_period,
    period_resolve,
)

router = Router(tags=["funnel"])

BY_HELP = (
    "Group leads by channel (the default), campaign, owner, utm_source, utm_medium, "
    "utm_campaign or fact:<name> (a key of the lead's facts); 'all' for one group of every lead."
)


class _Aliased(Schema):
    model_config = ConfigDict(populate_by_name=True)


class PeriodOut(_Aliased):
    from_: date = Field(alias="from", description="The first day, YYYY-MM-DD (inclusive).")
    to: date = Field(description="The last day, YYYY-MM-DD (inclusive).")


class StageCountOut(Schema):
    key: str
    name: str
    reached: int = Field(description="Leads whose reach date for the stage is in the period.")
    entered: int = Field(description="Leads with a stage change into the stage in the period.")
    skipped: int = Field(
        description="Of the reached, those that reached it by entering a later stage: they "
        "passed it without being observed at it."
    )


class ConversionOut(_Aliased):
    from_: str = Field(alias="from", description="The key of the stage converted from.")
    to: str = Field(description="The key of the stage converted to.")
    overall: bool = Field(
        description="The overall step (the first stage to won): its cohort is every lead "
        "that entered the funnel in the period, at whatever stage."
    )
    k: int = Field(description="Of the cohort, the leads that reached the 'to' stage after.")
    n: int = Field(
        description="The cohort: leads first observed at the 'from' stage in the period (a "
        "stage change into it); for the overall step, leads that entered the funnel in it."
    )
    rate: float | None = Field(description="k / n; null when n is 0.")
    ci_low: float | None = Field(description="The 95% Wilson interval's low end.")
    ci_high: float | None = Field(description="The 95% Wilson interval's high end.")
    enough: bool = Field(description="n reached the minimum (KEEPSCORE_MIN_N, default 20).")


class GroupOut(Schema):
    key: str = Field(description="The group's key: a channel key, a member id or a text.")
    label: str
    stages: list[StageCountOut] = Field(description="In ladder order, lost stage(s) last.")
    conversions: list[ConversionOut] = Field(
        description="Each consecutive pair of stages that are not lost, then first -> won."
    )


class FunnelOut(Schema):
    period: PeriodOut
    by: str | None = Field(description="The grouping; null for one group of every lead.")
    within_days: int | None = Field(description="The conversion window in days, if any.")
    groups: list[GroupOut]


class HistogramBin(Schema):
    bin: str = Field(description="Days [low, high): 0-7, 7-14, …, 365+ (and <0 if any).")
    count: int


class CycleOut(Schema):
    period: PeriodOut
    count: int = Field(description="Leads won for the first time in the period.")
    median_days: float | None
    p80_days: float | None = Field(description="The 80th percentile.")
    histogram: list[HistogramBin]


class PeriodIn(_Aliased):
    from_: Day | None = Field(None, alias="from", description="YYYY-MM-DD; default: 12 months ago.")
    to: Day | None = Field(None, description="YYYY-MM-DD; default: the end of last month.")

    @staticmethod
    def default() -> Period:
        return default_period()

    def period(self) -> Period:
        try:
            return period_resolve(self.from_, self.to, self.default())
        except PeriodProblem as problem:
            raise ValidationError({problem.field: str(problem)}) from None


class FunnelIn(PeriodIn):
    by: Text = Field(DEFAULT_BY, description=BY_HELP, max_length=200)
    within: int | None = Field(
        None, ge=0, le=MAX_WITHIN_DAYS, description="Count a conversion only within this many days."
    )


@router.get(
    "/funnel",
    response={200: FunnelOut, **ERRORS},
    by_alias=True,
    summary="The funnel: reach, flow and cohort conversions per group",
)
def funnel_get(request: HttpRequest, filters: Query[FunnelIn]) -> Any:
    """Per group of leads, each stage's reach and entries, and each step's conversion with
    its counts (k of n) and 95% Wilson interval (``FunnelReport.as_dict()``)."""
    period = filters.period()
    try:
        by = by_parse(filters.by)
    except ValueError as error:
        raise ValidationError({"by": str(error)}) from None
    report = selectors.funnel(
        organization=organization_of(request), period=period, by=by, within_days=filters.within
    )
    return report.as_dict()


@router.get(
    "/funnel/cycle",
    response={200: CycleOut, **ERRORS},
    by_alias=True,
    summary="The sales cycle: days from first touch to won",
)
def cycle_get(request: HttpRequest, filters: Query[PeriodIn]) -> Any:
    """For the leads won for the first time in the period: how many, the median and 80th
    percentile of the days from first touch to won, and the histogram."""
    period = filters.period()
    cycle = selectors.sales_cycle(organization=organization_of(request), period=period)
    return {
        "period": period.as_dict(),
        "count": cycle.count,
        "median_days": cycle.median_days,
        "p80_days": cycle.p80_days,
        "histogram": [{"bin": label, "count": count} for label, count in cycle.histogram],
    }
