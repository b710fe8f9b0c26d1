"""Leads: list, create, read, update; their moves and stage history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema, Status

from keepscore.accounts.models import Membership, Organization
from keepscore.api.auth import member_of, organization_of
from keepscore.api.schemas import (
    ERRORS,
    MAX_ID,
    MAX_LIMIT,
    MAX_OFFSET,
    LeadFiltersIn,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    MoveIn,
    StageChangeOut,
    Text,
)
from keepscore.common.days import DateRange
from keepscore.economics.models import Product
from keepscore.economics.products import LineIn
from keepscore.followups.assignment import (
    DEFAULT_FIRST_CONTACT_HOURS,
    lead_assigned,
    round_robin_take,
)
from keepscore.leads.corrections import stage_change_undo
from keepscore.leads.models import Channel, Lead, LostReason, Stage, StageChange, StageCorrection
from keepscore.leads.selectors import SOURCE_TEXT, LeadFilters, lead_list
from keepscore.leads.services import Outcome, lead_create, lead_move, lead_update

router = Router(tags=["leads"])

LeadId = Path(..., ge=1, le=MAX_ID)
ChangeId = Path(..., ge=1, le=MAX_ID)
Limit = Query(50, ge=1, le=MAX_LIMIT)
Offset = Query(0, ge=0, le=MAX_OFFSET)
#: the list's ranges of days, each ``<name>_from`` and ``<name>_to`` (``LeadFiltersIn``)
DATED_FILTERS = ("created", "entered", "reached", "won", "closed_won", "closed_lost")


# --- lookups: every one scoped to the token's organization -------------------------------


def lead_get(request: HttpRequest, lead_id: int) -> Lead:
    """The organization's lead, or 404 (another organization's lead is not there)."""
    leads = Lead.objects.for_org(organization_of(request)).select_related(
        "organization", "stage", "channel", "owner__user", "sourced_by__user"
    )
    return get_object_or_404(leads, pk=lead_id)


def _by_key(model: Any, organization: Organization, field: str, key: str | None) -> Any:
    if key is None:
        return None
    found = model.objects.for_org(organization).filter(key=key).first()
    if found is None:
        raise ValidationError({field: f"No {model._meta.verbose_name} with the key {key!r}."})
    return found


def stage_by_key(organization: Organization, key: str | None, field: str = "stage") -> Any:
    return _by_key(Stage, organization, field, key)


def channel_by_key(organization: Organization, key: str | None) -> Any:
    return _by_key(Channel, organization, "channel", key)


def member_by_email(
    organization: Organization, email: str | None, field: str = "owner"
) -> Membership | None:
    if email is None or not email.strip():
        return None
    member = (
        Membership.objects.filter(organization=organization, user__email__iexact=email.strip())
        .select_related("user")
        .first()
    )
    if member is None:
        raise ValidationError({field: f"No member with the email {email!r}."})
    return member


def lost_reason_of(organization: Organization, ref: int | str | None) -> LostReason | None:
    if ref is None or ref == "":
        return None
    reasons = LostReason.objects.for_org(organization)
    found = (
        reasons.filter(pk=ref).first()
        if isinstance(ref, int)
        else reasons.filter(name__iexact=ref.strip()).first()
    )
    if found is None:
        raise ValidationError({"lost_reason": f"No lost reason {ref!r}."})
    return found


def page(qs: QuerySet[Any], limit: int, offset: int) -> tuple[int, list[Any]]:
    return qs.count(), list(qs[offset : offset + limit])


# --- endpoints ------------------------------------------------------------------------------


@router.get("/leads", response={200: LeadPage, **ERRORS}, summary="List leads")
def leads_list(
    request: HttpRequest,
    filters: Query[LeadFiltersIn],
    limit: int = Limit,
    offset: int = Offset,
) -> Any:
    organization = organization_of(request)
    for name in DATED_FILTERS:
        DateRange(getattr(filters, f"{name}_from"), getattr(filters, f"{name}_to"), f"{name}_to")
    selected = LeadFilters(
        q=filters.q.strip(),
        stage=stage_by_key(organization, filters.stage),
        status=filters.status or "",
        channel=channel_by_key(organization, filters.channel),
        owner=member_by_email(organization, filters.owner),
        sourced_by=member_by_email(organization, filters.sourced_by, "sourced_by"),
        entered=stage_by_key(organization, filters.entered, "entered"),
        reached=stage_by_key(organization, filters.reached, "reached"),
        **{name: getattr(filters, name) for name in SOURCE_TEXT},
        **{
            f"{name}_{end}": getattr(filters, f"{name}_{end}")
            for name in DATED_FILTERS
            for end in ("from", "to")
        },
    )
    count, leads = page(lead_list(organization=organization, filters=selected), limit, offset)
    return {"items": [LeadOut.of(lead) for lead in leads], "count": count}


@router.post("/leads", response={201: LeadOut, **ERRORS}, summary="Create a lead")
def leads_create(request: HttpRequest, payload: LeadIn) -> Any:
    """An owner (a member's email) or ``assign: round_robin`` assigns the new lead: the
    assignee gets a first-contact call due within ``first_contact_hours`` and an email."""
    with transaction.atomic():
        lead = _lead_create(request, payload)
    return Status(201, LeadOut.of(lead_get(request, lead.pk)))


def _lead_create(request: HttpRequest, payload: LeadIn) -> Lead:
    organization = organization_of(request)
    by = member_of(request)
    fields = payload.dict(
        exclude={
            "name",
            "channel",
            "stage",
            "first_touch_at",
            "owner",
            "sourced_by",
            "assign",
            "first_contact_hours",
        }
    )
    if payload.sourced_by is not None:
        fields["sourced_by"] = member_by_email(organization, payload.sourced_by, "sourced_by")
    owner = member_by_email(organization, payload.owner)
    if payload.assign is not None and owner is not None:
        raise ValidationError({"assign": "Give an owner or assign round_robin, not both."})
    channel = channel_by_key(organization, payload.channel)
    stage = stage_by_key(organization, payload.stage)
    if payload.assign == "round_robin":
        owner = round_robin_take(Organization, organization.pk, "api_round_robin_last")
    lead = lead_create(
        organization=organization,
        name=payload.name,
        channel=channel,
        by=by,
        stage=stage,
        first_touch_at=payload.first_touch_at,
        owner=owner,
        **fields,
    )
    if owner is not None and (payload.assign is not None or owner.pk != by.pk):
        hours = payload.first_contact_hours or DEFAULT_FIRST_CONTACT_HOURS
        lead_assigned(lead=lead, assignee=owner, hours=hours, by=by)
    return lead


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Read a lead")
def leads_read(request: HttpRequest, lead_id: int = LeadId) -> Any:
    return LeadOut.of(lead_get(request, lead_id))


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Update a lead")
def leads_update(request: HttpRequest, payload: LeadPatch, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    # unknown keys (channel, utm_source, …) go on to the service, which names them
    fields = payload.model_dump(exclude_unset=True)
    for member in ("owner", "sourced_by"):
        if member in fields:
            fields[member] = member_by_email(lead.organization, fields[member], member)
    for name in ("name", "company", "email", "phone", "notes"):
        if name in fields and fields[name] is None:
            fields[name] = ""  # null clears a text field
    lead_update(lead=lead, **fields)
    return LeadOut.of(lead_get(request, lead.pk))


@router.post(
    "/leads/{lead_id}/moves", response={201: StageChangeOut, **ERRORS}, summary="Move a lead"
)
def leads_move(request: HttpRequest, payload: MoveIn, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    organization = lead.organization
    change = lead_move(
        lead=lead,
        to_stage=stage_by_key(organization, payload.to_stage, "to_stage"),
        by=member_of(request),
        at=payload.at,
        note=payload.note,
        override_reason=payload.override_reason,
        outcome=Outcome(
            revenue=payload.revenue,
            cost=payload.cost,
            lost_reason=lost_reason_of(organization, payload.lost_reason),
            lost_note=payload.lost_note,
            lines=_lines(organization, payload),
        ),
    )
    return Status(201, StageChangeOut.of(_stage_changes().get(pk=change.pk)))


def _lines(organization: Organization, payload: MoveIn) -> tuple[LineIn, ...]:
    """The move's lines with their products, each looked up in the token's organization."""
    products = Product.objects.for_org(organization).in_bulk(
        [line.product for line in payload.lines]
    )
    for n, line in enumerate(payload.lines, 1):
        if line.product not in products:
            raise ValidationError({"lines": f"Line {n}: no product with the id {line.product}."})
    return tuple(
        LineIn(product=products[line.product], quantity=line.quantity, unit_price=line.unit_price)
        for line in payload.lines
    )


def _stage_changes() -> QuerySet[StageChange]:
    return StageChange.objects.select_related(
        "from_stage", "to_stage", "by", "outcome", "outcome__lost_reason"
    ).prefetch_related("outcome__lines__product")


@router.get(
    "/leads/{lead_id}/stage-changes",
    response={200: list[StageChangeOut], **ERRORS},
    summary="A lead's stage history",
)
def leads_stage_changes(request: HttpRequest, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    return [StageChangeOut.of(change) for change in _stage_changes().filter(lead=lead)]


class UndoIn(Schema):
    reason: Text = Field("", description="Why the move was a mistake (optional).")


class UndoOut(Schema):
    id: int
    lead: int
    change_id: int = Field(description="The id the undone stage change had.")
    from_stage: str = Field(description="The stage the lead is back at (its key).")
    to_stage: str = Field(description="The stage the undone move had put it at.")
    change_at: datetime
    change_by: str | None
    outcome: dict[str, Any] | None = Field(description="The undone move's deal, as it was.")
    at: datetime
    by: str
    reason: str

    @staticmethod
    def of(correction: StageCorrection) -> UndoOut:
        return UndoOut(
            id=correction.pk,
            lead=correction.lead_id,
            change_id=correction.change_id,
            from_stage=correction.change_from.key,
            to_stage=correction.change_to.key,
            change_at=correction.change_at,
            change_by=correction.change_by.email if correction.change_by else None,
            outcome=correction.outcome,
            at=correction.at,
            by=correction.by.email,
            reason=correction.reason,
        )


@router.post(
    "/leads/{lead_id}/stage-changes/{change_id}/undo",
    response={201: UndoOut, **ERRORS},
    summary="Undo the lead's latest move (a mistake)",
    description="The move and its deal stop counting in every figure; the undoing is a new "
    "entry of the history. A member undoes their own latest move for 24 hours, an owner "
    "any member's latest move.",
)
def leads_move_undo(
    request: HttpRequest, payload: UndoIn, lead_id: int = LeadId, change_id: int = ChangeId
) -> Any:
    lead = lead_get(request, lead_id)
    change = get_object_or_404(StageChange.objects.filter(lead=lead), pk=change_id)
    correction = stage_change_undo(change=change, by=member_of(request), reason=payload.reason)
    return Status(201, UndoOut.of(correction))
