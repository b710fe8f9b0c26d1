"""Invitations by email (owners): the same as Settings → Members → Invite by email."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from keepscore import mail
from keepscore.accounts.invitations import expires_at, invitation_send
from keepscore.api.auth import member_of, organization_of
from keepscore.api.errors import error_body
from keepscore.api.schemas import ERRORS, EmailQuery, ErrorOut

router = Router(tags=["members"])


class InvitationIn(Schema):
    email: EmailQuery = Field(description="Where the invitation goes.")
    roles: list[Literal["owner", "marketing", "sales"]] = Field(
        description="At least one of owner, marketing, sales.", max_length=3
    )


class InvitationOut(Schema):
    id: int
    email: str
    roles: list[str]
    sent_at: datetime
    expires_at: datetime = Field(description="The link works once, until then.")
    resent: bool = Field(description="An open invitation of the address got a new link.")


@router.post(
    "/invitations",
    response={201: InvitationOut, 502: ErrorOut, **ERRORS},
    summary="Invite someone by email (owners)",
    description="Mails a link, working once until `expires_at`, to join the organization "
    "with the roles. Inviting an address with an open invitation sends it a new link (the "
    "earlier one stops working). 502: saved, but the mail server refused the mail.",
)
def invitations_create(request: HttpRequest, payload: InvitationIn) -> Any:
    roles = set(payload.roles)
    try:
        sent = invitation_send(
            organization=organization_of(request),
            email=payload.email,
            is_owner="owner" in roles,
            is_marketing="marketing" in roles,
            is_sales="sales" in roles,
            by=member_of(request).user,
        )
    except mail.MailNotSent as error:
        return Status(502, error_body(f"The invitation is saved but was not sent: {error}."))
    invitation = sent.invitation
    return Status(
        201,
        InvitationOut(
            id=invitation.pk,
            email=invitation.email,
            roles=invitation.roles,
            sent_at=invitation.sent_at,
            expires_at=expires_at(invitation),
            resent=sent.resent,
        ),
    )
