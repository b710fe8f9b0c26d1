"""The lead list's filters by dated rows (entered, reached, first won, won, lost: the lists
the reports' counts open) keep to the organization: on SQLite they read the organization's
leads without its index (``leads.selectors._leads_of``), and each lead is still checked."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from keepscore.accounts.models import Membership, Organization
from keepscore.leads.models import Stage
from keepscore.leads.selectors import LeadFilters, lead_list
from tests.conftest import make_org
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db

MARCH, END = date(2024, 3, 1), date(2024, 3, 31)


def story(org: Organization, by: Membership, prefix: str) -> None:
    """March 2024: Ann won; Bob won, then lost; Cy qualified (first touched in February)."""
    ann = new_lead(org, f"{prefix} Ann", at(2024, 3, 3))
    move(ann, "customer", at(2024, 3, 10), by, revenue="100")
    bob = new_lead(org, f"{prefix} Bob", at(2024, 3, 4))
    move(bob, "customer", at(2024, 3, 12), by, revenue="100")
    move(bob, "lost", at(2024, 3, 20), by, reason="Price too high")
    cy = new_lead(org, f"{prefix} Cy", at(2024, 2, 1))
    move(cy, "qualified", at(2024, 3, 5), by)


def test_the_dated_filters_list_only_the_organizations_leads(
    org_a: Organization, owner_a: Membership
) -> None:
    bravo, owner_b = make_org("bravo", "owner@bravo.test")
    story(org_a, owner_a, "A")
    story(bravo, owner_b, "B")  # the same days, in another organization

    def names(org: Organization, **filters: Any) -> list[str]:
        return sorted(
            lead.name for lead in lead_list(organization=org, filters=LeadFilters(**filters))
        )

    for org, p in ((org_a, "A"), (bravo, "B")):
        qualified = Stage.objects.get(organization=org, key="qualified")
        customer = Stage.objects.get(organization=org, key="customer")
        assert names(org, closed_won_from=MARCH, closed_won_to=END) == [f"{p} Ann"]
        assert names(org, closed_lost_from=MARCH, closed_lost_to=END) == [f"{p} Bob"]
        assert names(org, won_from=MARCH, won_to=END) == [f"{p} Ann", f"{p} Bob"]
        assert names(org, entered=customer, entered_from=MARCH) == [f"{p} Ann", f"{p} Bob"]
        assert names(org, reached=qualified, reached_from=MARCH, reached_to=END) == [
            f"{p} Ann",
            f"{p} Bob",
            f"{p} Cy",
        ]
        # with the other filters of the list
        assert names(org, status="won", won_from=MARCH) == [f"{p} Ann"]
        assert names(org, q="cy", reached=qualified, reached_from=MARCH) == [f"{p} Cy"]
    assert lead_list(organization=org_a, filters=LeadFilters(won_from=MARCH)).count() == 2
