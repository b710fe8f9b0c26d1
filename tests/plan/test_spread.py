"""An annual goal spread over its months: by the saved plan's shares, else evenly; counts
and money adding up exactly to the goal (largest remainder); a rate's goal in every month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError

from keepscore.plan.selectors import goal_spread, plan_report, shares_split
from keepscore.plan.services import plan_save

pytestmark = pytest.mark.django_db

D = Decimal


def test_shares_split_by_hand():
    # 10 in three equal parts: 3.33 each, the one unit left to the first
    assert shares_split(amount=D(10), weights=[1, 1, 1]) == [4, 3, 3]
    # 7 by 1/4, 1/4, 1/2: exact 1.75, 1.75, 3.5 -> floors 1, 1, 3; the two left go to the
    # largest remainders (.75, .75 before .5)
    assert shares_split(amount=D(7), weights=[0.25, 0.25, 0.5]) == [2, 2, 3]
    # 100 by 50/30/20: exact
    assert shares_split(amount=D(100), weights=[5, 3, 2]) == [50, 30, 20]
    # 1 by 1/3, 2/3: exact .33, .67 -> 0, 0; the unit to the larger remainder
    assert shares_split(amount=D(1), weights=[1, 2]) == [0, 1]
    # cents stay cents: 1000.50 evenly over 12 is 83.375, in tenths 833.75 each -> 833 each
    # (9,996), the 9 tenths left to the first nine months
    parts = shares_split(amount=D("1000.5"), weights=[1] * 12)
    assert parts == [D("83.4")] * 9 + [D("83.3")] * 3 and sum(parts) == D("1000.5")
    # a negative amount (a money loss) splits the same way, signs kept
    assert shares_split(amount=D(-10), weights=[1, 1, 1]) == [-4, -3, -3]
    with pytest.raises(ValueError):
        shares_split(amount=D(10), weights=[0, 0])


def test_without_a_plan_a_goal_is_spread_evenly(org_a):
    spread = goal_spread(organization=org_a, year=2027, metric_key="new_leads", amount=100)
    # 100 / 12 = 8.33: eight a month (96), the four left to January-April
    assert list(spread.months.values()) == [9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8]
    assert list(spread.months) == [date(2027, m, 1) for m in range(1, 13)]
    assert spread.how == "evenly"
    money = goal_spread(organization=org_a, year=2027, metric_key="revenue", amount=250_000)
    # 20,833.33 a month: 20,833 each (249,996), the 4 left to the first four months
    assert list(money.months.values()) == [D(20834)] * 4 + [D(20833)] * 8
    assert sum(money.months.values()) == 250_000


def test_a_rate_or_days_goal_is_each_months_target(org_a):
    for key, goal in (("close_rate", D("27.5")), ("sales_cycle_median", D(45))):
        spread = goal_spread(organization=org_a, year=2027, metric_key=key, amount=goal)
        assert list(spread.months.values()) == [goal] * 12
        assert spread.how == "it is not a sum: each month takes the goal" and not spread.summed
    # the cost per lead is money but a ratio: not a sum either
    assert set(
        goal_spread(
            organization=org_a, year=2027, metric_key="cost_per_lead", amount=40
        ).months.values()
    ) == {40}


def test_a_bad_goal_or_metric_is_refused(org_a):
    with pytest.raises(ValidationError, match="whole number"):
        goal_spread(organization=org_a, year=2027, metric_key="customers", amount="2.5")
    with pytest.raises(ValidationError, match="no metric"):
        goal_spread(organization=org_a, year=2027, metric_key="no_such_metric", amount=10)


def largest_remainder(amount: int, weights: list[float]) -> list[int]:
    """The method written again, independently: each month's exact share, then the units
    left over one by one to the month whose part is furthest under its share."""
    total = sum(Fraction(w) for w in weights)
    exact = [Fraction(amount) * Fraction(w) / total for w in weights]
    parts = [int(e) for e in exact]
    while sum(parts) < amount:
        i = max(range(len(parts)), key=lambda i: (exact[i] - parts[i], -i))
        parts[i] += 1
    return parts


def test_with_a_saved_plan_the_goal_follows_its_months(demo):
    plan_save(
        organization=demo,
        year=2027,
        goal_kind="revenue",
        goal_amount=600_000,
        overrides={},
        by=None,
    )
    report = plan_report(organization=demo, year=2027, with_range=False)
    assert report.measured.seasonal  # the demo's season is measured: the months differ
    months = report.plan.months
    customers = [m.customers for m in months]
    leads = [m.leads for m in months]
    assert len({round(c, 6) for c in customers}) > 1

    spread = goal_spread(organization=demo, year=2027, metric_key="customers", amount=200)
    assert spread.how == "by the plan's customers per month"
    assert list(spread.months.values()) == largest_remainder(200, customers)
    assert sum(spread.months.values()) == 200
    # each month within one of its exact share of the goal
    share = [200 * c / sum(customers) for c in customers]
    assert all(abs(float(p) - s) < 1 for p, s in zip(spread.months.values(), share, strict=True))

    # revenue by the customers too, in whole units; new leads by the plan's leads
    revenue = goal_spread(organization=demo, year=2027, metric_key="revenue", amount=600_000)
    assert list(revenue.months.values()) == largest_remainder(600_000, customers)
    new_leads = goal_spread(organization=demo, year=2027, metric_key="new_leads", amount=1000)
    assert new_leads.how == "by the plan's new leads per month"
    assert list(new_leads.months.values()) == largest_remainder(1000, leads)
    qualified = f"entered_{report.measured.qualified.key}"
    by_qualified = goal_spread(organization=demo, year=2027, metric_key=qualified, amount=300)
    assert by_qualified.how == "by the plan's qualified leads per month"
    assert list(by_qualified.months.values()) == largest_remainder(
        300, [m.qualified for m in months]
    )
    # marketing spend by the plan's spend per month (its leads at the channels' costs)
    spend = goal_spread(organization=demo, year=2027, metric_key="marketing_spend", amount=24_000)
    assert spend.how == "by the plan's marketing spend per month"
    assert list(spend.months.values()) == largest_remainder(24_000, [m.spend for m in months])
    # a count the plan does not plan: evenly, said so
    calls = goal_spread(organization=demo, year=2027, metric_key="call_attempts", amount=120)
    assert list(calls.months.values()) == [10] * 12
    assert calls.how == "evenly (the plan of 2027 does not plan call attempts)"
    # another year has no plan: evenly
    assert (
        goal_spread(organization=demo, year=2028, metric_key="customers", amount=12).how == "evenly"
    )
