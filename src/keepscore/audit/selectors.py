"""Reading the audit log: an organization's events, filtered, newest first, with the names
of the users they name (looked up when read; the log keeps ids)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from keepscore.audit.models import AuditEvent
from keepscore.common.days import day_start

COLUMNS = [
    "at", "via", "user_id", "user", "member_id", "address", "action", "object_type",
    "object_id", "summary",
]  # fmt: skip


@dataclass(frozen=True)
class AuditFilters:
    since: date | None = None  # local days, both ends included
    until: date | None = None
    action: str = ""
    user_id: int | None = None
    via: str = ""


def events_of(*, organization: Any, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """The organization's events (``None``: the events of no organization, e.g. failed
    sign-ins of unknown accounts), newest first."""
    f = filters or AuditFilters()
    qs = AuditEvent.objects.filter(organization=organization)
    if f.since is not None:
        qs = qs.filter(at__gte=day_start(f.since))
    if f.until is not None:
        qs = qs.filter(at__lt=day_start(f.until + timedelta(days=1)))
    if f.action:
        qs = qs.filter(action=f.action)
    if f.user_id is not None:
        qs = qs.filter(user_id=f.user_id)
    if f.via:
        qs = qs.filter(via=f.via)
    return qs.order_by("-at", "-id")


def user_names(*, ids: Iterable[int | None]) -> dict[int, str]:
    """``{user id: email}`` of the users that still exist."""
    from django.contrib.auth import get_user_model

    wanted = {i for i in ids if i is not None}
    found = get_user_model().objects.filter(pk__in=wanted).values_list("pk", "email")
    return dict(found)


def event_rows(*, events: Iterable[AuditEvent], names: dict[int, str]) -> Iterator[list[Any]]:
    """Each event as the values of :data:`COLUMNS`."""
    for e in events:
        user = names.get(e.user_id, f"user #{e.user_id}") if e.user_id is not None else ""
        yield [
            timezone.localtime(e.at).isoformat(timespec="seconds"),
            e.via,
            e.user_id,
            user,
            e.membership_id,
            e.address,
            e.action,
            e.object_type,
            e.object_id,
            e.summary,
        ]
