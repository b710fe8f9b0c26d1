"""The demo's spend and cash: every paid channel every month, deterministic, one channel
clearly losing money and one clearly earning it, and a runway of about four months."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from keepscore.accounts.models import Organization
from keepscore.demo.draws import month_starts
from keepscore.demo.generator import DemoSummary
from keepscore.demo.money import SPEND_PER_MONTH
from keepscore.economics.models import CashPosition, Spend
from keepscore.economics.selectors import cash_current, cash_history, runway_months
from keepscore.leads.models import DealOutcome, Lead, StageKind
from tests.demo.conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demos(demos: tuple[DemoSummary, ...], django_db_blocker: Any) -> tuple[Organization, ...]:
    """The package's two demos (``tests/demo/conftest.py``), same seed and day."""
    with django_db_blocker.unblock():
        return tuple(Organization.objects.get(slug=s.organization) for s in demos)


def spend_rows(org: Organization) -> list[tuple[Any, ...]]:
    return sorted(
        Spend.objects.for_org(org).values_list("month", "channel__key", "campaign", "amount")
    )


def test_the_same_seed_gives_the_same_money(demos):
    a, b = demos
    assert spend_rows(a) == spend_rows(b)
    cash = [
        list(CashPosition.objects.for_org(o).order_by("month").values_list(
            "month", "cash_on_hand", "monthly_fixed_costs"
        ))
        for o in demos
    ]  # fmt: skip
    assert cash[0] == cash[1]


def test_every_paid_channel_has_spend_every_month(demos):
    org = demos[0]
    months = month_starts(TODAY, 24)
    spent = {(m, c) for m, c, _k, a in spend_rows(org) if a > 0}
    for key in SPEND_PER_MONTH:
        missing = [m for m in months if (m, key) not in spent]
        assert not missing, (key, missing)
    show_months = {m for m, c, _k, _a in spend_rows(org) if c == "trade-show"}
    show_leads = {
        d.replace(day=1)
        for d in Lead.objects.for_org(org)
        .filter(channel__key="trade-show")
        .values_list("first_touch_at__date", flat=True)
    }
    assert show_months == show_leads  # the stand is paid for in the months of the expo
    assert not {c for _m, c, _k, _a in spend_rows(org)} & {"walk-in", "phone-enquiry"}
    assert all(a == a.quantize(Decimal(1)) and a > 0 for *_, a in spend_rows(org))
    campaigns = {(c, k) for _m, c, k, _a in spend_rows(org) if k}
    assert ("ads", "Spring shopfront promo") in campaigns


def _return_on_spend(org: Organization) -> dict[str, float]:
    """(margin of the customers whose original source is the channel - spend) / spend, over
    the whole history, in plain Python."""
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for _m, key, _k, amount in spend_rows(org):
        spend[key] += amount
    margin: dict[str, Decimal] = defaultdict(Decimal)
    won = DealOutcome.objects.for_org(org).filter(result=DealOutcome.Result.WON)
    for key, revenue, cost in won.values_list("lead__channel__key", "revenue", "cost"):
        margin[key] += (revenue or 0) - (cost or 0)
    return {k: float((margin[k] - spend[k]) / spend[k]) for k in spend}


def test_ads_lose_money_and_referrals_earn_it(demos):
    returns = _return_on_spend(demos[0])
    assert returns["ads"] < -0.3, returns  # ads do not pay back their spend
    assert returns["referral"] > 10, returns  # referrals return many times their cost
    assert min(returns, key=returns.__getitem__) in ("ads", "telemarketing")
    assert max(returns, key=returns.__getitem__) == "referral"


def test_cash_runs_down_to_about_four_months(demos):
    org = demos[0]
    history = cash_history(organization=org)
    assert [r.month for r in history] == sorted(month_starts(TODAY, 12), reverse=True)
    latest = cash_current(organization=org, on=TODAY)
    assert latest is not None and latest.month == date(2025, 6, 1)
    runway = runway_months(position=latest)
    assert runway is not None and Decimal("3.8") <= runway <= Decimal("4.2"), runway
    assert runway == (latest.cash_on_hand / latest.monthly_fixed_costs).quantize(Decimal("0.01"))
    assert history[-1].runway > Decimal(6)  # a year ago there was more cash
    # longer than the median sales cycle (days from first touch to won)
    won = Lead.objects.for_org(org).filter(stage__kind=StageKind.WON)
    cycle = statistics.median((w.stage_entered_at - w.first_touch_at).days for w in won)
    assert float(runway) * 30 > cycle
