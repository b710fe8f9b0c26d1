"""Helpers for the funnel tests: leads and their moves made by the real services, at given
local times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.services import activity_log
from keepscore.leads.models import Lead, LostReason, StageChange
from keepscore.leads.services import Outcome, lead_create, lead_move
from tests.conftest import channel, stage


def at(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    """A local time in settings.TIME_ZONE."""
    return datetime(y, m, d, h, minute, tzinfo=timezone.get_default_timezone())


def new_lead(
    org: Organization,
    name: str,
    when: datetime,
    stage_key: str = "prospect",
    channel_key: str = "referral",
    **fields: Any,
) -> Lead:
    return lead_create(
        organization=org,
        name=name,
        channel=channel(org, channel_key),
        stage=stage(org, stage_key),
        first_touch_at=when,
        **fields,
    )


def move(
    lead: Lead,
    to: str,
    when: datetime,
    by: Membership,
    revenue: str | None = None,
    cost: str | None = None,
    reason: str | None = None,
) -> StageChange:
    """Move through the real service; the owner overrides the qualification checklist."""
    org = lead.organization
    outcome = Outcome(
        revenue=Decimal(revenue) if revenue is not None else None,
        cost=Decimal(cost) if cost is not None else None,
        lost_reason=LostReason.objects.get(organization=org, name=reason) if reason else None,
    )
    return lead_move(
        lead=lead,
        to_stage=stage(org, to),
        by=by,
        at=when,
        override_reason="test data: checklist not kept",
        outcome=outcome,
    )


def march_leads(
    org: Organization, by: Membership, leads: list[tuple[str, str, Membership | None, list[str]]]
) -> None:
    """Leads (name, channel, owner, the stages they move to) first touched in March 2024, a
    day apart, each moved four days after the last by ``by``: won at 1,200, lost for a price
    too high."""
    for i, (name, channel_key, owner, stages) in enumerate(leads):
        lead = new_lead(org, name, at(2024, 3, 1 + i), channel_key=channel_key, owner=owner)
        for j, to in enumerate(stages):
            extra = {"revenue": "1200"} if to == "customer" else {}
            if to == "lost":
                extra = {"reason": "Price too high"}
            move(lead, to, at(2024, 3, 8 + i + 4 * j), by, **extra)


def log(lead: Lead, kind: str, when: datetime, by: Membership | None, buyer: bool = False) -> Any:
    return activity_log(lead=lead, kind=kind, by=by, at=when, with_buyer=buyer)
