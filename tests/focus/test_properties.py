"""Properties of the diagnosis (hypothesis): leads that never convert never push it toward
marketing; the same data gives the same diagnosis; the summaries and the stage history give
the same answer for today; a past date ignores what happened after it."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import event, given, settings
from hypothesis import strategies as st

from keepscore.activities.models import ObjectionTag
from keepscore.focus import reads, selectors
from keepscore.focus.indicators import money, sales
from keepscore.focus.selectors import diagnose, diagnosis_json
from keepscore.funnel import summary
from keepscore.funnel.models import SummaryState
from keepscore.history import recorder
from tests.conftest import examples, make_org
from tests.focus import builder as b

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 15)
FIRST = date(2024, 6, 1)
_orgs = itertools.count()
#: marketing < balanced < sales: "toward marketing" is down this order
RANK = {"marketing": 0, "balanced": 1, "sales": 2}


def history(
    first: date, per_month: int, start: float, slope: float, cycle: int, loss_share: float
) -> list[b.Spec]:
    """12 months of leads from ``first``: month i converts ``start + slope * i`` of them."""

    def make(i: int, j: int, touch: Any) -> b.Spec:
        share = min(1.0, max(0.0, start + slope * i))
        if j < round(per_month * share):
            at_loss = j < round(per_month * share * loss_share)
            return b.won(touch, cycle, cost="1200" if at_loss else "500")
        return b.lost(touch, cycle + 5)

    return b.monthly(first, 12, per_month, lambda j: 1 + j % 28, make)


scenario = st.fixed_dictionaries(
    {
        "per_month": st.integers(3, 25),
        "start": st.floats(0.05, 0.6),
        "slope": st.floats(-0.04, 0.04),
        "cycle": st.sampled_from([5, 20, 45]),
        "loss_share": st.sampled_from([0.0, 0.0, 0.3, 0.8]),
        "goal": st.sampled_from([None, 20, 150, 600]),
        "cash": st.sampled_from([None, "5000", "200000"]),
        "extra": st.integers(1, 60),
        "extra_lost": st.booleans(),
    }
)


def new_org() -> Any:
    n = next(_orgs)
    return make_org(f"p{n}", f"owner{n}@prop.test")[0]


def setup(org: Any, s: dict[str, Any]) -> None:
    b.build(
        org, history(FIRST, s["per_month"], s["start"], s["slope"], s["cycle"], s["loss_share"])
    )
    if s["goal"] is not None:
        b.goal(org, "customers", 2025, s["goal"])
    if s["cash"] is not None:
        b.cash(org, date(2025, 6, 1), s["cash"], "10000")


@settings(max_examples=examples(20))
@given(s=scenario, data=st.data())
def test_leads_that_never_convert_never_push_toward_marketing(
    db: Any, s: dict[str, Any], data: Any
) -> None:
    org = new_org()
    setup(org, s)
    before = diagnose(org, AS_OF)
    # new leads, arriving in the 30 days before the diagnosis, that never become customers:
    # open at the first stage, or lost
    days = data.draw(st.lists(st.integers(0, 29), min_size=s["extra"], max_size=s["extra"]))
    extra = []
    for d in days:
        touch = b.local(AS_OF - timedelta(days=d))
        extra.append(b.lost(touch, 0) if s["extra_lost"] else b.opened(touch))
    b.build(org, extra)
    after = diagnose(org, AS_OF)
    event(f"{before.recommendation} -> {after.recommendation}")
    if before.recommendation in RANK and after.recommendation in RANK:
        assert RANK[after.recommendation] >= RANK[before.recommendation], (before, after)
    if before.recommendation in ("cash", "margins", "not_enough_data"):
        assert after.recommendation == before.recommendation
    # the marketing side's alerts can only go away
    for key in ("lead_volume", "pipeline_coverage"):
        if before.indicator(key).status != "alert":
            assert after.indicator(key).status != "alert", key


def without_names(d: selectors.Diagnosis) -> dict[str, Any]:
    out = diagnosis_json(diagnosis=d)
    out.pop("organization")
    return out


@settings(max_examples=examples(10))
@given(s=scenario)
def test_identical_data_gives_the_identical_diagnosis(db: Any, s: dict[str, Any]) -> None:
    one, two = new_org(), new_org()
    setup(one, s)
    setup(two, s)
    first = diagnose(one, AS_OF)
    assert without_names(diagnose(one, AS_OF)) == without_names(first)  # run again
    assert without_names(diagnose(two, AS_OF)) == without_names(first)  # the same rows again


def test_summaries_and_stage_history_give_the_same_answer_today(db: Any) -> None:
    """Today's diagnosis from the summaries equals the one from the stage history."""
    today = timezone.localdate()
    first = b.month_add(today.replace(day=1), -12)
    org = new_org()

    def make(i: int, j: int, touch: Any) -> b.Spec:
        where = ("referral", "ads", "website-form")[j % 3]
        if j < 12 - i // 2:
            return b.won(touch, 10 + j % 7, cost="1100" if j % 5 == 0 else "400", channel=where)
        if j % 4 == 0:
            return b.opened(touch, "proposal", 3, value="2500", channel=where)
        return b.lost(touch, 12, channel=where)

    specs = b.monthly(first, 12, 30, lambda j: 1 + j % 28, make)
    specs += [b.opened(b.local(today - timedelta(days=d))) for d in range(8)]
    leads = b.build(org, specs)
    b.objections(
        org, leads[0], [b.local(first.replace(day=2)) + timedelta(days=9 * k) for k in range(40)]
    )
    b.conversations(
        org, leads[3], [b.local(first.replace(day=3)) + timedelta(days=5 * k) for k in range(70)]
    )
    b.goal(org, "customers", today.year, 400)
    b.cash(org, today.replace(day=1), "30000", "12000")
    SummaryState.objects.filter(organization=org).delete()  # the reference path first
    assert not summary.ready(org)
    reference = diagnose(org, today)
    assert reference.recommendation in selectors.RECOMMENDATIONS
    recorder.rebuild(organization=org)
    assert summary.ready(org)
    summarized = diagnose(org, today)
    assert reads.reads(org, today).summarized
    assert diagnosis_json(diagnosis=summarized) == diagnosis_json(diagnosis=reference)
    ranked = summarized.indicator("best_channels").evidence["by_customers"]
    assert {row["channel"] for row in ranked} == {"Referral", "Ads", "Website form"}


def test_a_past_date_ignores_what_came_after(db: Any) -> None:
    """Two organizations with the same past; one's leads moved on after the date, and more
    came (leads, wins, objections, cash). As of the date, their diagnoses are the same."""
    as_it_was, moved_on = new_org(), new_org()
    crossing = b.local(AS_OF - timedelta(days=4))
    for org in (as_it_was, moved_on):
        b.build(org, history(FIRST, 20, 0.4, -0.02, 10, 0.3))
    # at the date: 30 leads qualified on day 3 (b.won qualifies half-way), 30 at prospect
    b.build(as_it_was, [b.opened(crossing, "qualified", 3) for _ in range(30)])
    b.build(as_it_was, [b.opened(crossing) for _ in range(30)])
    # the same 60 leads, moved on after the date: 30 won on day 6, 30 to proposal on day 10
    b.build(moved_on, [b.won(crossing, 6, cost="9000") for _ in range(30)])
    b.build(moved_on, [b.opened(crossing, "proposal", 10) for _ in range(30)])
    later = b.local(AS_OF + timedelta(days=3))
    leads = b.build(moved_on, [b.won(later, 2, cost="5000") for _ in range(30)])
    b.objections(moved_on, leads[0], [later] * 25)
    b.cash(moved_on, date(2025, 7, 1), "1", "10000")
    assert without_names(diagnose(moved_on, AS_OF)) == without_names(diagnose(as_it_was, AS_OF))


@settings(max_examples=examples(10), deadline=None)
@given(
    deals=st.lists(
        st.tuples(
            st.integers(-400, 40),  # the first touch, days from today
            st.integers(1, 60),  # the days to the outcome
            st.booleans(),  # won (else lost)
            st.sampled_from([None, "300", "1000", "1500"]),  # the cost (revenue 1000)
        ),
        min_size=1,
        max_size=12,
    ),
    objections=st.lists(
        st.tuples(st.integers(-420, 40), st.sampled_from(ObjectionTag.values)),
        max_size=25,
    ),
)
def test_objections_and_deals_from_the_summaries_equal_the_rows(
    db: Any, deals: list[tuple[int, int, bool, str | None]], objections: list[tuple[int, str]]
) -> None:
    """The monthly objections and the recent top tags, and the won deals with a cost and
    below it, read from the summaries equal the same read from the rows, on random
    histories (moments before, inside and after the 12 months, ties between tags); and
    equal a plain count."""
    today = timezone.localdate()
    org = new_org()
    specs = [
        b.won(b.local(today + timedelta(days=d)), days, cost=cost)
        if won
        else b.lost(b.local(today + timedelta(days=d)), days)
        for d, days, won, cost in deals
    ]
    leads = b.build(org, specs)
    for k, (d, tag) in enumerate(objections):
        b.objections(org, leads[k % len(leads)], [b.local(today + timedelta(days=d))], tag)
    assert summary.ready(org)
    r = reads.reads(org, today)
    assert r.summarized
    got, expected = sales._objections_summary(org, r), sales._objections_reference(org, r)
    assert got == expected
    # by hand: the objections inside the 12 months, and the recent months' tags
    months = set(r.months)
    recent = set(r.months[-reads.RECENT_MONTHS :])
    inside = [
        (month, tag)
        for d, tag in objections
        if (month := (today + timedelta(days=d)).replace(day=1)) in months
    ]
    assert sum(got[0].values()) == len(inside)
    tags: dict[str, int] = {}
    for month, tag in inside:
        if month in recent:
            tags[tag] = tags.get(tag, 0) + 1
    assert got[1] == sorted(tags.items(), key=lambda tn: (-tn[1], tn[0]))[:3]
    deals_got = money._deals_summary(org, r)
    assert deals_got == money._deals_reference(org, r)
    won_inside = [
        cost
        for d, days, won, cost in deals
        if won and (today + timedelta(days=d + days)).replace(day=1) in months
    ]
    assert deals_got == {
        "n": len(won_inside),
        "costed": sum(1 for c in won_inside if c is not None),
        "losses": sum(1 for c in won_inside if c is not None and Decimal(c) > 1000),
    }
