"""The "Products & margin" settings page, and products on the lead page's move panel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from keepscore.accounts.models import Organization
from keepscore.economics.models import DealLine, Product
from keepscore.economics.products import default_margin
from keepscore.economics.services import default_margin_set, product_save
from keepscore.leads.models import DealOutcome, StageChange
from tests.conftest import stage

pytestmark = pytest.mark.django_db

D = Decimal


def url(name: str, org: Organization, **kwargs: Any) -> str:
    return reverse(name, kwargs={"org": org.slug, **kwargs})


def test_the_page_lists_products_with_their_margin(client_a, org_a):
    product_save(organization=org_a, name="Audit", price=D("450"), cost=D("120"))
    product_save(organization=org_a, name="Hours", price=D("90"))
    default_margin_set(organization=org_a, pct=D(35))

    response = client_a.get(url("settings_products", org_a))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Products &amp; margin" in html  # the settings tab
    assert "Audit" in html and "450.00" in html and "120.00" in html
    assert "73.3%" in html  # (450 - 120) / 450 = 73.33 %
    assert "default margin" in html  # Hours has no cost
    assert "<strong>35%</strong>" in html


def test_adding_editing_and_retiring_a_product(client_a, org_a):
    response = client_a.post(
        url("settings_products", org_a),
        {"name": "Audit", "price": "450", "cost": "", "active": "on"},
    )
    assert response.status_code == 302
    product = Product.objects.get(organization=org_a)
    assert (product.name, product.price, product.cost, product.active) == (
        "Audit",
        D("450.00"),
        None,
        True,
    )

    edit = url("settings_product_edit", org_a, product_pk=product.pk)
    assert client_a.get(edit).status_code == 200
    response = client_a.post(
        edit, {"name": "Audit+", "price": "500", "cost": "99.5", "active": "on"}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.price, product.cost) == ("Audit+", D("500.00"), D("99.50"))

    response = client_a.post(url("settings_product_retire", org_a, product_pk=product.pk))
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.active is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "price": "1"}, "name"),
        ({"name": "X", "price": ""}, "price"),
        ({"name": "X", "price": "-1"}, "price"),
        ({"name": "X", "price": "1", "cost": "-1"}, "cost"),
        ({"name": "X", "price": "1.001"}, "price"),
        ({"name": "Taken", "price": "1"}, "name"),
    ],
)
def test_a_bad_product_is_refused_and_nothing_saved(client_a, org_a, data, field):
    product_save(organization=org_a, name="Taken", price=D(1))

    response = client_a.post(url("settings_products", org_a), data)

    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert Product.objects.count() == 1


def test_setting_and_clearing_the_default_margin(client_a, org_a):
    assert (
        client_a.post(url("settings_margin", org_a), {"default_margin_pct": "35"}).status_code
        == 302
    )
    assert default_margin(org_a) == D(35)
    bad = client_a.post(url("settings_margin", org_a), {"default_margin_pct": "101"})
    assert bad.status_code == 422
    assert bad.context["margin_form"].errors["default_margin_pct"]
    assert default_margin(org_a) == D(35)
    assert (
        client_a.post(url("settings_margin", org_a), {"default_margin_pct": ""}).status_code == 302
    )
    assert default_margin(org_a) is None


def test_only_owners_see_the_page(client, org_a, sales_a):
    client.force_login(sales_a.user)
    assert client.get(url("settings_products", org_a)).status_code in (403, 404)
    response = client.post(url("settings_products", org_a), {"name": "X", "price": "1"})
    assert response.status_code in (403, 404)
    assert not Product.objects.exists()


def test_another_organizations_product_is_404(client_a, org_a, org_b):
    theirs = product_save(organization=org_b, name="Theirs", price=D(1))

    assert (
        client_a.get(url("settings_product_edit", org_a, product_pk=theirs.pk)).status_code == 404
    )
    assert (
        client_a.post(url("settings_product_retire", org_a, product_pk=theirs.pk)).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.active is True


# --- the move panel ------------------------------------------------------------------------


def test_the_move_panel_offers_the_products_sold(client_a, org_a, lead_a):
    product_save(organization=org_a, name="Audit", price=D("450"))
    retired = product_save(organization=org_a, name="Gone", price=D("1"), active=False)

    won = stage(org_a, "customer").pk
    html = client_a.get(url("lead_detail", org_a, pk=lead_a.pk), {"to_stage": won}).content.decode()

    assert 'name="line_1_product"' in html and 'name="line_3_quantity"' in html
    assert ">Audit</option>" in html
    assert ">Gone</option>" not in html and retired.active is False


def test_a_won_move_with_products_from_the_lead_page(client_a, org_a, lead_a):
    default_margin_set(organization=org_a, pct=D(40))
    audit = product_save(organization=org_a, name="Audit", price=D("450"), cost=D("120"))
    hours = product_save(organization=org_a, name="Hours", price=D("90"))

    response = client_a.post(
        url("lead_move", org_a, pk=lead_a.pk),
        {
            "to_stage": stage(org_a, "customer").pk,
            "line_1_product": audit.pk,
            "line_1_quantity": "",  # empty: one
            "line_2_product": hours.pk,
            "line_2_quantity": "3",
            "line_2_unit_price": "80",
        },
    )

    assert response.status_code == 302
    outcome = DealOutcome.objects.get(lead=lead_a)
    # 450 + 3 x 80 = 690; 120 + 3 x (80 x 0.6 = 48) = 264
    assert (outcome.revenue, outcome.cost) == (D("690.00"), D("264.00"))
    assert list(
        DealLine.objects.filter(outcome=outcome).values_list("product__name", "quantity")
    ) == [("Audit", D("1.00")), ("Hours", D("3.00"))]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"revenue": "100", "line_1_product": "PRODUCT"}, "revenue"),
        ({"line_1_quantity": "2"}, "line_1_product"),
        ({"line_1_product": "PRODUCT", "line_1_quantity": "0"}, "line_1_quantity"),
        ({"line_1_product": "OTHER"}, "line_1_product"),
    ],
)
def test_a_refused_won_move_from_the_page_writes_nothing(
    client_a, org_a, org_b, lead_a, data, field
):
    audit = product_save(organization=org_a, name="Audit", price=D("450"))
    theirs = product_save(organization=org_b, name="Theirs", price=D("1"))
    ids = {"PRODUCT": str(audit.pk), "OTHER": str(theirs.pk)}
    data = {k: ids.get(v, v) for k, v in data.items()}

    response = client_a.post(
        url("lead_move", org_a, pk=lead_a.pk), {"to_stage": stage(org_a, "customer").pk, **data}
    )

    assert response.status_code == 422
    assert response.context["move_form"].errors[field]
    assert StageChange.objects.filter(lead=lead_a).count() == 1
    assert not DealOutcome.objects.exists() and not DealLine.objects.exists()
