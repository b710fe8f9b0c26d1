"""The board in Chromium: a card dragged with the mouse to another column moves the lead;
focused and moved with the arrow keys, too; dropped on Won it asks for the revenue in a
dialog; each column's count and total are the lead list's."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import Page, Route, expect

from keepscore.leads.models import DealOutcome, Lead, StageChange
from keepscore.leads.services import lead_create
from tests.browser.conftest import HTMX_IDLE
from tests.browser.test_lead_journey import log_in
from tests.conftest import channel, make_org, stage

pytestmark = pytest.mark.django_db(transaction=True)


def column(page: Page, name: str):
    return page.locator("#board .column", has=page.locator("h2", has_text=re.compile(f"^{name}")))


def test_drag_keyboard_and_won_dialog(live_server, page: Page):
    org, owner = make_org("acme", "owner@acme.test")
    values = {"Ann": "1200", "Ben": "800", "Cy": None}
    for name, value in values.items():
        lead_create(
            organization=org,
            name=name,
            channel=channel(org),
            by=owner,
            value=Decimal(value) if value else None,
        )
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/board/")
    suspects = column(page, "Suspect")
    expect(suspects.locator(".count")).to_have_text("3")
    expect(suspects.locator(".column-total")).to_have_text("value €2,000")

    # the mouse: Ann dragged onto Prospect
    with page.expect_response(lambda r: "/board/" in r.url and r.request.method == "POST"):
        suspects.locator(".tile", has_text="Ann").drag_to(
            column(page, "Prospect").locator(".cards")
        )
    expect(page.locator("#board")).to_contain_text("Ann moved to Prospect.")
    expect(column(page, "Prospect").locator(".count")).to_have_text("1")
    assert Lead.objects.get(name="Ann").stage.key == "prospect"

    # the keyboard: Ben focused, → moves him a stage, and he keeps the focus
    ben = column(page, "Suspect").locator(".tile", has_text="Ben")
    # once the board's swap has settled: focusing Ben during it, board.js gave the focus
    # back to Ann's card afterwards and → moved Ann (a fresh-clone run)
    page.wait_for_function(HTMX_IDLE)
    ben.focus()
    with page.expect_response(lambda r: "/board/" in r.url and r.request.method == "POST"):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#board")).to_contain_text("Ben moved to Prospect.")
    expect(page.locator(".tile:focus")).to_contain_text("Ben")
    assert Lead.objects.get(name="Ben").stage.key == "prospect"

    # the totals are the lead list's
    prospects = column(page, "Prospect")
    expect(prospects.locator(".column-total")).to_have_text("value €2,000")
    prospects.locator(".count").click()
    expect(page.locator("h1 + .muted")).to_have_text("2 leads found")

    # dropped on Won: the dialog asks for the revenue, and the board comes back
    page.goto(f"{base}/o/acme/board/")
    with page.expect_response(lambda r: "/board/" in r.url and r.request.method == "POST"):
        column(page, "Prospect").locator(".tile", has_text="Ann").drag_to(
            column(page, "Customer").locator(".cards")
        )
    dialog = page.locator("dialog#move-dialog")
    expect(dialog).to_be_visible()
    assert StageChange.objects.filter(lead__name="Ann").count() == 2  # not moved yet
    dialog.get_by_label("Revenue").fill("1500")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Save won").click()
    expect(page).to_have_url(f"{base}/o/acme/board/")
    expect(column(page, "Customer").locator(".count")).to_have_text("1")
    expect(column(page, "Customer").locator(".column-total")).to_have_text("revenue €1,500")
    assert DealOutcome.objects.get(lead__name="Ann").revenue == Decimal("1500.00")
    assert stage(org, "customer") == Lead.objects.get(name="Ann").stage


def test_quick_presses_move_the_card_as_many_stages(live_server, page: Page):
    """→ pressed twice before the first move is answered (the answers held back 0.5 s, as on
    a slow phone connection): the card is shown two stages on at once, keeps the focus, and
    ends there; the history has each stage in turn."""
    org, owner = make_org("acme", "owner@acme.test")
    lead = lead_create(organization=org, name="Dee", channel=channel(org), by=owner)
    lead_create(organization=org, name="Eve", channel=channel(org), by=owner)
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/board/")
    page.wait_for_function(HTMX_IDLE)

    def slow(route: Route) -> None:
        time.sleep(0.5)
        route.continue_()

    page.route("**/board/**/move/", slow)
    # the column Dee's card is in, each time the board changes
    page.evaluate(
        """() => {
        window.deeSeen = [];
        new MutationObserver(() => {
          const dee = [...document.querySelectorAll("#board .tile")]
            .find((t) => t.textContent.includes("Dee"));
          if (dee) window.deeSeen.push(dee.closest(".cards").dataset.stage);
        }).observe(document.body, { childList: true, subtree: true });
      }"""
    )
    column(page, "Suspect").locator(".tile", has_text="Dee").focus()
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    # shown at once where the two moves take it
    expect(column(page, "Lead").locator(".tile", has_text="Dee")).to_be_visible(timeout=300)
    expect(page.locator("#board")).to_contain_text("Dee moved to Lead.", timeout=10_000)
    page.wait_for_function(HTMX_IDLE)
    expect(column(page, "Lead").locator(".tile", has_text="Dee")).to_be_visible()
    expect(column(page, "Lead").locator(".count")).to_have_text("1")
    expect(page.locator(".tile:focus")).to_contain_text("Dee")
    keys = list(
        StageChange.objects.filter(lead=lead)
        .order_by("at", "pk")
        .values_list("to_stage__key", flat=True)
    )
    assert keys == ["suspect", "prospect", "lead"]
    # once shown in Lead, never back in Prospect: the first answer's board (Dee in Prospect)
    # is shown with the second move already applied to it
    seen = page.evaluate("window.deeSeen")
    lead_stage = str(stage(org, "lead").pk)
    assert str(stage(org, "prospect").pk) in seen and lead_stage in seen, seen
    assert set(seen[seen.index(lead_stage) :]) == {lead_stage}, seen
    # Eve, never touched, is where she was
    expect(column(page, "Suspect").locator(".tile", has_text="Eve")).to_be_visible()
