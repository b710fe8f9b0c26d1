"""Two organizations with known data: A's to export, B's that must never appear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.services import activity_log, objection_add
from keepscore.leads.models import Lead, LostReason
from keepscore.leads.services import Outcome, lead_create, lead_move
from tests.conftest import channel, make_org, stage


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


@dataclass
class Known:
    org: Organization
    owner: Membership
    won: Lead  # the formula-looking one, won for 2500 (cost 1000)
    lost: Lead
    other: Organization


@pytest.fixture
def known(db: Any) -> Known:
    org, owner = make_org("acme", "owner@acme.test")
    other, other_owner = make_org("bravo", "owner@bravo.test")
    won = lead_create(
        organization=org,
        name="=1+1",
        company="+cmd",
        notes="-2+3",
        email="ada@example.com",
        phone="+44 20 7946 0000",
        channel=channel(org, "referral"),
        by=owner,
        owner=owner,
        value=Decimal("1200.50"),
        utm_source="news",
        utm_medium="email",
        utm_campaign="spring",
        first_touch_at=at(1, 5),
    )
    for key, when in [("prospect", 10), ("lead", 12), ("prospect", 15)]:
        lead_move(lead=won, to_stage=stage(org, key), by=owner, at=at(1, when))
    lead_move(
        lead=won,
        to_stage=stage(org, "customer"),
        by=owner,
        at=at(1, 20),
        outcome=Outcome(revenue=Decimal("2500"), cost=Decimal("1000")),
    )
    lost = lead_create(
        organization=org,
        name="@SUM(A1)",
        company="Plain Ltd",
        channel=channel(org, "walk-in"),
        by=owner,
        first_touch_at=at(2, 1),
    )
    reason = LostReason.objects.for_org(org).get(name="Price too high")
    lead_move(
        lead=lost,
        to_stage=stage(org, "lost"),
        by=owner,
        at=at(2, 10),
        outcome=Outcome(lost_reason=reason),
    )
    activity_log(lead=won, kind="meeting", by=owner, with_buyer=True, at=at(1, 11), notes="=cmd")
    objection_add(lead=lost, tag="price", by=owner, text="Too dear", at=at(2, 9))
    b_lead = lead_create(
        organization=other, name="Bob Bravo", channel=channel(other), by=other_owner
    )
    activity_log(lead=b_lead, kind="connect", by=other_owner)
    return Known(org=org, owner=owner, won=Lead.objects.get(pk=won.pk), lost=lost, other=other)
