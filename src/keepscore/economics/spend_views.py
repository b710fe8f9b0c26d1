"""Sources & spend pages: a month's spend per channel and campaign, the year's table, the
CSV import and export, and the cash position with its runway. Every member reads them;
owners and marketing members change them.

Views stay thin: forms parse, ``economics.services`` and ``economics.checks`` decide. A POST that
fails validation re-renders its page with status 422.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from keepscore.accounts.models import Organization
from keepscore.accounts.permissions import MARKETING
from keepscore.common.forms import add_service_errors
from keepscore.common.months import month_add, month_str, months_between
from keepscore.common.views import may, org_view
from keepscore.economics import checks, selectors, services
from keepscore.economics.spend_forms import (
    CashForm,
    MonthPickForm,
    SpendMonthForm,
    SpendUploadForm,
)
from keepscore.exports.writers import Table, csv_chunks
from keepscore.imports import spend as spend_imports
from keepscore.leads.models import Channel

INVALID = 422
GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _page(
    request: HttpRequest, template: str, sub: str, status: int = 200, **context: Any
) -> HttpResponse:
    context = {"nav": "spend", "sub": sub, "can_edit": may(request, MARKETING), **context}
    return render(request, template, context, status=status)


def _this_month() -> date:
    return timezone.localdate().replace(day=1)


def _month_asked(request: HttpRequest) -> tuple[date, str]:
    """The ``?month=`` asked for (this month when absent), and why it was not taken."""
    text = request.GET.get("month", "")
    if not text.strip():
        return _this_month(), ""
    try:
        return checks.month_check(text, ahead=checks.MAX_MONTHS_AHEAD), ""
    except ValidationError as error:
        return _this_month(), " ".join(error.messages)


def _url(name: str, organization: Organization, month: date | None = None) -> str:
    url = reverse(name, kwargs={"org": organization.slug})
    return f"{url}?month={month_str(month)}" if month is not None else url


class YearTable:
    """The year's spend: a line per channel, a column per month, and the totals."""

    def __init__(self, table: selectors.SpendTable, year: int) -> None:
        self.year = year
        self.months = months_between(date(year, 1, 1), date(year, 12, 1))
        self.total = table.total
        self.month_totals = [table.month_totals.get(m) for m in self.months]
        self.lines = [
            (
                name,
                [table.cells.get((m, key)) for m in self.months],
                table.channel_totals.get(key),
            )
            for key, name in table.channels.items()
        ]


def _month_form(
    organization: Organization, month: date, table: selectors.SpendTable, data: Any = None
) -> SpendMonthForm:
    channels = list(Channel.objects.for_org(organization).filter(active=True))
    active = {c.key for c in channels}
    campaigns = [r for r in table.rows if r.month == month and r.campaign and r.channel in active]
    initial: dict[str, Any] = {}
    for r in table.rows:
        if r.month != month:
            continue
        if not r.campaign:
            initial[f"amount__{r.channel}"] = f"{r.amount:.2f}"
        else:
            initial[f"campaign__{r.id}"] = f"{r.amount:.2f}"
    return SpendMonthForm(data, channels=channels, campaigns=campaigns, initial=initial)


@org_view
@GET_POST
def spend(request: HttpRequest, organization: Organization) -> HttpResponse:
    month, month_problem = _month_asked(request)
    if request.method == "POST" and month_problem:
        raise PermissionDenied(month_problem)  # a forged month: the page never sends one
    year_table = selectors.spend_for(
        organization=organization,
        first_month=date(month.year, 1, 1),
        last_month=date(month.year, 12, 1),
    )
    form = _month_form(organization, month, year_table)
    status = 200
    if request.method == "POST":
        form = _month_form(organization, month, year_table, request.POST)
        if form.is_valid():
            try:
                counts = services.spend_month_set(
                    organization=organization,
                    month=month,
                    entries=form.entries(),
                    by=request.membership,  # type: ignore[attr-defined]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                changed = counts["created"] + counts["updated"] + counts["cleared"]
                messages.success(request, f"Spend for {month:%B %Y} saved ({changed} changed).")
                return HttpResponseRedirect(_url("spend", organization, month))
        status = INVALID
    inactive = [
        r
        for r in year_table.rows
        if r.month == month and r.channel not in {c.key for c in form.channels}
    ]
    month_total = year_table.month_totals.get(month)
    from keepscore.plan.check import spend_check  # the plan reads the spend, not the reverse

    return _page(
        request,
        "economics/spend.html",
        "spend",
        status=status,
        month=month,
        month_problem=month_problem,
        month_total=month_total,
        picker=MonthPickForm(initial={"month": month_str(month)}),
        form=form,
        inactive=inactive,
        year=YearTable(year_table, month.year),
        against_plan=spend_check(organization, month),
        previous_url=_url("spend", organization, month_add(month, -1))
        if month.year > 1900 or month.month > 1
        else "",
        next_url=_url("spend", organization, month_add(month, 1))
        if month_add(month, 1) <= month_add(_this_month(), 12)
        else "",
        action=_url("spend", organization, month),
        upload=SpendUploadForm(),
        export_url=reverse("spend_export", kwargs={"org": organization.slug})
        + f"?year={month.year}",
    )


@org_view
@GET_POST
def spend_import(request: HttpRequest, organization: Organization) -> HttpResponse:
    posted = request.method == "POST"
    form = SpendUploadForm(request.POST, request.FILES) if posted else SpendUploadForm()
    result = None
    status = 200
    if request.method == "POST":
        status = 400  # no file (a file field cannot show again what was sent)
        if form.is_valid():
            status = INVALID
            result = spend_imports.spend_import(
                organization,
                form.cleaned_data["file"],
                request.membership,  # type: ignore[attr-defined]
                dry_run=form.cleaned_data["dry_run"],
            )
            if not result.failed:
                status = 200
                if result.imported:
                    messages.success(
                        request,
                        f"Imported {result.rows} spend rows ({result.created} new, "
                        f"{result.updated} changed, {result.unchanged} unchanged).",
                    )
                    return HttpResponseRedirect(_url("spend", organization))
    return _page(
        request,
        "economics/spend_import.html",
        "import",
        status=status,
        form=form,
        result=result,
        shown=result.report_lines()[:500] if result is not None else [],
    )


@org_view
@require_safe
def spend_export(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The spend as CSV in the importer's columns: ``?year=`` one year, else all of it."""
    first = last = None
    name = f"spend-{organization.slug}"
    year_text = request.GET.get("year", "").strip()
    if year_text:
        from keepscore.common.months import year_check

        try:
            year = year_check(year_text)
        except ValidationError as error:
            # a download: the reason as text, not all years as if none was asked for
            return HttpResponseBadRequest(
                " ".join(error.messages), content_type="text/plain; charset=utf-8"
            )
        first, last = date(year, 1, 1), date(year, 12, 1)
        name += f"-{year}"
    table = selectors.spend_for(organization=organization, first_month=first, last_month=last)
    rows = Table("spend", selectors.EXPORT_COLUMNS, selectors.spend_csv_rows(table=table))
    # a few rows a month: one response (the spend of years is kilobytes)
    response = HttpResponse("".join(csv_chunks(rows)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@org_view
@GET_POST
def cash(request: HttpRequest, organization: Organization) -> HttpResponse:
    current = selectors.cash_current(organization=organization)
    initial: dict[str, Any] = {"month": month_str(_this_month())}
    if current is not None:
        initial.update(
            cash_on_hand=f"{current.cash_on_hand:.2f}",
            monthly_fixed_costs=f"{current.monthly_fixed_costs:.2f}",
        )
    form = CashForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.cash_set(
                    organization=organization,
                    month=form.cleaned_data["month"],
                    cash_on_hand=form.cleaned_data["cash_on_hand"],
                    monthly_fixed_costs=form.cleaned_data["monthly_fixed_costs"],
                    note=form.cleaned_data["note"],
                    by=request.membership,  # type: ignore[attr-defined]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Cash position for {saved.month:%B %Y} saved.")
                return HttpResponseRedirect(_url("cash", organization))
        status = INVALID
    return _page(
        request,
        "economics/cash.html",
        "cash",
        status=status,
        form=form,
        current=selectors.cash_row(position=current) if current is not None else None,
        history=selectors.cash_history(organization=organization),
    )
