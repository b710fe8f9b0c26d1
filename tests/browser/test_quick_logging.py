"""Quick logging on a lead page, in a real Chromium, as a busy person does it: the next click
or keystroke comes before the answer to the last one. The answer the test is racing is held
back (``Held``) until the test has done what the person does meanwhile, so each race is run
the same way every time."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Error, Page, Route, expect

from keepscore.accounts.models import Membership
from keepscore.activities.models import Activity
from keepscore.followups.models import FollowUp
from keepscore.leads.models import Lead
from keepscore.leads.services import lead_create
from tests.browser.conftest import settled, shot
from tests.browser.test_lead_journey import log_in
from tests.conftest import channel, make_org

pytestmark = pytest.mark.django_db(transaction=True)


class Held:
    """The first ``count`` requests matching ``wanted`` wait in the browser until released;
    the others go through."""

    def __init__(self, page: Page, wanted: Callable[[str], bool], count: int = 1) -> None:
        self.page = page
        self.count = count
        self.routes: list[Route] = []
        page.route(wanted, self._hold)

    def _hold(self, route: Route) -> None:
        if len(self.routes) < self.count:
            self.routes.append(route)
        else:
            route.continue_()

    def wait(self, sent: int = 1) -> None:
        """Until ``sent`` requests are on their way (held)."""
        for _ in range(250):
            if len(self.routes) >= sent:
                return
            self.page.wait_for_timeout(20)
        pytest.fail(f"{sent - len(self.routes)} request(s) to hold never sent")

    def release(self, i: int = 0) -> None:
        with suppress(Error):  # the page may have given up on it (hx-sync): nothing to answer
            self.routes[i].continue_()
        self.page.wait_for_timeout(300)  # its answer arrives (or is ignored)


@pytest.fixture
def lead(live_server, page: Page) -> Lead:
    """A lead with no next step yet, its page open: the next step's form is already open."""
    org, owner = make_org("acme", "owner@acme.test")
    made = lead_create(organization=org, name="Quick Quentin", channel=channel(org), by=owner)
    log_in(page, live_server.url, "owner@acme.test")
    page.goto(f"{live_server.url}/o/acme/leads/{made.pk}/")
    expect(page.locator("h1")).to_contain_text("Quick Quentin")
    return made


def test_the_next_step_typed_while_a_call_is_logged_is_kept(lead: Lead, page: Page):
    actions = page.locator("#lead-actions")
    steps = page.locator("#next-steps")
    note = steps.get_by_label("Note", exact=True)
    expect(note).to_be_visible()  # no next step yet: the form is open
    held = Held(page, lambda url: url.endswith("/log/"))

    # log the call, and type the next step (and an email's notes) before its answer is back
    actions.get_by_text("Call", exact=True).click()
    actions.get_by_role("button", name="Reached them").click()
    held.wait()
    steps.locator("#followup_kind").select_option(label="Email")
    note.fill("Send the price list")
    actions.get_by_text("Email", exact=True).click()
    email_notes = actions.get_by_label("Email: notes (optional)")
    email_notes.fill("Brochure sent")
    held.release()
    settled(page)

    # the call's answer changed nothing that was being typed
    expect(actions.locator(".msg-success")).to_have_text("Connect logged.")
    expect(steps).to_contain_text("Next step?")
    expect(note).to_have_value("Send the price list")
    expect(steps.locator("#followup_kind")).to_have_value("email")
    expect(email_notes).to_have_value("Brochure sent")
    expect(actions.get_by_role("button", name="Reached them")).to_be_hidden()  # closed
    expect(page.locator(".timeline")).to_contain_text("Connect")

    # what was typed is what is saved, and both notices stay
    with page.expect_response(lambda r: "/followups/" in r.url):
        steps.get_by_role("button", name="Add").click()
    settled(page)
    due = timezone.localdate() + timedelta(days=1)
    expect(steps.locator(".msg-success")).to_have_text(f"Next step: Email on {due:%a %d %b}.")
    expect(steps).to_contain_text("Send the price list")
    expect(actions.locator(".msg-success")).to_have_text("Connect logged.")
    expect(email_notes).to_have_value("Brochure sent")
    shot(page, "quick-log-then-next-step")
    assert list(FollowUp.objects.filter(lead=lead).values_list("kind", "note", "due_on")) == [
        ("email", "Send the price list", due)
    ]
    assert list(Activity.objects.filter(lead=lead).values_list("kind", flat=True)) == ["connect"]


def test_a_next_step_added_while_a_call_is_logged_is_kept(lead: Lead, page: Page):
    actions = page.locator("#lead-actions")
    steps = page.locator("#next-steps")
    held = Held(page, lambda url: url.endswith("/log/"))

    actions.get_by_text("Call", exact=True).click()
    actions.get_by_role("button", name="Reached them").click()
    held.wait()
    steps.get_by_label("Note", exact=True).fill("Call back Friday")
    steps.get_by_role("button", name="Add").click()  # before the call's answer
    held.release()
    settled(page)

    due = timezone.localdate() + timedelta(days=1)
    expect(steps.locator(".msg-success")).to_have_text(f"Next step: Call on {due:%a %d %b}.")
    expect(steps.locator(".followups")).to_contain_text("Call back Friday")
    expect(actions.locator(".msg-success")).to_have_text("Connect logged.")
    assert list(FollowUp.objects.filter(lead=lead).values_list("note", flat=True)) == [
        "Call back Friday"
    ]


def test_two_quick_logs_at_once_are_both_logged_and_shown(lead: Lead, page: Page):
    actions = page.locator("#lead-actions")
    held = Held(page, lambda url: url.endswith("/log/"), count=2)

    actions.get_by_text("Call", exact=True).click()
    actions.get_by_label("What was said (optional)").fill("Wants a demo")
    actions.get_by_role("button", name="Reached them").click()
    held.wait()
    actions.get_by_text("Email", exact=True).click()
    actions.get_by_label("Email: notes (optional)").fill("Demo slots sent")
    actions.get_by_role("button", name="Log email").click()  # the call is still on its way
    held.release(0)  # the call's answer first
    held.wait(2)  # the email: sent at once, or after the call's answer (hx-sync)
    held.release(1)
    settled(page)

    # sent in order, the email after the call: its notice is the one shown, and the timeline
    # has both
    expect(actions.locator(".msg-success")).to_have_text("Email logged.")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Wants a demo")
    expect(timeline).to_contain_text("Demo slots sent")
    expect(actions.get_by_role("button", name="Log email")).to_be_hidden()  # closed, emptied
    assert list(
        Activity.objects.filter(lead=lead).order_by("at", "id").values_list("kind", "notes")
    ) == [
        ("connect", "Wants a demo"),
        ("email", "Demo slots sent"),
    ]


def test_lost_then_won_at_once_opens_won(lead: Lead, page: Page):
    actions = page.locator("#lead-actions")
    panel = page.locator("#move-panel")
    held = Held(page, lambda url: "to_stage=" in url, count=2)

    actions.get_by_role("link", name="Lost", exact=True).click()
    held.wait()
    actions.get_by_role("link", name="Won", exact=True).click()  # Lost's panel not back yet
    held.wait(2)
    held.release(0)  # Lost's answer first
    held.release(1)
    settled(page)

    expect(panel.locator("h2")).to_have_text("Won")
    expect(panel.locator("[name=lost_reason]")).to_have_count(0)
    panel.get_by_label("Revenue").fill("1800")
    settled(page)
    expect(panel.get_by_label("Revenue")).to_have_value("1800")


def test_two_next_steps_done_at_once_are_both_done(live_server, page: Page):
    from keepscore.followups.services import followup_add

    org, owner = make_org("acme", "owner@acme.test")
    lead = lead_create(organization=org, name="Busy Bea", channel=channel(org), by=owner)
    today = timezone.localdate()
    call = followup_add(lead=lead, by=owner, kind="call", due_on=today, note="First call")
    email = followup_add(lead=lead, by=owner, kind="email", due_on=today, note="The quote")
    log_in(page, live_server.url, "owner@acme.test")
    page.goto(f"{live_server.url}/o/acme/leads/{lead.pk}/")
    steps = page.locator("#next-steps")
    rows = steps.locator("li.followup")
    held = Held(page, lambda url: "/done/" in url)

    rows.filter(has_text="First call").get_by_role("button", name="Reached").click()
    held.wait()
    # while the call's answer is on its way: the email done, and a next step being typed
    with page.expect_response(lambda r: "/done/" in r.url):
        rows.filter(has_text="The quote").get_by_role("button", name="Done").click()
    steps.locator("summary", has_text="Add next step").click()
    steps.get_by_label("Note", exact=True).fill("Visit in May")
    held.release()
    settled(page)

    expect(rows.filter(has_text="First call")).to_contain_text("Done: Call. Connect logged.")
    expect(rows.filter(has_text="The quote")).to_contain_text("Done: Email.")
    expect(steps.get_by_role("button", name="Reached")).to_have_count(0)  # neither is open
    expect(steps.get_by_label("Note", exact=True)).to_have_value("Visit in May")
    call.refresh_from_db()
    email.refresh_from_db()
    assert call.done and email.done


def test_a_next_step_done_while_a_call_is_logged_stays_done(lead: Lead, page: Page):
    from keepscore.followups.services import followup_add

    owner = Membership.objects.get(organization=lead.organization, is_owner=True)
    followup_add(lead=lead, by=owner, kind="email", due_on=timezone.localdate(), note="The quote")
    page.reload()
    actions = page.locator("#lead-actions")
    steps = page.locator("#next-steps")
    row = steps.locator("li.followup", has_text="The quote")
    held = Held(page, lambda url: url.endswith("/log/"))

    actions.get_by_text("Call", exact=True).click()
    actions.get_by_role("button", name="Reached them").click()
    held.wait()
    with page.expect_response(lambda r: "/done/" in r.url):  # while the call is on its way
        row.get_by_role("button", name="Done").click()
    expect(row).to_contain_text("Done: Email.")
    held.release()
    settled(page)

    # the call's answer asks for the next step and leaves the row as its Done left it
    expect(actions.locator(".msg-success")).to_have_text("Connect logged.")
    expect(steps.locator("summary")).to_have_text("Next step?")
    expect(steps.get_by_label("Note", exact=True)).to_be_visible()
    expect(row).to_contain_text("Done: Email.")
    expect(row.get_by_role("button", name="Done")).to_have_count(0)
    assert list(
        Activity.objects.filter(lead=lead).order_by("at", "id").values_list("kind", flat=True)
    ) == ["email", "connect"]
    assert FollowUp.objects.get(lead=lead).done


def test_a_today_rows_second_action_waits_for_the_first(lead: Lead, page: Page):
    """Today: "Reached" then "Call tomorrow" in the same row. While the log is on its way the
    row's buttons wait (disabled), so the second action is not sent into a row about to be
    replaced (its notice would never show); once the answer is in, it goes, and both notices
    are the row's in turn."""
    org = lead.organization
    owner = Membership.objects.get(organization=org, is_owner=True)
    mine = lead_create(organization=org, name="Today Tess", channel=channel(org), owner=owner)
    page.goto(page.url.split("/leads/")[0] + "/today/")
    row = page.locator(f"#open-{mine.pk}")
    held = Held(page, lambda url: url.endswith("/log/"))
    row.get_by_role("button", name="Reached").click()
    held.wait()
    expect(row.get_by_role("button", name="Call tomorrow")).to_be_disabled()
    held.release()
    expect(row.get_by_role("status")).to_contain_text("logged")
    row.get_by_role("button", name="Call tomorrow").click()
    expect(row.get_by_role("status")).to_contain_text("Next step: Call")
    assert Activity.objects.filter(lead=mine, kind="connect").count() == 1
    assert FollowUp.objects.filter(lead=mine, kind="call", done_at=None).count() == 1
