"""The plan's measured assumptions, checked against pandas over the demo's own rows."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from django.utils import timezone

from keepscore.common.months import month_add
from keepscore.funnel.ladder import Ladder
from keepscore.leads.models import DealOutcome, Lead, StageChange
from keepscore.plan.measure import measure

pytestmark = pytest.mark.django_db


def _local_month(series: pd.Series) -> pd.Series:
    zone = timezone.get_current_timezone()
    return series.map(lambda at: timezone.localtime(at, zone).date().replace(day=1))


def test_the_rates_are_the_cohorts_reach_counted_from_the_stage_changes(demo):
    found = measure(demo)
    ladder = Ladder.of(demo)
    index = ladder.index
    changes = pd.DataFrame(
        StageChange.objects.filter(lead__organization=demo).values("lead_id", "to_stage_id", "at")
    )
    changes["i"] = changes["to_stage_id"].map(index)
    changes["month"] = _local_month(changes["at"])
    entry = changes.sort_values("at").groupby("lead_id")["month"].first()
    first, last = found.cohort
    cohort = set(entry[(entry >= first) & (entry <= last)].index)
    climbing = changes[~changes["i"].isin(ladder.lost) & changes["lead_id"].isin(cohort)]
    highest = climbing.groupby("lead_id")["i"].max()

    def reached(stage) -> int:
        return int((highest >= ladder.find(stage)).sum())

    a = found.assumptions
    assert a.to_qualified.n == len(cohort) > 100
    assert a.to_qualified.k == reached(found.qualified)
    assert (a.to_proposal.k, a.to_proposal.n) == (reached(found.proposal), a.to_qualified.k)
    assert (a.to_customer.k, a.to_customer.n) == (reached(found.won), a.to_proposal.k)
    assert 0 < a.to_won < 1
    # old enough: the cohort's last month ended at least an 80th-percentile cycle ago
    end_of_last = month_add(last, 1)
    assert (timezone.localdate() - end_of_last).days >= found.cycle_p80 - 31
    assert month_add(first, 11) == last


def test_the_money_channels_season_and_cycle_from_the_rows(demo):
    found = measure(demo)
    a = found.assumptions
    since, until = found.period.bounds()
    won = pd.DataFrame(
        DealOutcome.objects.filter(
            lead__organization=demo, result="won", at__gte=since, at__lt=until
        ).values("revenue", "lead_id", "at")
    ).dropna(subset=["revenue"])
    revenue = won["revenue"].astype(float)
    assert a.deals == len(won) > 20
    assert a.deal_value == pytest.approx(revenue.mean())
    assert a.deal_value_sd == pytest.approx(revenue.std(ddof=1))
    leads = pd.DataFrame(
        Lead.objects.filter(
            organization=demo, first_touch_at__gte=since, first_touch_at__lt=until
        ).values("channel__key")
    )
    shares = leads["channel__key"].value_counts(normalize=True)
    assert {c.key: c.share for c in a.channels} == pytest.approx(shares.to_dict())
    # the sales cycle: first wins of the 12 months, median days, in whole months
    wins = (
        pd.DataFrame(
            DealOutcome.objects.filter(lead__organization=demo, result="won")
            .order_by("lead_id", "at", "id")
            .values("lead_id", "at", "lead__first_touch_at")
        )
        .groupby("lead_id")
        .first()
    )
    wins["month"] = _local_month(wins["at"])
    inside = wins[(wins["month"] >= found.period.start) & (wins["month"] <= found.period.end)]
    days = (inside["at"] - inside["lead__first_touch_at"]).dt.total_seconds() / 86400
    assert found.cycle_median == pytest.approx(days.median())
    assert a.cycle_months == round(days.median() / (365.25 / 12))
    # the season: each calendar month's share of those first wins (14 months of history)
    assert found.seasonal
    by_month = inside["month"].map(lambda m: m.month).value_counts(normalize=True)
    assert a.season == pytest.approx(tuple(by_month.get(m, 0.0) for m in range(1, 13)))
    assert "deals" in found.sources["deal_value"] and "%" in found.sources["to_customer"]


def test_a_young_organization_gets_an_even_season_and_asks_for_rates(org_a):
    found = measure(org_a)
    a = found.assumptions
    assert not found.seasonal and a.season == (1 / 12,) * 12
    assert a.deal_value is None and a.to_qualified.value is None
    assert "even" in found.sources["season"]
    assert timezone.localdate() - timedelta(days=1) <= found.period.end + timedelta(days=31)


def test_a_ladder_without_qualified_or_proposal_plans_on_what_it_has(org_a, owner_a):
    """A ladder without a qualified stage (none gated, none keyed qualified) and so without a
    proposal step: the steps it lacks are 100% by construction, and the one rate left is
    the share of new leads won (here unmeasured: it is asked for)."""
    from keepscore.plan.engine import Goal, plan_compute
    from tests.conftest import gates, stage_edit

    gates(org_a)  # no stage behind the qualification gate
    stage_edit(org_a, "qualified", key="checked")
    stage_edit(org_a, "proposal", key="offer")
    found = measure(org_a)
    a = found.assumptions
    assert found.qualified is None and found.proposal is None
    assert a.to_qualified.value == 1.0 and a.to_proposal.value == 1.0
    assert "no qualified stage" in found.sources["to_qualified"]
    plan = plan_compute(Goal("customers", 12), a, 2027)
    assert plan.missing == [
        "proposal → customer: measured on 0 leads, fewer than the 20 a rate needs"
    ]
