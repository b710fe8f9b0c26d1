"""GET and PUT /plan/{year}: the plan worked back by hand from the assumptions it states,
what-if overrides, bad input named, and who may set it."""

from __future__ import annotations

import pytest

from keepscore.accounts.models import Membership
from keepscore.accounts.tokens import token_create
from keepscore.plan.models import YearPlan
from tests.api.conftest import Api, fields_of

pytestmark = pytest.mark.django_db


def api_of(demo, *, owner: bool = True) -> Api:
    from django.test import Client

    members = Membership.objects.filter(organization=demo)
    member = members.filter(is_owner=True).first() if owner else None
    if member is None:
        member = members.filter(is_owner=False, is_marketing=False).first()
    _token, secret = token_create(membership=member, name="plan test")
    return Api(Client(), secret)


def test_the_plan_is_worked_back_from_the_assumptions_it_states(demo):
    api = api_of(demo)
    empty = api.get("/plan/2027").json()
    assert empty["goal"] is None and empty["plan"] is None
    assert empty["assumptions"]["to_customer"]["source"]
    saved = api.put("/plan/2027", {"goal_kind": "revenue", "goal_amount": 500_000})
    assert saved.status_code == 200, saved.content
    body = saved.json()
    a = body["assumptions"]
    customers = 500_000 / a["deal_value"]["value"]
    to_won = a["to_qualified"]["value"] * a["to_proposal"]["value"] * a["to_customer"]["value"]
    season = a["season"]["value"]
    cycle = a["cycle_months"]["value"]
    plan = body["plan"]
    assert plan["customers"] == pytest.approx(customers)
    for i, month in enumerate(plan["months"]):
        closes = customers * season[i]
        assert month["customers"] == pytest.approx(closes)
        assert month["proposals"] == pytest.approx(closes / a["to_customer"]["value"])
        assert month["qualified"] == pytest.approx(
            closes / a["to_customer"]["value"] / a["to_proposal"]["value"]
        )
        assert month["leads"] == pytest.approx(customers * season[(i + cycle) % 12] / to_won)
        low, high = month["leads_range"]["low"], month["leads_range"]["high"]
        assert low <= month["leads"] <= high
        for channel in a["channels"]:
            [row] = [c for c in month["channels"] if c["key"] == channel["key"]]
            assert row["leads"] == pytest.approx(month["leads"] * channel["share"])
            if channel["cost_per_lead"] is not None:
                assert row["spend"] == pytest.approx(row["leads"] * channel["cost_per_lead"])
    assert body == api.get("/plan/2027").json()  # stored: the same plan read back


def test_what_if_changes_the_plan_as_the_formula_says(demo):
    api = api_of(demo)
    base = api.put("/plan/2027", {"goal_kind": "customers", "goal_amount": 120}).json()
    rate = base["assumptions"]["to_customer"]["value"]
    raised = api.put(
        "/plan/2027",
        {"goal_kind": "customers", "goal_amount": 120, "overrides": {"to_customer": "40%"}},
    ).json()
    assert raised["assumptions"]["to_customer"]["overridden"] is True
    assert raised["overrides"] == {"to_customer": 0.4}
    # leads scale by the old rate over the new; the measured plan is kept beside
    assert raised["plan"]["leads"] == pytest.approx(base["plan"]["leads"] * rate / 0.4)
    assert raised["plan"]["measured_plan"]["leads"] == pytest.approx(base["plan"]["leads"])
    # one channel's share set by hand: the others share the rest in their measured proportions
    channels = base["assumptions"]["channels"]
    first, others = channels[0], channels[1:]
    moved = api.put(
        "/plan/2027",
        {
            "goal_kind": "customers",
            "goal_amount": 120,
            "overrides": {f"share:{first['key']}": 0.5},
        },
    ).json()
    shares = {c["key"]: c["share"] for c in moved["assumptions"]["channels"]}
    assert shares[first["key"]] == pytest.approx(0.5)
    rest = sum(c["share"] for c in others)
    for c in others:
        assert shares[c["key"]] == pytest.approx(c["share"] / rest * 0.5)


def test_bad_input_is_named_and_changes_nothing(demo):
    api = api_of(demo)
    api.put("/plan/2027", {"goal_kind": "customers", "goal_amount": 120})
    before = list(YearPlan.objects.filter(organization=demo).values())
    bad = api.put(
        "/plan/2027",
        {
            "goal_kind": "customers",
            "goal_amount": 50,
            "overrides": {"to_customer": "lots", "cycle_months": 2.5, "share:nowhere": 0.2},
        },
    )
    assert bad.status_code == 422
    assert sorted(fields_of(bad)) == ["cycle_months", "share:nowhere", "to_customer"]
    assert list(YearPlan.objects.filter(organization=demo).values()) == before
    assert api.put("/plan/2027", {"goal_kind": "profit", "goal_amount": 5}).status_code == 422
    assert api.put("/plan/2027", {"goal_kind": "revenue", "goal_amount": -5}).status_code == 422
    assert api.get("/plan/1999").status_code == 422
    channels = api.get("/plan/2027").json()["assumptions"]["channels"]
    over = {f"share:{c['key']}": 0.9 for c in channels[:2]}
    too_much = api.put(
        "/plan/2027", {"goal_kind": "customers", "goal_amount": 5, "overrides": over}
    )
    assert too_much.status_code == 422 and fields_of(too_much) == ["share"]


def test_a_sales_member_reads_but_cannot_set_it(demo):
    sales = api_of(demo, owner=False)
    assert sales.get("/plan/2027").status_code == 200
    refused = sales.put("/plan/2027", {"goal_kind": "customers", "goal_amount": 1})
    assert refused.status_code == 403
