"""The activity report as data: counts per bucket (week, month or quarter) and member, the
totals, and its JSON — shared by the page, ``keepscore activity`` and ``GET /activity``.

The counts are those of ``keepscore.funnel.selectors.activity_counts``, the reference
(docs/numbers.md, "Activity counts"), read without a pass over the activities in Python:
whole months per month or quarter from the summaries (``MonthCount``, kept by the history
recorder), any other period or weeks with one grouped query on the database
(:func:`activity_counts`); the share of conversations won from ``stats.rate``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, ActivityKind
from keepscore.common.months import month_start
from keepscore.common.periods import GRAINS, Period, bucket_count, bucket_start, buckets
from keepscore.funnel import selectors, summary
from keepscore.funnel.filters import PeriodProblem
from keepscore.funnel.groupings import NONE_LABEL, member_label
from keepscore.funnel.jobs import Month, month_bucket, month_split
from keepscore.funnel.selectors import ActivityBucket
from keepscore.funnel.stats import rate
from keepscore.funnel.summary import readers
from keepscore.leads.models import DealOutcome

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
#: the most buckets a report shows: about 11 years of weeks, 50 years of months (a longer
#: period by week asked for a million-row page and took minutes to draw)
MAX_BUCKETS = 600
#: what to choose instead of too long a period, per grain
_COARSER = {
    "week": " or count per month or quarter",
    "month": " or count per quarter",
    "quarter": "",
}
#: the name of the quarter starting in each month
_QUARTERS = {1: "Q1", 4: "Q2", 7: "Q3", 10: "Q4"}


def activity_default_period(today: date | None = None) -> Period:
    """The last 3 full calendar months before the month of ``today`` (local date)."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return Period(month_start(end, back=2), end)


def span_check(period: Period, grain: str) -> None:
    """PeriodProblem (for ``from``) when the period holds more than ``MAX_BUCKETS`` buckets
    of the grain."""
    count = bucket_count(period, grain)
    if count > MAX_BUCKETS:
        raise PeriodProblem(
            "from",
            f"{period.start} to {period.end} is {count:,} {grain}s; the report shows at most "
            f"{MAX_BUCKETS}: choose a shorter period{_COARSER[grain]}.",
        )


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
    return rate(bucket.conversations_won, bucket.sales_conversations).rate


def bucket_dict(bucket: ActivityBucket) -> dict[str, Any]:
    """A row as JSON: the bucket's fields (``bucket_start`` as YYYY-MM-DD) and ``won_share``."""
    data = asdict(bucket)
    data["bucket_start"] = bucket.bucket_start.isoformat()
    data["won_share"] = won_share(bucket)
    return data


def _bucket_bounds(period: Period, grain: str) -> list[Month]:
    """Each bucket overlapping the period with its ``[since, until)`` clipped to the period."""
    since, until = period.bounds()
    starts = buckets(period, grain)
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else period.end
        low, high = Period(start, max(start, end)).bounds()
        out.append(Month(start, max(since, low), min(until, high)))
    return out


def _grouped(
    organization: Organization, period: Period, grain: str, by_member: bool
) -> dict[tuple[date, int | None], dict[str, int]]:
    """The counts per bucket (and member) in two grouped queries on the database: the
    activities by bucket, member, kind and with_buyer; the sales conversations whose lead has
    a won outcome dated at or after them (so its last one is). Naming the kinds lets the
    (organization, kind, at, with_buyer) index answer the period's range by kind (every
    activity has one of them: the model's choices)."""
    bounds = _bucket_bounds(period, grain)
    since, until = period.bounds()
    in_period = (
        Activity.objects.for_org(organization).filter(at__gte=since, at__lt=until).order_by()
    )
    won_later = DealOutcome.objects.filter(
        lead_id=OuterRef("lead_id"), result=DealOutcome.Result.WON, at__gte=OuterRef("at")
    )
    member = ("by_id",) if by_member else ()
    out: dict[tuple[date, int | None], dict[str, int]] = {}

    def tally(row: dict[str, Any]) -> dict[str, int]:
        key = (bounds[row["bucket"]].start, row["by_id"] if by_member else None)
        return out.setdefault(key, {})

    for row in (
        in_period.filter(kind__in=ActivityKind.values)
        .annotate(bucket=month_bucket("at", bounds))
        .values("bucket", *member, "kind", "with_buyer")
        .annotate(n=Count("pk"))
    ):
        found = tally(row)
        name = f"activities.{row['kind']}"
        found[name] = found.get(name, 0) + row["n"]
        if row["with_buyer"] and row["kind"] in SALES_CONVERSATION_KINDS:
            found["sales_conversations"] = found.get("sales_conversations", 0) + row["n"]
    for row in (
        in_period.filter(kind__in=SALES_CONVERSATION_KINDS, with_buyer=True)
        .filter(Exists(won_later))
        .annotate(bucket=month_bucket("at", bounds))
        .values("bucket", *member)
        .annotate(n=Count("pk"))
    ):
        tally(row)["conversations_won"] = row["n"]
    return out


def _counts(
    organization: Organization, period: Period, grain: str, by_member: bool
) -> dict[tuple[date, int | None], dict[str, int]]:
    """The counts per bucket start (and member), by metric name (``activities.<kind>``,
    ``sales_conversations``, ``conversations_won``)."""
    if grain == "week" or not summary.ready(organization):
        return _grouped(organization, period, grain, by_member)
    edges, whole = month_split(period)
    counts: dict[tuple[date, int | None], dict[str, int]] = defaultdict(dict)
    parts = [_grouped(organization, edge, grain, by_member) for edge in edges]
    if whole is not None:
        parts.append(readers.activity_months(organization, whole, by_member))
    for part in parts:
        for (start, member), found in part.items():
            tally = counts[(bucket_start(start, grain), member)]
            for name, n in found.items():
                tally[name] = tally.get(name, 0) + n
    return counts


def activity_counts(
    organization: Organization, period: Period, grain: str = "month", by_member: bool = False
) -> list[ActivityBucket]:
    """``selectors.activity_counts`` (the same rows, in the same order) without reading the
    activities into Python: per month or quarter, the whole months from the summaries and a
    partial first or last month grouped on the database; per week, grouped on the database."""
    counts = _counts(organization, period, grain, by_member)
    if by_member:
        ids = {member for _start, member in counts}
        labels = {
            m.pk: member_label(m.user.first_name, m.user.last_name, m.user.email)
            for m in Membership.objects.filter(
                organization=organization, pk__in=[pk for pk in ids if pk is not None]
            ).select_related("user")
        }
        members = sorted(
            ((pk, labels.get(pk, NONE_LABEL) if pk is not None else NONE_LABEL) for pk in ids),
            key=lambda m: (m[1], m[0] or 0),
        )
    else:
        members = [(None, selectors.ALL_MEMBERS)]
    fields = {f"activities.{kind}": name for kind, name in selectors._KIND_FIELD.items()}
    fields.update(sales_conversations="sales_conversations", conversations_won="conversations_won")
    out = []
    for start in buckets(period, grain):
        for member, label in members:
            found = counts.get((start, member), {})
            values = dict.fromkeys(COUNT_FIELDS, 0)
            for metric, name in fields.items():
                values[name] += found.get(metric, 0)
            out.append(
                ActivityBucket(bucket_start=start, member_id=member, member_label=label, **values)
            )
    return out


def activity_report(
    organization: Organization, period: Period, grain: str, by_member: bool
) -> tuple[list[ActivityBucket], list[ActivityBucket]]:
    """The rows (per member when asked) and the totals (one per bucket) of the period;
    PeriodProblem when it holds too many buckets (``span_check``: the doors ask first)."""
    span_check(period, grain)
    if not by_member:
        totals = activity_counts(organization, period, grain=grain, by_member=False)
        return totals, totals
    rows = activity_counts(organization, period, grain=grain, by_member=True)
    # every activity is in one member's row (or "(none)"): a bucket's total is their sum
    sums: dict[date, dict[str, int]] = {}
    for row in rows:
        bucket = sums.setdefault(row.bucket_start, dict.fromkeys(COUNT_FIELDS, 0))
        for name in COUNT_FIELDS:
            bucket[name] += getattr(row, name)
    starts = buckets(period, grain)
    totals = [
        ActivityBucket(
            bucket_start=start,
            member_id=None,
            member_label=selectors.ALL_MEMBERS,
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
