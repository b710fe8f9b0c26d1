"""The plan checked against the year: year to date, are the leads and the customers where
the saved plan said, and if not, is the gap marketing (too few leads) or sales (the leads
came, the customers did not)? Read by the scorecard and the focus (docs/focus.md).

With L = new leads and C = customers (the scorecard's: leads won in the month) from January
to the month, against the plan's L* and C* for the same months:

- leads ratio L / L*, customers ratio C / C*, conversion ratio (C / L) / (C* / L*);
- on plan: C / C* >= 95%;
- sales: the leads came (L / L* >= 95%) but the customers are under 90% of the plan —
  conversion is under plan;
- marketing: the leads are under 90% of the plan while conversion holds (>= 95%);
- both: leads under 90% and conversion under 90%;
- else: close to plan (watch).
Too early to judge while the plan's customers to date are fewer than :data:`MIN_CUSTOMERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from keepscore.accounts.models import Organization
from keepscore.funnel import summary
from keepscore.plan.engine import Plan
from keepscore.plan.models import YearPlan

#: the plan's customers to date before its gaps are judged
MIN_CUSTOMERS = 5
ON, UNDER = 0.95, 0.90


@dataclass(frozen=True)
class PlanCheck:
    year: int
    through: date  # the last month counted (its first day)
    leads: int
    leads_plan: float
    customers: int
    customers_plan: float
    verdict: str  # "on_plan", "sales", "marketing", "both", "watch", "early"
    sentence: str

    @property
    def through_end(self) -> date:
        """The last day counted."""
        from keepscore.common.months import month_add

        return date.fromordinal(month_add(self.through, 1).toordinal() - 1)

    @property
    def leads_ratio(self) -> float:
        return self.leads / self.leads_plan if self.leads_plan else 0.0

    @property
    def customers_ratio(self) -> float:
        return self.customers / self.customers_plan if self.customers_plan else 0.0

    @property
    def conversion_points(self) -> float:
        """Customers per 100 leads, actual minus planned (percentage points)."""
        actual = self.customers / self.leads if self.leads else 0.0
        planned = self.customers_plan / self.leads_plan if self.leads_plan else 0.0
        return (actual - planned) * 100


def plan_check(organization: Organization, month: date) -> PlanCheck | None:
    """The saved plan of ``month``'s year against January to ``month``; None without a
    saved plan (or one that cannot be computed)."""
    from keepscore.plan.services import plan_report

    if not YearPlan.objects.for_org(organization).filter(year=month.year).exists():
        return None
    report = plan_report(organization, month.year, with_range=False)
    plan = report.plan
    if plan is None or not plan.months:
        return None
    through = month.replace(day=1)
    counts = summary.month_counts(organization, date(month.year, 1, 1), through)
    leads = sum(int(row["new_leads"]) for row in counts.values())
    customers = sum(int(row["closed_won"]) for row in counts.values())
    return plan_judge(plan, through, leads, customers)


def plan_judge(plan: Plan, through: date, leads: int, customers: int) -> PlanCheck:
    """The verdict on January to ``through`` (any day of that month) of ``plan``'s year,
    given the new leads and customers counted over those months. Pure: no database (the
    backtest judges plans that were never saved)."""
    through = through.replace(day=1)
    counted = [m for m in plan.months if m.month <= through]
    leads_plan = sum(m.leads for m in counted)
    customers_plan = sum(m.customers for m in counted)
    check = PlanCheck(plan.year, through, leads, leads_plan, customers, customers_plan, "", "")
    verdict, sentence = _judge(check)
    return replace(check, verdict=verdict, sentence=sentence)


def _judge(c: PlanCheck) -> tuple[str, str]:
    span = f"January to {c.through:%B %Y}"
    facts = (
        f"{span}: {c.leads:,} new leads of the {c.leads_plan:,.0f} planned "
        f"({c.leads_ratio:.0%}), {c.customers:,} customers of {c.customers_plan:,.0f} "
        f"({c.customers_ratio:.0%})"
    )
    points = c.conversion_points
    conversion = f"conversion {abs(points):.1f} points {'under' if points < 0 else 'over'} plan"
    if c.customers_plan < MIN_CUSTOMERS:
        return "early", f"{facts}: too early to judge the plan."
    if c.customers_ratio >= ON:
        return "on_plan", f"{facts}: on plan."
    conversion_ratio = c.customers_ratio / c.leads_ratio if c.leads_ratio else 0.0
    if c.leads_ratio >= ON and c.customers_ratio < UNDER:
        return "sales", f"{facts}: leads on plan, {conversion}: the gap is sales, not marketing."
    if c.leads_ratio < UNDER and conversion_ratio >= ON:
        return "marketing", f"{facts}: conversion holds, too few leads: the gap is marketing."
    if c.leads_ratio < UNDER and conversion_ratio < UNDER:
        return "both", f"{facts}: too few leads and {conversion}: sales and marketing both."
    return "watch", f"{facts}: close to plan; {conversion}."


def plan_check_of_month(
    organization: Organization, month: date, today: date | None = None
) -> PlanCheck | None:
    """The check the scorecard of ``month`` shows: January to that month once it is over,
    to the month before while it runs (a month under way is not held against a whole month
    of the plan); None in January while it runs."""
    from django.utils import timezone

    from keepscore.common.months import month_add

    this_month = (today or timezone.localdate()).replace(day=1)
    through = month if month < this_month else month_add(month, -1)
    if through.year != month.year:
        return None
    return plan_check(organization, through)


@dataclass(frozen=True)
class SpendLine:
    """A channel's marketing spend against the saved plan: the month's and January to it."""

    key: str
    name: str
    planned: float | None  # None: the plan gives the channel no cost
    entered: Decimal | None  # None: nothing entered for the month
    planned_to_date: float | None
    entered_to_date: Decimal


def spend_check(organization: Organization, month: date) -> list[SpendLine] | None:
    """Each planned channel's spend of ``month`` and of January to it, planned and entered
    (the spend page shows it beside the month's form); None without a saved plan for the
    year (or one that cannot be computed)."""
    from keepscore.economics.spend import spend_for
    from keepscore.plan.services import plan_report

    first = month.replace(day=1)
    if not YearPlan.objects.for_org(organization).filter(year=first.year).exists():
        return None
    report = plan_report(organization, first.year, with_range=False)
    plan = report.plan
    if plan is None or not plan.months:
        return None
    table = spend_for(organization, date(first.year, 1, 1), first)
    counted = [m for m in plan.months if m.month <= first]
    lines = []
    for channel in report.assumptions.channels:
        planned = [m.by_channel[channel.key][1] for m in counted]
        entered = [table.cells.get((m.month, channel.key)) for m in counted]
        lines.append(
            SpendLine(
                key=channel.key,
                name=channel.name,
                planned=planned[-1],
                entered=entered[-1],
                planned_to_date=None if planned[-1] is None else sum(p or 0.0 for p in planned),
                entered_to_date=sum((e for e in entered if e is not None), Decimal(0)),
            )
        )
    return lines
