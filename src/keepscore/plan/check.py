"""The plan checked against the year: year to date, are the customers where the saved plan
said, and if not, is the gap marketing (too few leads) or sales (the leads came, the
customers did not)? Read by the scorecard and the focus (docs/focus.md).

With L = new leads and C = customers (the scorecard's: leads won in the month) from January
to the month, against the plan's L* and C* for the same months, and E = L x C* / L* the
customers the leads that came would give at the plan's conversion:

- too early while C* and C are both under :data:`MIN_CUSTOMERS` (a plan of 4 customers
  to date that has 134 is not too early to judge: it is well ahead);
- on plan: C >= 95% of C*; said "ahead of the plan" when C is over C* beyond chance
  (P(X >= C) < :data:`ALPHA` for X ~ Poisson(C*)), the verdict the same;
- watch: under 95% of the plan, but no further than chance alone takes a year on plan
  (P(X <= C) >= :data:`ALPHA` for X ~ Poisson(C*)): nothing to act on yet;
- else behind the plan, and the gap is split in two: the leads are short when L < 95% of
  L* beyond chance (Poisson(L*)), the conversion when C < 95% of E beyond chance
  (Poisson(E)). Leads short only: marketing; conversion short only: sales; both short, or
  neither alone (each a little under): both.

The backtest (``keepscore.plan.backtest``, docs/numbers.md) judges these rules on history:
an earlier version left a year 20% behind its plan "close to plan" whenever one of the two
ratios fell between 90% and 95%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from keepscore.accounts.models import Organization
from keepscore.funnel import summary
from keepscore.plan.engine import Plan
from keepscore.plan.models import YearPlan

if TYPE_CHECKING:
    from keepscore.plan.selectors import PlanReport

#: the plan's customers to date before its gaps are judged
MIN_CUSTOMERS = 5
#: at least this share of the plan is on plan
ON = 0.95
#: a shortfall is beyond chance when a count this low or lower has less than this chance
ALPHA = 0.10


def poisson_cdf(k: int, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean): the terms summed in log space, exact for the
    counts a plan has (a normal approximation with continuity correction past 5,000)."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    if mean > 5000:
        return 0.5 * math.erfc(-(k + 0.5 - mean) / math.sqrt(2 * mean))
    log_mean = math.log(mean)
    return min(1.0, sum(math.exp(i * log_mean - mean - math.lgamma(i + 1)) for i in range(k + 1)))


def short(count: int, expected: float) -> bool:
    """Under :data:`ON` of what was expected, by more than chance (:data:`ALPHA`)."""
    return count < ON * expected and poisson_cdf(count, expected) < ALPHA


def over(count: int, expected: float) -> bool:
    """Over what was expected, by more than chance (:data:`ALPHA`): P(X >= count)."""
    return count > expected and 1 - poisson_cdf(count - 1, expected) < ALPHA


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


def _saved(organization: Organization, year: int) -> PlanReport | None:
    """The year's saved plan, without its range; None without one (or one that cannot be
    computed)."""
    from django.utils import timezone

    from keepscore.plan.selectors import plan_report
    from keepscore.scorecard.kept import remembered

    if not YearPlan.objects.for_org(organization).filter(year=year).exists():
        return None
    # measured as of today: kept for the day, until the data changes
    report = remembered(
        organization,
        "saved-plan",
        [year, timezone.localdate().isoformat()],
        lambda: plan_report(organization=organization, year=year, with_range=False),
    )
    return report if report.plan is not None and report.plan.months else None


def plan_check(organization: Organization, month: date) -> PlanCheck | None:
    """The saved plan of ``month``'s year against January to ``month``; None without a
    saved plan (or one that cannot be computed)."""
    report = _saved(organization, month.year)
    if report is None or report.plan is None:
        return None
    plan = report.plan
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
    if c.customers_plan < MIN_CUSTOMERS and c.customers < MIN_CUSTOMERS:
        return "early", f"{facts}: too early to judge the plan."
    if over(c.customers, c.customers_plan):
        return "on_plan", f"{facts}: ahead of the plan."
    if c.customers >= ON * c.customers_plan:
        return "on_plan", f"{facts}: on plan."
    if poisson_cdf(c.customers, c.customers_plan) >= ALPHA:
        return "watch", f"{facts}: under plan, but within what chance alone gives; {conversion}."
    expected = c.leads * c.customers_plan / c.leads_plan if c.leads_plan else 0.0
    leads_short = short(c.leads, c.leads_plan)
    conversion_short = short(c.customers, expected)
    if leads_short and not conversion_short:
        return "marketing", f"{facts}: conversion holds, too few leads: the gap is marketing."
    if conversion_short and not leads_short:
        return "sales", f"{facts}: leads on plan, {conversion}: the gap is sales, not marketing."
    if leads_short:
        return "both", f"{facts}: too few leads and {conversion}: sales and marketing both."
    return "both", (
        f"{facts}: behind the plan, the leads and the conversion each a little under it "
        f"({conversion}): sales and marketing both."
    )


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
    from keepscore.economics.selectors import spend_for

    first = month.replace(day=1)
    report = _saved(organization, first.year)
    if report is None or report.plan is None:
        return None
    plan = report.plan
    table = spend_for(
        organization=organization, first_month=date(first.year, 1, 1), last_month=first
    )
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
