"""Issue 13's done-when in a real Chromium: a spreadsheet with the headers "Full name,
E-mail, Phone, Date added, Lead source, Company" imports by clicking only Upload and Import."""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import Page, expect

from keepscore.leads.models import Lead
from tests.browser.conftest import go
from tests.browser.test_lead_journey import log_in
from tests.conftest import make_org
from tests.imports.conftest import assert_leads_are_the_sheets

pytestmark = pytest.mark.django_db(transaction=True)

BODY = (
    "Full name,E-mail,Phone,Date added,Lead source,Company\n"
    "Ada Lovelace,ada@example.com,+44 20 7946 0001,2024-01-05,Referral,AE Ltd\n"
    "Grace Hopper,grace@example.com,+1 555 0100,2024-02-11,Trade fair,\n"
    "Alan Turing,alan@example.com,+44 161 496 0000,2024-03-20,Referral,Bletchley\n"
)


def test_the_done_when_spreadsheet_imports_by_clicking_upload_and_import(
    live_server, page: Page, tmp_path
):
    org, _owner = make_org("acme", "owner@acme.test")
    file = tmp_path / "people.csv"
    file.write_text(BODY, encoding="utf-8")
    log_in(page, live_server.url, "owner@acme.test")
    go(page, "Leads", "Import")
    page.get_by_label("File").set_input_files(str(file))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("table.import-preview")).to_contain_text("Grace Hopper")
    # the mapping the page shows, in plain words, before anything is clicked
    for header, words in (
        ("Full name", "Name"),
        ("E-mail", "Email"),
        ("Phone", "Phone"),
        ("Date added", "Date of first contact"),
        ("Lead source", "Source (marketing channel)"),
        ("Company", "Company"),
    ):
        chosen = page.get_by_label(header, exact=True).locator("option:checked")
        expect(chosen).to_have_text(words)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-result")).to_contain_text("Imported")
    expect(page.locator('[data-count="created"]')).to_have_text("3")
    expect(page.locator("table.import-columns")).to_contain_text("Date of first contact")

    with file.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert Lead.objects.for_org(org).count() == len(rows)
    assert_leads_are_the_sheets(org, rows)
