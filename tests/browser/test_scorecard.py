"""The demo organization's scorecard in a real Chromium: groups, hover texts, month
navigation and the PDF export."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from keepscore.demo.generator import DEMO_PASSWORD, demo_create, demo_email
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_scorecard(live_server, page: Page):
    today = timezone.localdate()
    demo_create(slug="demo", months=14, today=today)
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Email address").fill(demo_email("demo"))
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#scorecard-summary")).to_be_visible()
    page.locator("#scorecard-summary").get_by_role("link", name="Full scorecard").click()

    this_month = today.replace(day=1)
    expect(page.locator("h1")).to_contain_text(f"{this_month:%B %Y}")
    for group in ("SUSPECT", "PROSPECT", "LEAD", "CUSTOMER"):
        expect(page.locator(f"#group-{group} table.scorecard tbody tr").first).to_be_visible()

    # hover: a rate's cell says k of n (and its interval); a sparkline's marks carry titles
    close = page.locator('tr[data-metric="close_rate"] td.value')
    assert " of " in (close.get_attribute("title") or "")
    close.hover()
    spark = page.locator('tr[data-metric="new_leads"] svg.ks-spark')
    spark.hover()
    assert spark.locator("title").first.text_content()
    assert "this month" in (spark.locator("g.mark title").last.text_content() or "") or (
        f"{this_month:%b %Y}" in (spark.locator("g.mark title").last.text_content() or "")
    )

    # month navigation: back one month and forward again
    page.locator('a[rel="prev"]').first.click()
    previous = date(this_month.year - (this_month.month == 1), (this_month.month - 2) % 12 + 1, 1)
    expect(page.locator("h1")).to_contain_text(f"{previous:%B %Y}")
    expect(page).to_have_url(f"{base}/o/demo/scorecard/{previous:%Y-%m}/")
    shot(page, "scorecard")
    page.locator('a[rel="next"]').first.click()
    expect(page.locator("h1")).to_contain_text(f"{this_month:%B %Y}")

    # the PDF button asks the worker (run at once in tests), then the page offers the file;
    # the export address makes it at once
    expect(page.locator('button[data-export="pdf"]')).to_be_visible()
    pdf = page.request.get(f"{base}/o/demo/scorecard/{this_month:%Y-%m}/export.pdf")
    assert pdf.ok and pdf.body()[:4] == b"%PDF"
    assert f"demo-scorecard-{this_month:%Y-%m}.pdf" in pdf.headers.get("content-disposition", "")
