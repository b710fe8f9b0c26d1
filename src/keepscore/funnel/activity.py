"""The activity report as data: counts per bucket (week, month or quarter) and member, the
totals, and its JSON — shared by the page, ``keepscore activity`` and ``GET /activity``.

Every count comes from ``keepscore.funnel.services.activity_counts`` (docs/numbers.md,
"Activity counts"); the share of conversations won from ``services.rate``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.funnel import services
from keepscore.funnel.filters import month_start
from keepscore.funnel.services import GRAINS, ActivityBucket, Period

DEFAULT_GRAIN = "month"
BY_MEMBER, BY_ALL = "member", "all"
DEFAULT_BY = BY_MEMBER
BY_CHOICES = (BY_MEMBER, BY_ALL)
GRAIN_LABELS = {"week": "Week", "month": "Month", "quarter": "Quarter"}
BY_LABELS = {BY_MEMBER: "Member", BY_ALL: "All members together"}
#: the count columns, in the order shown, with their headings
COLUMNS = (
    ("call_attempts", "Call attempts"),
    ("connects", "Connects"),
    ("sales_conversations", "Sales conversations"),
    ("qualifying", "Qualifying"),
    ("meetings", "Meetings"),
    ("presentations", "Presentations"),
    ("proposals", "Proposals"),
    ("conversations_won", "Conversations won"),
)
COUNT_FIELDS = tuple(name for name, _label in COLUMNS)
#: the name of the quarter starting in each month
_QUARTERS = {1: "Q1", 4: "Q2", 7: "Q3", 10: "Q4"}


def activity_default_period(today: date | None = None) -> Period:
    """The last 3 full calendar months before the month of ``today`` (local date)."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return Period(month_start(end, back=2), end)


def grain_parse(value: str | None) -> str:
    """week, month or quarter (month when empty); ValueError otherwise."""
    text = (value or "").strip().lower()
    if not text:
        return DEFAULT_GRAIN
    if text not in GRAINS:
        raise ValueError(f"grain is one of {', '.join(GRAINS)}, not {text[:40]!r}")
    return text


def by_member_parse(value: str | None) -> bool:
    """Whether the counts are per member: ``member`` (the default) or ``all``; ValueError
    otherwise."""
    text = (value or "").strip().lower()
    if not text:
        return DEFAULT_BY == BY_MEMBER
    if text not in BY_CHOICES:
        raise ValueError(f"by is one of {', '.join(BY_CHOICES)}, not {text[:40]!r}")
    return text == BY_MEMBER


def bucket_label(start: date, grain: str) -> str:
    """``Week of 4 Mar 2024``, ``Mar 2024`` or ``Q1 2024``."""
    if grain == "week":
        return f"Week of {start.day} {start:%b %Y}"
    if grain == "quarter":
        return f"{_QUARTERS[start.month]} {start.year}"
    return f"{start:%b %Y}"


def won_share(bucket: ActivityBucket) -> float | None:
    """The share of the sales conversations that led to a won deal; None without any."""
    return services.rate(bucket.conversations_won, bucket.sales_conversations).rate


def bucket_dict(bucket: ActivityBucket) -> dict[str, Any]:
    """A row as JSON: the bucket's fields (``bucket_start`` as YYYY-MM-DD) and ``won_share``."""
    data = asdict(bucket)
    data["bucket_start"] = bucket.bucket_start.isoformat()
    data["won_share"] = won_share(bucket)
    return data


def activity_report(
    organization: Organization, period: Period, grain: str, by_member: bool
) -> tuple[list[ActivityBucket], list[ActivityBucket]]:
    """The rows (per member when asked) and the totals (one per bucket) of the period."""
    if not by_member:
        totals = services.activity_counts(organization, period, grain=grain, by_member=False)
        return totals, totals
    rows = services.activity_counts(organization, period, grain=grain, by_member=True)
    # every activity is in one member's row (or "(none)"): a bucket's total is their sum
    sums: dict[date, dict[str, int]] = {}
    for row in rows:
        bucket = sums.setdefault(row.bucket_start, dict.fromkeys(COUNT_FIELDS, 0))
        for name in COUNT_FIELDS:
            bucket[name] += getattr(row, name)
    starts = services.buckets(period, grain)
    totals = [
        ActivityBucket(
            bucket_start=start,
            member_id=None,
            member_label=services.ALL_MEMBERS,
            **sums.get(start, dict.fromkeys(COUNT_FIELDS, 0)),
        )
        for start in starts
    ]
    return rows, totals


def report_dict(organization: Organization, period: Period, grain: str, by_member: bool) -> dict:
    """The report as JSON (the CLI's ``--format json`` and ``GET /activity``)::

    {"period": {"from": "2024-01-01", "to": "2024-03-31"}, "grain": "month", "by": "member",
     "rows": [{"bucket_start": "2024-01-01", "member_id": 3, "member_label": "Sam Sales",
               "call_attempts": 4, ..., "conversations_won": 1, "won_share": 0.5}],
     "totals": [{"bucket_start": "2024-01-01", "member_id": null,
                 "member_label": "All members", ...}]}
    """
    rows, totals = activity_report(organization, period, grain, by_member)
    return {
        "period": period.as_dict(),
        "grain": grain,
        "by": BY_MEMBER if by_member else BY_ALL,
        "rows": [bucket_dict(b) for b in rows],
        "totals": [bucket_dict(b) for b in totals],
    }
