"""Data belongs to its organization: every URL, table-driven over the whole URL conf.

Every pattern under ``o/<slug:org>/`` is requested by organization A's owner (1) with
organization B's slug and (2) with A's slug but B's objects in the path. Both must be 404,
for GET and POST, and B's data must be unchanged. A pattern with a path parameter this test
does not know fails it: a new view cannot skip the check (see ``tests/common/urls.py``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keepscore.accounts.invitations import invitation_send
from keepscore.accounts.models import Invitation, Membership
from keepscore.activities.models import Activity, Objection
from keepscore.economics.models import CashPosition, MoneySettings, Product, Spend
from keepscore.followups.models import FollowUp
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    StageCorrection,
)
from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, ReviewEntry, Target
from tests.common.urls import ORG_PATTERNS, names_objects, urls_for
from tests.conftest import built_once, make_org, table_rows

pytestmark = pytest.mark.django_db

B_TABLES = [
    Lead,
    StageChange,
    DealOutcome,
    Stage,
    Channel,
    LostReason,
    QualificationCriterion,
    QualificationAnswer,
    Activity,
    Objection,
    Membership,
    ManualMetric,
    ManualValue,
    Target,
    Goal,
    ReviewEntry,
    Product,
    MoneySettings,
    Spend,
    CashPosition,
    FollowUp,
    StageCorrection,
    Invitation,
]


def test_every_organization_page_is_covered():
    assert len(ORG_PATTERNS) >= 20, ORG_PATTERNS


@pytest.fixture(scope="module")
def built_orgs(django_db_setup, django_db_blocker):
    """Organization A and organization B with its data, built once for the module (each test
    runs in a savepoint rolled back at its end, see ``tests.conftest.built_once``)."""
    from decimal import Decimal

    from django.utils import timezone

    from keepscore.activities.services import activity_log, objection_add
    from keepscore.economics.services import cash_set, product_save, spend_set
    from keepscore.followups.services import followup_add
    from keepscore.leads.services import lead_create, qualification_set
    from keepscore.scorecard.services import manual_metric_save
    from tests.conftest import channel

    with built_once(django_db_blocker):
        org_a, owner_a = make_org("alpha", "owner@alpha.test")
        org_b, owner_b = make_org("beta", "owner@beta.test")
        lead = lead_create(organization=org_b, name="B lead", channel=channel(org_b), by=owner_b)
        criterion = QualificationCriterion.objects.for_org(org_b).first()
        qualification_set(lead=lead, criterion=criterion, met=True, by=owner_b)
        activity_log(lead=lead, kind="connect", by=owner_b, with_buyer=True)
        objection_add(lead=lead, tag="price", by=owner_b)
        manual_metric_save(organization=org_b, name="Website visitors", group="SUSPECT")
        product_save(organization=org_b, name="B product", price=Decimal("10.00"))
        spend_set(
            organization=org_b,
            month="2026-03",
            channel="ads",
            amount="100",
            campaign="B campaign",
            by=owner_b,
        )
        cash_set(
            organization=org_b,
            month="2026-03",
            cash_on_hand="5000",
            monthly_fixed_costs="1000",
            by=owner_b,
        )
        followup = followup_add(lead=lead, by=owner_b, kind="call", due_on=timezone.localdate())
        invitation_send(
            organization=org_b, email="invited@beta.test", is_sales=True, by=owner_b.user
        )
        b = {
            "org": org_b,
            "lead": lead,
            "followup": followup,
            "stage": Stage.objects.for_org(org_b).get(key="prospect"),
            "criterion": criterion,
            "lost_reason": LostReason.objects.for_org(org_b).first(),
            "channel": Channel.objects.for_org(org_b).first(),
            "member": owner_b,
        }
        yield org_a, owner_a, b


@pytest.fixture
def two_orgs(built_orgs, db, client):
    """For one test: fresh copies of the module's objects, a client logged in as A's owner."""
    org_a, owner_a, b = copy.deepcopy(built_orgs)
    client.force_login(owner_a.user)
    return org_a, b, client


def snapshot() -> list[Any]:
    return [table_rows(m) for m in B_TABLES]


@pytest.mark.parametrize(("route", "name", "params"), ORG_PATTERNS)
def test_another_organizations_slug_is_404(two_orgs, route, name, params):
    _org_a, b, client = two_orgs
    before = snapshot()
    url = urls_for(route, name, params, b["org"].slug, b)
    assert client.get(url).status_code == 404, url
    assert client.post(url, {"name": "hijack", "to_stage": b["stage"].pk}).status_code == 404, url
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "name", "params"),
    [p for p in ORG_PATTERNS if names_objects(p[2])],
    ids=lambda v: str(v),
)
def test_another_organizations_objects_are_404(two_orgs, route, name, params):
    org_a, b, client = two_orgs
    before = snapshot()
    url = urls_for(route, name, params, org_a.slug, b)
    get = client.get(url)
    assert get.status_code in (404, 405), (url, get.status_code)
    post = client.post(url, {"name": "hijack", "to_stage": b["stage"].pk, "met": "on"})
    assert post.status_code == 404, (url, post.status_code)
    assert snapshot() == before


@pytest.mark.parametrize(("route", "name", "params"), ORG_PATTERNS)
def test_anonymous_is_sent_to_log_in(client, two_orgs, route, name, params):
    org_a, b, _ = two_orgs
    client.logout()
    url = urls_for(route, name, params, org_a.slug, b)
    response = client.get(url)
    if response.status_code == 405:  # POST-only: refused before anything is read
        response = client.post(url)
    assert response.status_code == 302, (url, response.status_code)
    assert "/login/" in response["Location"], url
