"""The demo comes with a plan: this year's for the year's revenue goal, accepted, and next
year's for 15% more, saved (``keepscore.demo.owner_setup.plan_setup``)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from keepscore.demo.generator import demo_create, demo_delete
from keepscore.plan.models import YearPlan
from keepscore.plan.selectors import plan_report, plan_targets
from keepscore.scorecard.models import Goal, Target

pytestmark = pytest.mark.django_db


def test_the_demo_plans_this_year_and_the_next():
    today = timezone.localdate()
    demo_create(slug="planned-demo", months=14, today=today)
    try:
        from keepscore.accounts.models import Organization

        org = Organization.objects.get(slug="planned-demo")
        goal = Goal.objects.get(organization=org, metric_key="revenue", year=today.year).value
        this, following = YearPlan.objects.filter(organization=org).order_by("year")
        assert (this.year, this.goal_kind, this.goal_amount) == (today.year, "revenue", goal)
        assert following.year == today.year + 1
        assert following.goal_amount == round(goal * 115 / 100)
        assert this.accepted_at is not None and following.accepted_at is None
        # the targets of this year are the plan's, the even ones replaced
        wanted = plan_targets(
            report=plan_report(organization=org, year=today.year, with_range=False)
        )
        written = {
            (t.metric_key, t.month.isoformat()[:7]): t.value
            for t in Target.objects.filter(organization=org, month__year=today.year)
        }
        assert written == wanted
        assert {key for key, _month in written} >= {"new_leads", "customers", "marketing_spend"}
    finally:
        demo_delete(slug="planned-demo")
