"""The review meeting setting and its mail, sent through a real SMTP server (``smtp``):
once only when due, never before its moment nor days late, the partial-month wording, the
figures equal to ``scorecard_for``'s, the PDF attached (read with pypdf), and the checks
on the setting (attendees of another organization refused)."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader

from keepscore.accounts.models import Membership, Organization
from keepscore.common.money import money_override
from keepscore.reports.charts import format_value
from keepscore.reports.review_mail import review_mail_send, review_mails_send_due
from keepscore.scorecard.compute import scorecard_for
from keepscore.scorecard.models import ReviewMailSent, ReviewMeeting
from keepscore.scorecard.review_meeting import meeting_set, next_meeting

pytestmark = pytest.mark.django_db
TUESDAY = 1


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.get_default_timezone())


@pytest.fixture
def meeting_a(org_a: Organization, owner_a: Membership, sales_a: Membership) -> ReviewMeeting:
    return meeting_set(org_a, which="first", weekday="Tuesday", attendees=[owner_a, sales_a])


def pdf_text(message: Any) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    reader = PdfReader(io.BytesIO(part.get_content()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_meeting_defaults_and_next(meeting_a: ReviewMeeting) -> None:
    assert (meeting_a.which, meeting_a.weekday, meeting_a.at) == (1, TUESDAY, time(9, 0))
    assert meeting_a.days_before == 2 and meeting_a.active
    upcoming = next_meeting(meeting_a, at(2026, 12, 4, 0, 30))
    assert upcoming.at == at(2027, 1, 5, 9, 0)
    assert upcoming.send_at == at(2027, 1, 3, 9, 0)
    assert upcoming.reviews == date(2026, 12, 1)
    assert str(upcoming).startswith("Tuesday 5 January 2027, 09:00 — ")
    assert str(upcoming).endswith("the scorecard of December goes out on Sunday 3 January")


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("which", {"which": "fifth"}),
        ("weekday", {"weekday": "Funday"}),
        ("at", {"at": "25:00"}),
        ("days_before", {"days_before": 29}),
        ("days_before", {"days_before": "two"}),
    ],
)
def test_bad_setting_names_its_field(
    org_a: Organization, owner_a: Membership, field: str, values: dict[str, Any]
) -> None:
    given = {"which": 1, "weekday": TUESDAY, **values}
    with pytest.raises(ValidationError) as caught:
        meeting_set(org_a, attendees=[owner_a], **given)
    assert list(caught.value.message_dict) == [field]
    assert not ReviewMeeting.objects.filter(organization=org_a).exists()


def test_attendees_of_another_organization_refused(
    meeting_a: ReviewMeeting, org_a: Organization, owner_a: Membership, owner_b: Membership
) -> None:
    for outsider in (owner_b, owner_b.user.email):
        with pytest.raises(ValidationError) as caught:
            meeting_set(org_a, which=2, weekday=0, attendees=[owner_a, outsider])
        assert list(caught.value.message_dict) == ["attendees"]
    meeting_a.refresh_from_db()
    assert (meeting_a.which, meeting_a.weekday) == (1, TUESDAY)  # unchanged
    assert meeting_a.attendees.count() == 2


def test_due_mail_sent_once_at_its_moment(
    smtp: Any, meeting_a: ReviewMeeting, owner_a: Membership, sales_a: Membership
) -> None:
    # first Tuesday of December 2026 is the 1st: the mail goes on Sunday 29 November, 09:00
    assert review_mails_send_due(at(2026, 11, 29, 8, 59)) == []
    assert smtp.messages == []
    sent = review_mails_send_due(at(2026, 11, 29, 9, 0))
    assert sent == [f"acme 2026-11 to {owner_a.user.email}, {sales_a.user.email}"]
    # again an hour later, and the next day: nothing more
    assert review_mails_send_due(at(2026, 11, 29, 10, 0)) == []
    assert review_mails_send_due(at(2026, 11, 30, 9, 0)) == []
    [message] = smtp.messages
    assert set(smtp.received[0].rcpt_tos) == {owner_a.user.email, sales_a.user.email}
    assert (
        message["Subject"].strip()
        == "Scorecard for November 2026 — review Tuesday 1 December, 09:00"
    )
    record = ReviewMailSent.objects.get(organization=meeting_a.organization)
    assert record.month == date(2026, 11, 1)
    assert record.meeting_at == at(2026, 12, 1, 9, 0)
    # sent before November ended: the figures say they are to date
    for kind in ("text/plain", "text/html"):
        body = smtp.part(message, kind)
        assert "November to date, 29 of 30 days" in body
        assert "https://crm.example.test/o/acme/scorecard/2026-11/review/" in body
    assert "November 2026" in pdf_text(message)


def test_long_stop_skips_not_sends_late(smtp: Any, meeting_a: ReviewMeeting) -> None:
    # the moment was 29 November 09:00; the worker comes back on 1 December 09:01
    assert review_mails_send_due(at(2026, 12, 1, 9, 1)) == []
    assert smtp.messages == []
    assert not ReviewMailSent.objects.exists()
    # within two days it still goes
    assert len(review_mails_send_due(at(2026, 12, 1, 8, 59))) == 1


def test_off_or_nobody_sends_nothing(
    smtp: Any, org_a: Organization, owner_a: Membership, org_b: Organization
) -> None:
    meeting_set(org_a, which=1, weekday=TUESDAY, attendees=[owner_a], active=False)
    meeting_set(org_b, which=1, weekday=TUESDAY, attendees=[])
    assert review_mails_send_due(at(2026, 11, 29, 9, 30)) == []
    assert smtp.messages == []


def test_by_hand_needs_a_meeting_and_attendees(org_a: Organization) -> None:
    with pytest.raises(ValidationError) as caught:
        review_mail_send(org_a, date(2026, 11, 1))
    assert "no review meeting" in str(caught.value)
    meeting_set(org_a, which=1, weekday=TUESDAY, attendees=[])
    with pytest.raises(ValidationError) as caught:
        review_mail_send(org_a, date(2026, 11, 1))
    assert "nobody attends" in str(caught.value)


@pytest.fixture
def demo_org(db: Any) -> Organization:
    from keepscore.demo.generator import demo_create

    demo_create(slug="revdemo", months=3, today=date(2026, 12, 3))
    return Organization.objects.get(slug="revdemo")


def test_content_figures_are_the_scorecards(smtp: Any, demo_org: Organization) -> None:
    members = list(Membership.objects.filter(organization=demo_org).order_by("id"))
    meeting_set(demo_org, which="first", weekday="tuesday", attendees=members[:2])
    now = at(2026, 12, 3, 9, 0)  # November is over: the whole month
    to = review_mail_send(demo_org, date(2026, 11, 1), now=now)
    assert sorted(to) == sorted(m.user.email for m in members[:2])
    [message] = smtp.messages
    # the meeting reviewing November is the first Tuesday of December: the 1st
    assert (
        message["Subject"].strip()
        == "Scorecard for November 2026 — review Tuesday 1 December, 09:00"
    )
    text = smtp.part(message, "text/plain")
    html = smtp.part(message, "text/html")
    assert "to date" not in text
    card = scorecard_for(demo_org, date(2026, 11, 1), today=date(2026, 12, 3))
    rows = {r.key: r for r in card.rows}
    with money_override(demo_org):
        new_leads = format_value(rows["new_leads"].value, "count")
        revenue = format_value(rows["revenue"].value, "money")
        customers = format_value(rows["customers"].value, "count")
        previous_revenue = format_value(rows["revenue"].previous, "money")
    assert rows["new_leads"].value and rows["revenue"].value  # the demo has both
    assert f"- New leads: {new_leads}, vs " in text
    assert f"- Customers: {customers}" in text
    assert f"- Revenue: {revenue}, vs {previous_revenue} in October" in text
    assert demo_org.currency and revenue in html
    assert "The focus: " in text
    pdf = pdf_text(message)
    assert "November 2026" in pdf
    assert revenue in pdf


def _last_month() -> date:
    today = timezone.localdate()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def test_cli_sends_by_hand_regardless_of_the_record(
    smtp: Any, meeting_a: ReviewMeeting, owner_a: Membership, sales_a: Membership
) -> None:
    from typer.testing import CliRunner

    from keepscore.cli.main import app

    month = _last_month()
    runner = CliRunner()
    ReviewMailSent.objects.create(
        organization=meeting_a.organization,
        month=month,
        meeting_at=timezone.now(),
        sent_at=timezone.now(),
        recipients=owner_a.user.email,
    )
    for _ in range(2):
        result = runner.invoke(
            app, ["review", "send", "--month", f"{month:%Y-%m}", "--org", "acme"]
        )
        assert result.exit_code == 0, result.output
        assert f"Sent the review mail of {month:%B %Y} for acme to" in result.stdout
        assert owner_a.user.email in result.stdout and sales_a.user.email in result.stdout
    assert len(smtp.messages) == 2
    assert smtp.messages[0]["Subject"].strip().startswith(f"Scorecard for {month:%B %Y} — review ")
    assert ReviewMailSent.objects.count() == 1  # a hand send is not recorded


def test_cli_errors(smtp: Any, org_a: Organization, owner_a: Membership) -> None:
    from typer.testing import CliRunner

    from keepscore.cli.main import app

    runner = CliRunner()
    month = f"{_last_month():%Y-%m}"

    def run(*args: str) -> Any:
        return runner.invoke(app, ["review", "send", *args])

    none = run("--month", month, "--org", "acme")
    assert none.exit_code == 1 and "has no review meeting set" in none.stderr
    meeting_set(org_a, which=1, weekday=TUESDAY, attendees=[])
    nobody = run("--month", month, "--org", "acme")
    assert nobody.exit_code == 1 and "nobody attends" in nobody.stderr
    meeting_set(org_a, which=1, weekday=TUESDAY, attendees=[owner_a])
    bad = run("--month", "2026-13", "--org", "acme")
    assert bad.exit_code == 2 and "--month" in bad.stderr
    future = (timezone.localdate().replace(day=1) + timedelta(days=40)).replace(day=1)
    ahead = run("--month", f"{future:%Y-%m}", "--org", "acme")
    assert ahead.exit_code == 1 and "has not begun yet" in ahead.stderr
    unknown = run("--month", month, "--org", "nope")
    assert unknown.exit_code != 0 and "nope" in unknown.stderr
    for result in (none, nobody, bad, ahead, unknown):
        assert "Traceback" not in result.output
    assert smtp.messages == []


# --- the API and the page -------------------------------------------------------------------


def test_api_reads_and_sets_the_meeting(
    org_a: Organization, owner_a: Membership, sales_a: Membership
) -> None:
    from tests.scorecard.conftest import api_for

    api = api_for(owner_a)
    empty = api.get("/review-meeting")
    assert empty.status_code == 200 and empty.json()["set"] is False
    body = {
        "which": "last",
        "weekday": "Friday",
        "at": "14:30",
        "days_before": 3,
        "attendees": [owner_a.user.email, sales_a.user.email.upper()],
    }
    made = api.put("/review-meeting", body)
    assert made.status_code == 200, made.json()
    data = made.json()
    assert (data["which"], data["weekday"], data["at"], data["days_before"]) == (
        "last",
        "Friday",
        "14:30",
        3,
    )
    assert sorted(data["attendees"]) == sorted([owner_a.user.email, sales_a.user.email])
    assert api.get("/review-meeting").json() == data
    # a sales member reads it and may not change it
    sales_api = api_for(sales_a)
    assert sales_api.get("/review-meeting").json() == data
    assert sales_api.put("/review-meeting", body).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"which": "fifth"}, "which"),
        ({"weekday": "Someday"}, "weekday"),
        ({"at": "9h"}, "at"),
        ({"days_before": 40}, "days_before"),
        ({"attendees": ["owner@bravo.test"]}, "attendees"),
        ({"attendees": "owner@acme.test"}, "attendees"),
        ({"days_before": "x"}, "days_before"),
    ],
)
def test_api_422_names_the_field(
    org_a: Organization, owner_a: Membership, org_b: Organization, change: Any, field: str
) -> None:
    from tests.scorecard.conftest import api_for

    api = api_for(owner_a)
    answer = api.put("/review-meeting", {"which": "first", "weekday": "Tuesday", **change})
    assert answer.status_code == 422, answer.json()
    assert field in [e["field"].split(".")[0] for e in answer.json()["errors"]]
    assert not ReviewMeeting.objects.exists()


def test_page_sets_the_meeting_and_the_review_page_shows_it(
    client_a: Any, org_a: Organization, owner_a: Membership, sales_a: Membership, org_b: Any
) -> None:
    url = "/o/acme/scorecard/review-meeting/"
    page = client_a.get(url)
    assert page.status_code == 200 and "No review meeting is set" in page.text
    data = {
        "which": "1",
        "weekday": "1",
        "at": "09:00",
        "days_before": "2",
        "active": "on",
        "attendees": [str(owner_a.pk), str(sales_a.pk)],
    }
    saved = client_a.post(url, data)
    assert saved.status_code == 302
    meeting = ReviewMeeting.objects.get(organization=org_a)
    assert set(meeting.attendees.all()) == {owner_a, sales_a}
    # another organization's member is not a choice: refused with the field named
    other = Membership.objects.get(organization=org_b)
    refused = client_a.post(url, {**data, "attendees": [str(other.pk)]})
    assert refused.status_code == 422
    assert set(meeting.attendees.all()) == {owner_a, sales_a}
    bad = client_a.post(url, {**data, "days_before": "40"})
    assert bad.status_code == 422
    today = timezone.localdate()
    review = client_a.get(f"/o/acme/scorecard/{today:%Y-%m}/review/")
    expected = str(next_meeting(meeting))
    assert "the first Tuesday of the month, 09:00" in review.text
    assert expected.split(" — ")[0] in review.text  # "Tuesday 5 January 2027, 09:00"
    assert "goes out on" in review.text


def test_demo_leaves_the_last_review_mail_in_the_mail_folder(
    db: Any, settings: Any, tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from keepscore.cli.main import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    result = CliRunner().invoke(
        app, ["demo", "--org", "demo-review", "--months", "3", "--today", "2025-06-30"]
    )
    assert result.exit_code == 0, result.output
    assert "Sent the review mail of May 2025 to owner@demo-review.keepscore.test, " in result.stdout
    organization = Organization.objects.get(slug="demo-review")
    meeting = ReviewMeeting.objects.get(organization=organization)
    assert (meeting.which, meeting.weekday, meeting.at) == (1, TUESDAY, time(9, 0))
    roles = sorted((m.is_owner, m.is_sales) for m in meeting.attendees.all())
    assert roles == [(False, True), (True, True)]  # a sales member and the owner
    [written] = list((tmp_path / "mail").iterdir())
    text = written.read_text()
    # the first Tuesday of June 2025 is the 3rd
    assert "Scorecard for May 2025" in text and "Tuesday 3 June" in text
    assert "application/pdf" in text


def test_the_workers_hourly_entry_sends_the_due_mail(
    smtp: Any, meeting_a: ReviewMeeting, owner_a: Membership, sales_a: Membership
) -> None:
    """The schedule names it by its dotted path and calls it with no argument (its "now" is
    the clock's); resolved as django-q2 does (pydoc.locate)."""
    import pydoc

    from keepscore.common.schedules import HOURLY

    path = "keepscore.reports.review_mail.review_mails_send_due"
    assert path in HOURLY
    run = pydoc.locate(path)
    assert callable(run)
    # a meeting today, this hour, its mail 0 days before: due at this very run
    now = timezone.localtime()
    meeting_set(
        meeting_a.organization,
        which=min((now.day - 1) // 7 + 1, 5),  # the 5th of a weekday is the month's last
        weekday=now.weekday(),
        at=f"{now:%H}:00",
        days_before=0,
        attendees=[owner_a, sales_a],
    )
    reviewed = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    assert run() == [f"acme {reviewed:%Y-%m} to {owner_a.user.email}, {sales_a.user.email}"]
    assert run() == []
    assert len(smtp.messages) == 1
