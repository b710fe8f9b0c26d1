"""A real Chromium submits the embedded web form on a business's page carrying UTM parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from keepscore.leads.models import Lead
from keepscore.webforms.models import WebFormSubmission, consent_version
from keepscore.webforms.services import webform_save
from tests.browser.conftest import shot
from tests.conftest import make_org

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_embedded_form_creates_a_lead_with_the_pages_source(
    live_server: Any, page: Page, settings: Any, website: tuple[Path, str]
) -> None:
    settings.WEBFORM_MIN_FILL_SECONDS = 1
    cache.clear()  # the rate limit's counters
    org, _ = make_org("acme", "owner@acme.test")
    form = webform_save(
        organization=org,
        name="Contact",
        fields=["name", "email", "notes"],
        consent_text="I agree that Acme may contact me.",
    )
    folder, site = website
    landing = f"{site}/landing.html?utm_source=news&utm_medium=email&utm_campaign=spring"
    (folder / "start.html").write_text(
        f'<!doctype html><title>Blog</title><a href="{landing}">Read more</a>'
    )
    (folder / "landing.html").write_text(
        "<!doctype html><title>Acme</title><h1>Talk to us</h1>"
        f'<script src="{live_server.url}/static/keepscore/embed.js" '
        f'data-keepscore-form="{form.key}" async></script>'
    )

    page.goto(f"{site}/start.html")
    page.get_by_role("link", name="Read more").click()
    expect(page.locator("iframe")).to_have_count(1)
    frame = page.frame_locator("iframe")
    expect(frame.get_by_text("I agree that Acme may contact me.")).to_be_visible()
    expect(frame.locator("input[name=website]")).not_to_be_in_viewport()  # the honeypot
    frame.get_by_label("Name").fill("Grace Hopper")
    frame.get_by_label("Email").fill("grace@example.com")
    frame.get_by_label("Message").fill("Please call me back.")
    consent = frame.get_by_label("I agree that Acme may contact me.")
    expect(consent).not_to_be_checked()  # consent is given, never presumed
    page.wait_for_timeout(1300)  # a person's pace: longer than the minimum fill time
    frame.get_by_role("button", name="Send").click()
    # not ticked: refused, with what was typed kept
    expect(frame.get_by_text("Tick the box to agree before sending.")).to_be_visible()
    expect(frame.get_by_label("Name")).to_have_value("Grace Hopper")
    assert not Lead.objects.filter(organization=org).exists()
    frame.get_by_label("I agree that Acme may contact me.").check()
    shot(page, "webform-filled")
    page.wait_for_timeout(1300)
    frame.get_by_role("button", name="Send").click()
    expect(frame.get_by_role("heading", name="Thank you")).to_be_visible()
    shot(page, "webform-thanks")

    lead = Lead.objects.get(organization=org)
    assert (lead.name, lead.email, lead.notes) == (
        "Grace Hopper",
        "grace@example.com",
        "Please call me back.",
    )
    assert lead.channel.key == "website-form" and lead.stage.key == "suspect"
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("news", "email", "spring")
    assert lead.referrer == f"{site}/start.html"
    submission = WebFormSubmission.objects.get(lead=lead)
    assert submission.consent_text == "I agree that Acme may contact me."
    assert submission.consent_version == consent_version("I agree that Acme may contact me.")
    assert submission.consented_at is not None
    assert submission.page_url == landing


def test_the_thank_you_page_opens_in_the_whole_window_not_in_the_frame(
    live_server: Any, page: Page, settings: Any, website: tuple[Path, str]
) -> None:
    settings.WEBFORM_MIN_FILL_SECONDS = 1
    cache.clear()
    org, _ = make_org("acme", "owner@acme.test")
    folder, site = website
    form = webform_save(
        organization=org,
        name="Contact",
        fields=["name", "email"],
        consent_text="OK to contact me.",
        thank_you_url=f"{site}/thanks.html",
    )
    (folder / "thanks.html").write_text("<!doctype html><title>Thanks</title><h1>Merci!</h1>")
    (folder / "landing.html").write_text(
        "<!doctype html><title>Acme</title><h1>Talk to us</h1>"
        f'<script src="{live_server.url}/static/keepscore/embed.js" '
        f'data-keepscore-form="{form.key}" async></script>'
    )

    page.goto(f"{site}/landing.html")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Name").fill("Grace Hopper")
    frame.get_by_label("Email").fill("grace@example.com")
    frame.get_by_label("OK to contact me.").check()
    page.wait_for_timeout(1300)
    frame.get_by_role("button", name="Send").click()

    # the website's own thank-you page, in the top window (not squeezed into the iframe)
    page.wait_for_url(f"{site}/thanks.html")
    expect(page.get_by_role("heading", name="Merci!")).to_be_visible()
    assert Lead.objects.filter(organization=org, email="grace@example.com").count() == 1
