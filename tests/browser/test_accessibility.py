"""axe-core (from npm, loaded from node_modules) on the pages people work in every day, on
the demo organization: no critical and no serious violations, wide and on a phone."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser

from keepscore.accounts.models import Organization
from keepscore.demo.generator import DEMO_PASSWORD, demo_create, demo_email
from keepscore.leads.models import Lead
from tests.browser.conftest import axe_violations, settled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_daily_pages_have_no_serious_violations(live_server, browser: Browser, width: int):
    demo_create(slug="demo", months=6, today=timezone.localdate())
    organization = Organization.objects.get(slug="demo")
    lead = Lead.objects.for_org(organization).filter(followups__isnull=False).first()
    assert lead is not None
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Email address").fill(demo_email("demo"))
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    found = {}
    for path in ("today/", f"leads/{lead.pk}/", "board/", "", "scorecard/"):
        page.goto(f"{base}/o/demo/{path}")
        settled(page)
        if path == "":  # settled: what htmx loads after the page (the focus card) is in
            assert "Diagnosing" not in page.inner_text("#focus")
        violations = axe_violations(page)
        if violations:
            found[path or "dashboard"] = violations
    context.close()
    assert not found, found
