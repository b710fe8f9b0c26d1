"""Goal indicators: the open pipeline against the year's goal (5), new leads, the plan's gap.

:func:`pipeline_coverage` and :func:`lead_volume` measure the weighted open pipeline and the
new leads against the annual goal (customers or revenue) and push toward marketing;
:func:`plan_gap` compares the year so far with the saved plan (``keepscore.plan.check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Sum

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add
from keepscore.focus.indicators import DAYS_PER_MONTH, Indicator, confidence_of, percent
from keepscore.focus.reads import RECENT_MONTHS, Reads, conversion_over, end_of, summed
from keepscore.funnel.stats import min_n
from keepscore.leads.models import DealOutcome
from keepscore.scorecard import selectors as scorecard_selectors
from keepscore.scorecard.row_reads import open_pipeline


@dataclass(frozen=True)
class Goal:
    key: str  # "customers" or "revenue"
    goal: float
    ytd: float
    months_left: float
    per_customer: float  # revenue per customer (1 for a customers goal)


def read_goal(organization: Organization, r: Reads) -> Goal | None:
    """The year's goal (customers, else revenue) with what is won of it so far, the months
    left and the revenue a customer brings; None without a goal for the year."""
    goals = scorecard_selectors.goals_for(organization=organization, year=r.as_of.year)
    key = next((k for k in ("customers", "revenue") if k in goals), None)
    if key is None:
        return None
    year_start = date(r.as_of.year, 1, 1)
    start = end_of(year_start - timedelta(days=1))
    won = DealOutcome.objects.for_org(organization).filter(
        result=DealOutcome.Result.WON, at__gte=start, at__lt=r.until
    )
    if key == "customers":
        ytd = float(won.values("lead_id").distinct().count())
    else:
        ytd = float(won.aggregate(s=Sum("revenue"))["s"] or 0)
    end = date(r.as_of.year, 12, 31)
    months_left = (end - r.as_of).days / DAYS_PER_MONTH
    deals = summed(r, "deals", r.months)
    per_customer = 1.0
    if key == "revenue":
        per_customer = summed(r, "revenue", r.months) / deals if deals else 0.0
    return Goal(key, float(goals[key]), ytd, months_left, per_customer)


def _weighted_pipeline(organization: Organization, r: Reads) -> tuple[float, int, int]:
    """The open pipeline in customers, weighted by each stage's historical (mature) rate of
    reaching won; and the leads open and the cohort size behind the rates."""
    if r.pipeline is not None:
        return r.pipeline
    total = 0.0
    open_leads = 0
    cohort = 0
    for stage in open_pipeline(organization, r.ladder, r.until):
        k, n = r.won_rates.get(stage.index, (0, 0))
        open_leads += stage.leads
        cohort += n
        if n:
            total += stage.leads * k / n
    r.pipeline = (total, open_leads, cohort)
    return r.pipeline


def pipeline_coverage(organization: Organization, r: Reads, goal: Goal | None) -> Indicator:
    """5. Is marketing filling the pipeline enough to reach the goal? The weighted open
    pipeline against what the goal still needs within a sales cycle."""
    weighted, open_leads, cohort = _weighted_pipeline(organization, r)
    evidence: dict[str, Any] = {
        "open_leads": open_leads,
        "weighted_customers": weighted,
        "stage_rates": {
            r.ladder.stages[i].key: {"k": k, "n": n} for i, (k, n) in sorted(r.won_rates.items())
        },
    }
    title = "Pipeline coverage"
    if goal is None:
        return Indicator(
            "pipeline_coverage",
            title,
            5,
            "missing",
            "marketing",
            None,
            "ratio",
            "none",
            f"Set an annual goal for customers or revenue for {r.as_of.year} to measure the "
            f"pipeline against it ({open_leads} leads are open, worth about {weighted:.1f} "
            "customers at the usual rates).",
            evidence,
        )
    remaining = goal.goal - goal.ytd
    p80 = r.cycle.p80
    horizon = max(1.0, (p80 or 0) / DAYS_PER_MONTH)
    share = 1.0 if goal.months_left <= horizon else horizon / goal.months_left
    needed = max(0.0, remaining) * share / (goal.per_customer or 1.0)
    value = weighted / needed if needed > 0 else None
    evidence.update(
        goal=goal.key,
        goal_value=goal.goal,
        ytd=goal.ytd,
        remaining=remaining,
        months_left=goal.months_left,
        horizon_months=horizon,
        needed_customers_in_horizon=needed,
        coverage=value,
    )
    confidence = confidence_of(cohort)
    unit = "customers" if goal.key == "customers" else "revenue"
    if remaining <= 0:
        status, text = "ok", f"The {unit} goal for {r.as_of.year} is met already."
    elif value is None or goal.per_customer == 0:
        status, text = "missing", "No won deals in the last 12 months to turn revenue into deals."
    elif value < 1:
        status = "alert"
        text = (
            f"The open pipeline is worth about {weighted:.1f} customers; the goal needs "
            f"{needed:.1f} within the next {horizon:.1f} months: coverage {value:.2f}, "
            "too thin — marketing must fill it."
        )
    else:
        status = "ok"
        text = (
            f"The open pipeline (about {weighted:.1f} customers) covers the {needed:.1f} the "
            f"goal needs in the next {horizon:.1f} months ({value:.2f}x)."
        )
    return Indicator(
        "pipeline_coverage",
        title,
        5,
        status,
        "marketing",
        value,
        "ratio",
        confidence,
        text,
        evidence,
    )


def lead_volume(
    organization: Organization, r: Reads, goal: Goal | None, conversion: Indicator
) -> Indicator:
    """Conversion healthy but too few new leads to meet the goal: the leads a month the goal
    needs at the usual conversion, against the leads a month coming in."""
    recent = summed(r, "new_leads", r.months[-RECENT_MONTHS:]) / RECENT_MONTHS
    k, n = conversion_over(r, r.mature)
    weighted, _open, _cohort = _weighted_pipeline(organization, r)
    evidence: dict[str, Any] = {
        "new_leads_per_month": recent,
        "conversion": k / n if n else None,
        "weighted_pipeline_customers": weighted,
    }
    title = "New leads against the goal"
    if goal is None or n < min_n() or k == 0:
        why = (
            f"Set an annual goal for customers or revenue for {r.as_of.year}"
            if goal is None
            else f"At least {min_n()} leads with time to convert, some of them won, are needed"
        )
        return Indicator(
            "lead_volume",
            title,
            None,
            "missing",
            "marketing",
            recent,
            "count",
            "none",
            f"{why} to tell whether enough leads come in.",
            evidence,
        )
    conv = k / n
    remaining = (goal.goal - goal.ytd) / (goal.per_customer or 1.0)
    from_new = max(0.0, remaining - weighted)
    needed = from_new / conv / goal.months_left if goal.months_left > 0 else 0.0
    evidence.update(
        goal=goal.key,
        remaining_customers=remaining,
        customers_from_new_leads=from_new,
        months_left=goal.months_left,
        new_leads_needed_per_month=needed,
    )
    healthy = conversion.status in ("ok", "watch") and conversion.confidence != "none"
    if remaining <= 0:
        status, text = "ok", f"The {goal.key} goal for {r.as_of.year} is met already."
    elif from_new <= 0:
        status = "ok"
        text = (
            f"The open pipeline (about {weighted:.0f} customers at the usual rates) covers the "
            f"{remaining:.0f} customers the goal still needs; {recent:.0f} new leads a month "
            "come on top."
        )
    elif recent < needed and healthy:
        status = "alert"
        text = (
            f"Conversion is healthy ({percent(conv)} of leads become customers), but "
            f"{recent:.0f} new leads a month will not reach the goal: it needs about "
            f"{needed:.0f} a month for the rest of the year."
        )
    elif recent < needed:
        status = "watch"
        text = (
            f"{recent:.0f} new leads a month is below the {needed:.0f} the goal needs at "
            f"{percent(conv)} conversion, but conversion is the weaker side."
        )
    else:
        status = "ok"
        text = (
            f"{recent:.0f} new leads a month meets the {needed:.0f} the goal needs at "
            f"{percent(conv)} conversion."
        )
    return Indicator(
        "lead_volume",
        title,
        None,
        status,
        "marketing",
        recent,
        "count",
        confidence_of(n),
        text,
        evidence,
    )


#: the plan check's verdicts: (status, the side an alert pushes toward)
PLAN_VERDICTS = {
    "sales": ("alert", "sales"),
    "marketing": ("alert", "marketing"),
    "both": ("alert", None),
    "watch": ("watch", None),
    "on_plan": ("ok", None),
    "early": ("info", None),
}


def plan_gap(organization: Organization, r: Reads) -> Indicator | None:
    """Where the saved plan's assumptions turned out wrong, January to the last complete
    month (``keepscore.plan.check``): leads on plan but customers under it push toward
    sales; too few leads while conversion holds, toward marketing. None without a plan."""
    from keepscore.plan.check import plan_check

    found = plan_check(organization, month_add(r.as_of.replace(day=1), -1))
    if found is None:
        return None
    status, pushes = PLAN_VERDICTS[found.verdict]
    return Indicator(
        "plan_gap",
        "Against the plan",
        None,
        status,
        pushes,
        found.customers_ratio,
        "percent",
        confidence_of(found.leads),
        found.sentence,
        {
            "leads": found.leads,
            "leads_plan": round(found.leads_plan, 1),
            "customers": found.customers,
            "customers_plan": round(found.customers_plan, 1),
            "conversion_points": round(found.conversion_points, 1),
        },
    )
