"""The month's scorecard page, and what every scorecard page shares (frame, year, month, links).

Anyone in the organization reads the scorecard pages; owners and marketing members edit. The
other pages: targets, goals and manual metrics (``targets_views``), the monthly review
(``review_views``), the month's files (``export_views``). Views stay thin: forms parse,
``scorecard.services`` decides. A plain POST that fails validation re-renders its page with
status 422; an htmx POST gets the refreshed fragment with status 200 (htmx swaps only 2xx
responses).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect

from keepscore.accounts.models import Organization
from keepscore.accounts.permissions import MARKETING
from keepscore.common.months import month_add, month_parse, year_check
from keepscore.common.views import may, org_view
from keepscore.focus.selectors import kept_for as focus_kept
from keepscore.reports import presenter
from keepscore.reports.charts import RateRow, rate_tooltip, sparkline
from keepscore.reports.month import charts_kept
from keepscore.scorecard import kept
from keepscore.scorecard.links import row_links, stage_ids
from keepscore.scorecard.types import MetricRow

INVALID = 422
GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def render_page(
    request: HttpRequest, template: str, sub: str, status: int = 200, **context: Any
) -> HttpResponse:
    context = {"nav": "targets", "sub": sub, "can_edit": may(request, MARKETING), **context}
    return render(request, template, context, status=status)


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    if is_htmx(request):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def year_asked(request: HttpRequest) -> tuple[int, str]:
    """The ``?year=`` asked for (this year when absent), and why it was not taken."""
    text = request.GET.get("year", "")
    if not text.strip():
        return timezone.localdate().year, ""
    try:
        return year_check(text), ""
    except ValidationError as error:
        return timezone.localdate().year, " ".join(error.messages)


def page_url(name: str, organization: Organization, year: int | None = None, **kw: Any) -> str:
    url = reverse(name, kwargs={"org": organization.slug, **kw})
    return f"{url}?year={year}" if year is not None else url


def month_or_404(year: int, month: int) -> date:
    try:
        return month_parse(f"{year:04d}-{month:02d}")
    except ValidationError:
        raise Http404("No such month") from None


# --- the scorecard of a month ---------------------------------------------------------------

#: the dashboard's scorecard summary, in this order
DASHBOARD_METRICS = ("new_leads", "sales_conversations", "customers", "revenue", "close_rate")
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class Shown:
    """A scorecard row as the page shows it: the presenter's texts (``presenter.row_text``,
    the same as the PDF's and the command line's), its hover text and sparkline."""

    def __init__(self, row: MetricRow, labels: list[str]) -> None:
        self.row = row
        self.text = text = presenter.row_text(row)
        self.nodata = text.state == "nodata"
        self.title = ""
        rate = row.rate
        if rate is not None:
            self.title = rate_tooltip(RateRow.of(row.name, rate))
        trend = list(row.trend)
        self.spark = sparkline(
            trend, unit=row.unit, labels=labels[-len(trend) :], title=f"{row.name}, last 12 months"
        )


def trend_labels(month: date) -> list[str]:
    return [f"{month_add(month, -i):%b %Y}" for i in range(11, -1, -1)]


def scorecard_url(organization: Organization, month: date) -> str:
    return reverse(
        "scorecard_month",
        kwargs={"org": organization.slug, "year": f"{month:%Y}", "month": f"{month:%m}"},
    )


def _scorecard_page(request: HttpRequest, organization: Organization, month: date) -> HttpResponse:
    card = kept.scorecard_kept(organization, month)

    def shown() -> list[tuple[str, list[Shown]]]:
        labels = trend_labels(month)
        return [(group, [Shown(r, labels) for r in rows]) for group, rows in card.grouped()]

    # the rows' texts and sparklines, drawn once per scorecard kept
    groups = kept.remembered(organization, "scorecard-rows", kept.month_parts(month), shown)
    # each count of leads links to its leads (not kept: a link is cheap, and names ids)
    stages = stage_ids(organization)
    linked = [
        (group, [(r, row_links(organization, r.row, month, card.days, stages)) for r in rows])
        for group, rows in groups
    ]
    previous, following = month_add(month, -1), month_add(month, 1)
    exports = {
        ext: reverse(
            "scorecard_export",
            kwargs={
                "org": organization.slug,
                "year": f"{month:%Y}",
                "month": f"{month:%m}",
                "ext": ext,
            },
        )
        for ext in EXPORT_TYPES
        if ext != "pdf"  # the page asks the worker for it (scorecard_pdf)
    }
    context = {
        "nav": "scorecard",
        "sub": "scorecard",
        "can_edit": may(request, MARKETING),
        "card": card,
        "compared_with": presenter.compared_with(card),
        "month_to_date": presenter.month_to_date(card),
        "month": month,
        "groups": linked,
        "charts": charts_kept(organization, month),
        "previous_url": scorecard_url(organization, previous) if previous.year >= 1900 else "",
        "next_url": scorecard_url(organization, following) if following.year <= 2999 else "",
        "previous_month": previous,
        "next_month": following,
        "exports": exports,
        "pdf_url": reverse(
            "scorecard_pdf",
            kwargs={"org": organization.slug, "year": f"{month:%Y}", "month": f"{month:%m}"},
        ),
        "reviews": card.reviews,
        "kept": focus_kept(organization=organization, month=month),
        "plan_check": _plan_check(organization, month),
    }
    return render(request, "scorecard/scorecard.html", context)


def _plan_check(organization: Organization, month: date) -> Any:
    from keepscore.plan.check import plan_check_of_month

    return plan_check_of_month(organization, month)


@org_view
@require_safe
def scorecard(request: HttpRequest, organization: Organization) -> HttpResponse:
    """This month's scorecard."""
    return _scorecard_page(request, organization, timezone.localdate().replace(day=1))


@org_view
@require_safe
def scorecard_month(
    request: HttpRequest, organization: Organization, year: int, month: int
) -> HttpResponse:
    """The scorecard of any month (``YYYY-MM``)."""
    return _scorecard_page(request, organization, month_or_404(year, month))
