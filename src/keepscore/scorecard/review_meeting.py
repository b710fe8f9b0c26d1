"""The monthly review meeting: when it is held and who attends.

An organization sets its meeting (:func:`meeting_set`: "the first Tuesday of the month,
09:00", who attends, how many days before the mail goes). The meeting held in month M
reviews month M-1. The calendar itself is pure: ``keepscore.scorecard.meeting``; the mail
that goes before the meeting, with the month's scorecard: ``keepscore.reports.review_mail``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.scorecard import meeting as cal
from keepscore.scorecard.models import ReviewMeeting

DAYS_BEFORE_MAX = 28
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
    return [m.user.get_full_name() or m.user.email for m in attendee_list(meeting)]


def attendee_list(meeting: ReviewMeeting) -> list[Membership]:
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
        "attendees": [m.user.email for m in attendee_list(meeting)],
        "next_meeting": upcoming.at.isoformat(),
        "next_send": upcoming.send_at.isoformat(),
        "next_reviews": f"{upcoming.reviews:%Y-%m}",
        "description": str(upcoming),
    }
