"""The reports' filter forms in a real Chromium, used as a person does: a date typed key by
key, then another filter changed before the first answer is back. The form stays in the page
while htmx swaps the report, so no keystroke and no change is lost, and the address is what
the screen shows."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from keepscore.accounts.services import member_add
from tests.browser.conftest import settled, shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import make_org, make_user
from tests.funnel.conftest import at, march_leads, move, new_lead

pytestmark = pytest.mark.django_db(transaction=True)

#: a person's pace; Chromium's date input makes a whole date from the 5th key on ("0002")
KEY_DELAY_MS = 60
#: longer than the date inputs' wait before they ask for the report
DEBOUNCE_MS = 1_500


def typed(page: Page, label: str, keys: str) -> None:
    """Click a date field (its month comes first in en-US) and type its digits one by one."""
    field = page.get_by_label(label, exact=True)
    field.click(position={"x": 12, "y": 10})
    page.keyboard.type(keys, delay=KEY_DELAY_MS)


def quiet(page: Page) -> None:
    """Past the date inputs' wait, and htmx done: nothing is left to land on the screen."""
    page.wait_for_timeout(DEBOUNCE_MS)
    settled(page)


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_typing_a_period_then_regrouping_the_funnel_keeps_every_change(live_server, page: Page):
    # given: leads moved through the ladder in March 2024, sold by two members
    org, owner = make_org("acme", "owner@acme.test")
    seller = member_add(
        organization=org,
        user=make_user("sam@acme.test", first_name="Sam", last_name="Seller"),
        is_sales=True,
    )
    march_leads(
        org,
        owner,
        [
            ("Ann", "referral", owner, ["lead", "proposal", "customer"]),
            ("Ben", "referral", owner, ["lead", "lost"]),
            ("Dan", "referral", seller, ["lead", "qualified", "proposal", "customer"]),
        ],
    )
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/funnel/")
    settled(page)
    conversion = page.get_by_label("Conversion", exact=True)
    step = conversion.locator("option").nth(1).get_attribute("value")
    assert step

    # when: the period typed key by key, then Group by and Conversion changed at once
    typed(page, "From", "03012024")
    typed(page, "To", "03312024")
    page.get_by_label("Group by").select_option("owner")
    conversion.select_option(step)
    quiet(page)

    # then: the form shows what was typed and chosen ...
    expect(page.get_by_label("From", exact=True)).to_have_value("2024-03-01")
    expect(page.get_by_label("To", exact=True)).to_have_value("2024-03-31")
    expect(page.get_by_label("Group by")).to_have_value("owner")
    expect(conversion).to_have_value(step)
    # ... the report is that of those filters ...
    expect(page.locator("#funnel-errors")).to_have_count(0)
    period = page.locator("#funnel-period")
    expect(period).to_contain_text("1 Mar 2024")
    expect(period).to_contain_text("31 Mar 2024 · grouped by owner")
    expect(page.locator(".funnel-group h3")).to_have_text(["owner@acme.test", "Sam Seller"])
    # ... and so is the address, to come back to or share
    asked = query(page)
    assert (asked["from"], asked["to"], asked["by"], asked["step"]) == (
        ["2024-03-01"],
        ["2024-03-31"],
        ["owner"],
        [step],
    ), page.url
    shot(page, "report-filters-funnel")


def test_a_typed_date_then_two_quick_changes_are_all_kept(live_server, page: Page):
    # given
    make_org("acme", "owner@acme.test")
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/funnel/activity/")
    settled(page)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.headers.get("hx-request") else None)

    # when: From typed key by key, then the grain and the grouping changed one after the other
    typed(page, "From", "06152024")
    page.get_by_label("Per").select_option("week")
    page.get_by_label("Rows").select_option("all")
    quiet(page)

    # then
    expect(page.get_by_label("From", exact=True)).to_have_value("2024-06-15")
    expect(page.get_by_label("Per")).to_have_value("week")
    expect(page.get_by_label("Rows")).to_have_value("all")
    expect(page.locator("#activity-errors")).to_have_count(0)
    expect(page.locator("#activity-period")).to_contain_text("15 Jun 2024")
    expect(page.locator("#activity-period")).to_contain_text("per week · all members together")
    asked = query(page)
    assert (asked["from"], asked["grain"], asked["by"]) == (
        ["2024-06-15"],
        ["week"],
        ["all"],
    ), page.url
    # no report was asked for a date half typed ("0002-06-15" is a date too)
    assert sent and {parse_qs(urlsplit(u).query)["from"][0] for u in sent} == {"2024-06-15"}

    # and Back shows the filters of the address it goes back to, not those typed since
    page.get_by_label("Rows").select_option("member")
    expect(page).to_have_url(re.compile(r"by=member"))
    settled(page)
    page.go_back()
    settled(page)
    expect(page).to_have_url(re.compile(r"by=all"))
    expect(page.get_by_label("Rows")).to_have_value("all")
    expect(page.get_by_label("From", exact=True)).to_have_value("2024-06-15")
    expect(page.locator("#activity-period")).to_contain_text("all members together")


def test_a_filter_fixed_is_no_longer_marked_invalid(live_server, page: Page):
    """The filters are not redrawn with the report, so the report's answer says which of them
    are invalid: marked while in error, unmarked once fixed (what a screen reader reads)."""
    make_org("acme", "owner@acme.test")
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/funnel/activity/?from=2024-02-30")
    settled(page)
    start = page.get_by_label("From", exact=True)
    expect(page.locator("#activity-errors")).to_be_visible()
    expect(start).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Per")).not_to_have_attribute("aria-invalid", "true")

    typed(page, "From", "06152024")
    quiet(page)
    expect(page.locator("#activity-errors")).to_have_count(0)
    expect(start).not_to_have_attribute("aria-invalid", "true")


def test_the_months_offered_follow_the_period_typed(live_server, page: Page):
    # given
    make_org("acme", "owner@acme.test")
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/funnel/jobs/")
    settled(page)

    # when: a period typed, then one of its months chosen
    typed(page, "From", "01012024")
    typed(page, "To", "03312024")
    quiet(page)
    month = page.get_by_label("Month")
    expect(month.locator("option")).to_have_text(
        ["Every month", "Jan 2024", "Feb 2024", "Mar 2024"]
    )
    month.select_option("2024-02")
    settled(page)

    # then
    expect(page.get_by_label("From", exact=True)).to_have_value("2024-01-01")
    expect(page.locator("#jobs-errors")).to_have_count(0)
    expect(page.locator("#jobs-period")).to_contain_text("Feb 2024 only")
    expect(month).to_have_value("2024-02")
    asked = query(page)
    assert (asked["from"], asked["to"], asked["month"]) == (
        ["2024-01-01"],
        ["2024-03-31"],
        ["2024-02"],
    ), page.url


def test_without_javascript_show_sends_the_filters_and_the_conversion(
    live_server, browser: Browser
):
    # given: a browser that runs no script
    org, owner = make_org("acme", "owner@acme.test")
    lead = new_lead(org, "Ann", at(2024, 3, 1), owner=owner)
    move(lead, "lead", at(2024, 3, 8), owner)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        base = live_server.url
        log_in(page, base, "owner@acme.test")
        page.goto(f"{base}/o/acme/funnel/?from=2024-01-01&to=2024-06-30")
        conversion = page.get_by_label("Conversion", exact=True)
        step = conversion.locator("option").nth(1).get_attribute("value")
        assert step

        # when: a filter and the conversion changed, then the Show beside the conversion
        page.get_by_label("From", exact=True).fill("2024-03-01")
        page.get_by_label("Group by").select_option("owner")
        conversion.select_option(step)
        page.locator("#rates-h + .filters").get_by_role("button", name="Show").click()
        page.wait_for_load_state("load")

        # then: the page of all of them
        asked = query(page)
        assert (asked["from"], asked["to"], asked["by"], asked["step"]) == (
            ["2024-03-01"],
            ["2024-06-30"],
            ["owner"],
            [step],
        ), page.url
        expect(page.locator("#funnel-period")).to_contain_text("1 Mar 2024")
        expect(page.get_by_label("Conversion", exact=True)).to_have_value(step)
    finally:
        context.close()
