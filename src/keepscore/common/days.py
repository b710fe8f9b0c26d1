"""Local days: a lead's days at a stage are counted in the organization's calendar days
("entered on 13 November, today is 4 December: 21 days"), the same on every page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def days_since(at: datetime, today: date | None = None) -> int:
    """Calendar days from ``at``'s local day to ``today`` (0 on the same day, never less)."""
    today = today or timezone.localdate()
    return max(0, (today - timezone.localtime(at).date()).days)


def entered_before(days: int, today: date | None = None) -> datetime:
    """The moment before which something has been waiting at least ``days`` calendar days:
    ``days_since(at) >= days`` exactly when ``at < entered_before(days)``."""
    today = today or timezone.localdate()
    return day_start(today - timedelta(days=days - 1))
