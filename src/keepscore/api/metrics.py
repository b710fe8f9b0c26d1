"""Scorecard data: the metric catalogue, manual values, monthly targets, annual goals and the
monthly review. Months are ``YYYY-MM``; values are strings (``"1200.5"``).

Reading is open to every member's token; writing needs an owner's or a marketing member's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from keepscore.api.auth import member_of, organization_of
from keepscore.api.schemas import ERRORS, ErrorOut, Money, Text
from keepscore.common.months import month_parse, month_str, year_check
from keepscore.scorecard import checks, selectors, services
from keepscore.scorecard.catalogue import MetricDef, metric_get
from keepscore.scorecard.models import ManualMetric, ManualValue, ReviewKind

router = Router(tags=["scorecard"])
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 403: ErrorOut}


class MetricOut(Schema):
    key: str
    name: str
    group: str
    unit: str
    manual: bool
    higher_is_better: bool
    description: str
    active: bool = True

    @staticmethod
    def of(metric: MetricDef, active: bool = True) -> MetricOut:
        return MetricOut(
            key=metric.key,
            name=metric.name,
            group=metric.group,
            unit=metric.unit,
            manual=metric.manual,
            higher_is_better=metric.higher_is_better,
            description=metric.description,
            active=active,
        )


class MetricIn(Schema):
    name: Text
    group: Text = Field(description="SUSPECT, PROSPECT, LEAD or CUSTOMER.")
    unit: Text = Field("count", description="count, money, percent, days or number.")
    key: Text = Field("", description="Made from the name when left out; never changes.")
    higher_is_better: bool = True
    description: Text = ""
    active: bool = True


class ValueOut(Schema):
    metric: str
    month: str = Field(description="YYYY-MM")
    value: str | None
    by: str | None = None
    updated_at: datetime | None = None


class ValueIn(Schema):
    value: Money | None = Field(description="In the metric's unit; null clears the month.")


class TargetOut(Schema):
    metric: str
    month: str
    value: str | None


class GoalOut(Schema):
    metric: str
    year: int
    value: str | None


class AmountIn(Schema):
    value: Money


class ReviewOut(Schema):
    kind: str
    text: str
    by: str
    at: datetime


class ReviewIn(Schema):
    kind: ReviewKind = ReviewKind.NOTE
    text: Text


def _metric(request: HttpRequest, key: str) -> MetricDef:
    """A metric of the token's organization, or 404 (another organization's is unknown)."""
    try:
        return metric_get(organization_of(request), key)
    except ValidationError:
        raise Http404("No such metric") from None


def _manual(request: HttpRequest, key: str) -> ManualMetric:
    metric = ManualMetric.objects.for_org(organization_of(request)).filter(key=key).first()
    if metric is None:
        raise Http404("No such manual metric")
    return metric


def _month(month: str) -> date:
    return month_parse(month)


# --- the catalogue ------------------------------------------------------------------------


@router.get("/metrics", response={200: list[MetricOut], **ERRORS}, summary="The metric catalogue")
def metrics_list(request: HttpRequest) -> Any:
    """Computed metrics (following the ladder), then manual ones (inactive ones last)."""
    organization = organization_of(request)
    inactive = set(
        ManualMetric.objects.for_org(organization)
        .filter(active=False)
        .values_list("key", flat=True)
    )
    return [
        MetricOut.of(m, active=m.key not in inactive or not m.manual)
        for m in selectors.metric_catalogue_with_manual(organization=organization)
    ]


@router.post("/metrics", response={201: MetricOut, **WRITE_ERRORS}, summary="Add a manual metric")
def metrics_create(request: HttpRequest, payload: MetricIn) -> Any:
    metric = services.manual_metric_save(organization=organization_of(request), **payload.dict())
    return Status(201, MetricOut.of(metric.definition(), active=metric.active))


# --- manual values ----------------------------------------------------------------------------


def _value_out(metric: ManualMetric, month: date, row: ManualValue | None) -> ValueOut:
    return ValueOut(
        metric=metric.key,
        month=month_str(month),
        value=checks.plain(value=row.value) if row is not None else None,
        by=row.by.email if row is not None and row.by is not None else None,
        updated_at=row.updated_at if row is not None else None,
    )


@router.get(
    "/metrics/{key}/values/{month}",
    response={200: ValueOut, **ERRORS},
    summary="A manual metric's value for a month",
)
def value_get(request: HttpRequest, key: str, month: str) -> Any:
    metric = _manual(request, key)
    first = _month(month)
    row = ManualValue.objects.filter(metric=metric, month=first).select_related("by").first()
    return _value_out(metric, first, row)


@router.put(
    "/metrics/{key}/values/{month}",
    response={200: ValueOut, **WRITE_ERRORS},
    summary="Set a manual metric's value for a month (null clears it)",
)
def value_put(request: HttpRequest, key: str, month: str, payload: ValueIn) -> Any:
    metric = _manual(request, key)
    first = _month(month)
    row = services.manual_value_set(
        metric=metric, month=first, value=payload.value, by=member_of(request)
    )
    return _value_out(metric, first, row)


# --- targets and goals --------------------------------------------------------------------------


def _target_out(organization: Any, key: str, first: date) -> TargetOut:
    value = selectors.targets_for(organization=organization, months=[first]).get((key, first))
    return TargetOut(metric=key, month=month_str(first), value=checks.plain(value=value))


@router.get(
    "/targets/{key}/{month}", response={200: TargetOut, **ERRORS}, summary="A monthly target"
)
def target_get(request: HttpRequest, key: str, month: str) -> Any:
    metric = _metric(request, key)
    return _target_out(organization_of(request), metric.key, _month(month))


@router.put(
    "/targets/{key}/{month}", response={200: TargetOut, **WRITE_ERRORS}, summary="Set a target"
)
def target_put(request: HttpRequest, key: str, month: str, payload: AmountIn) -> Any:
    metric = _metric(request, key)
    organization = organization_of(request)
    first = _month(month)
    services.target_set(
        organization=organization, metric_key=metric.key, month=first, value=payload.value
    )
    return _target_out(organization, metric.key, first)


@router.delete(
    "/targets/{key}/{month}", response={204: None, **WRITE_ERRORS}, summary="Clear a target"
)
def target_delete(request: HttpRequest, key: str, month: str) -> Any:
    metric = _metric(request, key)
    services.target_clear(
        organization=organization_of(request), metric_key=metric.key, month=_month(month)
    )
    return Status(204, None)


def _goal_out(organization: Any, key: str, year: int) -> GoalOut:
    value = selectors.goals_for(organization=organization, year=year).get(key)
    return GoalOut(metric=key, year=year, value=checks.plain(value=value))


@router.get("/goals/{key}/{year}", response={200: GoalOut, **ERRORS}, summary="An annual goal")
def goal_get(request: HttpRequest, key: str, year: str) -> Any:
    metric = _metric(request, key)
    return _goal_out(organization_of(request), metric.key, year_check(year))


@router.put("/goals/{key}/{year}", response={200: GoalOut, **WRITE_ERRORS}, summary="Set a goal")
def goal_put(request: HttpRequest, key: str, year: str, payload: AmountIn) -> Any:
    metric = _metric(request, key)
    organization = organization_of(request)
    number = year_check(year)
    services.goal_set(
        organization=organization, metric_key=metric.key, year=number, value=payload.value
    )
    return _goal_out(organization, metric.key, number)


@router.delete("/goals/{key}/{year}", response={204: None, **WRITE_ERRORS}, summary="Clear a goal")
def goal_delete(request: HttpRequest, key: str, year: str) -> Any:
    metric = _metric(request, key)
    services.goal_clear(
        organization=organization_of(request),
        metric_key=metric.key,
        year=year_check(year),
    )
    return Status(204, None)


# --- the monthly review -----------------------------------------------------------------------


@router.get(
    "/reviews/{month}", response={200: list[ReviewOut], **ERRORS}, summary="A month's review"
)
def reviews_list(request: HttpRequest, month: str) -> Any:
    return [
        ReviewOut(kind=r.kind, text=r.text, by=r.by, at=r.at)
        for r in selectors.reviews_for(organization=organization_of(request), month=_month(month))
    ]


@router.post(
    "/reviews/{month}",
    response={201: ReviewOut, **WRITE_ERRORS},
    summary="Add a note or decision to a month's review (append-only)",
)
def reviews_add(request: HttpRequest, month: str, payload: ReviewIn) -> Any:
    entry = services.review_add(
        organization=organization_of(request),
        month=_month(month),
        kind=payload.kind,
        text=payload.text,
        by=member_of(request),
    )
    by = str(entry.by) if entry.by is not None else ""
    return Status(201, ReviewOut(kind=entry.kind, text=entry.text, by=by, at=entry.at))
