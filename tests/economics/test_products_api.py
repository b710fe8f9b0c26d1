"""The products API, the default margin, and lines on a won move and on outcome reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from keepscore.accounts.models import Membership
from keepscore.economics.models import DealLine, Product
from keepscore.economics.products import default_margin
from keepscore.economics.services import default_margin_set, product_save
from keepscore.leads.models import DealOutcome, StageChange
from tests.api.conftest import api_for, fields_of

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def api_a(owner_a: Membership) -> Any:
    return api_for(owner_a)


def test_products_are_listed_added_and_changed(api_a, org_a, org_b):
    product_save(organization=org_b, name="Theirs", price=D(1))

    created = api_a.post("/products", {"name": "Audit", "price": "450", "cost": 120})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Audit",
        "price": "450.00",
        "cost": "120.00",
        "active": True,
    }
    listed = api_a.get("/products").json()
    assert [p["name"] for p in listed] == ["Audit"]  # not B's

    patched = api_a.patch(f"/products/{body['id']}", {"price": "500.5"})
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["price"], patched.json()["cost"]) == (
        "Audit",
        "500.50",
        "120.00",
    )
    cleared = api_a.patch(f"/products/{body['id']}", {"cost": None, "active": False})
    assert (cleared.json()["cost"], cleared.json()["active"]) == (None, False)
    product = Product.objects.get(pk=body["id"])
    assert (product.price, product.cost, product.active) == (D("500.50"), None, False)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "price": 1}, "name"),
        ({"name": "Taken", "price": 1}, "name"),
        ({"name": "X", "price": -1}, "price"),
        ({"name": "X", "price": "1.001"}, "price"),
        ({"name": "X", "price": 1, "cost": -3}, "cost"),
        ({"name": "X"}, "price"),
        ({"name": "X", "price": "NaN"}, "price"),
    ],
)
def test_bad_products_are_422_with_their_field(api_a, org_a, body, field):
    product_save(organization=org_a, name="Taken", price=D(1))

    response = api_a.post("/products", body)

    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert Product.objects.count() == 1


def test_the_default_margin_is_read_set_and_cleared(api_a, org_a):
    money = {"currency": "EUR", "number_locale": "en_IE", "example": "€1,234.50"}
    assert api_a.get("/money-settings").json() == {"default_margin_pct": None, **money}

    assert api_a.put("/money-settings", {"default_margin_pct": 35}).json() == {
        "default_margin_pct": "35.00",
        **money,
    }
    assert default_margin(org_a) == D(35)
    bad = api_a.put("/money-settings", {"default_margin_pct": 150})
    assert bad.status_code == 422 and fields_of(bad) == ["default_margin_pct"]
    assert api_a.get("/money-settings").json() == {"default_margin_pct": "35.00", **money}
    assert api_a.put("/money-settings", {"default_margin_pct": None}).json() == {
        "default_margin_pct": None,
        **money,
    }
    assert default_margin(org_a) is None


def test_only_owners_change_products_and_the_margin(org_a, sales_a: Membership):
    api = api_for(sales_a)
    product = product_save(organization=org_a, name="Audit", price=D(1))

    assert api.get("/products").status_code == 200
    assert api.post("/products", {"name": "X", "price": 1}).status_code == 403
    assert api.patch(f"/products/{product.pk}", {"name": "Y"}).status_code == 403
    assert api.put("/money-settings", {"default_margin_pct": 1}).status_code == 403
    assert Product.objects.count() == 1 and default_margin(org_a) is None


def test_another_organizations_product_is_404(api_a, org_b):
    theirs = product_save(organization=org_b, name="Theirs", price=D(1))

    assert api_a.patch(f"/products/{theirs.pk}", {"name": "Mine"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


# --- lines on a won move -----------------------------------------------------------------------


def test_a_won_move_with_lines_and_the_outcome_reads(api_a, org_a, lead_a):
    default_margin_set(organization=org_a, pct=D(35))
    audit = product_save(organization=org_a, name="Audit", price=D("450"), cost=D("120"))
    hours = product_save(organization=org_a, name="Hours", price=D("99.99"))

    moved = api_a.post(
        f"/leads/{lead_a.pk}/moves",
        {
            "to_stage": "customer",
            "lines": [
                {"product": audit.pk, "quantity": 2},
                {"product": hours.pk, "quantity": "1.5", "unit_price": "80"},
            ],
        },
    )

    assert moved.status_code == 201, moved.content
    outcome = moved.json()["outcome"]
    # revenue 2 x 450 + 1.5 x 80 = 1020; cost 2 x 120 + 1.5 x (80 x 0.65 = 52) = 318
    assert (outcome["revenue"], outcome["cost"], outcome["margin"]) == (
        "1020.00",
        "318.00",
        "702.00",
    )
    expected_lines = [
        {
            "product": audit.pk,
            "product_name": "Audit",
            "quantity": "2.00",
            "unit_price": "450.00",
            "unit_cost": "120.00",
            "revenue": "900.00",
            "cost": "240.00",
        },
        {
            "product": hours.pk,
            "product_name": "Hours",
            "quantity": "1.50",
            "unit_price": "80.00",
            "unit_cost": "52.00",
            "revenue": "120.00",
            "cost": "78.00",
        },
    ]
    assert outcome["lines"] == expected_lines
    assert api_a.get(f"/leads/{lead_a.pk}/outcomes").json()[0]["lines"] == expected_lines
    assert api_a.get("/outcomes").json()["items"][0]["lines"] == expected_lines
    changes = api_a.get(f"/leads/{lead_a.pk}/stage-changes").json()
    assert [c["outcome"]["lines"] for c in changes if c["outcome"]] == [expected_lines]


def test_a_won_move_typed_in_has_no_lines(api_a, lead_a):
    moved = api_a.post(f"/leads/{lead_a.pk}/moves", {"to_stage": "customer", "revenue": "10"})
    assert moved.status_code == 201
    assert moved.json()["outcome"]["lines"] == []
    assert moved.json()["outcome"]["cost"] is None


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"revenue": 5, "lines": [{"product": "MINE", "quantity": 1}]}, "revenue"),
        ({"lines": [{"product": "THEIRS", "quantity": 1}]}, "lines"),
        ({"lines": [{"product": 999999, "quantity": 1}]}, "lines"),
        ({"lines": [{"product": "MINE", "quantity": 0}]}, "lines"),
        ({"lines": [{"product": "MINE", "quantity": 1, "unit_price": -1}]}, "lines"),
        ({"lines": [{"product": "MINE"}]}, "lines.0.quantity"),
        ({"lines": [{"product": "MINE", "quantity": 1e15, "unit_price": 1e11}]}, "lines"),
    ],
)
def test_a_refused_won_move_writes_nothing(api_a, org_a, org_b, lead_a, extra, field):
    mine = product_save(organization=org_a, name="Mine", price=D(10))
    theirs = product_save(organization=org_b, name="Theirs", price=D(10))
    ids = {"MINE": mine.pk, "THEIRS": theirs.pk}
    for line in extra.get("lines", []):
        line["product"] = ids.get(line["product"], line["product"])

    response = api_a.post(f"/leads/{lead_a.pk}/moves", {"to_stage": "customer", **extra})

    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert StageChange.objects.filter(lead=lead_a).count() == 1
    assert not DealOutcome.objects.exists() and not DealLine.objects.exists()
