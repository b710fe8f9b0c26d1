"""A person's first morning with keepscore, in a real Chromium."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from keepscore.leads.models import DealOutcome, Lead, QualificationAnswer, StageChange
from tests.browser.conftest import go, shot
from tests.conftest import PASSWORD, make_org

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def pick_stage(page: Page, label: str) -> Locator:
    """Click a stage among the lead page's "Move to": the move panel htmx shows for it."""
    with page.expect_response(lambda r: "to_stage=" in r.url):
        page.locator("#lead-actions").get_by_role("link", name=label, exact=True).click()
    return page.locator("#move-panel")


def move_to(page: Page, stage: str, **money: str) -> None:
    """Click the stage among "Move to" (htmx shows only its fields), fill them, move."""
    panel = pick_stage(page, {"Customer": "Won", "Lost": "Lost"}.get(stage, stage))
    for name, value in money.items():
        panel.get_by_label(name.title(), exact=False).fill(value)
    with page.expect_navigation():
        panel.locator("button.primary").click()
    expect(page.locator(".lead-head .badge")).to_have_text(stage)


def test_add_a_lead_qualify_it_and_win_it(live_server, page: Page):
    org, _owner = make_org("acme", "owner@acme.test")
    base = live_server.url

    # log in: the dashboard of the only organization
    log_in(page, base, "owner@acme.test")
    expect(page).to_have_url(f"{base}/o/acme/")
    expect(page.locator("h1")).to_contain_text("Dashboard")

    # add a lead with just a name and its source
    go(page, "Leads", "Add lead")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Source").select_option(label="Referral")
    page.get_by_role("button", name="Add lead").click()
    expect(page.locator("h1")).to_contain_text("Grace Hopper")
    lead = Lead.objects.get(organization=org, name="Grace Hopper")
    assert lead.channel.key == "referral"

    # early stages, with the playbook of the stage picked a click away
    move_to(page, "Prospect")
    pick_stage(page, "Lead").get_by_text("How we sell at Lead").click()
    expect(page.locator("#move-panel .playbook")).to_be_visible()
    with page.expect_navigation():
        page.locator("#move-panel").get_by_role("button", name="Move to Lead").click()
    expect(page.locator(".lead-head .badge")).to_have_text("Lead")

    # tick the qualification checklist quickly, as a busy person does: each tick is sent with
    # htmx, in order, and no answer to an earlier tick may undo a later one on the screen
    boxes = page.locator("#qualification input[type=checkbox]")
    count = boxes.count()
    assert count == 4
    for i in range(count):
        boxes.nth(i).check()
    expect(page.locator("#qualification-status")).to_have_text("All required criteria met.")
    expect(boxes.nth(count - 1)).to_be_checked()
    assert QualificationAnswer.objects.filter(lead=lead, met=True).count() == count
    shot(page, "lead-qualified")

    move_to(page, "Qualified")
    move_to(page, "Proposal")
    move_to(page, "Customer", revenue="2500", cost="1000")

    # the timeline tells the story, newest first
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Customer")
    expect(timeline).to_contain_text("2,500")
    shot(page, "lead-won")

    # and the board counts the customer won this month, with its revenue
    go(page, "Leads", "Board")
    customers = page.get_by_role("region", name=re.compile(r"^Customer\b"))
    expect(customers.locator("h2 .count")).to_have_text("1")
    expect(customers).to_contain_text("revenue €2,500")
    suspects = page.get_by_role("region", name=re.compile(r"^Suspect\b"))
    expect(suspects).not_to_contain_text("Grace Hopper")
    shot(page, "board")

    # the database agrees with what the person saw
    path = [c.to_stage.key for c in StageChange.objects.filter(lead=lead).order_by("at", "id")]
    assert path == ["suspect", "prospect", "lead", "qualified", "proposal", "customer"]
    assert not StageChange.objects.filter(lead=lead, qualification_override=True).exists()
    outcome = DealOutcome.objects.get(lead=lead)
    assert (outcome.revenue, outcome.cost, outcome.margin) == (
        Decimal("2500.00"),
        Decimal("1000.00"),
        Decimal("1500.00"),
    )


def test_qualifying_with_criteria_unmet_shows_what_is_missing(live_server, page: Page):
    org, owner = make_org("acme", "owner@acme.test")
    from keepscore.leads.services import lead_create
    from tests.conftest import channel

    lead = lead_create(organization=org, name="Unready Ursula", channel=channel(org), by=owner)
    log_in(page, live_server.url, "owner@acme.test")
    page.goto(f"{live_server.url}/o/acme/leads/{lead.pk}/")
    panel = pick_stage(page, "Qualified")
    expect(panel).to_contain_text("Qualified needs the qualification checklist")
    expect(panel).to_contain_text("Fits our ideal customer profile")
    panel.get_by_role("button", name="Move with the ticked ones").click()
    expect(panel).to_contain_text("Not qualified yet")
    lead.refresh_from_db()
    assert lead.stage.key == "suspect"
    assert StageChange.objects.filter(lead=lead).count() == 1
