"""The Content-Security-Policy in Chromium: no page of the demo organization breaks it.

Every page of the URL conf under ``o/<slug:org>/`` that answers a GET with HTML, the API's
Swagger UI, and the public web form framed by a website of another origin are opened in a
real Chromium; every ``securitypolicyviolation`` event (in any frame) and every console
message about the Content-Security-Policy or the Permissions-Policy is recorded, and there
must be none. The scripts still work under the policy: htmx swaps on the lead page, the
board's keyboard move, the "/" search shortcut, the Today page's member choice, the
Swagger UI, and the form's thank-you page. And the policy does hold: a page other than the
form, framed by another site, is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from keepscore.accounts.models import Membership, Organization
from keepscore.demo.generator import DEMO_PASSWORD, demo_create, demo_email
from keepscore.followups.models import FollowUp
from keepscore.leads.models import Lead, LostReason, QualificationCriterion, Stage
from keepscore.webforms.services import webform_save
from tests.browser.conftest import ARTIFACTS, settled
from tests.common.urls import ORG_PATTERNS, urls_for

pytestmark = pytest.mark.django_db(transaction=True)

# runs in every frame before the page's own scripts (Playwright's init scripts are not
# subject to the page's policy) and hands each violation to the test
RECORDER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__ksViolation({page: location.href, directive: e.effectiveDirective,
    blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample});
});
"""
POLICY_WORDS = (
    "content security policy",
    "content-security-policy",
    "permissions-policy",
    "permissions policy",
    "feature policy",
)


class Watch:
    """Everything a browser context reports about the policies, and script errors."""

    def __init__(self, context: BrowserContext) -> None:
        self.violations: list[dict[str, Any]] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        context.expose_function("__ksViolation", self.on_violation)
        context.add_init_script(RECORDER)
        context.on("page", self.attach)

    def on_violation(self, violation: dict[str, Any]) -> None:
        self.violations.append(violation)

    def attach(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type in ("error", "warning") and any(w in text.lower() for w in POLICY_WORDS):
            self.console.append(text)

    def faults(self) -> dict[str, Any]:
        return {
            k: list(v)
            for k, v in (
                ("violations", self.violations),
                ("console", self.console),
                ("script errors", self.errors),
            )
            if v
        }

    def clear(self) -> None:
        self.violations.clear()
        self.console.clear()
        self.errors.clear()


def demo_objects(organization: Organization) -> dict[str, Any]:
    """One of each object the organization's pages name in their paths."""
    lead = (
        Lead.objects.for_org(organization)
        .filter(followups__isnull=False, stage_changes__isnull=False)
        .first()
    )
    assert lead is not None
    followup = FollowUp.objects.filter(lead=lead).first()
    return {
        "org": organization,
        "lead": lead,
        "followup": followup,
        "stage": Stage.objects.for_org(organization).get(key="prospect"),
        "criterion": QualificationCriterion.objects.for_org(organization).first(),
        "lost_reason": LostReason.objects.for_org(organization).first(),
        "channel": lead.channel,
        "member": Membership.objects.get(organization=organization, is_owner=True),
    }


def test_no_page_breaks_the_policy_and_the_scripts_still_work(
    live_server: Any, browser: Browser, website: tuple[Path, str], settings: Any
) -> None:
    settings.WEBFORM_MIN_FILL_SECONDS = 1
    cache.clear()  # the public form's rate limit
    demo_create(slug="demo", months=6, today=timezone.localdate())
    organization = Organization.objects.get(slug="demo")
    objects = demo_objects(organization)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    watch = Watch(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login/")
    page.get_by_label("Email address").fill(demo_email("demo"))
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/o/demo/")

    # 1. every page of the organization that answers a GET with HTML
    checked: list[str] = [f"{base}/login/"]
    per_page: dict[str, Any] = {}
    for route, name, params in ORG_PATTERNS:
        url = base + urls_for(route, name, params, "demo", objects)
        probe = page.request.get(url, max_redirects=0)
        if probe.status != 200 or "text/html" not in probe.headers.get("content-type", ""):
            continue  # an action (POST only), a download, or a refusal of a bare GET
        page.goto(url)
        settled(page)
        checked.append(url)
        if watch.faults():
            per_page[url] = watch.faults()
            watch.clear()
    # the API's documentation: the Swagger UI draws the operations (its scripts ran)
    page.goto(f"{base}/api/v1/docs")
    operation = page.locator(".swagger-ui .opblock").first
    expect(operation).to_be_visible()
    operation.locator(".opblock-summary").click()  # opened: parameters, responses, examples
    expect(operation.locator(".opblock-body")).to_be_visible()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: r.url.startswith(f"{base}/api/v1/leads")):
        operation.get_by_role("button", name="Execute").click()  # no token: 401, shown
    expect(operation.locator(".live-responses-table")).to_contain_text("401")
    settled(page)
    checked.append(page.url)
    if watch.faults():
        per_page[page.url] = watch.faults()
        watch.clear()

    # 2. the scripts work under the policy
    # htmx injected no <style> of its own (includeIndicatorStyles is off: our CSS has it)
    page.goto(f"{base}/o/demo/leads/{objects['lead'].pk}/")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.locator("style").count() == 0
    # htmx on the lead page: a quick log swaps the actions card in place
    actions = page.locator("#lead-actions")
    actions.locator("summary", has_text="Call").click()
    with page.expect_response(lambda r: "/log/" in r.url and r.request.method == "POST"):
        actions.get_by_role("button", name="No answer").click()
    expect(page.locator("#lead-actions .msg-success")).to_be_visible()
    # the "/" shortcut puts the cursor in the search
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search leads")).to_be_focused()
    # the board: SortableJS loaded, and a focused card moves a stage with the arrow key
    page.goto(f"{base}/o/demo/board/")
    assert page.evaluate("typeof Sortable") == "function"
    tile = page.locator("#board .column").first.locator(".tile").first
    moved = Lead.objects.get(pk=tile.get_attribute("data-lead"))
    tile.focus()
    with page.expect_response(lambda r: "/move/" in r.url and r.request.method == "POST"):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#board")).to_contain_text(f"{moved.name} moved to")
    assert Lead.objects.get(pk=moved.pk).stage_id != moved.stage_id
    # Today: choosing another member's day submits the form by itself
    page.goto(f"{base}/o/demo/today/")
    choice = page.get_by_role("combobox", name="Whose day")
    other = choice.locator("option:not([selected])").first.get_attribute("value")
    with page.expect_navigation():
        choice.select_option(other)
    assert f"member={other}" in page.url
    interactions = watch.faults()
    watch.clear()

    # 3. the public form framed by the business's website (another origin), with a
    # thank-you page of its own: submitted in the frame, the website's window goes there
    folder, site = website
    form = webform_save(
        organization=organization,
        name="Contact",
        fields=["name", "email"],
        thank_you_url=f"{site}/thanks.html",
    )
    (folder / "thanks.html").write_text("<!doctype html><title>Thanks</title><h1>Merci!</h1>")
    (folder / "landing.html").write_text(
        "<!doctype html><title>Acme</title><h1>Talk to us</h1>"
        f'<script src="{base}/static/keepscore/embed.js" '
        f'data-keepscore-form="{form.key}" async></script>'
    )
    page.goto(f"{site}/landing.html")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Name").fill("Grace Hopper")
    frame.get_by_label("Email").fill("grace@example.com")
    page.wait_for_timeout(1300)  # longer than the minimum fill time
    frame.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{site}/thanks.html")
    checked += [f"{base}/f/{form.key}/ (framed)", f"{base}/f/{form.key}/thanks/ (framed)"]
    # opened on its own, it is redirected to the thank-you page after the POST (form-action)
    page.goto(f"{base}/f/{form.key}/")
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.wait_for_timeout(1300)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"{site}/thanks.html")
    checked.append(f"{base}/f/{form.key}/")
    assert Lead.objects.filter(organization=organization, name="Grace Hopper").count() == 1
    assert Lead.objects.filter(organization=organization, name="Ada Lovelace").count() == 1
    public = watch.faults()
    watch.clear()

    # 4. and the policy holds: the dashboard framed by the same website is refused
    (folder / "frame-app.html").write_text(
        f'<!doctype html><title>Framing</title><iframe src="{base}/o/demo/"></iframe>'
    )
    page.goto(f"{site}/frame-app.html")
    settled(page)
    page.wait_for_timeout(300)
    refused = list(watch.console)
    context.close()

    report = {
        "pages checked": len(checked),
        "pages with a violation": len(per_page),
        "violations": sum(len(v.get("violations", [])) for v in per_page.values()),
        "console messages": sum(len(v.get("console", [])) for v in per_page.values()),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "csp-report.json").write_text(
        json.dumps({"summary": report, "pages": per_page, "checked": checked}, indent=1)
    )
    print(report)
    assert len(checked) >= 40, checked
    assert not per_page, (report, per_page)
    assert not interactions, interactions
    assert not public, public
    assert any("frame-ancestors" in text for text in refused), refused
