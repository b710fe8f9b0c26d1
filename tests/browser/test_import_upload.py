"""Import a small CSV through the web app, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from keepscore.leads.models import Lead
from tests.browser.conftest import go
from tests.browser.test_lead_journey import log_in
from tests.conftest import make_org

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_fix_a_mapping_and_import(live_server, page: Page, tmp_path):
    org, _owner = make_org("acme", "owner@acme.test")
    base = live_server.url
    file = tmp_path / "people.csv"
    file.write_text(
        "Full name,email,source\nAda Lovelace,ada@example.com,referral\n"
        "Grace Hopper,grace@example.com,referral\n"
    )
    log_in(page, base, "owner@acme.test")
    go(page, "Leads", "Import")
    page.get_by_label("File").set_input_files(str(file))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("table.import-preview")).to_contain_text("Ada Lovelace")
    page.get_by_label("Full name").select_option("name")
    # the file has no dates: the moment of the import, each row with a warning
    page.get_by_label("Rows without a date of first contact").select_option("now")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-result")).to_contain_text("Imported")
    expect(page.locator('[data-count="created"]')).to_have_text("2")
    expect(page.locator('[data-count="warnings"]')).to_have_text("2")
    page.get_by_role("link", name="See the leads").click()
    expect(page.locator("main")).to_contain_text("Grace Hopper")
    assert Lead.objects.for_org(org).count() == 2
