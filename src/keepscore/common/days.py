"""Days: the dates a business records (their bounds, checked the same by every door), and
local days: a lead's days at a stage are counted in the organization's calendar days
("entered on 13 November, today is 4 December: 21 days"), the same on every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

#: The dates a business records. Outside them a date is a typo (0001, 9999), and at the edges
#: of Python's calendar "the next day" or a time-zone conversion overflows (a 500).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_MESSAGE = f"Enter a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}."


def date_check(day: date) -> None:
    """A ``ValidationError`` (code ``date_range``) unless ``EARLIEST_DATE <= day <=
    LATEST_DATE``."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


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


@dataclass(frozen=True)
class DateRange:
    """The days ``first`` to ``last``, both included; either end may be open (None). An end
    before its start is refused: a ``ValidationError`` naming ``last_field`` (every door says
    the same, never an empty answer)."""

    first: date | None = None
    last: date | None = None
    last_field: str = "to"

    def __post_init__(self) -> None:
        if self.first is not None and self.last is not None and self.last < self.first:
            raise ValidationError(
                {
                    self.last_field: (
                        f"The end date ({self.last}) is before the start date ({self.first})."
                    )
                }
            )

    def moments(self, field: str) -> Q:
        """``field`` (a moment) within the days, in the current time zone: from the first
        moment of ``first`` to before the first moment of the day after ``last``."""
        found = Q()
        if self.first is not None:
            found &= Q(**{f"{field}__gte": day_start(self.first)})
        if self.last is not None:
            found &= Q(**{f"{field}__lt": day_start(self.last + timedelta(days=1))})
        return found
