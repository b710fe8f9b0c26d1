"""The follow-up actions on the lead page and the Today page, the quick logs, the move with
the checklist ticked where it happens, and the lead list filters the counts link to."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.utils import timezone

from keepscore.activities.models import Activity
from keepscore.followups.models import FollowUp
from keepscore.followups.services import followup_add
from keepscore.leads.models import Lead, QualificationAnswer, QualificationCriterion, StageChange
from keepscore.leads.services import lead_create, lead_move
from tests.conftest import channel, gates, stage
from tests.leads.test_views import HTMX, url

pytestmark = pytest.mark.django_db


def _lead(org, owner, name: str, stage_key: str = "", days_ago: int = 0) -> Lead:
    at = timezone.now() - timedelta(days=days_ago + 1)
    lead = lead_create(
        organization=org, name=name, channel=channel(org), by=owner, owner=owner, first_touch_at=at
    )
    if stage_key:
        override = "test" if stage_key in ("qualified", "proposal") else ""
        lead_move(
            lead=lead, to_stage=stage(org, stage_key), by=owner, at=at, override_reason=override
        )
        lead.refresh_from_db()
    return lead


def _count_link(html: str, heading: str) -> tuple[int, str]:
    """The count beside a Today heading and the lead-list URL it links to."""
    part = html.split(heading, 1)[1]
    href, count = re.search(r'<a href="([^"]+)">(\d+)', part).groups()
    return int(count), unescape(href)


def test_add_a_next_step_from_the_lead_page(client_a, org_a, lead_a, owner_a):
    due = timezone.localdate() + timedelta(days=2)
    response = client_a.post(
        url("followup_add", org_a, pk=lead_a.pk),
        {"kind": "meeting", "due_on": due.isoformat(), "note": "bring samples"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="next-steps"')
    assert f"Next step: Meeting on {due:%a %d %b}" in html and "bring samples" in html
    followup = FollowUp.objects.get()
    assert (followup.lead, followup.kind, followup.due_on, followup.owner) == (
        lead_a,
        "meeting",
        due,
        owner_a,  # the lead has no owner: who added it
    )


def test_a_bad_next_step_shows_its_error_and_keeps_what_was_typed(client_a, org_a, lead_a):
    response = client_a.post(
        url("followup_add", org_a, pk=lead_a.pk),
        {"kind": "call", "due_on": "31/02/2026", "note": "keep me"},
        **HTMX,
    )
    html = response.content.decode()
    assert "Enter a valid date." in html and 'value="keep me"' in html
    assert not FollowUp.objects.exists()


def test_done_from_today_logs_the_call_and_swaps_the_row(client_a, org_a, owner_a):
    lead = _lead(org_a, owner_a, "Carla")
    followup = followup_add(lead=lead, by=owner_a, kind="call", due_on=timezone.localdate())
    response = client_a.post(
        url("followup_done", org_a, pk=followup.pk), {"reached": "1", "panel": "today"}, **HTMX
    )
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="followup-{followup.pk}"')
    assert "Done: Call. Connect logged." in row and "is-done" in row
    assert Activity.objects.get(lead=lead).kind == "connect"
    again = client_a.post(
        url("followup_done", org_a, pk=followup.pk), {"reached": "1", "panel": "today"}, **HTMX
    )
    assert "already done" in again.content.decode()
    assert Activity.objects.count() == 1


def test_reschedule_to_tomorrow_and_next_week(client_a, org_a, lead_a, owner_a):
    today = timezone.localdate()
    followup = followup_add(lead=lead_a, by=owner_a, kind="email", due_on=today)
    client_a.post(url("followup_reschedule", org_a, pk=followup.pk), {"days": "1"})
    assert FollowUp.objects.get().due_on == today + timedelta(days=1)
    response = client_a.post(url("followup_reschedule", org_a, pk=followup.pk), {"days": "7"})
    assert response.status_code == 302 and response["Location"].endswith("#next-steps")
    assert FollowUp.objects.get().due_on == today + timedelta(days=7)
    bad = client_a.post(url("followup_reschedule", org_a, pk=followup.pk), {"days": "-3"}, **HTMX)
    assert "greater than or equal to 0" in bad.content.decode()
    assert FollowUp.objects.get().due_on == today + timedelta(days=7)


@pytest.fixture
def day(org_a, owner_a, sales_a):
    """Owner's leads: due and overdue follow-ups, leads without a next step, one stalling."""
    today = timezone.localdate()
    gates(org_a, "qualified")
    due = _lead(org_a, owner_a, "Due Today")
    late = _lead(org_a, owner_a, "Overdue Olga")
    ahead = _lead(org_a, owner_a, "Next Week Nia")
    bare = _lead(org_a, owner_a, "Bare Bo", "prospect", days_ago=3)
    stalled = _lead(org_a, owner_a, "Stalled Sam", "proposal", days_ago=30)
    fresh = _lead(org_a, owner_a, "Fresh Fay", "proposal", days_ago=2)
    won = _lead(org_a, owner_a, "Won Will")
    from keepscore.leads.models import LostReason
    from keepscore.leads.services import Outcome

    lead_move(
        lead=won,
        to_stage=stage(org_a, "lost"),
        by=owner_a,
        outcome=Outcome(lost_reason=LostReason.objects.for_org(org_a).first()),
    )
    followup_add(lead=due, by=owner_a, kind="call", due_on=today)
    followup_add(lead=late, by=owner_a, kind="email", due_on=today - timedelta(days=2))
    followup_add(lead=ahead, by=owner_a, kind="call", due_on=today + timedelta(days=7))
    followup_add(lead=fresh, by=owner_a, kind="proposal", due_on=today + timedelta(days=1))
    # another member's lead and follow-up are not in the owner's day
    theirs = _lead(org_a, sales_a, "Sales Sue")
    followup_add(lead=theirs, by=sales_a, kind="call", due_on=today)
    return {"bare": bare, "stalled": stalled, "fresh": fresh, "theirs": theirs}


def test_today_shows_my_day_and_every_count_links_to_exactly_those_leads(client_a, org_a, day):
    html = client_a.get(url("today", org_a)).content.decode()
    due_part = html.split('id="due-h"')[1].split("</section>")[0]
    assert due_part.index("Overdue Olga") < due_part.index("Due Today")  # overdue first
    assert "Next Week Nia" not in due_part and "Sales Sue" not in due_part
    overdue = re.search(r'<a href="([^"]+)">(\d+) overdue', due_part)
    assert overdue and overdue.group(2) == "1"
    for heading, names in [
        ('id="without-h"', {"Bare Bo", "Stalled Sam"}),
        ('id="stalled-h"', {"Stalled Sam"}),
        ('id="due-h"', None),
    ]:
        if names is None:
            href, count = unescape(overdue.group(1)), 1
            names = {"Overdue Olga"}
        else:
            count, href = _count_link(html, heading)
        listed = client_a.get(href).content.decode()
        found = set(re.findall(r'/leads/\d+/">([^<]+)</a>', listed))
        assert found == names, (heading, href)
        assert count == len(names)


def test_an_owner_switches_the_member_a_member_cannot(client, org_a, owner_a, sales_a, day):
    client.force_login(owner_a.user)
    theirs = client.get(url("today", org_a), {"member": sales_a.pk}).content.decode()
    assert "Sales Sue" in theirs and "Overdue Olga" not in theirs
    unknown = client.get(url("today", org_a), {"member": "99999"})
    assert unknown.status_code == 400  # shown with the reason, never silently one's own day
    assert "There is no such member here: showing your own day." in unknown.content.decode()
    client.force_login(sales_a.user)
    mine = client.get(url("today", org_a), {"member": owner_a.pk}).content.decode()
    assert "Sales Sue" in mine and "Overdue Olga" not in mine  # still their own day


@pytest.mark.parametrize(
    ("what", "kind", "with_buyer"),
    [("reached", "connect", True), ("no_answer", "call_attempt", False), ("note", "note", False)],
)
def test_a_quick_log_is_one_click_and_asks_for_the_next_step(
    client_a, org_a, lead_a, what, kind, with_buyer
):
    response = client_a.post(
        url("lead_quick_log", org_a, pk=lead_a.pk), {"what": what, "notes": "said hi"}, **HTMX
    )
    html = response.content.decode()
    activity = Activity.objects.get(lead=lead_a)
    assert (activity.kind, activity.with_buyer, activity.notes) == (kind, with_buyer, "said hi")
    # the notice; out of band only the box it came from (emptied, closed), the timeline and the
    # next steps' add form: what is typed in another box, or in the next step's form, stays, and
    # so do the next steps' rows
    notice = f'<p class="msg msg-success" role="status">{activity.get_kind_display()} logged.'
    assert html.lstrip().startswith(f'<div id="actions-notice">{notice}')
    box = "call" if what in ("reached", "no_answer") else what
    assert f'<details class="quick" id="quick-{box}" hx-swap-oob="true">' in html
    assert 'value="said hi"' not in html and html.count('<details class="quick"') == 1
    assert 'id="lead-actions"' not in html and "objection-quick" not in html
    assert 'id="timeline" class="timeline" hx-swap-oob="true"' in html
    assert 'id="next-steps"' not in html
    assert "Next step?" in html and '<details id="followup-add" open hx-swap-oob="true">' in html
    assert '<form id="followup-form" hx-preserve="true"></form>' in html
    assert 'name="note"' not in html


def test_a_bad_quick_log_writes_nothing_and_says_why(client_a, org_a, lead_a):
    response = client_a.post(
        url("lead_quick_log", org_a, pk=lead_a.pk), {"what": "telegram", "notes": "kept"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "what: Select a valid choice." in html and 'value="kept"' in html
    assert not Activity.objects.exists()


def test_all_met_ticks_the_missing_items_and_moves(client_a, org_a, lead_a):
    gates(org_a, "qualified")
    qualified = stage(org_a, "qualified")
    response = client_a.post(
        url("lead_move", org_a, pk=lead_a.pk), {"to_stage": qualified.pk, "all_met": "1"}
    )
    assert response.status_code == 302
    lead_a.refresh_from_db()
    assert lead_a.stage == qualified
    required = QualificationCriterion.objects.for_org(org_a).filter(required=True, active=True)
    assert QualificationAnswer.objects.filter(lead=lead_a, met=True).count() == required.count()


def test_a_refused_move_keeps_the_ticks_unsaved(client_a, org_a, lead_a, sales_a):
    gates(org_a, "qualified")
    client_a.force_login(sales_a.user)  # not an owner: no override
    first = QualificationCriterion.objects.for_org(org_a).filter(required=True).first()
    response = client_a.post(
        url("lead_move", org_a, pk=lead_a.pk),
        {"to_stage": stage(org_a, "qualified").pk, "criteria": [first.pk]},
    )
    assert response.status_code == 422
    assert not QualificationAnswer.objects.filter(lead=lead_a).exists()  # all or nothing
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_lead_list_filters_by_next_step_days_and_late_stage(client_a, org_a, day):
    def names(**params: Any) -> set[str]:
        html = client_a.get(url("lead_list", org_a), params).content.decode()
        return set(re.findall(r'/leads/\d+/">([^<]+)</a>', html))

    assert names(next_step="none") == {"Bare Bo", "Stalled Sam"}
    assert names(next_step="overdue") == {"Overdue Olga"}
    assert names(next_step="any") == {
        "Due Today",
        "Overdue Olga",
        "Next Week Nia",
        "Fresh Fay",
        "Sales Sue",
    }
    assert names(min_days="20") == {"Stalled Sam"}
    assert names(late="on") == {"Stalled Sam", "Fresh Fay"}
    assert names(status="lost") == {"Won Will"}
    assert (
        "Ensure this value is greater than or equal to 0"
        in client_a.get(url("lead_list", org_a), {"min_days": "-1"}).content.decode()
    )


def test_a_board_card_adds_a_call_for_tomorrow(client_a, org_a, lead_a, owner_a):
    board = client_a.get(url("lead_board", org_a)).content.decode()
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert f'name="due_on" value="{tomorrow:%Y-%m-%d}"' in board and "+ call tomorrow" in board
    response = client_a.post(
        url("followup_add", org_a, pk=lead_a.pk),
        {"panel": "card", "kind": "call", "due_on": tomorrow.isoformat()},
        **HTMX,
    )
    assert response.content.decode().startswith('<div class="small" role="status">Call')
    assert FollowUp.objects.get().due_on == tomorrow
    bad = client_a.post(
        url("followup_add", org_a, pk=lead_a.pk),
        {"panel": "card", "kind": "call", "due_on": "soon"},
        **HTMX,
    )
    assert "Not added: Enter a valid date." in bad.content.decode()
    assert FollowUp.objects.count() == 1
    # the next board shows it on the card
    assert "+ call tomorrow" not in client_a.get(url("lead_board", org_a)).content.decode()
