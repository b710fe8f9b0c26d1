"""The dashboard and the scorecard in a real Chromium: the year's goal as a bar with its
sum, this month so far against the same days of last month, and no arrow, colour or
number on a figure that rests on too little data."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from keepscore.common.months import month_add
from keepscore.scorecard.services import goal_set
from tests.browser.conftest import shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import make_org
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_goal_the_month_so_far_and_not_enough_data(live_server, page: Page) -> None:
    org, owner = make_org("acme", "owner@acme.test")
    today = timezone.localdate()
    zone = timezone.get_default_timezone()
    this_month = today.replace(day=1)
    for back in range(5, 0, -1):  # five whole months with a win each
        month = month_add(this_month, -back)
        lead = new_lead(org, f"L{back}", datetime(month.year, month.month, 1, 9, tzinfo=zone))
        won = datetime(month.year, month.month, 1, 10, tzinfo=zone)
        move(lead, "customer", won, owner, revenue="100")
    new_lead(org, "Today", timezone.now() - timedelta(minutes=5))
    goal_set(organization=org, metric_key="customers", year=today.year, value=12)
    running = today.day < calendar.monthrange(today.year, today.month)[1]

    log_in(page, live_server.url, "owner@acme.test")
    expect(page.locator("h1")).to_contain_text("Dashboard")
    goal = page.locator('#goals .goal[data-metric="customers"]')
    expect(goal.locator("svg.ks-goal")).to_be_visible()
    expect(goal.locator(".projection")).to_contain_text("so far +")
    expect(goal.locator(".projection")).to_contain_text("a month")
    if running:
        expect(page.locator("#month-to-date")).to_contain_text(
            f"Month to date, {today.day} of {calendar.monthrange(today.year, today.month)[1]}"
        )
    # the close rate rests on no closed lead this month: no number, no arrow, no colour
    close = page.locator('#scorecard-summary tr[data-metric="close_rate"]')
    expect(close.locator("td").first).to_contain_text("not enough data")
    change = close.locator("td.change")
    expect(change).to_have_text("\u2014")
    assert "good" not in (change.get_attribute("class") or "")
    assert "bad" not in (change.get_attribute("class") or "")
    shot(page, "dashboard-goals")

    page.locator("#scorecard-summary").get_by_role("link", name="Full scorecard").click()
    if running:
        expect(page.locator("#month-to-date")).to_contain_text(f"{today.day} of")
        expect(page.locator("table.scorecard thead").first).to_contain_text("Same days last month")
    row = page.locator('tr[data-metric="close_rate"]')
    expect(row.locator("td.value")).to_contain_text("not enough data")
    expect(row.locator("td.change")).to_have_text("\u2014")
    expect(page.locator('tr[data-metric="customers"] .pace')).to_be_visible()
