"""The plan report as JSON (``report_dict``): the stable body of ``GET /plan/{year}``.

``keepscore plan --format json`` prints the same; it is built from a
:class:`~keepscore.plan.selectors.PlanReport`.
"""

from __future__ import annotations

from typing import Any

from keepscore.plan import engine
from keepscore.plan.assumptions import RATE_FIELDS
from keepscore.plan.selectors import PlanReport


def _rate_dict(rate: engine.Rate) -> dict[str, Any]:
    interval = rate.interval
    return {
        "k": rate.k,
        "n": rate.n,
        "measured": rate.measured,
        "ci_low": interval[0] if interval else None,
        "ci_high": interval[1] if interval else None,
        "enough": rate.enough,
        "value": rate.value,
        "overridden": rate.override is not None,
    }


def _range(r: engine.Range | None) -> dict[str, float] | None:
    return None if r is None else {"low": r.low, "high": r.high}


def report_dict(report: PlanReport, currency: str = "") -> dict[str, Any]:
    """The stable JSON shape (``GET /plan/{year}``, ``keepscore plan --format json``)."""
    measured, a = report.measured.assumptions, report.assumptions
    sources = report.measured.sources
    assumptions: dict[str, Any] = {
        name: {**_rate_dict(getattr(a, name)), "source": sources[name]} for name in RATE_FIELDS
    }
    for name in ("deal_value", "margin_pct", "cycle_months"):
        assumptions[name] = {
            "measured": getattr(measured, name),
            "value": getattr(a, name),
            "overridden": name in report.overrides,
            "source": sources[name],
        }
    assumptions["season"] = {"value": list(a.season), "source": sources["season"]}
    assumptions["channels"] = [
        {
            "key": c.key,
            "name": c.name,
            "share": c.share,
            "cost_per_lead": c.cost_per_lead,
            "overridden": f"share:{c.key}" in report.overrides
            or f"cost_per_lead:{c.key}" in report.overrides,
        }
        for c in a.channels
    ]
    plan = report.plan
    out: dict[str, Any] = {
        "year": report.year,
        "currency": currency,
        "goal": None
        if report.goal is None
        else {"kind": report.goal.kind, "amount": report.goal.amount},
        "measured_on": {
            "period": report.measured.period.as_dict(),
            "cohort": {
                "first_month": report.measured.cohort[0].isoformat(),
                "last_month": report.measured.cohort[1].isoformat(),
            },
        },
        "assumptions": assumptions,
        "overrides": report.overrides,
        "missing": report.missing,
        "accepted_at": report.accepted_at.isoformat() if report.accepted_at else None,
        "plan": None,
    }
    if plan is not None and plan.months:
        r = report.range
        out["plan"] = {
            "customers": plan.customers,
            "leads": plan.leads,
            "spend": plan.spend,
            "leads_before_year": plan.before_year,
            "range": None
            if r is None
            else {
                "customers": _range(r.customers),
                "leads": _range(r.leads),
                "spend": _range(r.spend),
            },
            "months": [
                {
                    "month": m.month.isoformat()[:7],
                    "customers": m.customers,
                    "proposals": m.proposals,
                    "qualified": m.qualified,
                    "leads": m.leads,
                    "leads_range": _range(r.leads_by_month[i]) if r else None,
                    "revenue": m.revenue,
                    "spend": m.spend,
                    "channels": [
                        {"key": key, "leads": leads, "spend": spend}
                        for key, (leads, spend) in m.by_channel.items()
                    ],
                }
                for i, m in enumerate(plan.months)
            ],
        }
        if report.baseline is not None and report.baseline.months:
            out["plan"]["measured_plan"] = {
                "customers": report.baseline.customers,
                "leads": report.baseline.leads,
                "spend": report.baseline.spend,
            }
    return out
