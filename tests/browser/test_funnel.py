"""The funnel page in a real Chromium: the chart's numbers on hover, regrouping with htmx."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from keepscore.accounts.services import member_add
from tests.browser.conftest import shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import make_org, make_user
from tests.funnel.conftest import march_leads

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_funnel_shows_its_numbers_and_regroups(live_server, page: Page):
    # given: a small business, leads from two channels moved through the ladder
    org, owner = make_org("acme", "owner@acme.test")
    seller = member_add(
        organization=org,
        user=make_user("sam@acme.test", first_name="Sam", last_name="Seller"),
        is_sales=True,
    )
    leads = [
        ("Ann", "referral", owner, ["lead", "proposal", "customer"]),
        ("Ben", "referral", owner, ["lead", "lost"]),
        ("Cat", "referral", seller, ["lead"]),
        ("Dan", "website-form", seller, ["lead", "qualified", "proposal", "customer"]),
        ("Eve", "website-form", seller, []),
        ("Fay", "website-form", None, ["lost"]),
    ]
    march_leads(org, owner, leads)
    base = live_server.url
    log_in(page, base, "owner@acme.test")

    # when
    page.goto(f"{base}/o/acme/funnel/?from=2024-03-01&to=2024-03-31")

    # then: the chart of all leads, its numbers on hover
    expect(page.locator("h1")).to_contain_text("Funnel")
    chart = page.locator("svg.ks-funnel")
    expect(chart).to_be_visible()
    second = chart.locator(".mark").nth(1)
    second.hover()
    expect(second.locator("title")).to_have_text("Prospect: 6 (100% of Suspect)")
    lead_bar = chart.locator(".mark").nth(2)
    lead_bar.hover()
    expect(lead_bar.locator("title")).to_have_text("Lead: 4 (67% of Suspect, 67% of Prospect)")
    expect(page.locator("svg.ks-rates")).to_be_visible()
    expect(page.locator("svg.ks-histogram")).to_be_visible()
    groups = page.locator(".funnel-group h3")
    expect(groups).to_have_text(["Referral", "Website form"])
    expect(page.locator("#close-rate")).to_contain_text("not enough data (2 of 4)")

    # when: grouped by owner (htmx swaps the report, the address follows)
    with page.expect_response(lambda r: "by=owner" in r.url):
        page.get_by_label("Group by").select_option("owner")

    # then
    expect(page.locator("#funnel-period")).to_contain_text("grouped by owner")
    expect(groups).to_have_text(["Sam Seller", "owner@acme.test", "(none)"])
    expect(page.locator("svg.ks-rates")).to_contain_text("Sam Seller")
    assert "by=owner" in page.url
    shot(page, "funnel")

    # and a bad filter says so, without losing the page
    page.goto(f"{base}/o/acme/funnel/?from=2024-03-31&to=2024-03-01")
    expect(page.locator("#funnel-errors")).to_contain_text("before the start date")
