"""The header's search in Chromium: "/" from any page puts the cursor in it, Enter lists
the leads found by name, company, email or phone; "/" typed in a field is just a slash."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from keepscore.leads.services import lead_create
from tests.browser.test_lead_journey import log_in
from tests.conftest import channel, make_org

pytestmark = pytest.mark.django_db(transaction=True)


def test_slash_then_search_from_any_page(live_server, page: Page):
    org, owner = make_org("acme", "owner@acme.test")
    for name, company, phone in (
        ("Ada Lovelace", "Engines Ltd", "+44 1"),
        ("Grace Hopper", "Navy", "+1 555 0100"),
    ):
        lead_create(
            organization=org,
            name=name,
            company=company,
            phone=phone,
            channel=channel(org),
            by=owner,
        )
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/scorecard/")
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search leads")
    expect(search).to_be_focused()
    page.keyboard.type("engines")
    page.keyboard.press("Enter")
    expect(page.locator("h1 + .muted")).to_have_text("1 lead found")
    expect(page.locator("table.leads")).to_contain_text("Ada Lovelace")
    expect(search).to_have_value("engines")
    # by phone, from the board
    page.goto(f"{base}/o/acme/board/")
    page.keyboard.press("/")
    page.keyboard.type("555 0100\n")
    expect(page.locator("table.leads")).to_contain_text("Grace Hopper")
    expect(page.locator("table.leads")).not_to_contain_text("Ada Lovelace")
    # in a field, "/" is typed, not a jump
    page.goto(f"{base}/o/acme/leads/add/")
    page.get_by_label("Name").fill("A")
    page.get_by_label("Name").press("/")
    expect(page.get_by_label("Name")).to_have_value("A/")
