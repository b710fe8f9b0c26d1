"""The year's plan, written: the goal and the assumptions set by hand saved for a year
(``plan_save``), and the plan accepted (``plan_accept``): its monthly targets and annual goal
written to the scorecard. Reading the plan is ``plan.selectors``; checking its inputs
``plan.assumptions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.plan.assumptions import (
    goal_clean,
    overrides_clean,
    plan_year_check,
)
from keepscore.plan.measure import measure
from keepscore.plan.models import YearPlan
from keepscore.plan.selectors import (
    PlanReport,
    plan_report,
    plan_targets,
)


def plan_save(
    *,
    organization: Organization,
    year: int,
    goal_kind: Any,
    goal_amount: Any,
    overrides: dict[str, Any],
    by: Membership | None,
) -> PlanReport:
    """Save the year's goal and overrides (all checked first: a bad one saves nothing)."""
    plan_year_check(year)
    goal = goal_clean(kind=goal_kind, amount=goal_amount)
    cleaned = overrides_clean(measured=measure(organization), raw=overrides)
    with transaction.atomic():
        YearPlan.objects.update_or_create(
            organization=organization,
            year=year,
            defaults={
                "goal_kind": goal.kind,
                "goal_amount": Decimal(str(round(goal.amount, 2))),
                "overrides": cleaned,
                "by": by,
                "updated_at": timezone.now(),
            },
        )
    return plan_report(organization=organization, year=year)


@dataclass(frozen=True)
class Accepted:
    written: int  # targets and goals written
    kept: list[str]  # "Customers, Mar 2027": targets typed by hand, kept


def plan_accept(
    *, organization: Organization, year: int, by: Membership | None, replace: bool = False
) -> Accepted:
    """Write the stored plan's monthly targets (:func:`plan_targets`), its annual goal, and
    the annual goal of each other metric it sets monthly targets for (the sum of its twelve
    months, so that the grid's months add up to its goal). A target or goal typed by hand
    (not the value this plan wrote last time) is kept unless ``replace``. All or nothing."""
    from keepscore.scorecard.models import Goal, Target
    from keepscore.scorecard.services import goal_set, target_set

    report = plan_report(organization=organization, year=year, with_range=False)
    stored = YearPlan.objects.for_org(organization).filter(year=year).first()
    if stored is None or report.goal is None:
        raise ValidationError({"goal": f"There is no plan for {year} yet: set its goal first."})
    if report.plan is None or not report.plan.months:
        raise ValidationError({"plan": "The plan is missing: " + "; ".join(report.missing)})
    wanted = plan_targets(report=report)
    from keepscore.scorecard.catalogue import metric_catalogue

    names = {m.key: m.name for m in metric_catalogue(organization)}
    existing = {
        (t.metric_key, t.month.isoformat()[:7]): t.value
        for t in Target.objects.for_org(organization).filter(
            month__year=year, metric_key__in={key for key, _m in wanted}
        )
    }
    goal = report.goal
    sums: dict[str, Decimal] = {}
    for (key, _month), value in wanted.items():
        if key != goal.kind:
            sums[key] = sums.get(key, Decimal(0)) + value
    goals = dict(
        Goal.objects.for_org(organization)
        .filter(year=year, metric_key__in=set(sums))
        .values_list("metric_key", "value")
    )
    written: dict[str, str] = {}
    kept: list[str] = []

    def mine(mark: str, have: Decimal | None) -> bool:
        """Whether to write: nothing there, or what this plan wrote last time, or replace."""
        ours = mark in stored.written and have == Decimal(stored.written[mark])
        return have is None or ours or replace

    with transaction.atomic():
        for (key, month), value in wanted.items():
            mark = f"{key}:{month}"
            if not mine(mark, existing.get((key, month))):
                kept.append(f"{names.get(key, key)}, {date.fromisoformat(month + '-01'):%b %Y}")
                continue
            target_set(organization=organization, metric_key=key, month=month, value=value)
            written[mark] = str(value)
        for key, total in sums.items():
            mark = f"{key}:goal"
            if not mine(mark, goals.get(key)):
                kept.append(f"{names.get(key, key)}, the goal of {year}")
                continue
            goal_set(organization=organization, metric_key=key, year=year, value=total)
            written[mark] = str(total)
        goal_set(
            organization=organization,
            metric_key=goal.kind,
            year=year,
            value=Decimal(str(round(goal.amount, 2))),
        )
        stored.written = written
        stored.accepted_at = timezone.now()
        stored.by = by
        stored.save(update_fields=["written", "accepted_at", "by", "updated_at"])
    return Accepted(len(written) + 1, kept)


# --- an annual goal spread over its months (the targets grid) --------------------------------
