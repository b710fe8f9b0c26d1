"""The audit log (owners): ``GET /audit``, newest first, filtered as on its page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.leads import Limit, Offset, page
from keepscore.api.schemas import ERRORS, Day, Id
from keepscore.audit.models import Action, AuditEvent, Via
from keepscore.audit.selectors import AuditFilters, events_of, user_names
from keepscore.common.days import DateRange

router = Router(tags=["audit"])


class AuditIn(Schema):
    model_config = {"populate_by_name": True}

    from_: Day | None = Field(None, alias="from", description="The first day, YYYY-MM-DD.")
    to: Day | None = Field(None, description="The last day, YYYY-MM-DD (inclusive).")
    action: Action | None = Field(None, description="Only this kind of event.")
    user_id: Id | None = Field(None, description="Only what this user did.")
    via: Via | None = Field(None, description="Only through the web, the API or the CLI.")


class AuditOut(Schema):
    at: datetime
    via: str
    user_id: int | None
    user: str | None = Field(description="The user's email (None: no user, or removed).")
    member_id: int | None
    address: str = Field(description="A keyed fingerprint of the client's address.")
    action: str
    object_type: str
    object_id: str
    summary: str

    @staticmethod
    def of(event: AuditEvent, names: dict[int, str]) -> AuditOut:
        return AuditOut(
            at=event.at,
            via=event.via,
            user_id=event.user_id,
            user=names.get(event.user_id) if event.user_id is not None else None,
            member_id=event.membership_id,
            address=event.address,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            summary=event.summary,
        )


class AuditPage(Schema):
    items: list[AuditOut]
    count: int


@router.get("/audit", response={200: AuditPage, **ERRORS}, summary="Read the audit log")
def audit_list(
    request: HttpRequest, filters: Query[AuditIn], limit: int = Limit, offset: int = Offset
) -> Any:
    DateRange(filters.from_, filters.to)
    chosen = AuditFilters(
        since=filters.from_,
        until=filters.to,
        action=filters.action or "",
        user_id=filters.user_id,
        via=filters.via or "",
    )
    count, events = page(
        events_of(organization=organization_of(request), filters=chosen), limit, offset
    )
    names = user_names(ids=(e.user_id for e in events))
    return {"items": [AuditOut.of(e, names) for e in events], "count": count}
