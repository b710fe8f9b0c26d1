"""The walk-in story, counted: add a walk-in, log a call, an objection, qualify it and win it
with its revenue: at most 12 clicks, each on the first screen of the page (no scrolling) at
1280x800; the same story on a 390x844 phone, without the page ever scrolling sideways."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from keepscore.activities.models import Activity, Objection
from keepscore.leads.models import DealOutcome, Lead, QualificationAnswer, StageChange
from tests.browser.conftest import LAUNCH_ARGS  # noqa: F401  (the browser fixture's flags)
from tests.browser.test_lead_journey import log_in
from tests.conftest import gates, make_org

pytestmark = pytest.mark.django_db(transaction=True)

#: the most clicks the walk-in story may take (Pipedrive: 12 to 15)
CLICK_BUDGET = 12


class Clicks:
    """Counts the clicks of a story; on the wide screen each must be on the first screen."""

    def __init__(self, page: Page, first_screen_only: bool) -> None:
        self.page, self.first_screen_only, self.count = page, first_screen_only, 0

    def __call__(self, target: Locator) -> None:
        self.count += 1
        if self.first_screen_only:
            box = target.bounding_box()
            assert box is not None, target
            assert self.page.evaluate("window.scrollY") == 0
            height = self.page.viewport_size["height"]
            assert box["y"] + box["height"] <= height, f"click {self.count} is below the fold"
        target.click()

    def select(self, target: Locator, label: str) -> None:
        self.count += 1  # choosing from a list is a click
        target.select_option(label=label)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width} px)"


def walk_in(page: Page, base: str, click: Clicks) -> Lead:
    log_in(page, base, "owner@acme.test")
    click(page.locator("header .add-lead"))
    page.get_by_label("Name").fill("Walter Walkin")
    click.select(page.get_by_label("Source"), "Walk-in")
    click(page.locator("main").get_by_role("button", name="Add lead"))
    expect(page.locator("h1")).to_have_text("Walter Walkin")
    no_sideways_scroll(page)
    lead = Lead.objects.get(name="Walter Walkin")

    actions = page.locator("#lead-actions")
    # a call that reached them: two clicks
    click(actions.get_by_text("Call", exact=True))
    page.get_by_placeholder("What was said (optional)").fill("Needs a shop sign")
    with page.expect_response(lambda r: "/log/" in r.url):
        click(actions.get_by_role("button", name="Reached them"))
    expect(actions).to_contain_text("Connect logged.")
    expect(page.locator("#next-steps")).to_contain_text("Next step?")
    # an objection: two clicks
    click(actions.get_by_text("Objection", exact=True))
    with page.expect_response(lambda r: "/objections/" in r.url):
        click(actions.get_by_role("button", name="Price"))
    expect(actions).to_contain_text("Objection “Price” logged.")
    # qualify: the stage, then "all met" (the checklist is listed where the move happens)
    with page.expect_response(lambda r: "to_stage=" in r.url):
        click(actions.get_by_role("link", name="Qualified", exact=True))
    panel = page.locator("#move-panel")
    expect(panel).to_contain_text("Fits our ideal customer profile")
    with page.expect_navigation():
        click(panel.get_by_role("button", name="All met: move to Qualified"))
    expect(page.locator(".lead-head .badge")).to_have_text("Qualified")
    # win it with its revenue
    with page.expect_response(lambda r: "to_stage=" in r.url):
        click(page.locator("#lead-actions").get_by_role("link", name="Won", exact=True))
    page.locator("#move-panel").get_by_label("Revenue").fill("1800")
    with page.expect_navigation():
        click(page.locator("#move-panel").get_by_role("button", name="Save won"))
    expect(page.locator(".lead-head .badge")).to_have_text("Customer")
    no_sideways_scroll(page)
    return lead


def check(lead: Lead) -> None:
    path = [c.to_stage.key for c in StageChange.objects.filter(lead=lead).order_by("at", "id")]
    assert path == ["suspect", "qualified", "customer"]
    assert not StageChange.objects.filter(lead=lead, qualification_override=True).exists()
    (call,) = Activity.objects.filter(lead=lead)
    assert (call.kind, call.is_sales_conversation, call.notes) == (
        "connect",
        True,
        "Needs a shop sign",
    )
    assert Objection.objects.get(lead=lead).tag == "price"
    assert QualificationAnswer.objects.filter(lead=lead, met=True).count() >= 1
    assert DealOutcome.objects.get(lead=lead).revenue == Decimal("1800.00")
    assert lead.channel.key == "walk-in"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["wide", "phone"])
def test_the_walk_in_story(live_server, browser: Browser, width: int, height: int):
    org, _owner = make_org("acme", "owner@acme.test")
    gates(org, "qualified")
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        click = Clicks(page, first_screen_only=width >= 1280)
        lead = walk_in(page, live_server.url, click)
        check(Lead.objects.get(pk=lead.pk))
        if width >= 1280:
            assert click.count <= CLICK_BUDGET, click.count
    finally:
        context.close()
