"""Products, the default margin and a won deal's amounts: every number computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from keepscore.economics.models import MoneySettings, Product
from keepscore.economics.products import LineIn, cents, deal_amounts, default_margin
from keepscore.economics.services import default_margin_set, product_retire, product_save

pytestmark = pytest.mark.django_db

D = Decimal


def fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(error.value.message_dict)


# --- products -------------------------------------------------------------------------


def test_a_product_is_saved_with_its_price_and_cost(org_a):
    product = product_save(organization=org_a, name="  Website audit ", price=D("450.00"))

    assert (product.name, product.price, product.cost, product.active) == (
        "Website audit",
        D("450.00"),
        None,
        True,
    )
    changed = product_save(
        organization=org_a, name="Website audit", price=D("500"), cost=D("120.5"), product=product
    )
    assert changed.pk == product.pk
    product.refresh_from_db()
    assert (product.price, product.cost) == (D("500.00"), D("120.50"))


def test_a_product_name_is_unique_in_its_organization_only(org_a, org_b):
    product_save(organization=org_a, name="Audit", price=D(1))

    with pytest.raises(ValidationError) as error:
        product_save(organization=org_a, name="AUDIT", price=D(2))
    assert fields(error) == {"name"}
    product_save(organization=org_b, name="Audit", price=D(2))  # another organization: fine
    assert Product.objects.filter(name__iexact="audit").count() == 2


@pytest.mark.parametrize(
    ("name", "price", "cost", "field"),
    [
        ("", D(1), None, "name"),
        ("   ", D(1), None, "name"),
        ("X", D(-1), None, "price"),
        ("X", D("1.005"), None, "price"),
        ("X", D("NaN"), None, "price"),
        ("X", D("1e15"), None, "price"),
        ("X", D(1), D("-0.01"), "cost"),
        ("X", D(1), D("Infinity"), "cost"),
        ("X" * 201, D(1), None, "name"),
    ],
)
def test_bad_products_are_refused_by_field(org_a, name, price, cost, field):
    with pytest.raises(ValidationError) as error:
        product_save(organization=org_a, name=name, price=price, cost=cost)
    assert fields(error) == {field}
    assert not Product.objects.exists()


def test_a_product_of_another_organization_cannot_be_changed_through_this_one(org_a, org_b):
    theirs = product_save(organization=org_b, name="Theirs", price=D(1))

    with pytest.raises(ValidationError):
        product_save(organization=org_a, name="Mine now", price=D(1), product=theirs)
    theirs.refresh_from_db()
    assert (theirs.name, theirs.organization_id) == ("Theirs", org_b.pk)


def test_retiring_keeps_the_product(org_a):
    product = product_save(organization=org_a, name="Old thing", price=D(1))

    product_retire(product=product)
    product_retire(product=product)  # twice: no change, no error

    product.refresh_from_db()
    assert product.active is False


# --- the default margin ---------------------------------------------------------------------


def test_the_default_margin_is_set_changed_and_cleared(org_a, org_b):
    assert default_margin(org_a) is None

    default_margin_set(organization=org_a, pct=D("35"))
    assert default_margin(org_a) == D("35.00")
    default_margin_set(organization=org_a, pct=D("-12.5"))
    assert default_margin(org_a) == D("-12.50")
    default_margin_set(organization=org_a, pct=None)
    assert default_margin(org_a) is None
    assert default_margin(org_b) is None
    assert MoneySettings.objects.count() == 1


@pytest.mark.parametrize("pct", [D("100.01"), D("-100.01"), D("1000"), D("35.555"), D("NaN")])
def test_a_default_margin_out_of_range_is_refused(org_a, pct):
    default_margin_set(organization=org_a, pct=D(20))

    with pytest.raises(ValidationError) as error:
        default_margin_set(organization=org_a, pct=pct)
    assert fields(error) == {"default_margin_pct"}
    assert default_margin(org_a) == D(20)


@pytest.mark.parametrize("pct", [D(-100), D(100), D(0)])
def test_the_ends_of_the_margin_range_are_accepted(org_a, pct):
    assert default_margin_set(organization=org_a, pct=pct).default_margin_pct == pct


# --- amounts ---------------------------------------------------------------------------------


def test_cents_round_half_up():
    assert cents(D("2.345")) == D("2.35")
    assert cents(D("2.344999")) == D("2.34")
    assert cents(D("-2.345")) == D("-2.35")
    assert cents(D("0.005")) == D("0.01")
    assert cents(D("0.125")) == D("0.13")  # half-even would give 0.12


def test_amounts_from_lines_with_product_prices_and_costs(org_a):
    audit = product_save(organization=org_a, name="Audit", price=D("450.00"), cost=D("120.00"))
    day = product_save(organization=org_a, name="Day", price=D("800.00"), cost=D("300.00"))

    revenue, cost, rows = deal_amounts(org_a, lines=[LineIn(audit, D(1)), LineIn(day, D("2.5"))])

    # 1 x 450 + 2.5 x 800 = 2450; 1 x 120 + 2.5 x 300 = 870
    assert (revenue, cost) == (D("2450.00"), D("870.00"))
    assert [(r.product, r.quantity, r.unit_price, r.unit_cost) for r in rows] == [
        (audit, D(1), D("450.00"), D("120.00")),
        (day, D("2.5"), D("800.00"), D("300.00")),
    ]


def test_a_line_may_override_the_unit_price_but_not_the_cost(org_a):
    day = product_save(organization=org_a, name="Day", price=D("800.00"), cost=D("300.00"))

    revenue, cost, rows = deal_amounts(org_a, lines=[LineIn(day, D(3), unit_price=D("650"))])

    assert (revenue, cost) == (D("1950.00"), D("900.00"))  # 3 x 650, 3 x 300
    assert rows[0].unit_price == D("650")
    free, _, _ = deal_amounts(org_a, lines=[LineIn(day, D(1), unit_price=D(0))])
    assert free == D("0.00")


def test_a_product_without_cost_costs_its_price_at_the_default_margin(org_a):
    hours = product_save(organization=org_a, name="Hours", price=D("99.99"))

    # no default margin: a cost of 0
    revenue, cost, rows = deal_amounts(org_a, lines=[LineIn(hours, D(3))])
    assert (revenue, cost, rows[0].unit_cost) == (D("299.97"), D("0.00"), D("0.00"))

    # 35 %: unit cost 99.99 x 0.65 = 64.9935 -> 64.99; 3 x 64.99 = 194.97
    default_margin_set(organization=org_a, pct=D(35))
    revenue, cost, rows = deal_amounts(org_a, lines=[LineIn(hours, D(3))])
    assert (revenue, cost, rows[0].unit_cost) == (D("299.97"), D("194.97"), D("64.99"))

    # an overridden price is what the margin applies to: 50 x 0.65 = 32.50
    _, cost, rows = deal_amounts(org_a, lines=[LineIn(hours, D(2), unit_price=D(50))])
    assert (cost, rows[0].unit_cost) == (D("65.00"), D("32.50"))


def test_a_product_with_a_cost_ignores_the_default_margin(org_a):
    default_margin_set(organization=org_a, pct=D(35))
    kit = product_save(organization=org_a, name="Kit", price=D(100), cost=D(90))

    assert deal_amounts(org_a, lines=[LineIn(kit, D(2))])[:2] == (D("200.00"), D("180.00"))


def test_line_amounts_are_rounded_half_up_at_the_total(org_a):
    # 0.5 x 0.05 = 0.025 -> 0.03 (half up; half-even would give 0.02)
    bolt = product_save(organization=org_a, name="Bolt", price=D("0.05"), cost=D("0.01"))
    revenue, cost, _ = deal_amounts(org_a, lines=[LineIn(bolt, D("0.5"))])
    assert (revenue, cost) == (D("0.03"), D("0.01"))  # cost 0.005 -> 0.01

    # three lines of 0.5 x 0.05: 0.075 -> 0.08, not 3 x 0.03 = 0.09
    revenue, _, _ = deal_amounts(org_a, lines=[LineIn(bolt, D("0.5"))] * 3)
    assert revenue == D("0.08")

    # a unit cost from the default margin is rounded first: 0.05 x (1 - 0.333) = 0.03335
    default_margin_set(organization=org_a, pct=D("33.3"))
    nut = product_save(organization=org_a, name="Nut", price=D("0.05"))
    _, cost, rows = deal_amounts(org_a, lines=[LineIn(nut, D(10))])
    assert rows[0].unit_cost == D("0.03")
    assert cost == D("0.30")


def test_direct_entry_takes_revenue_and_cost_as_entered(org_a):
    assert deal_amounts(org_a, revenue=D("1200.50"), cost=D("400")) == (
        D("1200.50"),
        D("400"),
        [],
    )
    assert deal_amounts(org_a, revenue=D("1200.50")) == (D("1200.50"), None, [])  # as today
    assert deal_amounts(org_a) == (None, None, [])


def test_direct_entry_without_cost_uses_the_default_margin(org_a):
    default_margin_set(organization=org_a, pct=D(35))

    # 1200.50 x 0.65 = 780.325 -> 780.33 (half up)
    assert deal_amounts(org_a, revenue=D("1200.50")) == (D("1200.50"), D("780.33"), [])
    # an entered cost wins, even 0
    assert deal_amounts(org_a, revenue=D(100), cost=D(0))[1] == D(0)
    default_margin_set(
        organization=org_a, pct=D(-100)
    )  # selling at a loss: costs twice the revenue
    assert deal_amounts(org_a, revenue=D(100))[1] == D("200.00")


def test_lines_and_a_typed_revenue_together_are_refused(org_a):
    audit = product_save(organization=org_a, name="Audit", price=D(450))

    with pytest.raises(ValidationError) as error:
        deal_amounts(org_a, lines=[LineIn(audit, D(1))], revenue=D(450))
    assert fields(error) == {"revenue"}
    with pytest.raises(ValidationError) as error:
        deal_amounts(org_a, lines=[LineIn(audit, D(1))], cost=D(10))
    assert fields(error) == {"cost"}


@pytest.mark.parametrize(
    ("quantity", "unit_price", "says"),
    [
        (D(0), None, "Line 1: the quantity must be more than 0."),
        (D(-1), None, "Line 1: the quantity must be more than 0."),
        (D("0.001"), None, "Line 1: the quantity has at most 2 decimal places"),
        (D("1e11"), None, "Line 1: the quantity has at most 2 decimal places"),
        (D("NaN"), None, "Line 1: the quantity must be more than 0."),
        (D(1), D(-5), "Line 1: The unit price cannot be negative."),
        (D(1), D("1.001"), "Line 1: The unit price has at most 2 decimal places"),
    ],
)
def test_a_bad_line_is_refused_naming_it(org_a, quantity, unit_price, says):
    audit = product_save(organization=org_a, name="Audit", price=D(450))

    with pytest.raises(ValidationError) as error:
        deal_amounts(org_a, lines=[LineIn(audit, quantity, unit_price)])
    assert fields(error) == {"lines"}
    assert error.value.message_dict["lines"][0].startswith(says)


def test_a_line_of_another_organizations_product_is_refused(org_a, org_b):
    mine = product_save(organization=org_a, name="Mine", price=D(1))
    theirs = product_save(organization=org_b, name="Theirs", price=D(1))

    with pytest.raises(ValidationError) as error:
        deal_amounts(org_a, lines=[LineIn(mine, D(1)), LineIn(theirs, D(1))])
    assert error.value.message_dict == {
        "lines": ["Line 2: that product is not in this organization."]
    }


def test_a_retired_product_is_not_sold_any_more(org_a):
    old = product_retire(product=product_save(organization=org_a, name="Old", price=D(1)))

    with pytest.raises(ValidationError) as error:
        deal_amounts(org_a, lines=[LineIn(old, D(1))])
    assert "no longer sold" in error.value.message_dict["lines"][0]


def test_amounts_match_an_independent_computation(org_a):
    """Many lines: the sums against plain float-free arithmetic written out separately."""
    default_margin_set(organization=org_a, pct=D(40))
    products = [
        product_save(organization=org_a, name=f"P{i}", price=D(i * 37) / 10, cost=c)
        for i, c in [(1, None), (2, D("1.10")), (3, None), (7, D("0"))]
    ]
    quantities = [D("1.25"), D(3), D("0.33"), D(12)]
    lines = [LineIn(p, q) for p, q in zip(products, quantities, strict=True)]

    revenue, cost, _ = deal_amounts(org_a, lines=lines)

    # prices 3.70, 7.40, 11.10, 25.90; unit costs 3.70*.6=2.22, 1.10, 11.10*.6=6.66, 0
    exp_revenue = D("1.25") * D("3.70") + 3 * D("7.40") + D("0.33") * D("11.10") + 12 * D("25.90")
    exp_cost = D("1.25") * D("2.22") + 3 * D("1.10") + D("0.33") * D("6.66") + 0
    assert exp_revenue == D("341.288")  # 4.625 + 22.2 + 3.663 + 310.8
    assert revenue == D("341.29")
    assert exp_cost == D("8.2728")  # 2.775 + 3.3 + 2.1978
    assert cost == D("8.27")


def test_the_example_of_docs_numbers(org_a):
    """The worked example of docs/numbers.md, "Money"."""
    default_margin_set(organization=org_a, pct=D(35))
    audit = product_save(organization=org_a, name="Audit", price=D(450), cost=D(120))
    hours = product_save(organization=org_a, name="Hours", price=D("99.99"))

    revenue, cost, rows = deal_amounts(org_a, lines=[LineIn(audit, D(2)), LineIn(hours, D(3))])

    assert (revenue, cost, revenue - cost) == (D("1199.97"), D("434.97"), D("765.00"))
    assert rows[1].unit_cost == D("64.99")
