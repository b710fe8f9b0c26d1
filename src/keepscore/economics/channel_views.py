"""The economics page: ``o/<slug:org>/economics/?from=&to=``, and its table as CSV
(``o/<slug:org>/economics/channels.csv?from=&to=``).

Every figure comes from ``keepscore.economics.channels.channel_economics``; the view reads
the period (``keepscore.funnel.forms.PeriodForm``, as the funnel page does), formats the
figures (``format_value``, ``rate_text``) and draws the spend-against-margin chart. A
channel too small to judge shows "not enough data" in its ratio cells; an undefined figure
shows "—". A channel with nothing in the period (``ChannelRow.idle``) is named in one line
under the table, not given a row of zeros; the CSV has every channel.

Bad filters show the form with the message at the field and status 400; an htmx request
gets status 200 (htmx swaps only 2xx responses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.common.views import org_view
from keepscore.economics.channels import (
    MIN_CUSTOMERS,
    ChannelEconomics,
    ChannelRow,
    channel_economics,
)
from keepscore.economics.links import channel_links
from keepscore.funnel.filters import default_period
from keepscore.funnel.forms import PeriodForm
from keepscore.funnel.stats import min_n
from keepscore.funnel.views import BAD_FILTERS
from keepscore.reports.channels import channels_csv
from keepscore.reports.charts import DASH, SpendMarginRow, format_value, spend_margin_chart
from keepscore.reports.presenter import ChannelText, channel_text


class EconomicsFilterForm(PeriodForm):
    """The period (default: the last 12 full months)."""


@dataclass(frozen=True)
class Shown:
    """A row of the table: its key, name, the presenter's texts and, per count of leads
    (``leads``, ``qualified``, ``customers``), the lead list of those leads."""

    key: str
    name: str
    too_small: bool
    text: ChannelText
    links: dict[str, str]


def report_context(organization: Organization, result: ChannelEconomics) -> dict[str, Any]:
    """What the page shows, all from the service's result."""
    period = result.period
    links = channel_links(organization, result)

    def shown(row: ChannelRow) -> Shown:
        text = channel_text(row)
        return Shown(row.key, row.name, row.too_small, text, links(row))

    chart = spend_margin_chart(
        [
            SpendMarginRow(
                r.name,
                None if r.spend is None else float(r.spend),
                None if r.margin is None else float(r.margin),
                channel_text(r).return_on_spend,
            )
            for r in result.rows
            if r.spend or r.margin or r.leads
        ],
        title=f"Spend and margin per channel, {period.start:%d %b %Y} {DASH} {period.end:%d %b %Y}",
    )
    return {
        "report": True,
        "period": period,
        "result": result,
        "rows": [shown(r) for r in result.rows if not r.idle],
        "idle": [r.name for r in result.rows if r.idle],
        "total": shown(result.total),
        "chart": chart,
        "months": format_value(result.months, "number"),
        "min_leads": min_n(),
        "min_customers": MIN_CUSTOMERS,
    }


def _form(request: HttpRequest) -> EconomicsFilterForm:
    return EconomicsFilterForm(request.GET, default=default_period())


@org_view
@require_safe
def channels(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Channel economics of a period; any member may read them."""
    details = getattr(request, "htmx", None)
    # a history restore (back button after an htmx swap) needs the whole page
    htmx = bool(details) and not getattr(details, "history_restore_request", False)
    form = _form(request)
    context: dict[str, Any] = {"nav": "economics", "form": form, "default": form.default}
    if form.is_valid():
        result = channel_economics(organization, form.period())
        context.update(report_context(organization, result))
    status = 200 if form.is_valid() or htmx else BAD_FILTERS
    return render(request, "economics/channels.html", context, status=status)


@org_view
@require_safe
def channels_export(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The table as CSV; bad filters give the page with the message (status 400)."""
    form = _form(request)
    if not form.is_valid():
        context = {"nav": "economics", "form": form, "default": form.default}
        return render(request, "economics/channels.html", context, status=BAD_FILTERS)
    period = form.period()
    response = HttpResponse(
        channels_csv(channel_economics(organization, period)),
        content_type="text/csv; charset=utf-8",
    )
    name = f"{organization.slug}-economics-{period.start}-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
