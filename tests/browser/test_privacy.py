"""An owner answers a person's request in a real Chromium: downloads their data from the
lead's page, then erases them after the confirmation."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from keepscore.leads.models import ERASED_NAME, Lead
from keepscore.webforms.models import WebFormSubmission
from tests.browser.conftest import shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import make_org
from tests.privacy.conftest import SECRETS, ada_make

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_downloads_then_erases_a_person(live_server, page: Page, tmp_path):
    org, owner = make_org("acme", "owner@acme.test")
    ada = ada_make(org, owner)
    base = live_server.url
    log_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/leads/{ada.leads[0].pk}/")
    card = page.locator("section", has=page.get_by_role("heading", name="This person's data"))
    expect(card).to_contain_text("ada@example.com")

    # the download: both of her leads, as JSON
    with page.expect_download() as download:
        card.get_by_role("link", name="Export this person's data").click()
    path = tmp_path / "ada.json"
    download.value.save_as(path)
    assert download.value.suggested_filename.startswith(f"person-of-lead-{ada.leads[0].pk}-")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [one["id"] for one in data["leads"]] == [lead.pk for lead in ada.leads]

    # the erasure: what goes, an explicit tick, then the tombstone
    card.get_by_role("link", name="Erase this person…").click()
    expect(page.get_by_role("heading", name="Erase this person")).to_be_visible()
    expect(page.locator("main")).to_contain_text("3 activities, 2 objections")
    shot(page, "privacy-erase-confirm")
    page.get_by_role("button", name="Erase this person").click()
    expect(page.get_by_text("Tick the box to confirm the erasure.")).to_be_visible()
    assert Lead.objects.filter(name=ERASED_NAME).count() == 0
    page.get_by_label("I understand", exact=False).check()
    page.get_by_role("button", name="Erase this person").click()
    expect(page.locator(".messages")).to_contain_text("Erased: 2 leads")
    expect(page.locator("h1")).to_have_text(ERASED_NAME)
    expect(page.locator("main")).to_contain_text("This person's data was erased on")
    shot(page, "privacy-erased-lead")
    text = page.locator("body").inner_text()
    assert not [s for s in SECRETS if s in text]
    assert Lead.objects.filter(name=ERASED_NAME).count() == 2
    assert not WebFormSubmission.objects.exists()
