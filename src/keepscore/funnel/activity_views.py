"""The activity report: ``o/<slug:org>/funnel/activity/?from=&to=&grain=&by=``.

Counts of call attempts, connects, sales conversations, qualifying conversations, meetings,
presentations and proposals per bucket (week, month or quarter) and member, and how many sales
conversations led to a won deal (docs/numbers.md, "Activity counts").

Every figure comes from ``keepscore.funnel.activity.activity_counts`` (the reference's
``services.activity_counts`` read from the summaries, or grouped on the database): the rows,
the totals row (their sums, or the counts without ``by_member``); the share of conversations
won from ``stats.rate``. The view only reads the filters and formats; the report itself is
``keepscore.funnel.activity`` (shared with ``keepscore activity`` and ``GET /activity``).

Bad filters show the form with the message at the field and status 400; an htmx request gets
status 200 (htmx swaps only 2xx responses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.common.periods import GRAINS, Period
from keepscore.common.views import org_view
from keepscore.funnel.activity import (
    BY_CHOICES,
    BY_LABELS,
    COLUMNS,
    COUNT_FIELDS,
    DEFAULT_BY,
    DEFAULT_GRAIN,
    GRAIN_LABELS,
    activity_default_period,
    activity_report,
    bucket_label,
    by_member_parse,
    grain_parse,
    span_check,
    won_share,
)
from keepscore.funnel.filters import PeriodProblem
from keepscore.funnel.forms import PeriodForm
from keepscore.funnel.selectors import ActivityBucket
from keepscore.funnel.views import BAD_FILTERS
from keepscore.reports.charts import format_value


class ActivityFilterForm(PeriodForm):
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
        super().__init__(values, default=default, **kw)

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
        data = super().clean()
        if not self.errors and "grain" in data:
            try:
                span_check(self.period(), data["grain"])
            except PeriodProblem as problem:
                self.add_error("from_", str(problem))
        return data


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
    """What the page shows, all from the selectors, for valid filters."""
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
