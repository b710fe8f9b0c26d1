"""Two reports of the funnel pages:

- ``o/<slug:org>/funnel/jobs/?from=&to=&month=``: "Marketing & sales" — per member the time
  split beside what each job produced (``keepscore.funnel.jobs``), months as rows or, with
  ``month``, that one month;
- ``o/<slug:org>/funnel/objections/?from=&to=``: the objections report, ranked, by month, by
  the stage at the time and by channel, with each tag's trend (``keepscore.funnel.objections``).

The views only read the filters and format. Bad filters show the form with the message at the
field and status 400; an htmx request gets status 200 (htmx swaps only 2xx responses).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.common.views import org_view
from keepscore.funnel.filters import PeriodProblem, period_resolve
from keepscore.funnel.forms import PeriodForm
from keepscore.funnel.jobs import (
    COUNT_COLUMNS,
    COUNT_FIELDS,
    JobCounts,
    MemberJobs,
    jobs_default_period,
    jobs_report,
    period_check,
    period_months,
)
from keepscore.funnel.links import job_links
from keepscore.funnel.objections import (
    objections_default_period,
    objections_report,
)
from keepscore.funnel.views import BAD_FILTERS
from keepscore.reports.charts import NO_VALUE, format_value, sparkline


class ReportPeriodForm(PeriodForm):
    """From and to, at most ``MAX_MONTHS`` months apart."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            period_check(self.period())
        except PeriodProblem as problem:
            self.add_error("from_", str(problem))
        return data


class JobsFilterForm(ReportPeriodForm):
    month = forms.CharField(
        label="Month",
        required=False,
        max_length=10,
        widget=forms.Select(),
    )

    def __init__(self, data: Any, *, default: Period, **kw: Any) -> None:
        values = {name: data.get(name) or "" for name in ("from", "to", "month")}
        super().__init__(values, default=default, **kw)
        choices = [("", "Every month")]
        try:  # the months of the period asked for, when it can be read
            period = period_resolve(_day(values["from"]), _day(values["to"]), default)
            period_check(period)
        except (PeriodProblem, ValueError):
            period = default
        choices += [(f"{m.start:%Y-%m}", f"{m.start:%b %Y}") for m in period_months(period)]
        self.fields["month"].widget.choices = choices

    def clean_month(self) -> date | None:
        text = (self.cleaned_data.get("month") or "").strip()
        if not text:
            return None
        try:
            day = date.fromisoformat(f"{text}-01" if len(text) == 7 else text)
        except ValueError:
            raise forms.ValidationError(f"Give a month as YYYY-MM, not {text[:20]!r}.") from None
        return day.replace(day=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        month = data.get("month")
        if month is not None and not self.errors:
            period = self.period()
            if not period.start.replace(day=1) <= month <= period.end:
                self.add_error(
                    "month", f"{month:%b %Y} is not in the period {period.start} to {period.end}."
                )
        return data


def _day(text: str) -> date | None:
    return date.fromisoformat(text.strip()) if text.strip() else None


def _htmx(request: HttpRequest) -> bool:
    details = getattr(request, "htmx", None)
    # a history restore (back button after an htmx swap) needs the whole page
    return bool(details) and not getattr(details, "history_restore_request", False)


# --- marketing & sales --------------------------------------------------------------------------


def split_text(member: MemberJobs) -> str:
    """``80% marketing · 20% sales``, or what the roles say when no split is set."""
    if member.marketing_share is not None:
        return f"{member.marketing_share}% marketing · {member.sales_share}% sales"
    jobs = [r for r in member.roles if r in ("marketing", "sales")]
    if member.member_id is None:
        return NO_VALUE
    return f"not set ({' and '.join(jobs) or 'no job role'})"


def _cells(counts: JobCounts, links: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Each column's text, with the lead list of its leads when it has one."""
    links = links or {}
    cells = [
        (
            NO_VALUE
            if getattr(counts, name) is None
            else format_value(getattr(counts, name), "count"),
            links.get(name, ""),
        )
        for name in COUNT_FIELDS
    ]
    margin = (
        "not recorded" if counts.margin is None else format_value(float(counts.margin), "money")
    )
    money = [(format_value(float(counts.revenue), "money"), ""), (margin, "")]
    return [*cells, *money]


def jobs_context(organization: Organization, form: JobsFilterForm) -> dict[str, Any]:
    period = form.period()
    report = jobs_report(organization, period)
    month = form.cleaned_data.get("month")
    links = job_links(organization, report.qualified_stage)

    def days(start: date) -> Period:
        """The month's days inside the period (the first and last may be partial)."""
        whole = Period.month(start)
        return Period(max(whole.start, period.start), min(whole.end, period.end))

    def chosen(months: list[tuple[date, JobCounts]]) -> list[tuple[date, JobCounts]]:
        return [(m, c) for m, c in months if month is None or m == month]

    def cells(
        member: MemberJobs | None, counts: JobCounts, start: date | None
    ) -> list[tuple[str, str]]:
        """A row's cells; the lead lists of the member's (None: everyone's) counts over the
        month ``start`` (None: the period). "(no member)" has none."""
        if member is not None and member.member_id is None:
            return _cells(counts)
        who = None if member is None else member.member_id
        return _cells(counts, links(who, period if start is None else days(start), counts))

    members = [
        {
            "id": m.member_id,
            "label": m.label,
            "roles": ", ".join(m.roles) or NO_VALUE,
            "split": split_text(m),
            "marketing_share": m.marketing_share,
            "months": [
                {"start": start, "label": f"{start:%b %Y}", "cells": cells(m, c, start)}
                for start, c in chosen(m.months)
            ],
            "total": cells(m, m.total, None),
            "shown_total": cells(m, chosen(m.months)[0][1], month)
            if month
            else cells(m, m.total, None),
        }
        for m in report.members
    ]
    totals = chosen(report.months)
    return {
        "report": True,
        "period": period,
        "month": month,
        "month_choices": [(s, f"{s:%b %Y}") for s, _c in report.months],
        "columns": [(label, job) for _name, label, job in COUNT_COLUMNS],
        "members": members,
        "grand_total": cells(None, totals[0][1], month)
        if month
        else cells(None, report.total, None),
        "qualified_stage": report.qualified_stage,
    }


@org_view
@require_safe
def jobs(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Marketing & sales: each member's split and both jobs' output; any member may read it."""
    form = JobsFilterForm(request.GET, default=jobs_default_period())
    context: dict[str, Any] = {"nav": "jobs", "form": form, "default": form.default}
    if form.is_valid():
        context.update(jobs_context(organization, form))
    status = 200 if form.is_valid() or _htmx(request) else BAD_FILTERS
    return render(request, "funnel/jobs.html", context, status=status)


# --- objections ---------------------------------------------------------------------------------


def _p_text(p: float | None) -> str:
    if p is None:
        return NO_VALUE
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def objections_context(organization: Organization, form: ReportPeriodForm) -> dict[str, Any]:
    period = form.period()
    report = objections_report(organization, period)
    tags = report.tags

    def rows(breakdown: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "key": b.key,
                "label": b.label,
                "cells": [format_value(n, "count") for n in b.counts],
                "total": format_value(b.total, "count"),
            }
            for b in breakdown
        ]

    trends = [
        {
            "tag": t.tag,
            "label": t.label,
            "total": t.total,
            "counts": t.counts,
            "chart": sparkline(
                t.counts,
                labels=[f"{m:%b %Y}" for m in t.months],
                title=f"{t.label}: objections per month",
            ),
            "slope": format_value(t.slope_per_month, "number", signed=True),
            "p": _p_text(t.p_value),
            "enough": t.enough,
            "rising": t.rising,
        }
        for t in report.trends
        if t.total
    ]
    first = report.trends[0].months[0] if report.trends else period.start
    last = report.trends[0].months[-1] if report.trends else period.end
    return {
        "report": True,
        "period": period,
        "total": report.total,
        "ranked": [
            {
                "tag": t.tag,
                "label": t.label,
                "count": format_value(t.count, "count"),
                "share": format_value(t.share, "percent"),
            }
            for t in tags
        ],
        "tag_labels": [t.label for t in tags],
        "tag_keys": [t.tag for t in tags],
        "months": rows(report.months),
        "stages": rows(report.stages),
        "channels": rows(report.channels),
        "trends": trends,
        "trend_from": first,
        "trend_to": last,
    }


@org_view
@require_safe
def objections(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The objections report; any member may read it."""
    form = ReportPeriodForm(request.GET, default=objections_default_period())
    context: dict[str, Any] = {"nav": "objections", "form": form, "default": form.default}
    if form.is_valid():
        context.update(objections_context(organization, form))
    status = 200 if form.is_valid() or _htmx(request) else BAD_FILTERS
    return render(request, "funnel/objections.html", context, status=status)
