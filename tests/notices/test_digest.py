"""The morning digest: what it lists (counted by hand), once a day even when run twice,
not before 07:00 local, nothing when nothing is due or for a member who opted out; and
``keepscore digest send``."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add, notices_set
from keepscore.cli.main import app
from keepscore.followups.digest import digests_send_due
from keepscore.followups.models import DigestSent, FollowUp
from keepscore.followups.services import followup_add, followup_done
from keepscore.leads.models import Lead
from keepscore.leads.services import lead_create
from tests.conftest import channel, make_user

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of the organization's zone (settings.TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def zone(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def ann(org_a: Organization) -> Membership:
    return member_add(organization=org_a, user=make_user("ann@acme.test"), is_sales=True)


def lead(org: Organization, name: str) -> Lead:
    return lead_create(organization=org, name=name, channel=channel(org))


def due(member: Membership, name: str, day: date, at: time | None = None, **kw: Any) -> FollowUp:
    return followup_add(
        lead=lead(member.organization, name),
        by=member,
        kind=kw.pop("kind", "call"),
        due_on=day,
        due_time=at,
        owner=member,
        **kw,
    )


@pytest.fixture
def anns_week(zone: None, ann: Membership, owner_a: Membership) -> None:
    """Ann's follow-ups around DAY: at 08:00 two are due today (09:00 and no time) and three
    are overdue (yesterday, three days ago, and today at 07:30); one tomorrow, one done, and
    one of the owner's are not hers to do today."""
    due(ann, "Today Nine", DAY, time(9, 0), note="Send the quote")
    due(ann, "Today Anytime", DAY, kind="email")
    due(ann, "Late Yesterday", DAY - timedelta(days=1), time(15, 0))
    due(ann, "Late Three Days", DAY - timedelta(days=3), kind="meeting")
    due(ann, "Late This Morning", DAY, time(7, 30))
    due(ann, "Tomorrow Tom", DAY + timedelta(days=1))
    followup_done(followup=due(ann, "Done Dora", DAY - timedelta(days=2)), by=ann, reached=True)
    due(owner_a, "Owners Own", DAY)


def test_the_digest_lists_what_is_due_today_and_overdue(
    anns_week, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = digests_send_due(now=at(DAY, 8))
    assert sorted(sent) == ["ann@acme.test", "owner@acme.test"]
    [message] = smtp.to("ann@acme.test")
    assert message["Subject"] == "Your follow-ups: 2 due today, 3 overdue (Acme)"
    text = smtp.part(message, "text/plain").replace("\r\n", "\n")
    today_part, overdue_part = text.split("Overdue (3):")
    assert "Due today (2):" in today_part
    assert re.findall(r"^- (.+?): ", today_part, re.M) == ["Call at 09:00", "Email"]
    assert "Today Nine (Send the quote)" in today_part and "Today Anytime" in today_part
    names = re.findall(r"^- .+?: (\D.*)$", overdue_part, re.M)
    assert names == ["Late Three Days", "Late Yesterday", "Late This Morning"]
    for absent in ("Tomorrow Tom", "Done Dora", "Owners Own"):
        assert absent not in text
    leads = {n: Lead.objects.get(name=n).pk for n in ("Today Nine", "Late Yesterday")}
    links = smtp.links(message, "/leads/")
    assert len(links) == 5
    assert {f"https://crm.example.test/o/acme/leads/{pk}/" for pk in leads.values()} <= links
    assert smtp.links(message, "/today/") == {"https://crm.example.test/o/acme/today/"}
    [record] = DigestSent.objects.filter(membership__user__email="ann@acme.test")
    assert (record.day, record.due_today, record.overdue) == (DAY, 2, 3)


def test_the_digest_goes_once_a_day_from_seven_local_time(
    anns_week, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        # 06:59 in Berlin is 05:59 UTC: too early; 07:00 is the first hour it goes
        assert digests_send_due(now=at(DAY, 6, 59)) == []
        assert len(digests_send_due(now=at(DAY, 7))) == 2
        assert digests_send_due(now=at(DAY, 8)) == []  # the next hour: sent already
        assert digests_send_due(now=at(DAY, 23, 59)) == []
    assert len(smtp.to("ann@acme.test")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_send_due(now=at(DAY + timedelta(days=1), 6)) == []
        assert len(digests_send_due(now=at(DAY + timedelta(days=1), 7, 5))) == 2
    [_, next_day] = smtp.to("ann@acme.test")
    assert "1 due today, 5 overdue" in next_day["Subject"]


def test_nothing_for_nothing_due_nor_for_a_member_who_opted_out(
    anns_week, org_a, owner_a, smtp, django_capture_on_commit_callbacks
):
    member_add(organization=org_a, user=make_user("idle@acme.test"), is_sales=True)
    notices_set(membership=owner_a, digest=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_send_due(now=at(DAY, 9)) == ["ann@acme.test"]
    assert [m["To"] for m in smtp.messages] == ["ann@acme.test"]
    assert not DigestSent.objects.filter(membership=owner_a).exists()


def test_each_organization_its_own_digest(
    zone, org_a, org_b, owner_b, smtp, django_capture_on_commit_callbacks
):
    """A person in two organizations: a digest from each, each with its own follow-ups, and
    opting out in one leaves the other."""
    person = make_user("both@acme.test")
    in_a = member_add(organization=org_a, user=person, is_sales=True)
    in_b = member_add(organization=org_b, user=person, is_sales=True)
    due(in_a, "Acme Lead", DAY)
    due(in_b, "Bravo Lead", DAY)
    with django_capture_on_commit_callbacks(execute=True):
        digests_send_due(organization=org_b, now=at(DAY, 8))
    [from_b] = smtp.to("both@acme.test")
    assert "(Bravo)" in from_b["Subject"] and "Bravo Lead" in smtp.part(from_b, "text/plain")
    assert "Acme Lead" not in smtp.part(from_b, "text/plain")
    notices_set(membership=in_a, digest=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_send_due(now=at(DAY, 9)) == []


def test_the_command_sends_and_its_dry_run_sends_nothing(
    anns_week, settings, smtp, django_capture_on_commit_callbacks
):
    settings.DIGEST_HOUR = 0  # the command works at the real hour
    runner = CliRunner()
    dry = runner.invoke(app, ["digest", "send", "--org", "acme", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "ann@acme.test" in dry.stdout and "nothing sent" in dry.stdout
    assert not DigestSent.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        sent = runner.invoke(app, ["digest", "send", "--org", "acme"])
    assert sent.exit_code == 0, sent.output
    assert "2 digest(s)" in sent.stdout
    assert len(smtp.to("ann@acme.test")) == 1
    again = runner.invoke(app, ["digest", "send"])
    assert again.exit_code == 0 and "No digest to send now" in again.stdout
    wrong = runner.invoke(app, ["digest", "send", "--org", "nope"])
    assert wrong.exit_code == 1
    assert "Traceback" not in wrong.output and "no organization 'nope'" in wrong.stderr
