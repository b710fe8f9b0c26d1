"""Accepting the plan writes the scorecard's monthly targets and the annual goal; targets
typed by hand are kept unless replaced; the scorecard then reads the month against it."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from keepscore.plan.models import YearPlan
from keepscore.plan.selectors import plan_report, plan_targets
from keepscore.plan.services import plan_accept, plan_save
from keepscore.scorecard.compute import scorecard_for
from keepscore.scorecard.models import Goal, Target
from keepscore.scorecard.services import goal_set, target_set
from tests.plan.test_spread import largest_remainder

pytestmark = pytest.mark.django_db


def targets(demo, key: str) -> dict[int, Decimal]:
    rows = Target.objects.filter(organization=demo, metric_key=key, month__year=2027)
    return {t.month.month: t.value for t in rows}


def test_accepting_writes_each_months_targets_and_the_goal(demo):
    with pytest.raises(ValidationError, match="no plan for 2027"):
        plan_accept(organization=demo, year=2027, by=None)
    plan_save(
        organization=demo,
        year=2027,
        goal_kind="revenue",
        goal_amount=600_000,
        overrides={},
        by=None,
    )
    done = plan_accept(organization=demo, year=2027, by=None)
    report = plan_report(organization=demo, year=2027)
    months = report.plan.months
    qualified = f"entered_{report.measured.qualified.key}"
    proposals = f"entered_{report.measured.proposal.key}"
    # by hand: each metric's year rounded once (counts up, money to whole units), split by
    # the plan's months with the largest remainder (written again in tests/plan/test_spread)

    def by_hand(total: int, values: list[float]) -> dict[int, Decimal]:
        return {i + 1: Decimal(p) for i, p in enumerate(largest_remainder(total, values))}

    for key, values in (
        ("customers", [m.customers for m in months]),
        ("new_leads", [m.leads for m in months]),
        (qualified, [m.qualified for m in months]),
        (proposals, [m.proposals for m in months]),
    ):
        assert targets(demo, key) == by_hand(math.ceil(sum(values)), values), key
        # each month within one of the plan's own figure
        assert all(abs(float(targets(demo, key)[i + 1]) - v) < 1 for i, v in enumerate(values))
    revenue = [m.revenue for m in months]
    assert targets(demo, "revenue") == by_hand(round(sum(revenue)), revenue)
    # the marketing spend: each month's leads at the channels' costs per lead, by their shares
    cost = sum(
        c.share * c.cost_per_lead
        for c in report.assumptions.channels
        if c.cost_per_lead is not None
    )
    assert cost > 0  # the demo records spend
    spend = [m.leads * cost for m in months]
    assert [m.spend for m in months] == pytest.approx(spend)
    assert targets(demo, "marketing_spend") == by_hand(round(sum(spend)), spend)
    assert Goal.objects.get(organization=demo, metric_key="revenue", year=2027).value == 600_000
    # each other metric's goal is the sum of its months (the grid adds up)
    for key in ("customers", "new_leads", qualified, proposals, "marketing_spend"):
        goal = Goal.objects.get(organization=demo, metric_key=key, year=2027).value
        assert goal == sum(targets(demo, key).values())
    # 12 months of 6 metrics, 5 goals of their sums, the plan's own goal
    assert done.written == 12 * 6 + 5 + 1 and done.kept == []
    assert YearPlan.objects.get(organization=demo, year=2027).accepted_at is not None
    # the scorecard reads March against the plan
    march = scorecard_for(demo, date(2027, 3, 1), today=date(2027, 3, 31))
    row = next(r for r in march.rows if r.key == "customers")
    assert row.target == targets(demo, "customers")[3]
    # and its JSON carries the plan's target, and the year's goal
    from tests.plan.test_api import api_of

    body = api_of(demo).get("/scorecard/2027-03").json()
    rows = {r["key"]: r for r in body["metrics"]}
    assert rows["customers"]["target"] == targets(demo, "customers")[3]
    assert rows["revenue"]["goal"] == 600_000


def test_a_target_typed_by_hand_is_kept_unless_replaced(demo):
    plan_save(
        organization=demo, year=2027, goal_kind="customers", goal_amount=120, overrides={}, by=None
    )
    target_set(organization=demo, metric_key="customers", month="2027-03", value=99)
    goal_set(organization=demo, metric_key="new_leads", year=2027, value=777)
    done = plan_accept(organization=demo, year=2027, by=None)
    assert done.kept == ["Customers, Mar 2027", "New leads, the goal of 2027"]
    assert targets(demo, "customers")[3] == 99
    assert Goal.objects.get(organization=demo, metric_key="new_leads", year=2027).value == 777
    # the plan changes: its own targets follow, the hand-typed one stays
    plan_save(
        organization=demo, year=2027, goal_kind="customers", goal_amount=240, overrides={}, by=None
    )
    plan_accept(organization=demo, year=2027, by=None)
    wanted = plan_targets(report=plan_report(organization=demo, year=2027, with_range=False))
    assert targets(demo, "customers")[1] == wanted[("customers", "2027-01")]
    assert targets(demo, "customers")[3] == 99
    # replaced on request
    plan_accept(organization=demo, year=2027, by=None, replace=True)
    assert targets(demo, "customers")[3] == wanted[("customers", "2027-03")]
    leads = Goal.objects.get(organization=demo, metric_key="new_leads", year=2027).value
    assert leads == sum(targets(demo, "new_leads").values())


def test_the_page_the_api_and_the_cli_write_the_same_targets(demo):
    from django.test import Client

    from keepscore.accounts.models import Membership
    from tests.cli.test_cli import invoke
    from tests.plan.test_api import api_of

    plan_save(
        organization=demo, year=2027, goal_kind="customers", goal_amount=120, overrides={}, by=None
    )
    wanted = plan_targets(report=plan_report(organization=demo, year=2027, with_range=False))
    expected = {m: wanted[("customers", f"2027-{m:02d}")] for m in range(1, 13)}
    assert sum(expected.values()) == 120
    # the API
    answer = api_of(demo).post("/plan/2027/accept", {"replace": False})
    assert answer.status_code == 200 and answer.json()["written"] == 12 * 6 + 5 + 1
    assert targets(demo, "customers") == expected
    Target.objects.filter(organization=demo).delete()
    # the page, as a marketing member
    client = Client()
    client.force_login(Membership.objects.filter(organization=demo, is_marketing=True).first().user)
    page = client.get("/o/plan-demo/plan/?year=2027").content.decode()
    assert "Write the targets" in page
    done = client.post("/o/plan-demo/plan/accept/", {"year": "2027"}, follow=True)
    assert "Wrote 78 targets and goals of 2027" in done.content.decode()
    assert targets(demo, "customers") == expected
    Target.objects.filter(organization=demo).delete()
    # the command line
    result = invoke("plan", "2027", "--org", demo.slug, "--accept")
    assert result.exit_code == 0 and "Wrote 78 targets" in result.stdout
    assert targets(demo, "customers") == expected
    # a year without a plan: a clear error everywhere
    assert api_of(demo).post("/plan/2030/accept", {}).status_code == 422
    refused = client.post("/o/plan-demo/plan/accept/", {"year": "2030"}, follow=True)
    assert "There is no plan for 2030 yet" in refused.content.decode()
