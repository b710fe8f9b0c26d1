"""``keepscore tasks``: the open follow-ups by owner and due window, as a table or JSON."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from keepscore.cli.main import app
from keepscore.followups.services import followup_add, followup_done

pytestmark = pytest.mark.django_db
runner = CliRunner()


@pytest.fixture
def tasks(lead_a, owner_a, sales_a):
    today = timezone.localdate()
    late = followup_add(
        lead=lead_a, by=owner_a, kind="call", due_on=today - timedelta(days=2), owner=sales_a
    )
    soon = followup_add(lead=lead_a, by=owner_a, kind="email", due_on=today + timedelta(days=3))
    far = followup_add(lead=lead_a, by=owner_a, kind="meeting", due_on=today + timedelta(days=30))
    done = followup_add(lead=lead_a, by=owner_a, kind="other", due_on=today)
    followup_done(followup=done, by=owner_a)
    return {"late": late, "soon": soon, "far": far, "done": done}


def _ids(*args: str) -> list[int]:
    result = runner.invoke(app, ["tasks", "--org", "acme", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["count"] == len(payload["items"])
    return [item["id"] for item in payload["items"]]


def test_windows_owners_and_done(tasks):
    t = {name: f.pk for name, f in tasks.items()}
    assert _ids() == [t["late"], t["soon"], t["far"]]
    assert _ids("--due", "overdue") == [t["late"]]
    assert _ids("--due", "today") == [t["late"]]
    assert _ids("--due", "week") == [t["late"], t["soon"]]
    assert _ids("--owner", "sales@acme.test") == [t["late"]]
    assert _ids("--done") == [t["done"]]


def test_the_table_marks_overdue(tasks):
    result = runner.invoke(app, ["tasks", "--org", "acme", "--due", "week"])
    assert result.exit_code == 0, result.output
    assert "overdue" in result.stdout and "Ada Lovelace" in result.stdout
    assert "meeting" not in result.stdout  # 30 days out


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--owner", "ghost@acme.test"], "No member with the email", 1),
        (["--due", "someday"], "someday", 2),
        (["--done", "--due", "today"], "--due picks open follow-ups", 2),
    ],
)
def test_bad_options_say_what_is_wrong(tasks, args, message, code):
    result = runner.invoke(app, ["tasks", "--org", "acme", *args])
    assert result.exit_code == code
    assert message in result.output
