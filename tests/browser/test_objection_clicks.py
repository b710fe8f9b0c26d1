"""An objection in two clicks from the lead page, in a real Chromium: one click opens the list
of objections, the second logs one (htmx, no page load); what they said is optional."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from keepscore.activities.models import Objection
from tests.browser.conftest import go, shot
from tests.browser.test_lead_journey import log_in
from tests.browser.test_report_filters import query, quiet, typed
from tests.conftest import channel, make_org
from tests.funnel.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)


class Clicks:
    """Clicks counted: every click the test makes goes through ``click``."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, locator: object) -> None:
        self.count += 1
        locator.click()  # type: ignore[attr-defined]


def test_an_objection_takes_two_clicks(live_server, page: Page):
    from keepscore.leads.services import lead_create

    org, owner = make_org("acme", "owner@acme.test")
    lead = lead_create(
        organization=org, name="Grace Hopper", channel=channel(org), first_touch_at=at(2024, 1, 5)
    )
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/leads/{lead.pk}/")
    expect(page.locator("h1")).to_contain_text("Grace Hopper")
    section = page.locator("#lead-actions")
    # the tags are hidden until the list is opened
    expect(section.get_by_role("button", name="Price", exact=True)).to_be_hidden()
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url))

    # when: click 1 opens, click 2 logs "Price"
    clicks = Clicks()
    clicks.click(section.get_by_text("Objection", exact=True))
    with page.expect_response(lambda r: "/objections/" in r.url and r.request.method == "POST"):
        clicks.click(section.get_by_role("button", name="Price", exact=True))

    # then
    expect(page.locator("#lead-actions")).to_contain_text("Objection “Price” logged.")
    expect(page.locator(".timeline")).to_contain_text("Price")
    assert clicks.count == 2
    assert loads == []  # htmx: no page load
    assert list(Objection.objects.filter(lead=lead).values_list("tag", "text", "by")) == [
        ("price", "", owner.pk)
    ]
    shot(page, "objection-two-clicks")

    # and with what they said: typing is not a click; still two clicks
    clicks = Clicks()
    clicks.click(page.locator("#lead-actions").get_by_text("Objection", exact=True))
    said = page.locator("#lead-actions").get_by_label("What they said (optional)")
    said.fill("Cheaper next door")
    with page.expect_response(lambda r: "/objections/" in r.url and r.request.method == "POST"):
        clicks.click(
            page.locator("#lead-actions").get_by_role("button", name="Competitor", exact=True)
        )
    expect(page.locator("#lead-actions")).to_contain_text("Objection “Competitor” logged.")
    expect(page.locator(".timeline")).to_contain_text("Cheaper next door")
    assert clicks.count == 2
    assert sorted(Objection.objects.filter(lead=lead).values_list("tag", "text")) == [
        ("competitor", "Cheaper next door"),
        ("price", ""),
    ]
    # the form came back cleared and closed: the next objection is two clicks again
    expect(page.locator("#lead-actions").get_by_label("What they said (optional)")).to_be_hidden()


def test_the_reports_show_what_was_logged(live_server, page: Page):
    from keepscore.accounts.models import Membership
    from keepscore.activities.services import objection_add
    from keepscore.leads.services import lead_create

    # given: two objections logged this month by the owner, on a lead they recorded and own
    org, owner = make_org("acme", "owner@acme.test")
    Membership.objects.filter(pk=owner.pk).update(marketing_share=30)
    lead = lead_create(organization=org, name="Ada", channel=channel(org), owner=owner, by=owner)
    objection_add(lead=lead, tag="price", by=owner)
    objection_add(lead=lead, tag="price", by=owner, text="Too dear")
    base = live_server.url
    log_in(page, base, "owner@acme.test")

    # when: the objections report of this month, from the nav
    go(page, "Reports", "Objections")
    expect(page.locator("h1")).to_contain_text("Objections")
    # this month so far, typed into the filters as a person does
    day = lead.first_touch_at.date()
    typed(page, "From", f"{day.replace(day=1):%m%d%Y}")
    typed(page, "To", f"{day:%m%d%Y}")
    quiet(page)
    shown = query(page)
    assert (shown["from"], shown["to"]) == ([str(day.replace(day=1))], [str(day)]), shown
    # then
    row = page.locator('#objections-ranked tr[data-tag="price"]')
    expect(row).to_contain_text("2")
    expect(row).to_contain_text("100%")
    expect(page.locator("#objections-by-stage")).to_contain_text("Suspect")
    shot(page, "objections-report")

    # and the marketing & sales page shows the owner's split and the lead sourced
    go(page, "Reports", "Marketing & sales")
    expect(page.locator("h1")).to_contain_text("Marketing & sales")
    overview = page.locator(f'#jobs-overview tr[data-member="{owner.pk}"]')
    expect(overview).to_contain_text("30% marketing · 70% sales")
    expect(overview.locator("td.num").first).to_have_text("1")
    shot(page, "jobs-report")
