"""The mail that goes before the monthly review meeting.

N days before the meeting (``keepscore.scorecard.review_meeting``), at the meeting's time of
day (the app's ``TIME_ZONE``), each attendee gets the month's scorecard: the headline figures
(read from ``scorecard.compute.scorecard_for``), the focus diagnosis, a link to the review
page and the scorecard PDF. A mail that goes before the month has ended says so ("November
to date, 29 of 30 days"). The calendar itself is pure: ``keepscore.scorecard.meeting``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from keepscore import mail
from keepscore.accounts.models import Membership, Organization
from keepscore.common.money import money_override
from keepscore.common.months import month_add
from keepscore.scorecard import meeting as cal
from keepscore.scorecard.models import ReviewMailSent, ReviewMeeting
from keepscore.scorecard.review_meeting import attendee_list, held_in, meeting_of

log = logging.getLogger(__name__)

#: a send moment further in the past than this (the worker was stopped) is skipped, not
#: sent late: a scorecard arriving after its meeting helps nobody
GRACE = timedelta(days=2)
#: the headline figures, by metric key ("qualified" is the ladder's qualified stage)
HEADLINE = ("new_leads", "qualified", "customers", "revenue")
EVIDENCE_LINES = 3


@dataclass(frozen=True)
class Headline:
    name: str
    value: str
    compared: str  # "vs 40 in October (+5)", or ""
    target: str  # "target 50", or ""


def _headline(card: Any, organization: Organization) -> list[Headline]:
    from keepscore.common.formats import format_value
    from keepscore.funnel.jobs import qualified_stage
    from keepscore.funnel.ladder import Ladder

    stage = qualified_stage(Ladder.of(organization))
    keys = [k if k != "qualified" else (f"entered_{stage.key}" if stage else "") for k in HEADLINE]
    rows = {r.key: r for r in card.rows}
    before = month_add(card.month, -1)
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
    from keepscore.focus.selectors import LABELS, diagnose

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

    from keepscore.reports.month import month_pdf
    from keepscore.reports.pdf import PdfUnavailable
    from keepscore.reports.scorecard import scorecard_filename
    from keepscore.scorecard.compute import scorecard_for

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
    attendees = attendee_list(meeting)
    if not attendees:
        raise ValidationError({"attendees": f"nobody attends {organization.name}'s review meeting"})
    now = now or timezone.now()
    month = month.replace(day=1)
    if month > timezone.localtime(now).date().replace(day=1):
        raise ValidationError({"month": f"{month:%Y-%m} has not begun yet"})
    held = held_in(meeting, month_add(month, 1))
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
            held = held_in(meeting, month_add(this_month, ahead))
            moment = cal.send_at(held, meeting.days_before)
            if not moment <= now < moment + GRACE:
                continue
            month = cal.reviewed_month(held)
            attendees = attendee_list(meeting)
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
