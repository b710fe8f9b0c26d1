"""A lead's days at a stage are calendar days, counted alike everywhere: the lead list's
"at least N days", the board's stalled mark, the Today page and the focus agree on a lead
that entered late in the evening of the boundary day and one early the next morning."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from keepscore.focus.selectors import diagnose
from keepscore.followups.today import today_for
from keepscore.leads.late import STALL_DAYS
from keepscore.leads.services import lead_create, lead_move
from tests.conftest import channel, stage
from tests.leads.test_views import url

pytestmark = pytest.mark.django_db


def _at_proposal(org, owner, name: str, entered: datetime):
    lead = lead_create(
        organization=org,
        name=name,
        channel=channel(org),
        by=owner,
        owner=owner,
        first_touch_at=entered - timedelta(days=1),
    )
    lead_move(lead=lead, to_stage=stage(org, "proposal"), by=owner, at=entered, override_reason="t")
    lead.refresh_from_db()
    return lead


def test_days_at_stage_are_calendar_days_on_every_page(client_a, org_a, owner_a):
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    boundary = today - timedelta(days=STALL_DAYS)
    # given: one lead entered at 23:30 on the boundary day, one at 00:30 the day after
    late_evening = _at_proposal(
        org_a, owner_a, "Evening Eve", datetime.combine(boundary, time(23, 30), tzinfo=zone)
    )
    next_morning = _at_proposal(
        org_a,
        owner_a,
        "Morning Mo",
        datetime.combine(boundary + timedelta(days=1), time(0, 30), tzinfo=zone),
    )
    # then: by hand, 21 and 20 calendar days
    assert (late_evening.days_at_stage, next_morning.days_at_stage) == (STALL_DAYS, STALL_DAYS - 1)
    # the focus counts exactly the first as stalled
    stall = next(i for i in diagnose(org_a).indicators if i.key == "late_stage_stall")
    assert stall.evidence["stalled"] == 1
    # the lead list's filter finds the same lead
    html = client_a.get(
        url("lead_list", org_a), {"status": "open", "late": "on", "min_days": STALL_DAYS}
    ).content.decode()
    assert set(re.findall(r'/leads/\d+/">([^<]+)</a>', html)) == {"Evening Eve"}
    # the board marks only that card
    board = client_a.get(url("lead_board", org_a)).content.decode()
    stalled_cards = re.findall(r'aria-label="([^",]+), \d+ days? at [^"]*, stalled"', board)
    assert stalled_cards == ["Evening Eve"]
    assert f"Morning Mo, {STALL_DAYS - 1} days at" in board
    # and so does the owner's Today page
    assert [lead.name for lead in today_for(org_a, owner_a).stalled] == ["Evening Eve"]
