"""The dashboard answers "how are we doing against the goal?": the year's goals as bars with
the projection a person can check by hand, this month so far against the same days of last
month, the cash runway, the stages now — and every count links to the leads it names."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.common.months import month_add
from keepscore.economics.services import cash_set
from keepscore.leads.models import Lead
from keepscore.reports.dashboard import dashboard
from keepscore.scorecard.compute import scorecard_for
from keepscore.scorecard.services import goal_set
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db

#: a fixed today in the middle of a month: 10 days of June so far
TODAY = date(2025, 6, 10)


def local(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_default_timezone())


@pytest.fixture
def story(org_a: Organization, owner_a: Membership) -> dict[str, Any]:
    """Six whole months of two wins a month (Dec-May), June's first 10 days: 3 new leads and
    one win; May's first 10 days: 5 new leads."""
    wins = []
    for back in range(6, 0, -1):
        month = month_add(TODAY.replace(day=1), -back)
        for i in range(2):
            lead = new_lead(org_a, f"W{back}{i}", local(month + timedelta(days=1)))
            move(lead, "customer", local(month + timedelta(days=2 + i)), owner_a, revenue="100")
            wins.append(lead)
    may = date(2025, 5, 1)
    for i in range(5):
        new_lead(org_a, f"May{i}", local(may + timedelta(days=i)))  # days 1-5: in the 10
    new_lead(org_a, "Late May", local(date(2025, 5, 20)))  # outside the same days
    june = [new_lead(org_a, f"June{i}", local(TODAY - timedelta(days=i))) for i in range(3)]
    move(june[0], "customer", local(TODAY, 13), owner_a, revenue="100")
    goal_set(organization=org_a, metric_key="customers", year=2025, value=20)
    cash_set(
        organization=org_a,
        month=date(2025, 6, 1),
        cash_on_hand="30000",
        monthly_fixed_costs="10000",
    )
    return {"june": june, "wins": wins}


def rows_of(org: Organization) -> dict[str, Any]:
    return {r.key: r for r in scorecard_for(org, TODAY, today=TODAY).rows}


def test_the_goal_bar_and_its_sum(org_a: Organization, story: Any) -> None:
    board = dashboard(org_a, TODAY)
    (goal,) = board.goals
    p = goal.row.projection
    assert p is not None and goal.bar is not None
    # customers so far: Jan-May 2 each (10) + June's 1 = 11; run rate Dec-May: 2 a month;
    # months left: June's 20 of 30 days + July-December = 6.67
    left = 6 + 20 / 30
    assert (p.ytd, p.run_rate) == (11.0, 2.0) and p.months_left == pytest.approx(left)
    assert p.year_end == pytest.approx(11 + 2 * left)
    assert goal.text.projection.startswith(
        "11 so far + 2.0 a month (Dec\u2013May) \u00d7 6.7 months left"
    )
    assert "svg" in goal.bar and "so far" in goal.bar  # its own text for screen readers
    elapsed = (TODAY - date(2025, 1, 1)).days + 1  # 1 January to 10 June, both counted
    assert p.pro_rata == pytest.approx(20 * elapsed / 365)


def test_this_month_so_far_against_the_same_days(org_a: Organization, story: Any) -> None:
    board = dashboard(org_a, TODAY)
    assert board.month_to_date == "month to date, 10 of 30 days"
    assert board.compared_with == "vs 1\u201310 May"
    flows = {f.row.key: f for f in board.flows}
    new = flows["new_leads"]
    # June 1-10: 3; May 1-10: 5 (and W1x on 2 May: 2) -> 7; the whole of May: 8
    assert (new.row.value, new.row.previous_same_days, new.row.previous) == (3.0, 7.0, 8.0)
    assert new.row.change == -4.0 and new.text.arrow == "\u25bc"
    assert new.link.endswith("created_from=2025-06-01&created_to=2025-06-10")
    assert new.previous_link.endswith("created_from=2025-05-01&created_to=2025-05-10")
    close = flows["close_rate"]  # 1 of 1 closed: too few to judge
    assert close.text.state == "nodata" and close.text.arrow == "" and close.row.change is None
    assert close.text.counts == "1 of 1"


def test_cash_and_the_stages_now(client_a: Any, org_a: Organization, story: Any) -> None:
    board = dashboard(org_a, TODAY)
    assert board.cash is not None and board.cash.runway == 3
    assert "30,000 in cash" in board.cash.text
    # the year's first wins: January-May a 1-day and a 2-day cycle each, June's one hour:
    # 11 days sorted, the 6th is 1 (December's wins are last year's)
    assert board.cash.cycle_days == 1.0
    assert board.cash.cycle_days == rows_of(org_a)["sales_cycle_median"].ytd
    tiles = {t.stage.key: t for t in board.stages}
    prospect = tiles["prospect"]
    # the tiles' counts are the leads their links list
    listed = client_a.get(prospect.now_link).context["page_obj"].paginator.count
    assert listed == prospect.now == Lead.objects.filter(stage__key="prospect").count()


def test_the_page(client_a: Any, org_a: Organization, story: Any) -> None:
    html = client_a.get(f"/o/{org_a.slug}/").content.decode()
    for part in ('id="goals"', "svg", 'id="cash"', 'id="stages"', "entered since 1"):
        assert part in html
    tiles = dashboard(org_a, timezone.localdate()).stages
    customer = next(t for t in tiles if t.stage.key == "customer")
    entered = client_a.get(customer.entered_link).context["page_obj"].paginator.count
    assert entered == customer.entered  # the "entered this month" count and its leads


def test_the_new_leads_of_the_same_days_last_month_are_a_click_away(
    client_a: Any, org_a: Organization, story: Any
) -> None:
    new = next(f for f in dashboard(org_a, TODAY).flows if f.row.key == "new_leads")
    page = client_a.get(new.previous_link).context["page_obj"]
    # by hand (story): May 1-10 had May0-May4 and the two wins of May (touched 2 May); Late May
    # (20 May) is outside the same days
    names = sorted(lead.name for lead in page.object_list)
    assert names == ["May0", "May1", "May2", "May3", "May4", "W10", "W11"]
    assert len(names) == new.row.previous_same_days


def test_the_customers_of_the_month_so_far_and_of_the_same_days_are_a_click_away(
    client_a: Any, org_a: Organization, owner_a: Membership, story: Any
) -> None:
    # May: W10 won on 3 May, W11 on 4 May; W11 lost on 5 May (its last outcome of May 1-10)
    w11 = next(w for w in story["wins"] if w.name == "W11")
    move(w11, "lost", local(date(2025, 5, 5)), owner_a, reason="Price too high")
    flows = {f.row.key: f for f in dashboard(org_a, TODAY).flows}
    customers = flows["customers"]

    def names(link: str) -> list[str]:
        return sorted(lead.name for lead in client_a.get(link).context["page_obj"].object_list)

    assert names(customers.link) == ["June0"]  # won today, 13:00
    assert names(customers.previous_link) == ["W10"]
    assert (customers.row.value, customers.row.previous_same_days) == (1.0, 1.0)
    assert not flows["sales_conversations"].link  # activities, not a list of leads
