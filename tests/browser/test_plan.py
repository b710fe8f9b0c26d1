"""The plan page in a real Chromium: the goal typed, the plan appears; an assumption changed,
the plan is redrawn in place (no reload) as the formula says, nothing saved; Save keeps it."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from keepscore.accounts.models import User
from keepscore.demo.generator import demo_create, demo_email
from keepscore.plan.models import YearPlan
from tests.browser.conftest import shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _leads(page: Page) -> float:
    return float(page.locator(".plan-headline").get_attribute("data-leads") or "nan")


def test_a_what_if_redraws_the_plan_in_place(live_server, page: Page) -> None:
    demo_create(slug="demo", months=14, today=timezone.localdate(), plan=False)
    owner = User.objects.get(email=demo_email("demo"))
    owner.set_password(PASSWORD)
    owner.save()
    log_in(page, live_server.url, owner.email)
    page.goto(f"{live_server.url}/o/demo/plan/?year=2027")
    page.evaluate("window.stayed = true")  # gone if the page reloads
    page.get_by_label("Amount").fill("700000")
    expect(page.locator(".plan-headline")).to_be_visible()
    measured = page.locator("#a-to_customer").get_attribute("placeholder")
    before = _leads(page)
    with page.expect_response(lambda r: "to_customer=60" in r.url):
        page.locator("#a-to_customer").fill("60")
    expect(page.locator(".plan-headline")).not_to_have_attribute("data-leads", f"{before:.2f}")
    after = _leads(page)
    # the leads scale by the measured rate over the one typed (the customers stay)
    assert after == pytest.approx(before * float(measured) / 60, rel=1e-3)
    expect(page.locator("#plan-result")).to_contain_text("what-if, not saved")
    expect(page.locator(".plan-levers li").first).to_contain_text("more leads a month would")
    assert page.evaluate("window.stayed") is True
    assert not YearPlan.objects.exists()
    shot(page, "plan-what-if")
    page.get_by_role("button", name="Save the plan").click()
    expect(page.locator("body")).to_contain_text("Saved the plan of 2027.")
    stored = YearPlan.objects.get()
    assert stored.overrides == {"to_customer": 0.6} and stored.goal_amount == 700_000
