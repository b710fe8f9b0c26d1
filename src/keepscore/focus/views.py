"""The focus page (``o/<slug:org>/focus/?date=YYYY-MM-DD``) and the dashboard's focus card
(``o/<slug:org>/focus/card/``, loaded by htmx so the dashboard never waits for it).

Every number comes from :func:`keepscore.focus.selectors.diagnose`; the view only formats
its evidence for reading (labels, percentages, the monthly series as sparklines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.common.money import money_format
from keepscore.common.views import org_view
from keepscore.focus import selectors
from keepscore.focus.forms import FocusDateForm
from keepscore.focus.links import IndicatorLinks, indicator_links
from keepscore.reports.charts import DASH, sparkline

BAD_DATE = 400


QUESTIONS = {
    1: "How long is the sales cycle, and is there the cash to wait for it?",
    2: "How many sales conversations happen, and how many convert?",
    3: "Where do the customers that buy (or nearly buy) come from?",
    4: "How healthy are the profit margins?",
    5: "Is marketing filling the pipeline enough to reach the goal?",
}
STATUS_LABELS = {
    "alert": "Alert",
    "watch": "Watch",
    "ok": "OK",
    "info": "Answer",
    "missing": "Missing data",
}


#: evidence keys read better in words
LABELS = {
    "cycle_median_days": "Sales cycle (median)",
    "cycle_p80_days": "Sales cycle (80% of deals within)",
    "runway_months": "Cash lasts",
    "runway_days": "Cash lasts (days)",
    "oldest_days": "Oldest has waited",
    "stall_days": "Stalled after",
    "stalled": "Stalled leads",
    "stalled_by_stage": "Stalled, by stage",
    "stalled_value": "Their value",
    "high_value_stalled": "Stalled and worth at least the median deal",
    "median_deal": "Median deal",
    "ytd": "Year to date",
    "remaining": "Still to win",
    "remaining_customers": "Customers still to win",
    "open_leads": "Open leads",
    "top_recent_tags": "Most common lately",
    "window_days": "Within",
    "margin_pct": "Margin",
    "loss_share": "Deals at a loss (share)",
    "leads_plan": "Leads planned",
    "customers_plan": "Customers planned",
    "conversion_points": "Conversion against plan (points)",
    "customers_won": "Customers: first won",
}
#: money, shown in whole units
MONEY = {
    "cash_on_hand",
    "monthly_fixed_costs",
    "revenue",
    "margin",
    "stalled_value",
    "median_deal",
    "goal_value_money",
}


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " ").capitalize())


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%a %d %b")
    except ValueError:
        return value


def _format(key: str, value: Any) -> str:
    """One piece of evidence in words, rounded to the unit it is in (days, months, money)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int):
        if any(word in key for word in ("rate", "pct", "share", "change", "conversion")):
            return f"{value * 100:.1f}%"
        if "p_value" in key:
            return _p(value)
        if key.endswith("_days"):
            return f"{value:,.0f} day{'' if round(value) == 1 else 's'}"
        if key.endswith("_months"):
            return f"{value:,.1f} months"
        if key in MONEY:
            return money_format(value, decimals=0)
        if isinstance(value, int) or float(value).is_integer():
            return f"{value:,.0f}"
        return f"{value:,.1f}"
    if isinstance(value, dict) and {"k", "n"} <= set(value):
        rate = value.get("rate")
        share = f" ({rate * 100:.1f}%)" if rate is not None else ""
        return f"{value['k']} of {value['n']}{share}"
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        days = [date.fromisoformat(value[end]) for end in ("from", "to")]
        return f"{days[0]:%d %b %Y} {DASH} {days[1]:%d %b %Y}"
    if isinstance(value, dict) and "direction" in value:
        p = value.get("p_value")
        return f"{value['direction']} ({_p(p)})" if p is not None else f"{value['direction']}"
    if isinstance(value, dict) and {"since", "conversations"} <= set(value):
        return (
            f"{value['conversations']} conversations since {_day(value['since'])}, "
            f"{value.get('converted', 0)} converted"
        )
    if isinstance(value, list) and all(isinstance(v, dict) and "tag" in v for v in value):
        return ", ".join(f"{v['tag']} ({v['count']})" for v in value)
    if isinstance(value, list):
        return ", ".join(str(v) if not isinstance(v, dict) else _format(key, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format(k, v)}" for k, v in value.items())
    return str(value)


@dataclass
class Shown:
    """An indicator as the page shows it."""

    indicator: selectors.Indicator
    question: str | None
    status_label: str
    facts: list[tuple[str, str, str]]  # label, value in words, the leads' list URL or ""
    charts: list[tuple[str, Any]]
    channels: list[dict[str, Any]]


def _is_monthly(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) >= 3
        and all(isinstance(k, str) and len(k) == 10 and k[4] == "-" for k in value)
    )


def shown(indicator: selectors.Indicator, links: IndicatorLinks | None = None) -> Shown:
    links = links or IndicatorLinks()
    facts, charts = [], []
    channels: list[dict[str, Any]] = []
    for key, value in indicator.evidence.items():
        if _is_monthly(value):
            months = list(value)
            unit = "percent" if "pct" in key else "count"
            charts.append(
                (
                    _label(key),
                    sparkline(
                        list(value.values()),
                        unit=unit,
                        labels=[date.fromisoformat(m).strftime("%b %Y") for m in months],
                        title=_label(key),
                    ),
                )
            )
        elif key == "by_customers":  # copies: the diagnosis's rows stay as they are
            channels = [{**row, "links": links.channels.get(row["channel"], {})} for row in value]
        elif key in ("k", "n", "months"):
            continue  # the monthly cohort lists: summed up in the other facts
        else:
            facts.append((_label(key), _format(key, value), links.facts.get(key, "")))
    return Shown(
        indicator=indicator,
        question=QUESTIONS.get(indicator.question) if indicator.question else None,
        status_label=STATUS_LABELS[indicator.status],
        facts=facts,
        charts=charts,
        channels=channels,
    )


def _context(organization: Organization, diagnosis: selectors.Diagnosis) -> dict[str, Any]:
    ordered = sorted(diagnosis.indicators, key=lambda i: (i.question is None, i.question or 0))
    links = indicator_links(organization, diagnosis.as_of)
    stall = next((i for i in diagnosis.indicators if i.key == "late_stage_stall"), None)
    shown_all = [shown(i, links(i)) for i in ordered]
    return {
        "diagnosis": diagnosis,
        "label": selectors.LABELS[diagnosis.recommendation],
        "questions": [s for s in shown_all if s.indicator.question is not None],
        "indicators": [s for s in shown_all if s.indicator.question is None],
        "alerts": [i for i in diagnosis.indicators if i.status == "alert"],
        # the leads to follow up, when the focus says so
        "stall_link": links(stall).facts.get("stalled", "")
        if stall is not None and stall.status in ("alert", "watch")
        else "",
        "stalled": stall.evidence.get("stalled", 0) if stall is not None else 0,
    }


@org_view
@require_safe
def focus(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = FocusDateForm(request.GET)
    if not form.is_valid():
        return render(request, "focus/page.html", {"nav": "focus", "form": form}, status=BAD_DATE)
    diagnosis = selectors.diagnose(organization, form.cleaned_data.get("date"))
    shown_form = FocusDateForm(initial={"date": diagnosis.as_of})
    context = {"nav": "focus", "form": shown_form, **_context(organization, diagnosis)}
    return render(request, "focus/page.html", context)


@org_view
@require_safe
def focus_card(request: HttpRequest, organization: Organization) -> HttpResponse:
    diagnosis = selectors.diagnose(organization)
    return render(request, "focus/_card.html", _context(organization, diagnosis))
