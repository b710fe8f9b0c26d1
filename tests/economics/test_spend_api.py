"""The spend and cash API: GET/PUT /spend, DELETE /spend/{id}, GET/PUT /cash."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from keepscore.economics.models import CashPosition, Spend
from keepscore.economics.services import cash_set, spend_set
from tests.api.conftest import api_for, fields_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_a(owner_a):
    return api_for(owner_a)


@pytest.fixture
def api_sales(sales_a):
    return api_for(sales_a)


def test_put_then_get_with_filters(api_a, org_a, org_b, owner_a):
    first = api_a.put("/spend", {"month": "2026-01", "channel": "ads", "amount": "1200.5"})
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["month"], body["channel"], body["campaign"], body["amount"]) == (
        "2026-01",
        "ads",
        "",
        "1200.50",
    )
    assert body["by"] == owner_a.user.email
    again = api_a.put(
        "/spend", {"month": "2026-01", "channel": "ads", "amount": 1000, "note": "cut"}
    )
    assert again.json()["id"] == body["id"] and again.json()["amount"] == "1000.00"
    api_a.put("/spend", {"month": "2026-02", "channel": "Referral", "amount": 45, "campaign": "C"})
    spend_set(organization=org_b, month="2026-01", channel="ads", amount=999)
    listed = api_a.get("/spend").json()
    assert [(i["month"], i["channel"], i["amount"]) for i in listed["items"]] == [
        ("2026-01", "ads", "1000.00"),
        ("2026-02", "referral", "45.00"),
    ]
    assert listed["total"] == "1045.00" and listed["channel_totals"]["ads"] == "1000.00"
    assert listed["from"] is None
    one = api_a.get("/spend", **{"from": "2026-02", "to": "2026-12"}).json()
    assert one["from"] == "2026-02" and [i["channel"] for i in one["items"]] == ["referral"]
    ads = api_a.get("/spend", channel="ads").json()
    assert ads["total"] == "1000.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2026-13", "channel": "ads", "amount": 1}, "month"),
        ({"month": "2026-01", "channel": "tv", "amount": 1}, "channel"),
        ({"month": "2026-01", "channel": "ads", "amount": -1}, "amount"),
        ({"month": "2026-01", "channel": "ads", "amount": "1.001"}, "amount"),
        ({"month": "2026-01", "channel": "ads", "amount": "NaN"}, "amount"),
        ({"month": "2026-01", "channel": "ads"}, "amount"),
        ({"month": "2026-01", "channel": "ads", "amount": 1, "campaign": "x" * 201}, "campaign"),
    ],
)
def test_bad_put_names_the_field(api_a, org_a, body, field):
    response = api_a.put("/spend", body)
    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert not Spend.objects.for_org(org_a).exists()


def test_bad_filters_are_422(api_a):
    response = api_a.get("/spend", **{"from": "2026-05", "to": "2026-01"})
    assert response.status_code == 422 and fields_of(response) == ["to"]
    assert fields_of(api_a.get("/spend", channel="nope")) == ["channel"]
    assert fields_of(api_a.get("/spend", **{"from": "May"})) == ["from"]


def test_delete(api_a, org_a, org_b):
    mine = spend_set(organization=org_a, month="2026-01", channel="ads", amount=5)
    theirs = spend_set(organization=org_b, month="2026-01", channel="ads", amount=5)
    assert api_a.delete(f"/spend/{theirs.pk}").status_code == 404
    assert api_a.delete(f"/spend/{mine.pk}").status_code == 204
    assert api_a.delete(f"/spend/{mine.pk}").status_code == 404
    assert not Spend.objects.for_org(org_a).exists() and Spend.objects.for_org(org_b).exists()


def test_sales_members_read_only(api_sales, org_a):
    row = spend_set(organization=org_a, month="2026-01", channel="ads", amount=5)
    assert api_sales.get("/spend").status_code == 200
    assert api_sales.get("/cash").status_code == 200
    body = {"month": "2026-01", "channel": "ads", "amount": 1}
    assert api_sales.put("/spend", body).status_code == 403
    assert api_sales.delete(f"/spend/{row.pk}").status_code == 403
    cash = {"month": "2026-01", "cash_on_hand": 1, "monthly_fixed_costs": 1}
    assert api_sales.put("/cash", cash).status_code == 403
    assert Spend.objects.for_org(org_a).get().amount == 5
    assert not CashPosition.objects.for_org(org_a).exists()


def test_cash(api_a, org_a, org_b):
    assert api_a.get("/cash").json() == {"current": None, "items": []}
    put = api_a.put(
        "/cash", {"month": "2026-01", "cash_on_hand": "10000", "monthly_fixed_costs": "3000"}
    )
    assert put.status_code == 200, put.content
    assert put.json()["runway_months"] == "3.33"  # 10000 / 3000
    api_a.put("/cash", {"month": "2026-02", "cash_on_hand": -5, "monthly_fixed_costs": 3000})
    cash_set(organization=org_b, month="2026-03", cash_on_hand=1, monthly_fixed_costs=1)
    answer = api_a.get("/cash").json()
    assert answer["current"]["month"] == "2026-02" and answer["current"]["runway_months"] == "0.00"
    assert [i["month"] for i in answer["items"]] == ["2026-02", "2026-01"]
    refused = api_a.put("/cash", {"month": "2026-01", "cash_on_hand": 1, "monthly_fixed_costs": -1})
    assert refused.status_code == 422 and fields_of(refused) == ["monthly_fixed_costs"]
    assert CashPosition.objects.for_org(org_a).get(month=date(2026, 1, 1)).cash_on_hand == Decimal(
        10000
    )
