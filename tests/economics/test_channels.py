"""Channel economics (keepscore.economics.channels), on data made by the real services.

Every figure is checked against an independent computation over the same rows: plain
Python over the story's own list of what happened (never the service's queries), and
numbers worked out by hand for the first story. Both ways of computing (the summaries and
the stored rows) are checked to give the same answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from keepscore.accounts.models import Membership, Organization
from keepscore.common.periods import Period, local_date
from keepscore.economics.channels import (
    MIN_CUSTOMERS,
    channel_economics,
    channel_economics_reference,
    period_months,
    qualified_stage,
)
from keepscore.economics.models import Spend
from keepscore.funnel import stats, summary
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.models import SummaryState
from keepscore.leads.models import Channel, Stage
from keepscore.leads.selectors import LeadFilters, lead_list
from tests.conftest import gates
from tests.economics.channel_story import spend, story_fixture  # noqa: F401  (story)
from tests.funnel.conftest import at, move, new_lead

FEB = Period(date(2025, 2, 1), date(2025, 2, 28))


def rows_by_key(result: Any) -> dict[str, Any]:
    return {r.key: r for r in result.rows}


@pytest.fixture(params=["summary", "rows"])
def path(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Economics read from the summaries, or (``rows``) from the stored rows."""
    if request.param == "rows":
        monkeypatch.setattr(summary, "ready", lambda organization: False)
    return str(request.param)


def test_february_by_hand(story: Organization, path: str, settings: Any):
    settings.KEEPSCORE_MIN_N = 1
    result = channel_economics(story, FEB)
    assert result.summarized == (path == "summary")
    assert result.qualified_stage == "qualified"
    assert result.months == 1.0
    rows = rows_by_key(result)
    ref = rows["referral"]
    assert ref.spend == Decimal("100.00")
    assert (ref.leads, ref.qualified, ref.customers) == (3, 3, 1)  # B C D; A B D; A
    assert (ref.conversion.k, ref.conversion.n) == (1, 3)  # B won on 1 March
    lo, hi = stats.wilson(1, 3) or (None, None)
    assert (ref.conversion.ci_low, ref.conversion.ci_high) == (lo, hi)
    assert (ref.revenue, ref.cost, ref.margin) == (Decimal(1000), Decimal(400), Decimal(600))
    assert ref.margin_pct == pytest.approx(0.6)
    assert ref.cost_per_lead == Decimal("33.33")
    assert ref.cost_per_customer == Decimal("100.00")
    assert ref.return_on_spend == pytest.approx(5.0)  # (600 - 100) / 100
    assert ref.payback_months == pytest.approx(100 / 600)
    assert ref.too_small and "customer" in ref.too_small_reason  # 1 customer < 5

    ads = rows["ads"]
    assert ads.spend == Decimal("600.00")
    assert (ads.leads, ads.qualified, ads.customers) == (1, 1, 1)  # E won twice: one customer
    # E's first deal (300) has no cost recorded: its margin is unknown, so the margin is the
    # second deal's, 200 - 50 (not 300 + 150, as if the first had cost nothing)
    assert (ads.revenue, ads.cost, ads.costed) == (Decimal(500), Decimal(50), 1)
    assert ads.margin == Decimal(150) and ads.margin_pct == pytest.approx(150 / 200)
    assert ads.cost_per_lead == Decimal("600.00")
    assert ads.return_on_spend == pytest.approx((150 - 600) / 600)
    assert ads.payback_months == pytest.approx(600 / 150)

    search = rows["search"]
    assert (search.spend, search.leads, search.customers) == (Decimal(200), 0, 0)
    assert search.cost_per_lead is None and search.cost_per_customer is None  # no leads
    assert search.conversion.rate is None and search.conversion.n == 0
    assert search.margin_pct is None
    assert search.return_on_spend == pytest.approx(-1.0)
    assert search.payback_months is None  # no margin: it never pays back

    walk_in = rows["walk-in"]  # an active channel with nothing: listed, spend not recorded
    assert walk_in.spend is None and walk_in.return_on_spend is None
    assert walk_in.payback_months is None and walk_in.cost_per_customer is None
    assert walk_in.margin == 0  # no deals: nothing to have a margin on

    total = result.total
    assert total.spend == Decimal("900.00")
    assert (total.leads, total.qualified, total.customers) == (4, 4, 2)
    assert (total.conversion.k, total.conversion.n) == (2, 4)  # B and E
    assert total.margin == Decimal(750) and total.costed == 2
    assert total.cost_per_customer == Decimal("450.00")
    assert total.return_on_spend == pytest.approx((750 - 900) / 900)


def test_january_spend_of_a_partial_period(story: Organization, settings: Any):
    """A period of 20 January to 10 February touches both months: their whole spend counts;
    it is 12/31 + 10/28 months long."""
    period = Period(date(2025, 1, 20), date(2025, 2, 10))
    result = channel_economics(story, period)
    assert not result.summarized  # not whole months: from the rows
    assert result.months == pytest.approx(12 / 31 + 10 / 28)
    ref = rows_by_key(result)["referral"]
    assert ref.spend == Decimal("150.00")
    assert (ref.leads, ref.qualified, ref.customers) == (3, 2, 1)  # A B C; A B; A
    assert (ref.conversion.k, ref.conversion.n) == (2, 3)  # A and B, won since
    assert ref.margin == Decimal(600)
    assert ref.payback_months == pytest.approx(150 / (600 / result.months))


def test_no_spend_means_return_on_spend_undefined(story: Organization, path: str):
    result = channel_economics(story, Period(date(2025, 3, 1), date(2025, 3, 31)))
    ref = rows_by_key(result)["referral"]  # B won in March (no cost); no March spend
    assert ref.spend is None and ref.margin is None  # neither recorded: unknown, not 0
    assert ref.revenue == Decimal(500) and ref.costed == 0
    assert ref.return_on_spend is None and ref.payback_months is None
    assert ref.cost_per_customer is None  # never 0 per customer for spend not entered
    assert ref.cost_per_lead is None  # no new lead in March


def test_no_customers_means_cost_per_customer_undefined(story: Organization, path: str):
    result = channel_economics(story, Period(date(2025, 1, 1), date(2025, 1, 31)))
    ref = rows_by_key(result)["referral"]  # A touched in January, won in February
    assert (ref.spend, ref.leads, ref.customers) == (Decimal(50), 1, 0)
    assert ref.cost_per_customer is None
    assert ref.cost_per_lead == Decimal("50.00")
    assert ref.return_on_spend == pytest.approx(-1.0)


def test_too_small(story: Organization, settings: Any):
    """Only return on spend and payback rest on few deals; cost per lead is a division."""
    settings.KEEPSCORE_MIN_N = 3
    rows = rows_by_key(channel_economics(story, FEB))
    assert rows["ads"].too_small
    assert rows["ads"].too_small_reason == "1 customer (fewer than 5)"
    assert rows["referral"].too_small_reason == "1 customer (fewer than 5)"
    assert rows["ads"].cost_per_lead == Decimal("600.00")  # the figure is there


def test_enough_data(org_a: Organization, owner_a: Membership, settings: Any):
    """Three new leads and five customers in a month, with a minimum n of 3: not too small."""
    settings.KEEPSCORE_MIN_N = 3
    for i in range(MIN_CUSTOMERS):
        lead = new_lead(org_a, f"L{i}", at(2025, 2, 1 + i))
        move(lead, "customer", at(2025, 2, 10 + i), owner_a, revenue="100")
    row = rows_by_key(channel_economics(org_a, FEB))["referral"]
    assert not row.too_small and row.too_small_reason == ""
    assert row.conversion.enough and row.conversion.rate == 1.0


def test_the_qualified_stage_follows_the_gate(story: Organization):
    """Gate "proposal" (and lift the gate of "qualified"): the first gated stage counts."""
    gates(story, "proposal")
    assert qualified_stage(Ladder.of(story)).key == "proposal"
    result = channel_economics(story, FEB)
    assert result.qualified_stage == "proposal"
    rows = rows_by_key(result)
    # proposal reached in February: A (won 10 Feb skips it), D (26 Feb), E (15 Feb)
    assert rows["referral"].qualified == 2 and rows["ads"].qualified == 1
    # no gate: the stage keyed "qualified"
    gates(story)
    assert qualified_stage(Ladder.of(story)).key == "qualified"


def test_other_organizations_count_for_nothing(story: Organization, org_b: Organization):
    lead = new_lead(org_b, "X", at(2025, 2, 2))
    owner_b = Membership.objects.get(organization=org_b, is_owner=True)
    move(lead, "customer", at(2025, 2, 3), owner_b, revenue="9999")
    spend(org_b, date(2025, 2, 1), "referral", "777")
    total = channel_economics(story, FEB).total
    assert total.spend == Decimal(900) and total.leads == 4 and total.revenue == Decimal(1500)


def test_period_months():
    assert period_months(Period(date(2025, 1, 1), date(2025, 3, 31))) == 3.0
    assert period_months(Period(date(2025, 4, 1), date(2025, 4, 15))) == 0.5
    assert period_months(Period(date(2024, 2, 15), date(2024, 3, 1))) == pytest.approx(
        15 / 29 + 1 / 31
    )


def test_as_dict(story: Organization, settings: Any):
    data = channel_economics(story, FEB).as_dict()
    assert data["period"] == {"from": "2025-02-01", "to": "2025-02-28"}
    assert data["total"]["spend"] == 900.0 and data["min_customers"] == MIN_CUSTOMERS
    search = next(c for c in data["channels"] if c["key"] == "search")
    assert search["cost_per_lead"] is None and search["return_on_spend"] == -1.0
    assert search["conversion"] == {
        "k": 0,
        "n": 0,
        "rate": None,
        "ci_low": None,
        "ci_high": None,
        "enough": False,
    }


# --- random histories against plain Python ----------------------------------------------


@dataclass
class Spec:
    """What happened to one lead, as the test wrote it."""

    channel: str
    touched: datetime
    moves: list[tuple[str, datetime, str | None, str | None]] = field(default_factory=list)


LADDER = ("suspect", "prospect", "lead", "qualified", "proposal", "customer")
CHANNELS = ("referral", "ads", "search", "email")


def _random_story(org: Organization, owner: Membership, seed: int) -> list[Spec]:
    rnd = random.Random(seed)
    specs = []
    for i in range(60):
        touched = at(2024, 11, 1) + timedelta(hours=rnd.randrange(0, 24 * 150))
        spec = Spec(rnd.choice(CHANNELS), touched)
        lead = new_lead(org, f"R{i}", touched, stage_key="suspect", channel_key=spec.channel)
        when, current = touched, "suspect"
        for _step in range(rnd.randrange(0, 5)):
            when += timedelta(hours=rnd.randrange(1, 24 * 40))
            to = rnd.choice([s for s in (*LADDER, "lost") if s != current])
            revenue = cost = reason = None
            if to == "customer":
                revenue = str(rnd.randrange(100, 5000))
                cost = str(rnd.randrange(0, 3000)) if rnd.random() < 0.7 else None
                revenue = revenue if rnd.random() < 0.9 else "0"
            if to == "lost":
                reason = "No budget"
            move(lead, to, when, owner, revenue=revenue, cost=cost, reason=reason)
            spec.moves.append((to, when, revenue, cost))
            current = to
        specs.append(spec)
    for month in (date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)):
        for key in CHANNELS[:3]:
            spend(org, month, key, str(rnd.randrange(0, 900)))
    return specs


def _expected(specs: list[Spec], spends: list[tuple[date, str, Decimal]], period: Period) -> dict:
    """Plain Python over the specs: the figures per channel."""
    qualified_at = LADDER.index("qualified")
    out: dict[str, dict[str, Any]] = {}
    first_month, last_month = period.start.replace(day=1), period.end.replace(day=1)
    for key in CHANNELS:
        mine = [s for s in specs if s.channel == key]
        new = [s for s in mine if local_date(s.touched) in period]
        reached = 0
        customers = deals = costed = 0
        revenue = cost = costed_revenue = Decimal(0)
        for s in mine:
            reach = [
                when
                for to, when, _r, _c in s.moves
                if to != "lost" and LADDER.index(to) >= qualified_at
            ]
            if reach and local_date(min(reach)) in period:
                reached += 1
            wins = [(when, r, c) for to, when, r, c in s.moves if to == "customer"]
            if wins and local_date(min(w for w, _r, _c in wins)) in period:
                customers += 1
            for when, r, c in wins:
                if local_date(when) in period:
                    deals += 1
                    revenue += Decimal(r or 0)
                    if c is not None:
                        costed += 1
                        cost += Decimal(c)
                        costed_revenue += Decimal(r or 0)
        won_new = sum(1 for s in new if any(to == "customer" for to, *_ in s.moves))
        recorded = [a for m, k, a in spends if k == key and first_month <= m <= last_month]
        spent = sum(recorded, Decimal(0)) if recorded else None
        out[key] = {
            "spend": spent,
            "leads": len(new),
            "qualified": reached,
            "customers": customers,
            "k": won_new,
            "revenue": revenue,
            "cost": cost,
            "costed": costed,
            # the margin of the deals with a cost; 0 without deals; unknown without a cost
            "margin": costed_revenue - cost if costed else (Decimal(0) if not deals else None),
        }
    return out


PERIODS = [
    Period(date(2024, 12, 1), date(2024, 12, 31)),
    Period(date(2025, 1, 1), date(2025, 3, 31)),
    Period(date(2024, 11, 1), date(2025, 6, 30)),
    Period(date(2024, 12, 10), date(2025, 2, 3)),
]


def count_filters(period: Period, qualified: Stage) -> dict[str, dict[str, Any]]:
    """The lead list's filters of the economics' counts (the page's links)."""
    start, end = period.start, period.end
    return {
        "leads": {"created_from": start, "created_to": end},
        "qualified": {"reached": qualified, "reached_from": start, "reached_to": end},
        "customers": {"won_from": start, "won_to": end},
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_random_histories_against_plain_python(org_a: Organization, owner_a: Membership, seed: int):
    specs = _random_story(org_a, owner_a, seed)
    spends = [
        (s.month, s.channel.key, s.amount)
        for s in Spend.objects.filter(organization=org_a).select_related("channel")
    ]
    assert summary.ready(org_a)
    whole = channel_economics(org_a, PERIODS[2]).total
    channels = {c.key: c for c in Channel.objects.for_org(org_a)}
    qualified_key = channel_economics(org_a, PERIODS[2]).qualified_stage
    qualified = Stage.objects.get(organization=org_a, key=qualified_key)
    assert whole.customers > 3 and whole.qualified > 3 and whole.spend  # not trivial
    for period in PERIODS:
        want = _expected(specs, spends, period)
        result = channel_economics(org_a, period)
        reference = channel_economics_reference(org_a, period)
        assert result.summarized == (period.start.day == 1)
        assert (result.rows, result.total) == (reference.rows, reference.total), period
        rows = rows_by_key(result)
        for key, figures in want.items():
            row = rows[key]
            got = {
                "spend": row.spend,
                "leads": row.leads,
                "qualified": row.qualified,
                "customers": row.customers,
                "k": row.conversion.k,
                "revenue": row.revenue,
                "cost": row.cost,
                "costed": row.costed,
                "margin": row.margin,
            }
            assert got == figures, (period, key)
            assert row.conversion.n == row.leads
            # the page's links: the lead list of each count has exactly that many leads
            listed = {
                figure: lead_list(
                    organization=org_a, filters=LeadFilters(channel=channels[key], **filters)
                ).count()
                for figure, filters in count_filters(period, qualified).items()
            }
            assert listed == {f: figures[f] for f in listed}, (period, key)
            margin, spent = figures["margin"], figures["spend"]
            if spent and margin is not None:
                assert row.return_on_spend == pytest.approx(float((margin - spent) / spent))
            else:
                assert row.return_on_spend is None
            if figures["customers"] and spent is not None:
                assert row.cost_per_customer == (spent / figures["customers"]).quantize(
                    Decimal("0.01")
                )
            else:
                assert row.cost_per_customer is None
        total = result.total
        assert total.leads == sum(f["leads"] for f in want.values())
        spent_all = [f["spend"] for f in want.values() if f["spend"] is not None]
        assert total.spend == (sum(spent_all) if spent_all else None)
        assert total.costed == sum(f["costed"] for f in want.values())


def test_both_paths_give_the_same_answers(org_a: Organization, owner_a: Membership):
    """Whole months: the summaries' answer equals the stored rows' (the summaries dropped)."""
    _random_story(org_a, owner_a, 7)
    periods = [p for p in PERIODS if p.start.day == 1]
    assert summary.ready(org_a)
    from_summaries = [channel_economics(org_a, p) for p in periods]
    assert all(r.summarized for r in from_summaries)
    SummaryState.objects.filter(organization=org_a).delete()
    from_rows = [channel_economics(org_a, p) for p in periods]
    assert not any(r.summarized for r in from_rows)
    for a, b in zip(from_summaries, from_rows, strict=True):
        assert a.rows == b.rows and a.total == b.total
        assert a.as_dict() == b.as_dict()


# --- the scorecard's spend rows, by hand ------------------------------------------------


def test_scorecard_rows_by_hand(story: Organization, path: str):
    """The story's scorecard of February 2025 (whole organization, every channel):

    spend: January 50, February 100 + 600 + 200 = 900, March 0;
    new leads: January A; February B C D E; March none;
    first wins: February A and E; March B;  margin (deals with a cost): February 600 + 150,
    none in March (B has no cost).
    """
    from keepscore.scorecard.compute import scorecard_for
    from keepscore.scorecard.services import goal_set

    goal_set(organization=story, metric_key="cost_per_lead", year=2025, value="100")
    card = scorecard_for(story, date(2025, 2, 1), today=date(2025, 6, 1))
    rows = {r.key: r for r in card.rows}
    cpl, cpc, ros = rows["cost_per_lead"], rows["cost_per_customer"], rows["return_on_spend"]
    assert (cpl.group, cpc.group, ros.group) == ("LEAD", "CUSTOMER", "CUSTOMER")
    assert not cpl.higher_is_better and not cpc.higher_is_better and ros.higher_is_better
    assert cpl.value == pytest.approx(900 / 4)
    assert cpl.previous == pytest.approx(50 / 1)
    assert cpl.ytd == pytest.approx(950 / 5)  # sums over January-February, then divided
    assert cpl.goal == 100 and cpl.pace is None and cpl.projected_year_end is None
    assert cpc.value == pytest.approx(900 / 2)
    assert cpc.previous is None  # no customer in January
    assert cpc.ytd == pytest.approx(950 / 2)
    # February's margin: A 600 and E's second deal 150; E's first (300, no cost recorded)
    # has no known margin, so it counts in neither the margin nor its revenue
    assert ros.value == pytest.approx((750 - 900) / 900)
    assert ros.previous == pytest.approx(-1.0)  # 50 spent, no margin
    assert ros.ytd == pytest.approx((750 - 950) / 950)
    assert rows["margin_pct"].value == pytest.approx(750 / 1200)
    # the trend: March 2024 to February 2025; undefined where nothing was spent or won
    assert cpl.trend[:10] == (None,) * 10
    assert cpl.trend[10:] == (pytest.approx(50.0), pytest.approx(225.0))
    assert ros.trend[:10] == (None,) * 10

    # no spend entered for March: unknown, not free (never 0 per customer)
    march = {r.key: r for r in scorecard_for(story, date(2025, 3, 1), today=date(2025, 6, 1)).rows}
    for key in ("return_on_spend", "cost_per_lead", "cost_per_customer"):
        assert march[key].value is None and not march[key].recorded, key
        assert march[key].ytd is None, key  # January-March: March's spend is missing
    # spend of 0 entered for March: recorded, so B's cost is 0
    spend(story, date(2025, 3, 1), "search", "0")
    march = {r.key: r for r in scorecard_for(story, date(2025, 3, 1), today=date(2025, 6, 1)).rows}
    assert march["return_on_spend"].value is None  # nothing spent: no return on it
    assert march["cost_per_lead"].value is None  # no new lead in March
    assert march["cost_per_customer"].value == 0.0 and march["cost_per_customer"].recorded
    assert march["cost_per_lead"].ytd == pytest.approx(950 / 5)
    assert march["cost_per_customer"].ytd == pytest.approx(950 / 3)
    assert march["return_on_spend"].ytd == pytest.approx((750 - 950) / 950)  # B: no cost
    assert march["margin"].value is None and not march["margin"].recorded


def test_scorecard_agrees_with_channel_economics(story: Organization, path: str):
    """A month's scorecard rows equal the total row of that month's channel economics."""
    from keepscore.scorecard.compute import scorecard_for

    rows = {r.key: r for r in scorecard_for(story, date(2025, 2, 1), today=date(2025, 6, 1)).rows}
    total = channel_economics(story, FEB).total
    assert rows["cost_per_lead"].value == pytest.approx(float(total.cost_per_lead))
    assert rows["cost_per_customer"].value == pytest.approx(float(total.cost_per_customer))
    assert rows["return_on_spend"].value == pytest.approx(total.return_on_spend)
