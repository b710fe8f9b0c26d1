"""One page in two currencies, in a real Chromium: the economics page of an organization in
euros written as in Germany (the sign after the number, a comma before the cents), then —
after the owner changes the currency on the settings page — in dollars as in the US."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from keepscore.accounts.models import Organization
from keepscore.accounts.services import money_format_set
from keepscore.economics.services import spend_set
from tests.browser.conftest import shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import make_org
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db(transaction=True)

MARCH = "?from=2025-03-01&to=2025-03-31"


def test_the_economics_page_in_euros_then_in_dollars(live_server, page: Page) -> None:
    org, owner = make_org("acme", "owner@acme.test")
    money_format_set(organization=org, currency="EUR", number_locale="de_DE")
    # three referral leads in March 2025, one won for 1,234.50 (cost 234.50); 100 spent:
    # cost per lead 100 / 3 = 33.33, revenue 1,234.50 (whole units from 100 up: 1,235)
    for n in range(3):
        lead = new_lead(org, f"Lead {n}", at(2025, 3, 3 + n))
    move(lead, "customer", at(2025, 3, 20), owner, revenue="1234.50", cost="234.50")
    spend_set(organization=org, month="2025-03", channel="referral", amount="100")

    log_in(page, live_server.url, "owner@acme.test")
    page.goto(f"{live_server.url}/o/acme/economics/{MARCH}")
    row = page.locator('tr[data-channel="referral"]')
    nbsp = "\u00a0"
    expect(row.locator('[data-figure="revenue"]')).to_have_text(f"1.235{nbsp}€")
    expect(row.locator('[data-figure="cost_per_lead"]')).to_have_text(f"33,33{nbsp}€")
    expect(row.locator('[data-figure="spend"]')).to_have_text(f"100{nbsp}€")
    shot(page, "economics-eur-de")

    # the owner chooses dollars, written as in the US, on Settings → Products & margin
    page.goto(f"{live_server.url}/o/acme/settings/products/")
    card = page.locator("#currency")
    card.get_by_label("Currency").select_option("USD")
    card.get_by_label("Number format").select_option("en_US")
    card.get_by_role("button", name="Save currency").click()
    expect(page.locator("body")).to_contain_text("Currency set: USD, written $1,234.50.")
    expect(card.locator("[data-money-example]")).to_have_text("$1,234.50")

    page.goto(f"{live_server.url}/o/acme/economics/{MARCH}")
    row = page.locator('tr[data-channel="referral"]')
    expect(row.locator('[data-figure="revenue"]')).to_have_text("$1,235")
    expect(row.locator('[data-figure="cost_per_lead"]')).to_have_text("$33.33")
    expect(row.locator('[data-figure="spend"]')).to_have_text("$100")
    # no euro left anywhere on the page
    assert "€" not in page.locator("main").inner_text()
    assert re.search(r"\$1,000\b", row.inner_text())  # the margin
    shot(page, "economics-usd-us")
    org = Organization.objects.get(pk=org.pk)
    assert (org.currency, org.number_locale) == ("USD", "en_US")
