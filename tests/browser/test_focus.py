"""The demo organization's focus in a real Chromium: the dashboard's card loads by itself,
and its page lists each indicator with its numbers."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from keepscore.accounts.models import Organization
from keepscore.demo.generator import DEMO_PASSWORD, demo_create, demo_email
from keepscore.focus.selectors import LABELS, diagnose
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_focus_card_and_page(live_server, page: Page):
    demo_create(slug="demo", months=14, today=timezone.localdate())
    expected = diagnose(Organization.objects.get(slug="demo"))
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Email address").fill(demo_email("demo"))
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # the card arrives after the page (htmx), with the recommendation and its sentence
    card = page.locator("#focus-card")
    expect(card).to_be_visible()
    assert card.get_attribute("data-recommendation") == expected.recommendation
    expect(card).to_contain_text(LABELS[expected.recommendation])
    expect(card).to_contain_text(expected.sentence)
    shot(page, "focus-dashboard")

    card.get_by_role("link", name="Every indicator").click()
    expect(page.locator("h1")).to_contain_text("Focus")
    sections = page.locator("section.indicator")
    expect(sections).to_have_count(len(expected.indicators))
    for indicator in expected.indicators:
        section = page.locator(f'section[data-indicator="{indicator.key}"]')
        expect(section).to_contain_text(indicator.title)
        expect(section).to_contain_text(indicator.explanation)
        assert section.get_attribute("data-status") == indicator.status
        # the numbers behind it open on a click
        details = section.locator("details")
        if details.count():
            details.locator("summary").click()
            expect(details.locator("dl.facts dt").first).to_be_visible()
    # the channel ranking carries its intervals
    rows = page.locator('section[data-indicator="best_channels"] table.channels tbody tr')
    assert rows.count() >= 3
    shot(page, "focus-page")

    # another date: the form takes it and the page says so
    first = timezone.localdate().replace(day=1)
    page.get_by_label("As of").fill(first.isoformat())
    page.get_by_role("button", name="Diagnose").click()
    expect(page.locator("#focus-result")).to_contain_text(f"As of {first.day} {first:%B %Y}")
