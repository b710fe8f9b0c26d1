"""The monthly review meeting and the mail that goes before it.

An organization sets its meeting (:func:`meeting_set`: "the first Tuesday of the month,
09:00", who attends, how many days before the mail goes). The meeting held in month M
reviews month M-1; N days before it, at the meeting's time of day (the app's ``TIME_ZONE``),
each attendee gets the month's scorecard: the headline figures (read from
``scorecard.compute.scorecard_for``), the focus diagnosis, a link to the review page and the
scorecard PDF. A mail that goes before the month has ended says so ("November to date, 29
of 30 days"). The calendar itself is pure: ``keepscore.scorecard.meeting``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from keepscore import mail
from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.money import money_override
from keepscore.scorecard import meeting as cal
from keepscore.scorecard.models import ReviewMailSent, ReviewMeeting

log = logging.getLogger(__name__)

#: a send moment further in the past than this (the worker was stopped) is skipped, not
#: sent late: a scorecard arriving after its meeting helps nobody
GRACE = timedelta(days=2)
DAYS_BEFORE_MAX = 28
#: the headline figures, by metric key ("qualified" is the ladder's qualified stage)
HEADLINE = ("new_leads", "qualified", "customers", "revenue")
EVIDENCE_LINES = 3
_WHICH_WORDS = {v: k for k, v in cal.WHICH.items()}
_WEEKDAY_WORDS = {name.lower(): i for i, name in enumerate(cal.WEEKDAYS)}


# --- the meeting setting -------------------------------------------------------------------


def meeting_of(organization: Organization) -> ReviewMeeting | None:
    return ReviewMeeting.objects.for_org(organization).first()


def _which(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() in _WHICH_WORDS:
        return _WHICH_WORDS[value.strip().lower()]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number not in cal.WHICH:
        raise ValidationError({"which": "Choose first, second, third, fourth or last."})
    return number


def _weekday(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() in _WEEKDAY_WORDS:
        return _WEEKDAY_WORDS[value.strip().lower()]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 6:
        raise ValidationError({"weekday": "Choose a day of the week, Monday to Sunday."})
    return number


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value or ""))
    if found and int(found[1]) < 24 and int(found[2]) < 60:
        return time(int(found[1]), int(found[2]))
    raise ValidationError({"at": "Give the time as HH:MM, e.g. 09:00."})


def _days_before(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= DAYS_BEFORE_MAX:
        raise ValidationError(
            {"days_before": f"Give a whole number of days from 0 to {DAYS_BEFORE_MAX}."}
        )
    return number


def _attendees(organization: Organization, attendees: Iterable[Any]) -> list[Membership]:
    """Members of this organization, by Membership or email; anyone else is refused."""
    found: list[Membership] = []
    for item in attendees:
        if isinstance(item, Membership):
            member = item if item.organization_id == organization.pk else None
            label = "a member of another organization"
        else:
            email = str(item).strip()
            member = (
                Membership.objects.filter(organization=organization, user__email__iexact=email)
                .select_related("user")
                .first()
            )
            label = f"“{email}”"
        if member is None:
            raise ValidationError({"attendees": f"{label} is not a member of {organization.name}."})
        if member not in found:
            found.append(member)
    return found


def meeting_set(
    organization: Organization,
    *,
    which: Any,
    weekday: Any,
    at: Any = "09:00",
    days_before: Any = 2,
    active: bool = True,
    attendees: Iterable[Any] = (),
) -> ReviewMeeting:
    """Set the organization's review meeting (made the first time). Attendees are members of
    the organization (Membership or email). A bad value is a ValidationError naming its
    field, and nothing changes. The audit log records the change."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field, check, value in (
        ("which", _which, which),
        ("weekday", _weekday, weekday),
        ("at", _time, at),
        ("days_before", _days_before, days_before),
    ):
        try:
            clean[field] = check(value)
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        members = _attendees(organization, attendees)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        meeting = meeting_of(organization)
        made = meeting is None
        if meeting is None:
            meeting = ReviewMeeting(organization=organization)
        for field, value in clean.items():
            setattr(meeting, field, value)
        meeting.active = bool(active)
        meeting.save()
        meeting.attendees.set(members)
        audit.record(
            action="review_meeting.set",
            organization=organization,
            object_type="review_meeting",
            object_id=meeting.pk,
            summary=f"{'made' if made else 'changed'}: {meeting_words(meeting)}, "
            f"{len(members)} attendee(s), {'on' if meeting.active else 'off'}",
        )
    return meeting


def meeting_words(meeting: ReviewMeeting) -> str:
    """``the first Tuesday of the month, 09:00``."""
    return (
        f"the {cal.WHICH[meeting.which]} {cal.WEEKDAYS[meeting.weekday]} of the month, "
        f"{meeting.at:%H:%M}"
    )


def attendee_names(meeting: ReviewMeeting) -> list[str]:
    return [m.user.get_full_name() or m.user.email for m in _attendee_list(meeting)]


def _attendee_list(meeting: ReviewMeeting) -> list[Membership]:
    return list(meeting.attendees.select_related("user").order_by("user__first_name", "id"))


def held_in(meeting: ReviewMeeting, month: date) -> datetime:
    """When the meeting of ``month`` is held (aware, in the app's zone)."""
    zone = timezone.get_default_timezone()
    return cal.meeting_at(month, meeting.which, meeting.weekday, meeting.at, zone)


@dataclass(frozen=True)
class NextMeeting:
    at: datetime
    names: list[str]
    send_at: datetime
    reviews: date

    def __str__(self) -> str:
        """``Tuesday 5 January 2027, 09:00 — Ann, Bob; the scorecard goes out on Sunday 3
        January``."""
        who = ", ".join(self.names) or "nobody attends yet"
        return (
            f"{self.at:%A} {self.at.day} {self.at:%B %Y, %H:%M} — {who}; the scorecard of "
            f"{self.reviews:%B} goes out on {self.send_at:%A} {self.send_at.day} "
            f"{self.send_at:%B}"
        )


def next_meeting(meeting: ReviewMeeting, now: datetime | None = None) -> NextMeeting:
    zone = timezone.get_default_timezone()
    held = cal.next_meeting(now or timezone.now(), meeting.which, meeting.weekday, meeting.at, zone)
    return NextMeeting(
        at=held,
        names=attendee_names(meeting),
        send_at=cal.send_at(held, meeting.days_before),
        reviews=cal.reviewed_month(held),
    )


def meeting_json(organization: Organization) -> dict[str, Any]:
    meeting = meeting_of(organization)
    if meeting is None:
        return {"set": False}
    upcoming = next_meeting(meeting)
    return {
        "set": True,
        "which": cal.WHICH[meeting.which],
        "weekday": cal.WEEKDAYS[meeting.weekday],
        "at": f"{meeting.at:%H:%M}",
        "days_before": meeting.days_before,
        "active": meeting.active,
        "attendees": [m.user.email for m in _attendee_list(meeting)],
        "next_meeting": upcoming.at.isoformat(),
        "next_send": upcoming.send_at.isoformat(),
        "next_reviews": f"{upcoming.reviews:%Y-%m}",
        "description": str(upcoming),
    }


# --- the mail ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    name: str
    value: str
    compared: str  # "vs 40 in October (+5)", or ""
    target: str  # "target 50", or ""


def _headline(card: Any, organization: Organization) -> list[Headline]:
    from keepscore.common.formats import format_value
    from keepscore.funnel.jobs import qualified_stage
    from keepscore.funnel.services import Ladder

    stage = qualified_stage(Ladder.of(organization))
    keys = [k if k != "qualified" else (f"entered_{stage.key}" if stage else "") for k in HEADLINE]
    rows = {r.key: r for r in card.rows}
    before = cal.month_add(card.month, -1)
    shown = []
    for key in keys:
        row = rows.get(key)
        if row is None:
            continue
        name = "Qualified leads" if stage and key == f"entered_{stage.key}" else row.name
        if not row.enough:
            shown.append(Headline(name, "not enough data", "", ""))
            continue
        if card.days is not None:
            other = row.previous_same_days
            span = min(card.days, cal_days(before))
            where = f"the same {span} days of {before:%B}"
        else:
            other, where = row.previous, f"{before:%B}"
        compared = ""
        if other is not None:
            compared = f"vs {format_value(other, row.unit)} in {where}"
            if row.value is not None:
                compared += f" ({format_value(row.value - other, row.unit, signed=True)})"
        target = "" if row.target is None else f"target {format_value(row.target, row.unit)}"
        shown.append(Headline(name, format_value(row.value, row.unit), compared, target))
    return shown


def cal_days(month: date) -> int:
    import calendar

    return calendar.monthrange(month.year, month.month)[1]


def _focus(organization: Organization, as_of: date) -> dict[str, Any]:
    from keepscore.focus.services import LABELS, diagnose

    diagnosis = diagnose(organization, as_of)
    order = {"alert": 0, "watch": 1}
    lines = sorted(
        (i for i in diagnosis.indicators if i.status in order and i.explanation),
        key=lambda i: order[i.status],
    )
    return {
        "verdict": LABELS.get(diagnosis.recommendation, diagnosis.recommendation),
        "sentence": diagnosis.sentence,
        "evidence": [f"{i.title}: {i.explanation}" for i in lines[:EVIDENCE_LINES]],
        "as_of": diagnosis.as_of,
    }


@dataclass
class ReviewMail:
    subject: str
    context: dict[str, Any]
    attachments: list[mail.Attachment]


def review_mail_build(
    organization: Organization, month: date, held: datetime, moment: datetime
) -> ReviewMail:
    """The mail reviewing ``month`` at the meeting ``held``, as sent at ``moment``: the
    figures are those known that day (to date, when the month has not ended)."""
    from django.urls import reverse

    from keepscore.reports.pdf import PdfUnavailable
    from keepscore.reports.scorecard import scorecard_filename
    from keepscore.scorecard.compute import scorecard_for
    from keepscore.scorecard.report import month_pdf

    month = month.replace(day=1)
    local = timezone.localtime(moment)
    today = local.date()
    with money_override(organization):
        card = scorecard_for(organization, month, today=today)
        headline = _headline(card, organization)
        as_of = min(month.replace(day=cal_days(month)), today)
        focus = _focus(organization, as_of)
        attachments: list[mail.Attachment] = []
        pdf_missing = ""
        try:
            body = month_pdf(organization, card)
        except PdfUnavailable as error:
            pdf_missing = str(error)
        else:
            attachments.append(
                mail.Attachment(scorecard_filename(card, "pdf"), body, "application/pdf")
            )
    held_local = timezone.localtime(held)
    when = f"{held_local:%A} {held_local.day} {held_local:%B}, {held_local:%H:%M}"
    period = f"{month:%B %Y}"
    if card.days is not None:
        period = f"{month:%B} to date, {card.days} of {card.days_in_month} days"
    review_path = reverse(
        "scorecard_review",
        kwargs={"org": organization.slug, "year": f"{month:%Y}", "month": f"{month:%m}"},
    )
    subject = f"Scorecard for {month:%B %Y} — review {when}"
    context = {
        "organization": organization,
        "month": month,
        "period": period,
        "partial": card.days is not None,
        "days": card.days,
        "days_in_month": card.days_in_month,
        "meeting_when": f"{held_local:%A} {held_local.day} {held_local:%B %Y}, {held_local:%H:%M}",
        "headline": headline,
        "focus": focus,
        "review_link": mail.app_url(review_path),
        "pdf_missing": pdf_missing,
        "pdf_name": attachments[0].filename if attachments else "",
    }
    return ReviewMail(subject, context, attachments)


def review_mail_send(
    organization: Organization, month: date, *, now: datetime | None = None
) -> list[str]:
    """Send the mail reviewing ``month`` (its first day) to the meeting's attendees now, by
    hand (``keepscore review send``): regardless of what was sent before, and not recorded.
    The addresses it went to. A ValidationError when there is no meeting or nobody attends."""
    meeting = meeting_of(organization)
    if meeting is None:
        raise ValidationError(
            {"meeting": f"{organization.name} has no review meeting set: set it on the review page"}
        )
    attendees = _attendee_list(meeting)
    if not attendees:
        raise ValidationError({"attendees": f"nobody attends {organization.name}'s review meeting"})
    now = now or timezone.now()
    month = month.replace(day=1)
    if month > timezone.localtime(now).date().replace(day=1):
        raise ValidationError({"month": f"{month:%Y-%m} has not begun yet"})
    held = held_in(meeting, cal.month_add(month, 1))
    return _send(organization, meeting, attendees, month, held, now)


def _send(
    organization: Organization,
    meeting: ReviewMeeting,
    attendees: list[Membership],
    month: date,
    held: datetime,
    moment: datetime,
    built: ReviewMail | None = None,
) -> list[str]:
    built = built or review_mail_build(organization, month, held, moment)
    to = [m.user.email for m in attendees]
    mail.send(
        to=to,
        subject=built.subject,
        template="mail/review",
        context=built.context,
        attachments=built.attachments,
    )
    return to


def review_mails_send_due(now: datetime | None = None) -> list[str]:
    """The worker's hourly run: for every organization whose review meeting is on and has
    attendees, and whose send moment (N days before the meeting, at its time of day) has
    come, send the mail of the month the meeting reviews, once: what was sent is recorded
    (``ReviewMailSent``, one per organization and month reviewed), so a second run, or a
    second worker, sends nothing again.

    A send moment more than :data:`GRACE` (2 days) in the past — the worker was stopped —
    is skipped, not sent late, and not recorded. A mail the server refuses is logged and
    tried again at the next run (its record is rolled back with it). What it sent, one
    line each (``<slug> <YYYY-MM> to a@…, b@…``)."""
    now = now or timezone.now()
    this_month = timezone.localtime(now).date().replace(day=1)
    sent: list[str] = []
    meetings = ReviewMeeting.objects.filter(active=True).select_related("organization")
    for meeting in meetings:
        organization = meeting.organization
        for ahead in (0, 1):
            held = held_in(meeting, cal.month_add(this_month, ahead))
            moment = cal.send_at(held, meeting.days_before)
            if not moment <= now < moment + GRACE:
                continue
            month = cal.reviewed_month(held)
            attendees = _attendee_list(meeting)
            if not attendees:
                continue
            if ReviewMailSent.objects.for_org(organization).filter(month=month).exists():
                continue
            # built (the PDF takes seconds) before the write transaction: on SQLite it
            # would hold every other writer of the app waiting meanwhile
            built = review_mail_build(organization, month, held, now)
            try:
                with transaction.atomic():
                    ReviewMailSent.objects.create(
                        organization=organization,
                        month=month,
                        meeting_at=held,
                        sent_at=now,
                        recipients="\n".join(m.user.email for m in attendees),
                    )
                    to = _send(organization, meeting, attendees, month, held, now, built)
            except IntegrityError:
                continue  # another run recorded it first
            except mail.MailNotSent as error:
                log.warning("review mail of %s %s: %s", organization.slug, f"{month:%Y-%m}", error)
                continue
            sent.append(f"{organization.slug} {month:%Y-%m} to {', '.join(to)}")
    return sent
