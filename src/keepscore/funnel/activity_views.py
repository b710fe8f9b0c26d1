"""The activity report: ``o/<slug:org>/funnel/activity/?from=&to=&grain=&by=``.

Counts of call attempts, connects, sales conversations, qualifying conversations, meetings,
presentations and proposals per bucket (week, month or quarter) and member, and how many sales
conversations led to a won deal (docs/numbers.md, "Activity counts").

Every figure comes from ``keepscore.funnel.services``: the rows from ``activity_counts``, the
totals row from the same service without ``by_member``, the share of conversations won from
``services.rate``. The view only reads the filters and formats. The parsing helpers here
(:func:`activity_default_period`, :func:`grain_parse`, :func:`by_member_parse`) and
:func:`report_dict` are shared with ``keepscore activity`` and ``GET /activity``.

Bad filters show the form with the message at the field and status 400; an htmx request gets
status 200 (htmx swaps only 2xx responses).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.common.forms import DateField
from keepscore.common.views import org_view
from keepscore.funnel import services
from keepscore.funnel.filters import month_start
from keepscore.funnel.services import GRAINS, ActivityBucket, Period
from keepscore.funnel.views import BAD_FILTERS
from keepscore.reports.charts import format_value

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
    totals = services.activity_counts(organization, period, grain=grain, by_member=False)
    rows = (
        services.activity_counts(organization, period, grain=grain, by_member=True)
        if by_member
        else totals
    )
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


class ActivityFilterForm(forms.Form):
    from_ = DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="YYYY-MM-DD",
    )
    to = DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    grain = forms.CharField(
        label="Per",
        required=False,
        max_length=40,
        widget=forms.Select(choices=[(g, GRAIN_LABELS[g]) for g in GRAINS]),
    )
    by = forms.CharField(
        label="Rows",
        required=False,
        max_length=40,
        widget=forms.Select(choices=[(b, BY_LABELS[b]) for b in BY_CHOICES]),
    )

    def __init__(self, data: Any, *, default: Period, **kw: Any) -> None:
        # an empty grain or grouping is the default one, and the select shows it
        values = {name: data.get(name) or "" for name in ("from", "to", "grain", "by")}
        values["grain"] = values["grain"].strip() or DEFAULT_GRAIN
        values["by"] = values["by"].strip() or DEFAULT_BY
        super().__init__(values, **kw)
        self.default = default
        self.fields["from_"].widget.attrs.update({"placeholder": default.start.isoformat()})
        self.fields["to"].widget.attrs.update({"placeholder": default.end.isoformat()})

    def add_prefix(self, field_name: str) -> str:
        # "from" is a Python keyword: the field is from_, its parameter "from"
        return "from" if field_name == "from_" else super().add_prefix(field_name)

    def clean_grain(self) -> str:
        try:
            return grain_parse(self.cleaned_data.get("grain"))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_by(self) -> bool:
        try:
            return by_member_parse(self.cleaned_data.get("by"))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "from_" not in data or "to" not in data:
            return data  # a date is already refused
        start = data["from_"] or self.default.start
        end = data["to"] or self.default.end
        if start > end:
            field = "to" if data["to"] else "from_"
            self.add_error(field, f"The end date ({end}) is before the start date ({start}).")
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        return Period(data.get("from_") or self.default.start, data.get("to") or self.default.end)


@dataclass(frozen=True)
class Row:
    """A row of the table as shown: the label and the formatted cells."""

    member_id: int | None
    label: str
    counts: list[str]
    share: str


def _row(bucket: ActivityBucket) -> Row:
    return Row(
        member_id=bucket.member_id,
        label=bucket.member_label,
        counts=[format_value(getattr(bucket, name), "count") for name in COUNT_FIELDS],
        share=format_value(won_share(bucket), "percent"),
    )


def report_context(organization: Organization, form: ActivityFilterForm) -> dict[str, Any]:
    """What the page shows, all from the services, for valid filters."""
    period = form.period()
    grain = form.cleaned_data["grain"]
    by_member = form.cleaned_data["by"]
    rows, totals = activity_report(organization, period, grain, by_member)
    tables = [
        {
            "start": total.bucket_start,
            "label": bucket_label(total.bucket_start, grain),
            "partial": total.bucket_start < period.start,
            "rows": [_row(b) for b in rows if b.bucket_start == total.bucket_start]
            if by_member
            else [],
            "total": _row(total),
        }
        for total in totals
    ]
    return {
        "report": True,
        "period": period,
        "grain": grain,
        "grain_label": GRAIN_LABELS[grain],
        "by_member": by_member,
        "columns": [label for _name, label in COLUMNS],
        "tables": tables,
        "has_members": any(t["rows"] for t in tables),
    }


@org_view
@require_safe
def activity(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Activity counts per bucket and member; any member may read them."""
    details = getattr(request, "htmx", None)
    # a history restore (back button after an htmx swap) needs the whole page
    htmx = bool(details) and not getattr(details, "history_restore_request", False)
    form = ActivityFilterForm(request.GET, default=activity_default_period())
    context: dict[str, Any] = {"nav": "activity", "form": form, "default": form.default}
    if form.is_valid():
        context.update(report_context(organization, form))
    status = 200 if form.is_valid() or htmx else BAD_FILTERS
    return render(request, "funnel/activity.html", context, status=status)
