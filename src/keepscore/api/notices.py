"""The token's member's own notices: which emails they get in this organization."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from keepscore.accounts.models import Membership
from keepscore.accounts.services import notices_set
from keepscore.api.auth import member_of
from keepscore.api.schemas import ERRORS

router = Router(tags=["members"])


class NoticesOut(Schema):
    lead_assigned: bool = Field(description="An email when a new lead is assigned to you.")
    digest: bool = Field(description="The morning digest of your follow-ups due today.")

    @staticmethod
    def of(membership: Membership) -> NoticesOut:
        return NoticesOut(
            lead_assigned=membership.notify_lead_assigned, digest=membership.notify_digest
        )


class NoticesIn(Schema):
    lead_assigned: bool | None = Field(None, description="Left out: unchanged.")
    digest: bool | None = Field(None, description="Left out: unchanged.")


@router.get("/notices", response={200: NoticesOut, **ERRORS}, summary="Your notices")
def notices_read(request: HttpRequest) -> Any:
    return NoticesOut.of(member_of(request))


@router.put("/notices", response={200: NoticesOut, **ERRORS}, summary="Set your notices")
def notices_write(request: HttpRequest, payload: NoticesIn) -> Any:
    membership = notices_set(
        membership=member_of(request), lead_assigned=payload.lead_assigned, digest=payload.digest
    )
    return NoticesOut.of(membership)
