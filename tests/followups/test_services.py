"""Follow-ups: adding, marking done (with the activity it was), moving, and the lists by due
day, checked against the rows written and the clock set by hand."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.activities.models import Activity
from keepscore.followups.models import FollowUp
from keepscore.followups.selectors import followup_list, next_steps
from keepscore.followups.services import followup_add, followup_done, followup_update
from keepscore.leads.services import lead_create, lead_update
from tests.conftest import channel

pytestmark = pytest.mark.django_db


def _at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def test_the_owner_defaults_to_the_leads_owner_then_to_who_adds_it(lead_a, owner_a, sales_a):
    today = timezone.localdate()
    mine = followup_add(lead=lead_a, by=sales_a, kind="call", due_on=today)
    assert mine.owner == sales_a  # the lead has no owner yet: who adds it
    lead_update(lead=lead_a, owner=owner_a)
    theirs = followup_add(lead=lead_a, by=sales_a, kind="email", due_on=today)
    assert theirs.owner == owner_a
    told = followup_add(lead=lead_a, by=owner_a, kind="meeting", due_on=today, owner=sales_a)
    assert told.owner == sales_a and told.created_by == owner_a


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"due_on": date(1800, 1, 1)}, "due_on"),
        ({"due_on": "tomorrow"}, "due_on"),
        ({"note": "x" * 301}, "note"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_writes_nothing(lead_a, owner_a, changes, field):
    values = {"kind": "call", "due_on": timezone.localdate(), **changes}
    with pytest.raises(ValidationError) as err:
        followup_add(lead=lead_a, by=owner_a, **values)
    assert field in err.value.message_dict
    assert FollowUp.objects.count() == 0


def test_another_organizations_member_is_refused(lead_a, owner_a, owner_b):
    with pytest.raises(ValidationError) as err:
        followup_add(lead=lead_a, by=owner_a, kind="call", due_on=date.today(), owner=owner_b)
    assert "owner" in err.value.message_dict
    with pytest.raises(ValidationError):
        followup_add(lead=lead_a, by=owner_b, kind="call", due_on=date.today())
    assert FollowUp.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "reached", "activity_kind", "with_buyer"),
    [
        ("call", True, "connect", True),
        ("call", False, "call_attempt", False),
        ("email", None, "email", False),
        ("meeting", None, "meeting", True),
        ("proposal", None, "proposal", False),
        ("other", None, None, None),
    ],
)
def test_done_logs_the_activity_it_was(lead_a, owner_a, kind, reached, activity_kind, with_buyer):
    followup = followup_add(
        lead=lead_a, by=owner_a, kind=kind, due_on=timezone.localdate(), note="ask about May"
    )
    done = followup_done(followup=followup, by=owner_a, reached=reached)
    assert done.done and done.done_by == owner_a
    activities = list(Activity.objects.filter(lead=lead_a))
    if activity_kind is None:
        assert activities == [] and done.activity is None
        return
    (activity,) = activities
    assert done.activity == activity
    assert (activity.kind, activity.with_buyer, activity.by) == (activity_kind, with_buyer, owner_a)
    assert activity.notes == "ask about May"  # the note goes with it unless told otherwise
    assert activity.is_sales_conversation == (activity_kind in ("connect", "meeting"))


def test_done_twice_logs_one_activity(lead_a, owner_a):
    followup = followup_add(lead=lead_a, by=owner_a, kind="call", due_on=timezone.localdate())
    followup_done(followup=followup, by=owner_a, reached=True)
    with pytest.raises(ValidationError) as err:
        followup_done(followup=followup, by=owner_a, reached=True)
    assert "already done" in str(err.value)
    assert Activity.objects.filter(lead=lead_a).count() == 1


def test_update_moves_reopens_and_refuses_what_cannot_change(lead_a, owner_a, sales_a):
    followup = followup_add(lead=lead_a, by=owner_a, kind="call", due_on=timezone.localdate())
    later = timezone.localdate() + timedelta(days=7)
    followup_update(followup=followup, by=owner_a, due_on=later, owner=sales_a, note=" hi ")
    followup.refresh_from_db()
    assert (followup.due_on, followup.owner, followup.note) == (later, sales_a, "hi")
    followup_update(followup=followup, by=owner_a, done=True)
    assert FollowUp.objects.get().done and not Activity.objects.exists()
    followup_update(followup=followup, by=owner_a, done=False)
    assert not FollowUp.objects.get().done
    with pytest.raises(ValidationError) as err:
        followup_update(followup=followup, by=owner_a, lead=None)
    assert "lead" in err.value.message_dict


def test_due_windows_and_overdue_follow_the_clock(org_a, owner_a, sales_a):
    today = date(2026, 3, 11)
    now = _at(today, 10, 30)
    lead = lead_create(organization=org_a, name="Lee", channel=channel(org_a), by=owner_a)
    made = {
        name: followup_add(lead=lead, by=owner_a, kind="call", due_on=day, due_time=at)
        for name, day, at in [
            ("yesterday", today - timedelta(days=1), None),
            ("this morning", today, time(9, 0)),
            ("this afternoon", today, time(15, 0)),
            ("today", today, None),
            ("in six days", today + timedelta(days=6), None),
            ("in a week", today + timedelta(days=7), None),
        ]
    }
    followup_add(lead=lead, by=owner_a, kind="call", due_on=today, owner=sales_a)
    followup_done(followup=made["today"], by=owner_a, reached=False)

    def names(**kw):
        found = set(followup_list(organization=org_a, owner=owner_a, now=now, **kw))
        return {name for name, f in made.items() if f in found}

    assert names(due="overdue") == {"yesterday", "this morning"}
    assert names(due="today") == {"yesterday", "this morning", "this afternoon"}
    assert names(due="week") == {"yesterday", "this morning", "this afternoon", "in six days"}
    assert names(done=True) == {"today"}
    assert names(due_before=today) == {"yesterday", "this morning", "this afternoon", "today"}
    assert {f.overdue(now) for f in (made["yesterday"], made["this morning"])} == {True}
    assert not made["this afternoon"].overdue(now)
    # the next step: the soonest open one, overdue
    (step,) = next_steps(leads=[lead], now=now).values()
    assert step.followup == made["yesterday"] and step.overdue
    assert step.open_count == 6  # 6 made and sales_a's, less the one done
