"""The funnel page: ``o/<slug:org>/funnel/?from=&to=&by=&within=&step=``.

Every figure comes from ``keepscore.funnel.selectors``; the view only reads the filters,
calls the selectors and hands their results (and the charts drawn from them) to the template.
Text for a rate is made by :func:`rate_text` (formatting only, never arithmetic).

Bad filters (a date that is not one, from after to, an unknown grouping, a negative window,
an unknown step) show the page with the message at the field and status 400; an htmx request
gets the same fragment with status 200, because htmx swaps only 2xx responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.common.views import org_view
from keepscore.funnel import selectors
from keepscore.funnel.filters import (
    BY_LABELS,
    MAX_WITHIN_DAYS,
    UNGROUPED,
    by_parse,
    default_period,
    rate_text,
)
from keepscore.funnel.forms import PeriodForm
from keepscore.funnel.groupings import FACT_PREFIX, GROUPINGS
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.links import stage_links
from keepscore.funnel.presenters import chart_stages, overall_step, step_key, step_name
from keepscore.funnel.selectors import CYCLE_BINS
from keepscore.reports.charts import (
    DASH,
    RateRow,
    format_value,
    funnel_chart,
    histogram,
    rate_chart,
)

BAD_FILTERS = 400


class FunnelFilterForm(PeriodForm):
    by = forms.CharField(label="Group by", required=False, max_length=200)
    within = forms.IntegerField(
        label="Within (days)",
        required=False,
        min_value=0,
        max_value=MAX_WITHIN_DAYS,
        help_text="Count a conversion only when it happens within this many days.",
        widget=forms.NumberInput(attrs={"placeholder": "any time", "min": 0}),
    )
    step = forms.CharField(label="Conversion shown by group", required=False, max_length=200)

    def __init__(self, data: Any, *, default: Period, **kw: Any) -> None:
        super().__init__(data, default=default, **kw)
        choices = [(key, BY_LABELS[key]) for key in (*GROUPINGS, UNGROUPED)]
        current = (data.get("by") or "").strip()
        if current.startswith(FACT_PREFIX) and current[len(FACT_PREFIX) :].strip():
            choices.append((current, f"Fact: {current[len(FACT_PREFIX) :].strip()}"))
        self.fields["by"].widget = forms.Select(choices=choices)

    def clean_by(self) -> str | None:
        try:
            return by_parse(self.cleaned_data.get("by"))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


@dataclass(frozen=True)
class StepChoice:
    value: str  # "from_key>to_key"
    label: str


def _cycle_edges(cycle: selectors.Cycle) -> list[float]:
    """Bin boundaries for the histogram's markers (the open-ended last bin is drawn as wide
    as the one before it; a ``<0`` bin starts at the most negative cycle)."""
    lows = [low for low, _high, _label in CYCLE_BINS]
    edges = [*lows, lows[-1] + (lows[-1] - lows[-2])]
    if cycle.histogram and cycle.histogram[0][0] == "<0":
        edges.insert(0, cycle.days[0])
    return [float(e) for e in edges]


def report_context(organization: Organization, form: FunnelFilterForm) -> dict[str, Any]:
    """What the report shows, all from the selectors, for valid filters."""
    data = form.cleaned_data
    period = form.period()
    by = data.get("by")
    within = data.get("within")
    ladder = Ladder.of(organization)
    report = selectors.funnel(organization=organization, period=period, by=by, within_days=within)
    everyone = (
        report
        if by is None
        else selectors.funnel(organization=organization, period=period, within_days=within)
    )
    names = {s.key: s.name for s in ladder.stages}
    all_leads = everyone.groups[0] if everyone.groups else None
    overall = overall_step(group=all_leads) if all_leads else None
    steps = [
        StepChoice(step_key(step=c), step_name(step=c, names=names))
        for c in (all_leads.conversions if all_leads else [])
    ]
    chosen = data.get("step") or (step_key(step=overall) if overall else "")
    if steps and chosen not in {s.value for s in steps}:
        form.add_error("step", f"No conversion {chosen!r}: pick one of the list.")
        return {}
    step = next((s for s in steps if s.value == chosen), steps[0] if steps else None)

    chart = funnel_chart(
        chart_stages(group=all_leads, ladder=ladder) if all_leads else [],
        title=f"Leads reaching each stage, {period.start:%d %b %Y} {DASH} {period.end:%d %b %Y}",
    )
    groups = []
    rows = []
    group_links = stage_links(organization, period, by, ladder)
    for group in report.groups:
        conversions = [
            {
                "value": step_key(step=c),
                "label": step_name(step=c, names=names),
                "rate": c.rate,
                "text": rate_text(c.rate),
                "overall": c.overall,
            }
            for c in group.conversions
        ]
        links = group_links(group)
        stages = [(s, links.get(s.key, {})) for s in group.stages]
        groups.append({"group": group, "conversions": conversions, "stages": stages})
        for c in group.conversions:
            if step is not None and step_key(step=c) == step.value:
                rows.append(RateRow.of(group.label, c.rate))
    by_label = BY_LABELS.get(by or UNGROUPED) or f"fact {(by or '')[len(FACT_PREFIX) :]}"
    rates = rate_chart(rows, title=f"{step.label if step else 'Conversion'} by {by_label.lower()}")

    cycle = selectors.sales_cycle(organization=organization, period=period)
    markers = {}
    if cycle.median_days is not None:
        markers["median"] = cycle.median_days
    if cycle.p80_days is not None:
        markers["80th percentile"] = cycle.p80_days
    cycle_chart = histogram(
        cycle.histogram if cycle.count else [],
        title="Sales cycle: days from first touch to won",
        unit="days",
        markers=markers,
        edges=_cycle_edges(cycle) if cycle.count else None,
    )
    close = selectors.close_rate(organization=organization, period=period)
    return {
        "period": period,
        "report": report,
        "groups": groups,
        "by": by,
        "by_label": by_label,
        "within": within,
        "steps": steps,
        "step": step,
        "funnel_chart": chart,
        "rate_chart": rates,
        "cycle": cycle,
        "cycle_chart": cycle_chart,
        "cycle_median": format_value(cycle.median_days, "days"),
        "cycle_p80": format_value(cycle.p80_days, "days"),
        "stage_times": [
            {
                "key": t.stage.key,
                "name": t.stage.name,
                "count": t.count,
                "median": format_value(t.median_days, "days"),
                "p80": format_value(t.p80_days, "days"),
            }
            for t in selectors.stage_times(organization=organization, period=period)
        ],
        "close": close,
        "close_text": rate_text(close),
        "lost_reasons": [
            {"name": name, "count": count, "share": format_value(share, "percent")}
            for name, count, share in selectors.lost_reasons(
                organization=organization, period=period
            )
        ],
    }


@org_view
@require_safe
def funnel(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The funnel of a period, grouped; any member may read it."""
    details = getattr(request, "htmx", None)
    # a history restore (back button after an htmx swap) needs the whole page
    htmx = bool(details) and not getattr(details, "history_restore_request", False)
    form = FunnelFilterForm(request.GET, default=default_period())
    context: dict[str, Any] = {"nav": "funnel", "form": form, "default": form.default}
    if form.is_valid():
        context.update(report_context(organization, form))
    status = 200 if form.is_valid() or htmx else BAD_FILTERS
    template = "funnel/_report.html" if htmx else "funnel/page.html"
    return render(request, template, context, status=status)
