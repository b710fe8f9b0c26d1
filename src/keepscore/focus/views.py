"""The focus page (``o/<slug:org>/focus/?date=YYYY-MM-DD``) and the dashboard's focus card
(``o/<slug:org>/focus/card/``, loaded by htmx so the dashboard never waits for it).

Every number comes from :func:`keepscore.focus.services.diagnose`; the view only formats
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
from keepscore.common.views import org_view
from keepscore.focus import services
from keepscore.focus.forms import FocusDateForm
from keepscore.reports.charts import sparkline

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


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _format(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int):
        if any(word in key for word in ("rate", "pct", "share", "change", "conversion")):
            return f"{value * 100:.1f}%"
        if "p_value" in key:
            return f"{value:.3f}"
        if isinstance(value, int) or float(value).is_integer():
            return f"{value:,.0f}"
        return f"{value:,.2f}"
    if isinstance(value, dict) and {"k", "n"} <= set(value):
        rate = value.get("rate")
        share = f" ({rate * 100:.1f}%)" if rate is not None else ""
        return f"{value['k']} of {value['n']}{share}"
    if isinstance(value, dict) and "direction" in value:
        p = value.get("p_value")
        return (
            f"{value['direction']} ({value['test']}, p = {p:.3f})"
            if p is not None
            else (f"{value['direction']} (not testable)")
        )
    if isinstance(value, list):
        return ", ".join(str(v) if not isinstance(v, dict) else _format(key, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format(k, v)}" for k, v in value.items())
    return str(value)


@dataclass
class Shown:
    """An indicator as the page shows it."""

    indicator: services.Indicator
    question: str | None
    status_label: str
    facts: list[tuple[str, str]]
    charts: list[tuple[str, Any]]
    channels: list[dict[str, Any]]


def _is_monthly(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) >= 3
        and all(isinstance(k, str) and len(k) == 10 and k[4] == "-" for k in value)
    )


def shown(indicator: services.Indicator) -> Shown:
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
        elif key == "by_customers":
            channels = value
        elif key in ("k", "n", "months"):
            continue  # the monthly cohort lists: summed up in the other facts
        else:
            facts.append((_label(key), _format(key, value)))
    return Shown(
        indicator=indicator,
        question=QUESTIONS.get(indicator.question) if indicator.question else None,
        status_label=STATUS_LABELS[indicator.status],
        facts=facts,
        charts=charts,
        channels=channels,
    )


def _context(diagnosis: services.Diagnosis) -> dict[str, Any]:
    ordered = sorted(diagnosis.indicators, key=lambda i: (i.question is None, i.question or 0))
    return {
        "diagnosis": diagnosis,
        "label": services.LABELS[diagnosis.recommendation],
        "questions": [shown(i) for i in ordered if i.question is not None],
        "indicators": [shown(i) for i in ordered if i.question is None],
        "alerts": [i for i in diagnosis.indicators if i.status == "alert"],
    }


@org_view
@require_safe
def focus(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = FocusDateForm(request.GET)
    if not form.is_valid():
        return render(request, "focus/page.html", {"nav": "focus", "form": form}, status=BAD_DATE)
    diagnosis = services.diagnose(organization, form.cleaned_data.get("date"))
    shown_form = FocusDateForm(initial={"date": diagnosis.as_of})
    context = {"nav": "focus", "form": shown_form, **_context(diagnosis)}
    return render(request, "focus/page.html", context)


@org_view
@require_safe
def focus_card(request: HttpRequest, organization: Organization) -> HttpResponse:
    diagnosis = services.diagnose(organization)
    return render(request, "focus/_card.html", _context(diagnosis))
