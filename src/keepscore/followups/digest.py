"""The morning digest: one email a day to each member who chose it, with their follow-ups
due today and the overdue ones.

:func:`digests_send_due` runs every hour in the worker (``keepscore.common.schedules``)
and by hand (``keepscore digest send``). For each member with the digest on and something
due, once per local day (the organization's zone, ``settings.TIME_ZONE``), at or after
``settings.DIGEST_HOUR`` (7): a :class:`DigestSent` row per member and day is written in
the transaction that hands the mail to the worker, so a second run, or a late one after a
stop, sends nothing twice. Nothing is sent to someone with nothing due (and nothing is
recorded: a follow-up added later that day still gets its digest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from keepscore import mail
from keepscore.accounts.models import Membership, Organization
from keepscore.followups.models import DigestSent, FollowUp
from keepscore.followups.selectors import followup_list

DEFAULT_DIGEST_HOUR = 7


def digest_hour() -> int:
    return int(getattr(settings, "DIGEST_HOUR", DEFAULT_DIGEST_HOUR))


@dataclass
class Digest:
    """One member's digest for a day: what is due today and what is overdue."""

    membership: Membership
    day: date
    due_today: list[FollowUp] = field(default_factory=list)
    overdue: list[FollowUp] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.due_today and not self.overdue


def digest_for(membership: Membership, now: datetime | None = None) -> Digest:
    """The member's open follow-ups due today or before (``followup_list(due="today")``),
    split into those due today and those overdue (a day before, or earlier today)."""
    now = timezone.localtime(now)
    digest = Digest(membership=membership, day=now.date())
    followups = followup_list(
        organization=membership.organization, owner=membership, due="today", now=now
    )
    # soonest first, a day's timed ones before its untimed ones (the same on every database)
    for followup in sorted(
        followups, key=lambda f: (f.due_on, f.due_time is None, f.due_time or time(), f.pk)
    ):
        (digest.overdue if followup.overdue(now) else digest.due_today).append(followup)
    return digest


def _context(digest: Digest) -> dict[str, object]:
    organization = digest.membership.organization

    def item(followup: FollowUp) -> dict[str, object]:
        return {
            "followup": followup,
            "lead": followup.lead,
            "link": mail.app_url(
                reverse("lead_detail", args=[organization.slug, followup.lead_id])
            ),
        }

    return {
        "organization": organization,
        "day": digest.day,
        "due_today": [item(f) for f in digest.due_today],
        "overdue": [item(f) for f in digest.overdue],
        "today_link": mail.app_url(reverse("today", args=[organization.slug])),
        "notices": mail.app_url(reverse("notices", args=[organization.slug])),
    }


def digest_subject(digest: Digest) -> str:
    parts = [f"{len(digest.due_today)} due today"]
    if digest.overdue:
        parts.append(f"{len(digest.overdue)} overdue")
    organization = digest.membership.organization.name
    return f"Your follow-ups: {', '.join(parts)} ({organization})"


def digest_send(digest: Digest) -> bool:
    """Record the digest as sent and hand its mail to the worker, in one transaction; False
    (nothing sent) when this member's digest for that day was sent already."""
    membership = digest.membership
    try:
        with transaction.atomic():
            DigestSent.objects.create(
                organization=membership.organization,
                membership=membership,
                day=digest.day,
                due_today=len(digest.due_today),
                overdue=len(digest.overdue),
            )
            mail.send_later(
                to=membership.user.email,
                subject=digest_subject(digest),
                template="mail/digest",
                context=_context(digest),
            )
    except IntegrityError:
        return False  # a run at the same moment sent it
    return True


def digests_due(
    organization: Organization | None = None, now: datetime | None = None
) -> list[Digest]:
    """The digests to send now: none before the digest hour; one for each member with the
    digest on, something due, and no digest sent for today yet."""
    now = timezone.localtime(now)
    if now.hour < digest_hour():
        return []
    members = Membership.objects.filter(notify_digest=True).select_related("user", "organization")
    if organization is not None:
        members = members.filter(organization=organization)
    sent = set(
        DigestSent.objects.filter(day=now.date(), membership__in=members).values_list(
            "membership_id", flat=True
        )
    )
    digests = []
    for membership in members.order_by("organization_id", "pk"):
        if membership.pk in sent:
            continue
        digest = digest_for(membership, now)
        if not digest.empty:
            digests.append(digest)
    return digests


def digests_send_due(
    organization: Organization | None = None, now: datetime | None = None
) -> list[str]:
    """Send the digests due now (see the module); the addresses sent to. The worker's hourly
    schedule calls it without arguments."""
    return [d.membership.user.email for d in digests_due(organization, now) if digest_send(d)]
