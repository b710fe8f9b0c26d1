"""The owner's setup of the demo: goals, monthly targets, a manual metric, the review, the plan."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from keepscore.demo.plans import LeadPlan


def plan_setup(organization: Any, owner: Any, today: date) -> None:
    """This year's plan for the year's revenue goal, accepted (its targets replace the even
    ones :func:`scorecard_setup` wrote), and next year's for 15% more, saved: the plan page,
    the scorecard's and the spend page's checks against it have something to show. Skipped
    when the history is too short to measure the plan's rates."""
    from django.core.exceptions import ValidationError

    from keepscore.plan.services import plan_accept, plan_save
    from keepscore.scorecard.models import Goal

    goal = Goal.objects.filter(organization=organization, metric_key="revenue", year=today.year)
    revenue = goal.values_list("value", flat=True).first()
    if revenue is None:
        return
    try:
        for year, amount in ((today.year, revenue), (today.year + 1, round(revenue * 115 / 100))):
            report = plan_save(
                organization=organization,
                year=year,
                goal_kind="revenue",
                goal_amount=amount,
                overrides={},
                by=owner,
            )
            if report.plan is None or not report.plan.months:
                return
        plan_accept(organization=organization, year=today.year, by=owner, replace=True)
    except ValidationError:
        return


def scorecard_setup(
    organization: Any, owner: Any, plans: Sequence[LeadPlan], today: date, seed: int
) -> None:
    """This year's goals and monthly targets (last year plus some growth), a manual metric
    (website visitors) filled for every month, and last month's review: a scorecard worth
    reading. All derived from the plans and the seed, so the demo stays deterministic."""
    from keepscore.scorecard.services import (
        goal_set,
        manual_metric_save,
        manual_value_set,
        review_add,
        target_set,
    )

    year = today.year
    won = [(c.at, o) for p in plans for c in p.changes if (o := c.outcome) and o.won]
    last_year = [o for at, o in won if at.year == year - 1]
    new_last_year = sum(1 for p in plans if p.first_touch_at.year == year - 1)
    if last_year and new_last_year:
        customers = round(len(last_year) * 1.15)
        revenue = round(sum(o.revenue or Decimal(0) for o in last_year) * Decimal("1.15"), -3)
        new_leads = round(new_last_year * 1.1)
        goals = {"customers": customers, "revenue": revenue, "new_leads": new_leads}
        for key, value in goals.items():
            goal_set(organization=organization, metric_key=key, year=year, value=value)
        for month in range(1, 13):
            first = date(year, month, 1)
            target_set(
                organization=organization,
                metric_key="new_leads",
                month=first,
                value=round(new_leads / 12),
            )
            target_set(
                organization=organization,
                metric_key="customers",
                month=first,
                value=round(customers / 12),
            )
    rng = random.Random(seed + 1)
    visitors = manual_metric_save(
        organization=organization,
        name="Website visitors",
        group="SUSPECT",
        description="Visits to the website in the month (from its analytics).",
    )
    web_leads = Counter(
        p.first_touch_at.date().replace(day=1) for p in plans if p.channel == "website-form"
    )
    for start in sorted(web_leads):
        if start < today.replace(day=1):
            value = web_leads[start] * 45 + rng.randrange(0, 400)
            manual_value_set(metric=visitors, month=start, value=value, by=owner)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for kind, text in (
        ("note", "Referrals still close best; ads bring many leads that stall before qualified."),
        ("decision", "Ask every new customer for an introduction; review the ads targeting."),
    ):
        review_add(organization=organization, month=last_month, kind=kind, text=text, by=owner)
