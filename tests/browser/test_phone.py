"""Every page of an organization at 390x844 (a phone): the page never scrolls sideways
(a wide table scrolls inside its card), and the menu opens from its button. The pages are
read from the URL conf (tests/common/urls.py), so a new page is covered without a list."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from keepscore.accounts.models import Membership, Organization
from keepscore.demo.generator import DEMO_PASSWORD, demo_create, demo_email
from keepscore.followups.models import FollowUp
from keepscore.leads.models import Channel, Lead, LostReason, QualificationCriterion, Stage
from tests.browser.conftest import settled
from tests.common.urls import ORG_PATTERNS, urls_for

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def objects_of(organization: Organization) -> dict[str, object]:
    lead = Lead.objects.for_org(organization).filter(stage__kind="open").first()
    return {
        "lead": lead,
        "followup": FollowUp.objects.for_org(organization).first(),
        "stage": Stage.objects.for_org(organization).first(),
        "criterion": QualificationCriterion.objects.for_org(organization).first(),
        "lost_reason": LostReason.objects.for_org(organization).first(),
        "channel": Channel.objects.for_org(organization).first(),
        "member": Membership.objects.filter(organization=organization, is_owner=False).first(),
    }


def test_every_page_fits_a_phone(live_server, browser: Browser):
    demo_create(slug="demo", months=6, today=timezone.localdate())
    organization = Organization.objects.get(slug="demo")
    objects = objects_of(organization)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Email address").fill(demo_email("demo"))
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_be_visible()

    # the menu is one button on a phone, and opens
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    menu = page.get_by_role("navigation", name="Menu")
    menu.locator("summary", has_text="Reports").click()
    expect(menu.get_by_role("link", name="Scorecard", exact=True)).to_be_visible()

    visited, wide = [], []
    for route, name, params in ORG_PATTERNS:
        url = base + urls_for(route, name, params, organization.slug, objects)
        probe = page.request.get(url)  # the browser's session, without showing it
        assert probe.status < 500, (url, probe.status)
        if probe.status != 200 or "text/html" not in probe.headers.get("content-type", ""):
            continue  # a POST-only action, a download, a download asked without its format
        page.goto(url)
        # measured once what htmx loads after the page (the dashboard's focus card) is in:
        # measured at once, a card too wide for the phone could arrive after the measure
        settled(page)
        visited.append(name)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide.append((name, width))
    context.close()
    assert not wide, wide
    assert len(visited) >= 30, visited
