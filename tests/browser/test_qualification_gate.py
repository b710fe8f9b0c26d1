"""The qualification checklist and the move panel's gate on one lead page: a tick in one
never undoes a tick in the other, however quickly the person goes from one to the other."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, Route, expect

from keepscore.leads.models import QualificationAnswer
from keepscore.leads.services import lead_create
from tests.browser.test_lead_journey import log_in, pick_stage
from tests.conftest import channel, make_org

pytestmark = pytest.mark.django_db(transaction=True)

#: the checklist's answers are held back this long: the second tick always lands while the
#: first is on its way, as on a slow phone connection
DELAY = 0.6


def slow(route: Route) -> None:
    time.sleep(DELAY)
    route.continue_()


def test_a_checklist_tick_keeps_what_is_ticked_in_the_gate(live_server, page: Page):
    org, owner = make_org("acme", "owner@acme.test")
    lead = lead_create(organization=org, name="Quick Quinn", channel=channel(org), by=owner)
    log_in(page, live_server.url, "owner@acme.test")
    page.goto(f"{live_server.url}/o/acme/leads/{lead.pk}/")
    gate = pick_stage(page, "Qualified").locator("#move-gate")
    expect(gate).to_contain_text("Qualified needs the qualification checklist")
    rows = gate.locator("label.check")
    expect(rows).to_have_count(4)
    expect(gate.locator(".gate-met")).to_be_hidden()
    texts = rows.all_inner_texts()
    checklist = page.locator("#qualification input[type=checkbox]")

    page.route("**/qualification/**", slow)
    # the first item in the checklist, then at once the second in the gate
    with page.expect_response(lambda r: "/qualification/" in r.url):
        checklist.nth(0).check()
        gate.get_by_label(texts[1].strip()).check()
    # the first item's row has left the gate (it is met); the tick in the second stays
    expect(rows).to_have_count(3)
    expect(gate).not_to_contain_text(texts[0].strip())
    expect(gate.get_by_label(texts[1].strip())).to_be_checked()
    expect(page.locator("#qualification-status")).to_have_text(
        "Not qualified yet: 3 required items not ticked."
    )

    # taken back in the checklist: its row comes back, the tick in the second still stays
    with page.expect_response(lambda r: "/qualification/" in r.url):
        checklist.nth(0).uncheck()
    expect(rows).to_have_count(4)
    expect(gate.get_by_label(texts[1].strip())).to_be_checked()
    expect(gate.get_by_label(texts[0].strip())).not_to_be_checked()
    assert not QualificationAnswer.objects.filter(lead=lead, met=True).exists()

    # the rest ticked in the checklist: the gate says all met
    page.unroute("**/qualification/**")
    for i in range(4):
        checklist.nth(i).check()
    expect(page.locator("#qualification-status")).to_have_text("All required criteria met.")
    expect(rows).to_have_count(0)
    expect(gate.locator(".gate-met")).to_be_visible()
    expect(gate.locator("fieldset.gate")).to_be_hidden()
    assert QualificationAnswer.objects.filter(lead=lead, met=True).count() == 4
