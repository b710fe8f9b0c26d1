"""The plan's arithmetic against numbers worked out by hand, and its range's coverage."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from keepscore.plan.engine import (
    Assumptions,
    Channel,
    Goal,
    Rate,
    leads_equivalent,
    missing,
    plan_compute,
    plan_range,
)


def assumptions(**changes) -> Assumptions:
    base = dict(
        deal_value=2000.0,
        margin_pct=0.4,
        to_qualified=Rate(40, 200),  # 20%
        to_proposal=Rate(50, 100),  # 50%
        to_customer=Rate(25, 100),  # 25%
        cycle_months=1,
        channels=(
            Channel("referral", "Referral", 0.25, 10.0),
            Channel("ads", "Ads", 0.75, 40.0),
        ),
    )
    base.update(changes)
    return Assumptions(**base)


def test_a_revenue_goal_worked_back_by_hand():
    plan = plan_compute(Goal("revenue", 240_000), assumptions(), 2027)
    # 240,000 / 2,000 = 120 customers, 10 a month; / 25% = 40 proposals; / 50% = 80 qualified;
    # leads: 10 / (20% x 50% x 25% = 2.5%) = 400 a month, arriving a month before
    assert plan.customers == pytest.approx(120)
    assert plan.missing == []
    january = plan.months[0]
    assert january.month == date(2027, 1, 1)
    assert january.customers == pytest.approx(10)
    assert january.proposals == pytest.approx(40)
    assert january.qualified == pytest.approx(80)
    assert january.leads == pytest.approx(400)
    assert january.revenue == pytest.approx(20_000)
    # referral 25% of 400 = 100 leads at 10 = 1,000; ads 300 at 40 = 12,000
    assert january.by_channel["referral"] == pytest.approx((100, 1000))
    assert january.by_channel["ads"] == pytest.approx((300, 12_000))
    assert january.spend == pytest.approx(13_000)
    assert plan.leads == pytest.approx(4800) and plan.spend == pytest.approx(156_000)
    # January's 10 customers need 400 leads in December of the year before
    assert plan.before_year == pytest.approx(400)


def test_the_season_and_the_cycle_place_the_months():
    season = (0.2, 0.1) + (0.7 / 10,) * 10
    plan = plan_compute(Goal("customers", 100), assumptions(season=season, cycle_months=2), 2027)
    # customers: Jan 20, Feb 10, then 7 a month; leads in month m serve m + 2
    assert [round(m.customers, 6) for m in plan.months[:3]] == [20, 10, 7]
    assert plan.months[0].leads == pytest.approx(7 / 0.025)  # for March
    assert plan.months[10].leads == pytest.approx(20 / 0.025)  # November: next January
    assert plan.months[11].leads == pytest.approx(10 / 0.025)  # December: next February
    assert plan.before_year == pytest.approx(30 / 0.025)


def test_a_margin_goal_divides_by_the_margin_per_customer():
    plan = plan_compute(Goal("margin", 96_000), assumptions(), 2027)
    assert plan.customers == pytest.approx(96_000 / (2000 * 0.4))  # 120


def test_an_override_replaces_the_measure():
    a = assumptions(to_customer=Rate(25, 100, override=0.5))
    plan = plan_compute(Goal("customers", 120), a, 2027)
    assert plan.months[0].proposals == pytest.approx(20)
    assert plan.months[0].leads == pytest.approx(10 / (0.2 * 0.5 * 0.5))


def test_too_little_history_asks_instead_of_inventing():
    a = assumptions(to_proposal=Rate(3, 12), deal_value=None)
    needs = missing(Goal("revenue", 1000), a)
    assert needs == [
        "the deal value (revenue per customer): no won deal with revenue yet",
        "qualified → proposal: measured on 12 leads, fewer than the 20 a rate needs",
    ]
    plan = plan_compute(Goal("revenue", 1000), a, 2027)
    assert plan.months == [] and plan.missing == needs
    assert plan_range(Goal("revenue", 1000), a, 2027) is None
    # a customers goal needs no deal value; an override fills the missing rate
    fixed = assumptions(to_proposal=Rate(3, 12, override=0.25), deal_value=None)
    assert plan_compute(Goal("customers", 12), fixed, 2027).months[0].revenue is None


def test_a_channel_without_costs_is_planned_at_no_cost():
    channels = (Channel("referral", "Referral", 0.5, None), Channel("ads", "Ads", 0.5, 40.0))
    plan = plan_compute(Goal("customers", 120), assumptions(channels=channels), 2027)
    # 400 leads a month: 200 from referral (no spend recorded), 200 from ads at 40
    assert plan.months[0].by_channel["referral"] == (pytest.approx(200), None)
    assert plan.months[0].spend == pytest.approx(8000) and plan.spend == pytest.approx(96_000)
    found = plan_range(Goal("customers", 120), assumptions(channels=channels), 2027, draws=200)
    assert found is not None and found.spend.low < plan.spend < found.spend.high


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"season": (0.5,) * 12}, "12 shares adding up to 1"),
        ({"cycle_months": -1}, "cannot be negative"),
        ({"channels": (Channel("a", "A", 0.5, 1.0),)}, "add up to 50.00%, not 100%"),
    ],
)
def test_bad_assumptions_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        assumptions(**changes)


def test_bad_rates_and_goals_are_named():
    with pytest.raises(ValueError, match="0 <= k <= n"):
        Rate(5, 4)
    with pytest.raises(ValueError, match="above 0% and at most 100%"):
        Rate(1, 4, override=1.5)
    with pytest.raises(ValueError, match="above 0"):
        Goal("revenue", 0)
    with pytest.raises(ValueError, match="not 'profit'"):
        Goal("profit", 10)  # type: ignore[arg-type]


def test_what_a_better_close_does_in_leads():
    # proposal -> customer 25% -> 30%: to_won 2.5% -> 3%; 400 leads then win what 480 would
    extra = leads_equivalent(assumptions(), "to_customer", 0.30, 400)
    assert extra == pytest.approx(80)


def test_the_range_is_seeded_and_holds_the_point():
    a = assumptions()
    goal = Goal("revenue", 240_000)
    first = plan_range(goal, a, 2027, draws=500)
    assert first == plan_range(goal, a, 2027, draws=500)  # the same seed, the same range
    point = plan_compute(goal, a, 2027)
    assert first is not None and first.leads.low < point.leads < first.leads.high
    assert first.leads_by_month[0].low < point.months[0].leads < first.leads_by_month[0].high
    assert first.customers.low == first.customers.high == pytest.approx(120)  # no deal spread
    spread = plan_range(goal, assumptions(deal_value_sd=800.0, deals=40), 2027, draws=500)
    assert spread is not None and spread.customers.low < 120 < spread.customers.high


def test_the_80_percent_range_covers_the_truth_about_80_percent_of_the_time():
    """Repeat: draw the history from known rates, plan from it, and count how often the
    rates' range (no luck) holds the leads the true rates need on average. 300 repeats:
    80% +- 3.5 standard errors."""
    truth = {"to_qualified": 0.3, "to_proposal": 0.4, "to_customer": 0.35}
    sizes = {"to_qualified": 400, "to_proposal": 120, "to_customer": 60}
    goal = Goal("customers", 120)
    true_leads = 120 / (0.3 * 0.4 * 0.35)
    rng = random.Random(7)
    covered = 0
    repeats = 300
    for _ in range(repeats):
        rates = {}
        for name, p in truth.items():
            n = sizes[name]
            rates[name] = Rate(sum(rng.random() < p for _ in range(n)), n)
        found = plan_range(goal, assumptions(**rates), 2027, draws=400, luck=False)
        assert found is not None
        covered += found.leads.low <= true_leads <= found.leads.high
    assert 0.72 <= covered / repeats <= 0.88, covered / repeats


def test_with_luck_the_range_covers_the_leads_a_year_actually_takes():
    """Repeat: draw the history from known rates, plan a month of 10 customers from it, then
    live the month at the true rates (lead after lead until the 10th customer) and count
    how often the month's range holds the leads it took. Without the luck of the draw the
    range is too narrow for a month of 10 customers; with it, about 80%."""
    truth = {"to_qualified": 0.3, "to_proposal": 0.4, "to_customer": 0.35}
    sizes = {"to_qualified": 400, "to_proposal": 120, "to_customer": 60}
    to_won = 0.3 * 0.4 * 0.35
    goal = Goal("customers", 120)  # 10 a month
    rng = random.Random(11)
    covered = {True: 0, False: 0}
    repeats = 300
    for _ in range(repeats):
        rates = {}
        for name, p in truth.items():
            n = sizes[name]
            rates[name] = Rate(sum(rng.random() < p for _ in range(n)), n)
        taken = wins = 0
        while wins < 10:
            taken += 1
            wins += rng.random() < to_won
        for luck in (True, False):
            found = plan_range(goal, assumptions(**rates), 2027, draws=400, luck=luck)
            assert found is not None
            covered[luck] += found.leads_by_month[0].low <= taken <= found.leads_by_month[0].high
    assert 0.72 <= covered[True] / repeats <= 0.88, covered[True] / repeats
    assert covered[False] / repeats < 0.65, covered[False] / repeats  # 54% with this seed


def test_the_range_of_a_plan_without_uncertainty_is_its_point():
    fixed = assumptions(
        to_qualified=Rate(40, 200, override=0.2),
        to_proposal=Rate(50, 100, override=0.5),
        to_customer=Rate(25, 100, override=0.25),
        cycle_months=2,
        season=(0.2, 0.1) + (0.07,) * 10,
    )
    goal = Goal("revenue", 240_000)
    point = plan_compute(goal, fixed, 2027)
    found = plan_range(goal, fixed, 2027, draws=50, luck=False)
    assert found is not None
    assert found.leads.low == pytest.approx(point.leads) == found.leads.high
    assert found.spend.low == pytest.approx(point.spend)
    for month, r in zip(point.months, found.leads_by_month, strict=True):
        assert r.low == pytest.approx(month.leads) == r.high
    # the luck of the draw alone: the months' 10th-90th percentiles of the trials to their
    # customers, around the point (the negative binomial's sd is sqrt(C (1 - p)) / p)
    lucky = plan_range(goal, fixed, 2027, draws=2000)
    assert lucky is not None
    for month, r in zip(point.months, lucky.leads_by_month, strict=True):
        wins = month.leads * 0.025  # the customers these leads are for, a cycle later
        sd = math.sqrt(wins * (1 - 0.025)) / 0.025
        assert r.low < month.leads < r.high
        assert r.high - r.low == pytest.approx(2 * 1.2816 * sd, rel=0.12)


def test_the_levers_rank_what_two_points_are_worth():
    from keepscore.plan.selectors import levers

    base = assumptions()

    class Report:  # the two attributes levers reads
        assumptions = base
        plan = plan_compute(Goal("customers", 120), base, 2027)

    found = levers(report=Report())  # type: ignore[arg-type]
    # 400 leads a month at 2.5%: +2 points on 20% is x1.1 (40 leads), on 50% x1.04 (16), on
    # 25% x1.08 (32)
    assert [(lv.step, round(lv.leads, 6)) for lv in found] == [
        ("new lead → qualified", 40),
        ("proposal → customer", 32),
        ("qualified → proposal", 16),
    ]
    assert found[0].before == pytest.approx(0.2) and found[0].after == pytest.approx(0.22)
