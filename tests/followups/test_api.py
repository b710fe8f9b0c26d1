"""GET /tasks, POST /leads/{id}/tasks, PATCH /tasks/{id}: filters, done with its activity,
bad input at its field, another organization's ids are 404 (tests/api/test_isolation.py
walks every operation too)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from keepscore.activities.models import Activity
from keepscore.followups.models import FollowUp
from keepscore.followups.services import followup_add
from tests.api.conftest import Api, api_for, fields_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_a(owner_a) -> Api:
    return api_for(owner_a)


def test_add_list_and_filter(api_a, lead_a, owner_a, sales_a):
    today = timezone.localdate()
    made = api_a.post(
        f"/leads/{lead_a.pk}/tasks",
        {"kind": "call", "due_on": str(today - timedelta(days=1)), "owner": "sales@acme.test"},
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["kind"], body["owner"], body["overdue"], body["done"]) == (
        "call",
        "sales@acme.test",
        True,
        False,
    )
    api_a.post(f"/leads/{lead_a.pk}/tasks", {"kind": "email", "due_on": str(today + timedelta(9))})
    assert api_a.get("/tasks").json()["count"] == 2
    assert [t["kind"] for t in api_a.get("/tasks", owner="sales@acme.test").json()["items"]] == [
        "call"
    ]
    # the lead has no owner: the token's member owns the email
    assert [t["kind"] for t in api_a.get("/tasks", owner="me").json()["items"]] == ["email"]
    assert api_a.get("/tasks", due="overdue").json()["count"] == 1
    assert api_a.get("/tasks", due_before=str(today)).json()["count"] == 1
    assert api_a.get("/tasks", lead=lead_a.pk, done="false").json()["count"] == 2


def test_patch_done_logs_the_call_and_reopens(api_a, lead_a):
    task = api_a.post(
        f"/leads/{lead_a.pk}/tasks", {"kind": "call", "due_on": str(timezone.localdate())}
    ).json()
    done = api_a.patch(f"/tasks/{task['id']}", {"done": True, "reached": True})
    assert done.status_code == 200, done.content
    activity = Activity.objects.get(lead=lead_a)
    assert done.json()["activity"] == activity.pk and activity.kind == "connect"
    again = api_a.patch(f"/tasks/{task['id']}", {"done": True, "reached": True})
    assert again.status_code == 200 and Activity.objects.count() == 1  # no second activity
    reopened = api_a.patch(f"/tasks/{task['id']}", {"done": False, "note": "call again"})
    assert reopened.json()["done"] is False and reopened.json()["note"] == "call again"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "fax", "due_on": "2026-01-01"}, "kind"),
        ({"kind": "call"}, "due_on"),
        ({"kind": "call", "due_on": "0001-01-01"}, "due_on"),
        ({"kind": "call", "due_on": "2026-01-01", "owner": "nobody@x.test"}, "owner"),
        ({"kind": "call", "due_on": "2026-01-01", "note": "x" * 301}, "note"),
        ({"kind": "call", "due_on": "2026-01-01", "due_time": "25:00"}, "due_time"),
    ],
)
def test_bad_input_is_a_422_at_its_field(api_a, lead_a, body, field):
    response = api_a.post(f"/leads/{lead_a.pk}/tasks", body)
    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert not FollowUp.objects.exists()


def test_bad_patch_changes_nothing(api_a, lead_a, owner_a):
    followup = followup_add(lead=lead_a, by=owner_a, kind="call", due_on=timezone.localdate())
    response = api_a.patch(f"/tasks/{followup.pk}", {"note": "new", "owner": "ghost@x.test"})
    assert response.status_code == 422 and fields_of(response) == ["owner"]
    assert FollowUp.objects.get().note == ""
    assert api_a.get("/tasks", due="someday").status_code == 422


def test_another_organizations_tasks_are_404_and_unlisted(api_a, lead_b, owner_b):
    theirs = followup_add(lead=lead_b, by=owner_b, kind="call", due_on=timezone.localdate())
    assert api_a.patch(f"/tasks/{theirs.pk}", {"done": True}).status_code == 404
    body = {"kind": "call", "due_on": "2026-01-01"}
    assert api_a.post(f"/leads/{lead_b.pk}/tasks", body).status_code == 404
    assert api_a.get("/tasks", lead=lead_b.pk).status_code == 404
    assert api_a.get("/tasks").json()["count"] == 0
    assert not FollowUp.objects.get(pk=theirs.pk).done
