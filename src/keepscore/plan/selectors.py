"""The plan as the pages, the API and the command line read it: the year's plan (the stored
goal and overrides over the measured assumptions, the plan they give with its range, and
what-if against the measured plan: nothing saved), the levers that move it most, the monthly
targets it sets, and a goal spread over the months. Its writes are ``plan.services``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError

from keepscore.accounts.models import Organization
from keepscore.plan import engine
from keepscore.plan.assumptions import (
    YEARS,
    assumptions_apply,
    overrides_clean,
    plan_year_check,
)
from keepscore.plan.engine import Assumptions, Goal, Plan, PlanRange
from keepscore.plan.measure import Measured, measure
from keepscore.plan.models import YearPlan


@dataclass(frozen=True)
class PlanReport:
    """The plan of a year as shown: goal, assumptions (measured, and as used), the plan and
    its range, and the measured plan it differs from (None when nothing is overridden)."""

    year: int
    goal: Goal | None
    measured: Measured
    assumptions: Assumptions
    overrides: dict[str, float]
    plan: Plan | None
    range: PlanRange | None
    baseline: Plan | None  # the plan with the measured assumptions only
    accepted_at: Any = None

    @property
    def missing(self) -> list[str]:
        return self.plan.missing if self.plan is not None else []


def plan_report(
    *,
    organization: Organization,
    year: int,
    goal: Goal | None = None,
    overrides: dict[str, Any] | None = None,
    as_of: date | None = None,
    with_range: bool = True,
) -> PlanReport:
    """The year's plan: the stored one, or (what-if) with ``goal`` and ``overrides`` instead
    of the stored ones — nothing is saved. ``with_range=False`` skips the simulation (for
    readers of the plan's points only: the plan check, the targets)."""
    plan_year_check(year)
    stored = YearPlan.objects.for_org(organization).filter(year=year).first()
    measured = measure(organization, as_of)
    if goal is None and stored is not None:
        goal = Goal(stored.goal_kind, float(stored.goal_amount))
    raw = overrides if overrides is not None else (stored.overrides if stored else {})
    cleaned = overrides_clean(measured=measured, raw=raw)
    assumptions = assumptions_apply(measured=measured, overrides=cleaned)
    plan = plan_range = baseline = None
    if goal is not None:
        plan = engine.plan_compute(goal, assumptions, year)
        plan_range = engine.plan_range(goal, assumptions, year) if with_range else None
        if cleaned:
            baseline = engine.plan_compute(goal, measured.assumptions, year)
    return PlanReport(
        year=year,
        goal=goal,
        measured=measured,
        assumptions=assumptions,
        overrides=cleaned,
        plan=plan,
        range=plan_range,
        baseline=baseline,
        accepted_at=stored.accepted_at if stored else None,
    )


def overrides_stored(*, organization: Organization, year: int) -> dict[str, Any]:
    """The assumptions stored as set by hand for the year ({} without a plan)."""
    stored = YearPlan.objects.for_org(organization).filter(year=year).first()
    return dict(stored.overrides) if stored else {}


@dataclass(frozen=True)
class Lever:
    """Raising one step by ``points`` does what ``leads`` more leads a month would."""

    step: str  # in words: "proposal → customer"
    before: float
    after: float
    leads: float


def levers(*, report: PlanReport, points: float = 0.02) -> list[Lever]:
    """For each step: what raising it by ``points`` (two percentage points) is worth in
    leads a month, at the plan's leads; the biggest first."""
    plan = report.plan
    if plan is None or not plan.months:
        return []
    a = report.assumptions
    monthly = plan.leads / 12
    out = []
    for name, start, end in engine.STEPS:
        value = getattr(a, name).value
        if value is None or value + points > 1:
            continue
        extra = engine.leads_equivalent(a, name, value + points, monthly)
        out.append(Lever(f"{start} → {end}", value, value + points, extra))
    return sorted(out, key=lambda lever: -lever.leads)


def plan_targets(*, report: PlanReport) -> dict[tuple[str, str], Decimal]:
    """The targets the plan gives: {(metric key, "YYYY-MM"): value}. Each metric's year is
    rounded once — counts up to whole ones (a plan of 150.2 customers needs 151), money to
    whole units — and split over the months by the plan's own monthly figures with
    :func:`shares_split`, so the months add up to the year exactly (rounding each month up
    would add up to half a unit a month to the year)."""
    plan = report.plan
    if plan is None or not plan.months:
        return {}
    measured = report.measured
    counts: list[tuple[str, str]] = [("new_leads", "leads"), ("customers", "customers")]
    if measured.qualified is not None:
        counts.append((f"entered_{measured.qualified.key}", "qualified"))
    if measured.proposal is not None:
        counts.append((f"entered_{measured.proposal.key}", "proposals"))
    series: dict[str, tuple[Decimal, list[float]]] = {}
    for key, attribute in counts:
        values = [float(getattr(m, attribute)) for m in plan.months]
        series[key] = (Decimal(math.ceil(sum(values) - 1e-9)), values)
    revenue = [m.revenue for m in plan.months]
    if all(r is not None for r in revenue):
        values = [float(r or 0.0) for r in revenue]
        series["revenue"] = (Decimal(round(sum(values))), values)
    if any(s is not None for m in plan.months for _leads, s in m.by_channel.values()):
        values = [m.spend for m in plan.months]
        series["marketing_spend"] = (Decimal(round(sum(values))), values)
    out: dict[tuple[str, str], Decimal] = {}
    for key, (total, values) in series.items():
        if total <= 0 or sum(values) <= 0:
            continue
        for m, part in zip(plan.months, shares_split(amount=total, weights=values), strict=True):
            out[(key, m.month.isoformat()[:7])] = part
    return out


def _catalogue(organization: Organization) -> list[Any]:
    from keepscore.scorecard.catalogue import metric_catalogue

    return metric_catalogue(organization)


#: the plan's quantity a metric is spread by (the ladder's stages are added by their role)
PLAN_BASIS = {
    "new_leads": "leads",
    "customers": "customers",
    "revenue": "customers",
    "margin": "customers",
    "proposals": "proposals",
    "marketing_spend": "spend",
}


BASIS_WORDS = {
    "leads": "new leads",
    "qualified": "qualified leads",
    "proposals": "proposals",
    "customers": "customers",
    "spend": "marketing spend",
}


@dataclass(frozen=True)
class Spread:
    """A goal's twelve monthly targets and how they were made, in words."""

    months: dict[date, Decimal]
    how: str
    summed: bool = True  # split to add up to the goal (else each month is the goal)


def shares_split(*, amount: Decimal, weights: list[float]) -> list[Decimal]:
    """``amount`` split by ``weights`` (not negative, some above 0) into parts that add up to
    it exactly: in whole units for a whole amount (else in the amount's smallest decimal),
    each part the floor of its exact share, the units left over going to the largest
    remainders (the earlier month on a tie) — the largest-remainder method."""
    if amount == amount.to_integral_value():
        unit = Decimal(1)
    else:
        unit = Decimal(1).scaleb(amount.normalize().as_tuple().exponent)  # type: ignore[arg-type]
    units = int(abs(amount) / unit)
    exact_weights = [Fraction(w) for w in weights]
    total = sum(exact_weights)
    if total <= 0 or any(w < 0 for w in exact_weights):
        raise ValueError("weights must not be negative and some must be above 0")
    exact = [units * w / total for w in exact_weights]
    parts = [math.floor(e) for e in exact]
    left = units - sum(parts)
    for i in sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))[:left]:
        parts[i] += 1
    sign = -1 if amount < 0 else 1
    return [sign * part * unit for part in parts]


def goal_spread(*, organization: Organization, year: int, metric_key: str, amount: Any) -> Spread:
    """The monthly targets of a metric that make its annual goal ``amount``.

    A count or an amount of money (a sum over the year) is split so that the twelve months
    add up to the goal exactly (:func:`shares_split`): by the shares of the year's saved plan
    when there is one — new leads by the plan's leads per month, the qualified stage by its
    qualified leads, proposals by its proposals, customers, revenue and margin by its
    customers, marketing spend by its spend — else evenly. A rate, a percentage, days or a
    ratio of spend is not a sum: its goal is each month's target."""
    from keepscore.common.months import months_of
    from keepscore.scorecard.catalogue import SPEND_RATIOS, metric_get
    from keepscore.scorecard.checks import value_check

    metric = metric_get(organization, metric_key, field="metric")
    value = value_check(metric=metric, value=amount, field="goal")
    months = months_of(year)
    if metric.unit not in ("count", "money") or metric.key in SPEND_RATIOS:
        return Spread(
            {m: value for m in months}, "it is not a sum: each month takes the goal", False
        )
    weights = [1.0] * 12
    how = "evenly"
    if YEARS[0] <= year <= YEARS[1] and YearPlan.objects.for_org(organization).filter(year=year):
        try:
            report = plan_report(organization=organization, year=year, with_range=False)
        except ValidationError:
            report = None
        basis = None if report is None else _basis(report, metric.key)
        plan = None if report is None else report.plan
        if basis is None:
            how = f"evenly (the plan of {year} does not plan {metric.name.lower()})"
        elif plan is None or not plan.months:
            how = f"evenly (the plan of {year} is not complete)"
        else:
            planned = [max(float(getattr(m, basis)), 0.0) for m in plan.months]
            if sum(planned) > 0:
                weights = planned
                how = f"by the plan's {BASIS_WORDS[basis]} per month"
    return Spread(dict(zip(months, shares_split(amount=value, weights=weights), strict=True)), how)


def _basis(report: PlanReport, key: str) -> str | None:
    basis = dict(PLAN_BASIS)
    measured = report.measured
    if measured.qualified is not None:
        basis[f"entered_{measured.qualified.key}"] = "qualified"
    if measured.proposal is not None:
        basis[f"entered_{measured.proposal.key}"] = "proposals"
    if measured.won is not None:
        basis[f"entered_{measured.won.key}"] = "customers"
    return basis.get(key)
