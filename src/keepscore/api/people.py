"""A person's data (owners): everything held about them, or erased, found by their email."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from keepscore.api.auth import member_of, organization_of
from keepscore.api.schemas import ERRORS, Text
from keepscore.privacy.services import EXPORT_FORMAT, person_erase, person_export

router = Router(tags=["people"])
EmailQuery = Query(..., max_length=320, description="The person's email (any case).")


class PersonExportOut(Schema):
    format: str = Field(description=f'"{EXPORT_FORMAT}"')
    organization: str
    email: str
    exported_at: str
    leads: list[dict[str, Any]] = Field(
        description="Each lead with this email: its fields, later touches, stage changes, "
        "corrections, deal outcomes (with their product lines), activities, objections, "
        "follow-ups, checklist answers and web form submissions. Empty: none is held."
    )


class PersonEraseIn(Schema):
    email: Text = Field(max_length=320, description="The person's email (any case).")
    confirm: bool = Field(False, description="true: erase (it cannot be undone).")


class PersonEraseOut(Schema):
    found: bool = Field(description="Whether any lead had this email (false: nothing erased).")
    lead_ids: list[int] = Field(description="The leads erased (now tombstones).")
    counts: dict[str, int] = Field(
        description="What was erased, by kind: leads, and the records whose free text was "
        "blanked (web form submissions: deleted)."
    )
    message: str


@router.get(
    "/people/export",
    response={200: PersonExportOut, **ERRORS},
    summary="Everything held about a person",
)
def people_export(
    request: HttpRequest,
    email: Text = EmailQuery,
) -> Any:
    return person_export(organization=organization_of(request), email=email)


@router.post(
    "/people/erase", response={200: PersonEraseOut, **ERRORS}, summary="Erase a person's data"
)
def people_erase(request: HttpRequest, payload: PersonEraseIn) -> Any:
    """Every lead with the email becomes a tombstone and the free text of its history is
    blanked; the anonymous history stays, so no figure changes. Needs ``"confirm": true``."""
    if payload.confirm is not True:
        raise ValidationError({"confirm": "Set confirm to true to erase: it cannot be undone."})
    erasure = person_erase(
        organization=organization_of(request), email=payload.email, by=member_of(request)
    )
    return {
        "found": erasure.found,
        "lead_ids": erasure.lead_ids,
        "counts": dict(erasure.total.items()),
        "message": erasure.words(),
    }
