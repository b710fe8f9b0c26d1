"""The economics tests' story and helpers: spend rows made directly, leads and moves by the
real services (``tests.funnel.conftest``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from keepscore.accounts.models import Membership, Organization
from keepscore.economics.models import Spend
from tests.conftest import channel
from tests.funnel.conftest import at, move, new_lead


def spend(
    org: Organization, month: date, channel_key: str, amount: str, campaign: str = ""
) -> None:
    Spend.objects.create(
        organization=org,
        month=month,
        channel=channel(org, channel_key),
        campaign=campaign,
        amount=Decimal(amount),
    )


# --- a story worked out by hand ---------------------------------------------------------


@pytest.fixture(name="story")
def story_fixture(org_a: Organization, owner_a: Membership) -> Organization:
    """February 2025, by hand:

    referral: A (touched 20 Jan, qualified 2 Feb, won 10 Feb: 1,000 revenue, 400 cost),
              B (3 Feb, qualified 5 Feb, won 1 Mar: 500), C (4 Feb, stays a prospect),
              D (25 Feb, straight to proposal 26 Feb: reaches qualified by skipping it);
              spend 100 in February, 50 in January.
    ads:      E (1 Feb, won 15 Feb: 300 revenue, no cost; moved back and won again 20 Feb:
              200 revenue, 50 cost: one customer, two deals); spend 400 + 200 (two
              campaigns) in February.
    search:   no lead; spend 200 in February.
    """
    o, org = owner_a, org_a
    a = new_lead(org, "A", at(2025, 1, 20))
    move(a, "qualified", at(2025, 2, 2), o)
    move(a, "customer", at(2025, 2, 10), o, revenue="1000", cost="400")
    b = new_lead(org, "B", at(2025, 2, 3))
    move(b, "qualified", at(2025, 2, 5), o)
    move(b, "customer", at(2025, 3, 1), o, revenue="500")
    new_lead(org, "C", at(2025, 2, 4))
    d = new_lead(org, "D", at(2025, 2, 25))
    move(d, "proposal", at(2025, 2, 26), o)
    e = new_lead(org, "E", at(2025, 2, 1), channel_key="ads")
    move(e, "customer", at(2025, 2, 15), o, revenue="300")
    move(e, "proposal", at(2025, 2, 18), o)
    move(e, "customer", at(2025, 2, 20), o, revenue="200", cost="50")
    spend(org, date(2025, 2, 1), "referral", "100")
    spend(org, date(2025, 1, 1), "referral", "50")
    spend(org, date(2025, 2, 1), "ads", "400", campaign="spring")
    spend(org, date(2025, 2, 1), "ads", "200")
    spend(org, date(2025, 2, 1), "search", "200")
    return org
