"""Notices nobody waits for are sent by the worker (``mail.send_later``), after the write
that caused them commits, through a real SMTP server; the worker's hourly schedules are
written when it starts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django_q.models import Schedule

from keepscore import mail
from keepscore.common.schedules import HOURLY, schedules_ensure

pytestmark = pytest.mark.django_db


def _later(to: str) -> None:
    mail.send_later(
        to=to,
        subject="Later",
        template="mail/password_reset",
        context={"link": mail.app_url("/x/"), "email": to, "hours": 1},
    )


def test_a_notice_goes_once_its_write_commits(smtp: Any, django_capture_on_commit_callbacks: Any):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            _later("kept@example.test")
        assert smtp.to("kept@example.test") == []  # not before the commit
    [message] = smtp.to("kept@example.test")
    assert message["Subject"] == "Later"
    # the worker kept its record of the task (a message holding a live connection could not
    # be stored: the task sends a copy)
    from django_q.models import Success

    assert Success.objects.filter(func="keepscore.mail.deliver_queued").count() == 1
    assert "https://crm.example.test/" in smtp.part(message, "text/plain")


def test_a_rolled_back_write_sends_nothing(smtp: Any, django_capture_on_commit_callbacks: Any):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _later("gone@example.test")
        raise RuntimeError("the write failed")
    assert smtp.received == []


def test_the_hourly_schedules_are_written_once_each() -> None:
    Schedule.objects.create(name="keepscore: keepscore.old.gone", func="keepscore.old.gone")
    Schedule.objects.create(name="someone else's", func="x.y")
    schedules_ensure()
    schedules_ensure()  # again: still one each
    ours = Schedule.objects.filter(name__startswith="keepscore: ")
    assert sorted(ours.values_list("func", flat=True)) == sorted(HOURLY)
    assert {s.schedule_type for s in ours} == {Schedule.HOURLY}
    assert Schedule.objects.filter(name="someone else's").exists()
