"""Goals & targets in a real Chromium: a few cells typed, one Save, a reload shows them; a
goal spread over the months by the saved plan fills the inputs, not saved until Save; on a
phone the grid scrolls in its own box with the metric names fixed, the page does not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from keepscore.accounts.models import Organization, User
from keepscore.demo.generator import demo_create, demo_email
from keepscore.plan.selectors import goal_spread
from keepscore.plan.services import plan_save
from keepscore.scorecard.models import Goal, Target
from tests.browser.conftest import axe_violations, shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _owner() -> str:
    demo_create(slug="demo", months=14, today=timezone.localdate())
    owner = User.objects.get(email=demo_email("demo"))
    owner.set_password(PASSWORD)
    owner.save()
    return owner.email


def _targets(key: str) -> dict[int, Decimal]:
    rows = Target.objects.filter(organization__slug="demo", metric_key=key, month__year=2031)
    return {t.month.month: t.value for t in rows}


def test_cells_typed_are_saved_at_once_and_a_goal_is_spread(live_server, page: Page) -> None:
    email = _owner()
    log_in(page, live_server.url, email)
    grid = f"{live_server.url}/o/demo/scorecard/targets/?year=2031"
    page.goto(grid)
    expect(page.locator("#group-SUSPECT")).to_contain_text("New leads")
    page.get_by_label("New leads, Mar 2031").fill("30")
    page.get_by_label("New leads, Apr 2031").fill("35")
    page.get_by_label("Close rate, Jan 2031").fill("27.5")
    page.get_by_label("Revenue, annual goal 2031").fill("250000")
    page.get_by_role("button", name="Save 2031").click()
    expect(page.locator("body")).to_contain_text("Saved the targets and goals of 2031: 4 set")
    page.reload()
    expect(page.get_by_label("New leads, Mar 2031")).to_have_value("30")
    expect(page.get_by_label("New leads, Apr 2031")).to_have_value("35")
    expect(page.get_by_label("Close rate, Jan 2031")).to_have_value("27.5")
    expect(page.get_by_label("Revenue, annual goal 2031")).to_have_value("250000")
    assert _targets("new_leads") == {3: 30, 4: 35}
    assert (
        Goal.objects.get(organization__slug="demo", metric_key="revenue", year=2031).value
        == 250_000
    )

    # a bad cell: marked where it is, nothing saved, what was typed stays
    page.get_by_label("New leads, May 2031").fill("lots")
    page.get_by_label("New leads, Jun 2031").fill("40")
    page.get_by_role("button", name="Save 2031").click()
    expect(page.locator("#grid-errors")).to_contain_text(
        "New leads, May 2031: 'lots' is not a number."
    )
    expect(page.get_by_label("New leads, May 2031")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("New leads, Jun 2031")).to_have_value("40")
    assert _targets("new_leads") == {3: 30, 4: 35}
    assert axe_violations(page) == []  # the grid with its errors, wide
    page.get_by_label("New leads, May 2031").fill("")
    page.get_by_label("New leads, Jun 2031").fill("")

    # the plan of 2031 saved: its customers per month spread the customers' goal
    organization = Organization.objects.get(slug="demo")
    plan_save(
        organization=organization,
        year=2031,
        goal_kind="customers",
        goal_amount=150,
        overrides={},
        by=None,
    )
    page.goto(grid)
    page.get_by_label("Customers, annual goal 2031").fill("150")
    page.get_by_role("button", name="Spread the goal of Customers over the months").click()
    expect(page.locator("#spread-note")).to_contain_text("by the plan's customers per month")
    expect(page.locator("#spread-note")).to_contain_text("Not saved yet")
    expected = goal_spread(
        organization=organization, year=2031, metric_key="customers", amount=150
    ).months
    for month, value in expected.items():
        label = f"Customers, {month:%b} 2031"
        expect(page.get_by_label(label)).to_have_value(str(value))
    assert _targets("customers") == {}  # not saved yet
    shot(page, "targets-spread")
    page.get_by_role("button", name="Save 2031").click()
    expect(page.locator("body")).to_contain_text("Saved the targets and goals of 2031")
    saved = _targets("customers")
    assert saved == {m.month: v for m, v in expected.items()} and sum(saved.values()) == 150


def test_the_grid_scrolls_in_its_box_on_a_phone(live_server, browser: Browser) -> None:
    email = _owner()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/o/demo/scorecard/targets/?year=2031")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator(".targets-scroll")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the table is wider: it scrolls
    name = page.locator("#row-new_leads th")
    before = name.bounding_box()
    box.evaluate("e => { e.scrollLeft = 400 }")
    after = name.bounding_box()
    assert before and after and after["x"] == pytest.approx(before["x"], abs=1)  # it stays
    expect(page.get_by_label("New leads, Jun 2031")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "targets-phone")
    context.close()
