"""Checks every service makes the same way: whose objects, and what time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

#: a client's clock may run a little fast; further ahead than this is a mistake
CLOCK_SKEW = timedelta(minutes=5)


def check_same_org(organization: Any, **objects: Any) -> None:
    """Refuse any object (stage, channel, member, …) that belongs to another organization."""
    for field, obj in objects.items():
        if obj is not None and obj.organization_id != organization.pk:
            raise ValidationError({field: "Not found in this organization."})


def name_free(*, model: Any, organization: Any, name: str, what: str, other: Any = None) -> None:
    """Refuse a name another row of the organization's list already has (any case): a
    ``ValidationError`` on ``name``. ``other`` is the row being renamed (its own name is
    free)."""
    taken = model.objects.for_org(organization).filter(name__iexact=name)
    if other is not None:
        taken = taken.exclude(pk=other.pk)
    if taken.exists():
        raise ValidationError({"name": f"There is already a {what} called {name}."})


def checked_at(at: datetime | None, field: str = "at") -> datetime:
    """When something happened: now if not given; never in the future.

    A time up to ``CLOCK_SKEW`` ahead is taken as now, so a fast clock cannot date an event
    after the next one recorded "now"; further ahead is refused.
    """
    now = timezone.now()
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise ValidationError({field: "This date is in the future."})
    return min(at, now)


def writer_user(organization: Any, by: Any) -> Any:
    """The user a member writes as (None for no member), checked to be of the organization."""
    check_same_org(organization, by=by)
    return by.user if by is not None else None
