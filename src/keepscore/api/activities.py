"""Activities and objections: per lead, and the organization's activities."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Status

from keepscore.activities.models import Activity, ActivityKind, Objection
from keepscore.activities.services import activity_log, objection_add
from keepscore.api.auth import member_of, organization_of
from keepscore.api.leads import LeadId, Limit, Offset, lead_get, page
from keepscore.api.schemas import (
    ERRORS,
    ActivityIn,
    ActivityOut,
    ActivityPage,
    Day,
    ObjectionIn,
    ObjectionOut,
)
from keepscore.common.days import DateRange

router = Router(tags=["activities"])

From = Query(None, alias="from", description="From this day on.")
To = Query(None, description="Up to and including this day.")


@router.get("/activities", response={200: ActivityPage, **ERRORS}, summary="List activities")
def activities_list(
    request: HttpRequest,
    kind: ActivityKind | None = None,
    from_: Day | None = From,
    to: Day | None = To,
    limit: int = Limit,
    offset: int = Offset,
) -> Any:
    qs = Activity.objects.for_org(organization_of(request)).select_related("by__user")
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.filter(DateRange(from_, to).moments("at"))
    count, activities = page(qs, limit, offset)
    return {"items": [ActivityOut.of(a) for a in activities], "count": count}


@router.get(
    "/leads/{lead_id}/activities",
    response={200: list[ActivityOut], **ERRORS},
    summary="A lead's activities",
)
def lead_activities(request: HttpRequest, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    activities = Activity.objects.filter(lead=lead).select_related("by__user")
    return [ActivityOut.of(a) for a in activities]


@router.post(
    "/leads/{lead_id}/activities",
    response={201: ActivityOut, **ERRORS},
    summary="Log an activity",
)
def lead_activity_log(request: HttpRequest, payload: ActivityIn, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    activity = activity_log(lead=lead, by=member_of(request), **payload.dict())
    return Status(201, ActivityOut.of(activity))


@router.get(
    "/leads/{lead_id}/objections",
    response={200: list[ObjectionOut], **ERRORS},
    summary="A lead's objections",
)
def lead_objections(request: HttpRequest, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    objections = Objection.objects.filter(lead=lead).select_related("by__user")
    return [ObjectionOut.of(o) for o in objections]


@router.post(
    "/leads/{lead_id}/objections",
    response={201: ObjectionOut, **ERRORS},
    summary="Record an objection",
)
def lead_objection_add(request: HttpRequest, payload: ObjectionIn, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    activity = None
    if payload.activity is not None:
        activity = Activity.objects.filter(lead=lead, pk=payload.activity).first()
        if activity is None:
            raise ValidationError({"activity": "No such activity of this lead."})
    objection = objection_add(
        lead=lead,
        tag=payload.tag,
        by=member_of(request),
        text=payload.text,
        activity=activity,
        at=payload.at,
    )
    return Status(201, ObjectionOut.of(objection))
