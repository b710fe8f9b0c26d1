"""One constructed organization per indicator and per recommendation, where the right answer
is known. The diagnosis is made as of 15 June 2025: its history is June 2024 … May 2025."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from keepscore.focus.selectors import diagnose
from tests.conftest import make_org
from tests.focus import builder as b

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 15)
FIRST = date(2024, 6, 1)


def day_of(j: int) -> int:
    return 1 + j % 28


def steady(per_month: int = 20, share: float = 0.5, cycle: float = 10, **kw: Any) -> list[b.Spec]:
    """The same conversion every month: ``share`` of the leads won after ``cycle`` days, the
    rest lost after ``cycle + 5``."""
    won = round(per_month * share)
    return b.monthly(
        FIRST,
        12,
        per_month,
        day_of,
        lambda i, j, first: b.won(first, cycle, **kw) if j < won else b.lost(first, cycle + 5),
    )


@pytest.fixture
def org(db: Any) -> Any:
    return make_org("scene", "owner@scene.test")[0]


def alerts(d: Any) -> set[str]:
    return {i.key for i in d.indicators if i.status == "alert"}


def test_falling_conversion_with_leads_coming_is_sales(org: Any) -> None:
    def make(i: int, j: int, first: Any) -> b.Spec:
        return b.won(first, 10) if j < round(40 * (0.40 - 0.03 * i)) else b.lost(first, 15)

    b.build(org, b.monthly(FIRST, 12, 40, day_of, make))
    d = diagnose(org, AS_OF)
    assert d.recommendation == "sales"
    assert alerts(d) == {"conversion_trend"}
    ind = d.indicator("conversion_trend")
    # the window holds the 80th-percentile cycle (10 days): 30 days, so the months up to
    # April 2025 are mature (30 April + 30 days < 16 June; 31 May + 30 days is not)
    assert ind.evidence["window_days"] == 30
    assert ind.evidence["months"][0] == "2024-06-01" and ind.evidence["months"][-1] == "2025-04-01"
    expected_k = [round(40 * (0.40 - 0.03 * i)) for i in range(11)]
    assert ind.evidence["k"] == expected_k and ind.evidence["n"] == [40] * 11
    assert ind.value == pytest.approx(sum(expected_k) / 440)
    assert ind.evidence["trend"]["direction"] == "falling"
    assert "down from" in d.sentence and "sales" in d.sentence


def test_healthy_conversion_too_few_leads_for_the_goal_is_marketing(org: Any) -> None:
    b.build(org, steady(per_month=10, share=0.5))
    b.goal(org, "customers", 2025, 200)
    d = diagnose(org, AS_OF)
    assert d.recommendation == "marketing"
    assert alerts(d) == {"lead_volume", "pipeline_coverage"}
    volume = d.indicator("lead_volume")
    # 5 won a month; the leads of June 2025 are not built: YTD = 5 x 5 months (Jan…May)
    ytd = 25
    months_left = (date(2025, 12, 31) - AS_OF).days / (365.25 / 12)
    assert volume.evidence["remaining_customers"] == pytest.approx(200 - ytd)
    assert volume.evidence["conversion"] == pytest.approx(0.5)
    # every lead is closed by 15 June: nothing open, nothing weighted
    assert volume.evidence["weighted_pipeline_customers"] == 0
    assert volume.evidence["new_leads_needed_per_month"] == pytest.approx(
        (200 - ytd) / 0.5 / months_left
    )
    assert volume.value == 10
    assert d.indicator("conversion_trend").status == "ok"
    assert d.indicator("pipeline_coverage").value == 0


def test_runway_shorter_than_the_sales_cycle_is_cash(org: Any) -> None:
    b.build(org, steady(per_month=10, share=0.5, cycle=60))
    b.cash(org, date(2025, 6, 1), "10000", "10000")  # one month of fixed costs
    d = diagnose(org, AS_OF)
    assert d.recommendation == "cash"
    ind = d.indicator("cash_runway")
    assert ind.status == "alert" and ind.value == pytest.approx(1.0)
    assert ind.evidence["cycle_median_days"] == pytest.approx(60)
    assert ind.evidence["runway_days"] == pytest.approx(365.25 / 12)
    # with six months of cash the same data is not a cash question
    b.cash(org, date(2025, 5, 1), "1", "1")  # an older month is history, not the position
    from keepscore.economics.models import CashPosition

    CashPosition.objects.filter(organization=org, month=date(2025, 6, 1)).delete()
    b.cash(org, date(2025, 6, 1), "60000", "10000")
    assert diagnose(org, AS_OF).indicator("cash_runway").status == "ok"


def test_most_won_deals_below_cost_is_margins(org: Any) -> None:
    def make(i: int, j: int, first: Any) -> b.Spec:
        if j >= 10:
            return b.lost(first, 15)
        return b.won(first, 10, revenue="1000", cost="1300" if j < 7 else "400")

    b.build(org, b.monthly(FIRST, 12, 20, day_of, make))
    d = diagnose(org, AS_OF)
    assert d.recommendation == "margins"
    ind = d.indicator("margin_health")
    assert ind.status == "alert"
    assert ind.evidence["won_deals"] == 120 and ind.evidence["deals_at_a_loss"] == 84
    # margin per month: 7 x -300 + 3 x 600 = -300 of 10,000 revenue
    assert ind.value == pytest.approx(-300 / 10_000)


def test_a_new_organization_with_ten_leads_has_not_enough_data(org: Any) -> None:
    b.build(org, [b.opened(b.local(date(2025, 6, 1) + timedelta(days=i))) for i in range(10)])
    d = diagnose(org, AS_OF)
    assert d.recommendation == "not_enough_data"
    assert d.confidence == "none"
    assert any("at least 20 leads" in m for m in d.missing)
    assert d.sentence.startswith("Not enough data to advise yet")


def test_steady_business_is_balanced(org: Any) -> None:
    b.build(org, steady())
    d = diagnose(org, AS_OF)
    assert d.recommendation == "balanced"
    assert alerts(d) == set()
    assert d.indicator("best_channels").status == "info"


def test_qualified_rising_while_revenue_is_not_pushes_sales(org: Any) -> None:
    def make(i: int, j: int, first: Any) -> b.Spec:
        if j < 5:
            return b.won(first, 10)  # five sales a month: revenue flat
        return b.Spec(first, path=[("prospect", 0), ("qualified", 3), ("lost", 12)])

    specs = []
    for i in range(12):
        month = b.month_add(FIRST, i)
        # first touches up to the 20th: every lead reaches qualified in its own month
        specs += [make(i, j, b.local(month.replace(day=1 + j % 20))) for j in range(10 + 3 * i)]
    b.build(org, specs)
    d = diagnose(org, AS_OF)
    ind = d.indicator("qualified_vs_revenue")
    assert ind.status == "alert"
    assert list(ind.evidence["qualified"].values()) == [10 + 3 * i for i in range(12)]
    assert ind.evidence["revenue_trend"]["direction"] != "rising"
    assert d.recommendation == "sales"


def test_rising_objections_push_sales(org: Any) -> None:
    leads = b.build(org, steady())
    moments = []
    for i in range(12):
        month = b.month_add(FIRST, i)
        moments += [b.local(month.replace(day=1 + k % 28)) for k in range(2 + 3 * i)]
    b.objections(org, leads[0], moments)
    d = diagnose(org, AS_OF)
    ind = d.indicator("objections_rising")
    assert ind.status == "alert"
    assert list(ind.evidence["monthly"].values()) == [2 + 3 * i for i in range(12)]
    assert d.recommendation == "sales"


def test_late_stage_leads_stalling_push_sales(org: Any) -> None:
    b.build(org, steady())
    entered = b.local(AS_OF - timedelta(days=40))
    fresh = b.local(AS_OF - timedelta(days=5))
    b.build(
        org,
        [b.opened(entered - timedelta(days=5), "proposal", 5, value="5000") for _ in range(6)]
        + [b.opened(fresh - timedelta(days=5), "proposal", 5) for _ in range(3)],
    )
    d = diagnose(org, AS_OF)
    ind = d.indicator("late_stage_stall")
    assert ind.status == "alert"
    assert ind.evidence["stalled"] == 6  # the 3 entered 5 days ago are not stalled
    assert ind.evidence["high_value_stalled"] == 6  # 5,000 > the median deal of 1,000
    assert ind.evidence["oldest_days"] == pytest.approx(40.5)  # at noon, to the day's end
    assert d.recommendation == "sales"
    assert "follow up the 6 late-stage leads older than 3 weeks" in d.sentence
    assert ind.explanation.startswith("6 open leads have waited more than 3 weeks at a late")


def test_falling_sales_conversations_push_sales(org: Any) -> None:
    leads = b.build(org, steady())
    moments = []
    for i in range(12):
        month = b.month_add(FIRST, i)
        moments += [b.local(month.replace(day=1 + k % 27)) for k in range(40 - 3 * i)]
    b.conversations(org, leads[0], moments)
    d = diagnose(org, AS_OF)
    ind = d.indicator("sales_conversations")
    assert ind.status == "alert"
    assert ind.evidence["monthly"]["2024-06-01"] == 40
    assert ind.evidence["monthly"]["2025-05-01"] == 40 - 33
    assert d.recommendation == "sales"
