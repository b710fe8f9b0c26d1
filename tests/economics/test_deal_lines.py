"""A won move with the products sold: the lines are written with the outcome, in one
transaction, and the outcome's revenue and cost are the lines' sums."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from keepscore.economics.models import DealLine, Product
from keepscore.economics.products import LineIn
from keepscore.economics.services import default_margin_set, product_save
from keepscore.funnel import summary
from keepscore.history import recorder
from keepscore.leads.models import DealOutcome, LostReason, StageChange
from keepscore.leads.services import Outcome, lead_move
from tests.conftest import stage

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def catalogue(org_a):
    return {
        "audit": product_save(organization=org_a, name="Audit", price=D("450"), cost=D("120")),
        "day": product_save(organization=org_a, name="Day", price=D("800")),
    }


def history(lead):
    return (
        StageChange.objects.filter(lead=lead).count(),
        DealOutcome.objects.filter(lead=lead).count(),
        DealLine.objects.count(),
    )


def test_a_won_move_with_lines_writes_them_and_their_sums(org_a, owner_a, lead_a, catalogue):
    default_margin_set(organization=org_a, pct=D(35))

    change = lead_move(
        lead=lead_a,
        to_stage=stage(org_a, "customer"),
        by=owner_a,
        outcome=Outcome(
            lines=(
                LineIn(catalogue["audit"], D(2)),
                LineIn(catalogue["day"], D("1.5"), unit_price=D("750.00")),
            )
        ),
    )

    outcome = change.outcome
    # revenue 2 x 450 + 1.5 x 750 = 2025; cost 2 x 120 + 1.5 x (750 x 0.65 = 487.50) = 971.25
    assert (outcome.revenue, outcome.cost, outcome.margin) == (
        D("2025.00"),
        D("971.25"),
        D("1053.75"),
    )
    lines = list(DealLine.objects.filter(outcome=outcome).order_by("id"))
    assert [(x.product.name, x.quantity, x.unit_price, x.unit_cost) for x in lines] == [
        ("Audit", D("2.00"), D("450.00"), D("120.00")),
        ("Day", D("1.50"), D("750.00"), D("487.50")),
    ]
    assert all(x.organization_id == org_a.pk for x in lines)
    assert sum(x.revenue for x in lines) == outcome.revenue
    assert sum(x.cost for x in lines) == outcome.cost
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "customer"


def test_a_won_move_typed_in_takes_the_default_margin_for_its_cost(org_a, owner_a, lead_a):
    default_margin_set(organization=org_a, pct=D(35))

    change = lead_move(
        lead=lead_a,
        to_stage=stage(org_a, "customer"),
        by=owner_a,
        outcome=Outcome(revenue=D("1000")),
    )

    assert (change.outcome.revenue, change.outcome.cost) == (D("1000"), D("650.00"))
    assert not DealLine.objects.exists()


def test_a_won_move_typed_in_without_default_margin_keeps_no_cost(org_a, owner_a, lead_a):
    change = lead_move(
        lead=lead_a, to_stage=stage(org_a, "customer"), by=owner_a, outcome=Outcome(revenue=D(10))
    )
    assert change.outcome.cost is None


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        (lambda c: Outcome(revenue=D(1), lines=(LineIn(c["audit"], D(1)),)), "revenue"),
        (lambda c: Outcome(lines=(LineIn(c["audit"], D(0)),)), "lines"),
        (lambda c: Outcome(lines=(LineIn(c["audit"], D(1)), LineIn(c["day"], D(-2)))), "lines"),
        (lambda c: Outcome(lines=(LineIn(c["day"], D("9999999999"), D("9999999999")),)), "revenue"),
        (lambda c: Outcome(), "revenue"),
    ],
)
def test_a_refused_won_move_writes_nothing(org_a, owner_a, lead_a, catalogue, outcome, field):
    before = history(lead_a)

    with pytest.raises(ValidationError) as error:
        lead_move(
            lead=lead_a, to_stage=stage(org_a, "customer"), by=owner_a, outcome=outcome(catalogue)
        )

    assert field in error.value.message_dict
    assert history(lead_a) == before
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "suspect"


def test_a_failure_while_writing_the_lines_rolls_back_the_move(org_a, owner_a, lead_a, catalogue):
    before = history(lead_a)

    with (
        mock.patch.object(DealLine.objects, "bulk_create", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        lead_move(
            lead=lead_a,
            to_stage=stage(org_a, "customer"),
            by=owner_a,
            outcome=Outcome(lines=(LineIn(catalogue["audit"], D(1)),)),
        )

    assert history(lead_a) == before
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "suspect"


def test_a_product_of_another_organization_is_refused_in_a_line(org_a, owner_a, lead_a, org_b):
    theirs = product_save(organization=org_b, name="Theirs", price=D(100), cost=D(1))
    before = history(lead_a)

    with pytest.raises(ValidationError) as error:
        lead_move(
            lead=lead_a,
            to_stage=stage(org_a, "customer"),
            by=owner_a,
            outcome=Outcome(lines=(LineIn(theirs, D(1)),)),
        )

    assert error.value.message_dict == {
        "lines": ["Line 1: that product is not in this organization."]
    }
    assert history(lead_a) == before


def test_lines_on_a_move_that_is_not_won_are_refused(org_a, owner_a, lead_a, catalogue):
    before = history(lead_a)

    for key, extra in (
        ("lost", {"lost_reason": LostReason.objects.for_org(org_a).first()}),
        ("prospect", {}),
    ):
        with pytest.raises(ValidationError) as error:
            lead_move(
                lead=lead_a,
                to_stage=stage(org_a, key),
                by=owner_a,
                outcome=Outcome(lines=(LineIn(catalogue["audit"], D(1)),), **extra),
            )
        assert set(error.value.message_dict) == {"lines"}
    assert history(lead_a) == before


def test_the_summaries_count_a_deal_with_lines_like_one_typed_in(org_a, owner_a, lead_a, catalogue):
    from keepscore.leads.services import lead_create
    from tests.conftest import channel

    other = lead_create(organization=org_a, name="Typed", channel=channel(org_a), by=owner_a)
    lead_move(
        lead=lead_a,
        to_stage=stage(org_a, "customer"),
        by=owner_a,
        outcome=Outcome(lines=(LineIn(catalogue["audit"], D(3)),)),  # 1350, cost 360
    )
    lead_move(
        lead=other,
        to_stage=stage(org_a, "customer"),
        by=owner_a,
        outcome=Outcome(revenue=D("100.50"), cost=D("40")),
    )
    recorder.rebuild(organization=org_a)

    month = timezone.localdate().replace(day=1)
    counts = summary.month_counts(org_a, month, month)[month]

    assert counts["won"] == 2
    assert counts["revenue"] == D("1450.50")  # 1350 + 100.50
    assert counts["cost"] == D("400.00")  # 360 + 40


def test_the_lead_timeline_shows_the_lines(client_a, org_a, owner_a, lead_a, catalogue):
    lead_move(
        lead=lead_a,
        to_stage=stage(org_a, "customer"),
        by=owner_a,
        outcome=Outcome(lines=(LineIn(catalogue["audit"], D(2), unit_price=D("400.00")),)),
    )

    html = client_a.get(f"/o/{org_a.slug}/leads/{lead_a.pk}/").content.decode()

    assert "Won: revenue €800.00, cost €240.00, margin €560.00" in html
    assert "2 × Audit at €400.00 (cost €120.00 each): €800.00" in html  # noqa: RUF001


def test_the_demo_has_products_and_deals_recorded_with_them(db):
    from datetime import date

    from keepscore.accounts.models import Organization
    from keepscore.demo.generator import demo_create
    from keepscore.demo.money import DEMO_PRODUCTS
    from keepscore.economics.products import cents, default_margin

    summary_ = demo_create(seed=7, slug="demo-lines", months=12, today=date(2025, 6, 30))
    org = Organization.objects.get(slug=summary_.organization)

    assert default_margin(org) == D(35)
    assert sorted(Product.objects.for_org(org).values_list("name", "price", "cost")) == sorted(
        DEMO_PRODUCTS
    )
    won = DealOutcome.objects.for_org(org).filter(result="won").prefetch_related("lines")
    with_lines = [o for o in won if o.lines.all()]
    assert 0.1 <= len(with_lines) / len(won) <= 0.3
    for outcome in with_lines:
        lines = list(outcome.lines.all())
        # the outcome's amounts are its lines' sums, each line priced by the rule
        assert outcome.revenue == cents(sum(x.quantity * x.unit_price for x in lines))
        assert outcome.cost == cents(sum(x.quantity * x.unit_cost for x in lines))
        for x in lines:
            expected = x.product.cost
            if expected is None:
                expected = cents(x.unit_price * D("0.65"))
            assert x.unit_cost == expected
    # the revenue reported by the demo is still the outcomes' revenue
    assert summary_.revenue == sum(o.revenue for o in won)
