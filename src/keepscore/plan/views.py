"""The plan page: the goal, the assumptions (measured, or set by hand), and what each month
needs; every change of an input redraws the plan at once (htmx), saved only on Save."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from keepscore.accounts.models import Organization
from keepscore.common.views import org_view
from keepscore.plan import assumptions, selectors, services
from keepscore.plan.engine import GOAL_KINDS, Goal

#: the form's percent inputs: typed as percent points (41.5), stored as fractions
PERCENT_FIELDS = (*assumptions.RATE_FIELDS, "margin_pct")


def _year(request: HttpRequest) -> int:
    default = assumptions.default_year()
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or default)
    except ValueError:
        return default
    return year if assumptions.YEARS[0] <= year <= assumptions.YEARS[1] else default


def _typed(data: Any, report_channels: list[str]) -> tuple[bool, dict[str, Any]]:
    """(whether the form was sent, the assumptions typed in it: percent fields as "41.5%")."""
    sent = "goal_kind" in data or "goal_amount" in data
    typed: dict[str, Any] = {}
    names = [*assumptions.FIELDS, *(f"share:{k}" for k in report_channels)]
    names += [f"cost_per_lead:{k}" for k in report_channels]
    sent = sent or any(name in data for name in names)
    for name in names:
        value = str(data.get(name, "")).strip()
        if not value:
            continue
        percent = name in PERCENT_FIELDS or name.startswith("share:")
        typed[name] = value.rstrip("%") + "%" if percent else value
    return sent, typed


def _display(name: str, value: float) -> str:
    if name in PERCENT_FIELDS or name.startswith("share:"):
        return f"{value * 100:.4g}"
    return f"{value:g}"


@org_view
def plan_page(request: HttpRequest, organization: Organization) -> HttpResponse:
    year = _year(request)
    stored = selectors.plan_report(organization=organization, year=year)
    channels = [c.key for c in stored.measured.assumptions.channels]
    data = request.POST if request.method == "POST" else request.GET
    sent, typed = _typed(data, channels)
    errors: dict[str, list[str]] = {}
    report = stored
    goal_kind = data.get("goal_kind") or (stored.goal.kind if stored.goal else "revenue")
    goal_amount = data.get("goal_amount") or (f"{stored.goal.amount:g}" if stored.goal else "")
    if sent:
        try:
            if goal_kind not in GOAL_KINDS:
                raise ValidationError({"goal_kind": f"Choose one of {', '.join(GOAL_KINDS)}."})
            goal: Goal | None = (
                assumptions.goal_clean(kind=goal_kind, amount=goal_amount)
                if str(goal_amount).strip()
                else None
            )
            if request.method == "POST":
                if goal is None:
                    raise ValidationError({"goal_amount": "Enter the year's goal to save it."})
                services.plan_save(
                    organization=organization,
                    year=year,
                    goal_kind=goal.kind,
                    goal_amount=goal.amount,
                    overrides=typed,
                    by=request.membership,  # type: ignore[attr-defined]
                )
                messages.success(request, f"Saved the plan of {year}.")
                url = reverse("plan", kwargs={"org": organization.slug})
                return redirect(f"{url}?year={year}")
            report = selectors.plan_report(
                organization=organization, year=year, goal=goal, overrides=typed
            )
        except ValidationError as error:
            errors = error.message_dict
    shown = report.overrides if sent and not errors else stored.overrides
    values = {name: _display(name, value) for name, value in shown.items()}
    if errors:
        values = {k: str(data.get(k, "")) for k in data if k in typed or k in errors}
    context = {
        "nav": "plan",
        "year": year,
        "years": [year - 1, year, year + 1],
        "report": report,
        "goal_kinds": GOAL_KINDS,
        "goal_kind": goal_kind,
        "goal_amount": goal_amount,
        "values": values,
        "errors": errors,
        "error_lines": _error_lines(errors, report),
        "assumption_rows": _assumption_rows(report, values, errors),
        "channel_rows": [
            {
                "key": c.key,
                "name": c.name,
                "share": f"{c.share * 100:.1f}",
                "share_value": values.get(f"share:{c.key}", ""),
                "cost_per_lead": c.cost_per_lead,
                "cost_value": values.get(f"cost_per_lead:{c.key}", ""),
            }
            for c in report.measured.assumptions.channels
        ],
        "levers": selectors.levers(report=report),
        "channel_year": _channel_year(report),
        "what_if": sent and request.method == "GET" and not errors,
    }
    template = "plan/_result.html" if getattr(request, "htmx", False) else "plan/page.html"
    status = 422 if errors and request.method == "POST" else 200
    return render(request, template, context, status=status)


def _assumption_rows(
    report: selectors.PlanReport, values: dict[str, str], errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    measured = report.measured.assumptions
    sources = report.measured.sources
    rows = []
    for name, label in assumptions.FIELDS.items():
        value = getattr(measured, name)
        if name in assumptions.RATE_FIELDS:
            shown = None if value.measured is None else _display(name, value.measured)
            bounds = value.interval
            interval = f"95%: {bounds[0]:.0%}\u2013{bounds[1]:.0%}" if bounds else None
            unit = "%"
        elif name == "margin_pct":
            shown, interval, unit = (None if value is None else _display(name, value)), None, "%"
        else:
            shown = None if value is None else _display(name, value)
            interval, unit = None, ("months" if name == "cycle_months" else "")
        rows.append(
            {
                "name": name,
                "label": label,
                "measured": shown,
                "interval": interval,
                "unit": unit,
                "money": name == "deal_value",
                "value": values.get(name, ""),
                "source": sources[name],
                "errors": errors.get(name, []),
            }
        )
    return rows


def _channel_year(report: selectors.PlanReport) -> list[dict[str, Any]]:
    plan = report.plan
    if plan is None or not plan.months:
        return []
    totals = plan.channel_totals()
    return [
        {
            "name": c.name,
            "share": c.share * 100,
            "leads": totals[c.key][0],
            "spend": totals[c.key][1],
        }
        for c in report.assumptions.channels
    ]


@org_view
@require_POST
def plan_accept(request: HttpRequest, organization: Organization) -> HttpResponse:
    """Write the stored plan's targets and goal (kept: targets typed by hand, unless
    "replace" is ticked)."""
    year = _year(request)
    url = reverse("plan", kwargs={"org": organization.slug}) + f"?year={year}"
    try:
        done = services.plan_accept(
            organization=organization,
            year=year,
            by=request.membership,  # type: ignore[attr-defined]
            replace=bool(request.POST.get("replace")),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(url)
    kept = (
        f" Kept {len(done.kept)} target(s) typed by hand: {', '.join(done.kept)}."
        if done.kept
        else ""
    )
    messages.success(request, f"Wrote {done.written} targets and goals of {year}.{kept}")
    return redirect(url)


def _error_lines(errors: dict[str, list[str]], report: selectors.PlanReport) -> list[str]:
    """Each error with its field in words ("Ads: share of leads: …")."""
    names = {c.key: c.name for c in report.measured.assumptions.channels}
    labels = {
        **assumptions.FIELDS,
        "goal_kind": "Goal",
        "goal_amount": "Amount",
        "share": "Channels' shares",
    }
    lines: list[str] = []
    for field, messages_ in errors.items():
        kind, _, channel = field.partition(":")
        if channel:
            what = "share of leads" if kind == "share" else "cost per lead"
            label = f"{names.get(channel, channel)}: {what}"
        else:
            label = labels.get(field, field)
        lines.extend(f"{label}: {m}" for m in messages_)
    return lines
