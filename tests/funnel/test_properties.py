"""Properties that hold for any history: hypothesis writes random ladders of moves through
the real services, one fresh organization per example."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.funnel.selectors import conversion, funnel
from keepscore.leads.models import Lead, StageChange
from tests.conftest import examples, make_org
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db

# default ladder: 0 suspect, 1 prospect, 2 lead, 3 qualified, 4 proposal, 5 customer, 6 lost
KEYS = ("suspect", "prospect", "lead", "qualified", "proposal", "customer", "lost")
START = at(2024, 1, 1)
_orgs = itertools.count()

lead_paths = st.lists(
    st.tuples(
        st.integers(0, 120),  # first touch: days after 1 January 2024
        st.sampled_from(KEYS[:3]),  # the stages a lead may start at (before the gate)
        st.lists(st.tuples(st.integers(0, 45), st.sampled_from(KEYS)), max_size=4),
    ),
    min_size=1,
    max_size=8,
)
months = st.integers(1, 7).map(lambda m: Period.month(date(2024, m, 1)))


def build(paths: list[tuple[int, str, list[tuple[int, str]]]]) -> tuple[Organization, Any]:
    org, owner = make_org(f"p{next(_orgs)}", f"owner{next(_orgs)}@prop.test")
    for i, (offset, first, moves) in enumerate(paths):
        when = START + timedelta(days=offset)
        lead = new_lead(org, f"lead {i}", when, first)
        for gap, key in moves:
            if key == lead.stage.key:
                continue
            when += timedelta(days=gap)
            move(lead, key, when, owner, revenue="100", reason="Bad timing")
    return org, owner


def check_rate(figure: Any) -> None:
    assert 0 <= figure.k <= figure.n
    if figure.n == 0:
        assert figure.rate is None
        return
    assert 0 <= figure.ci_low <= figure.rate <= figure.ci_high <= 1


@settings(max_examples=examples(30))
@given(paths=lead_paths, period=months, within=st.sampled_from([None, 0, 14, 60]))
def test_funnel_figures_hold_together(db: Any, paths: Any, period: Period, within: Any) -> None:
    org, _owner = build(paths)
    leads = Lead.objects.for_org(org).count()
    # each lead's first change into each stage, and its first change (its entry), read
    # straight from the rows
    first_into: dict[tuple[int, str], Any] = {}
    entry: dict[int, Any] = {}
    for lead, key, moment in (
        StageChange.objects.filter(organization=org)
        .order_by("at", "id")
        .values_list("lead_id", "to_stage__key", "at")
    ):
        first_into.setdefault((lead, key), moment)
        entry.setdefault(lead, moment)
    report = funnel(organization=org, period=period, within_days=within)
    (group,) = report.groups
    for step in group.conversions:
        check_rate(step.rate)
        # the cohort: the leads first observed at the step's first stage in the period (the
        # overall step: those that entered the funnel in it)
        if step.overall:
            expected = sum(1 for moment in entry.values() if period.holds(moment))
        else:
            expected = sum(
                1 for (_l, k), moment in first_into.items()
                if k == step.from_key and period.holds(moment)
            )  # fmt: skip
        assert step.rate.n == expected
    for by in (None, "channel"):
        report = funnel(organization=org, period=period, by=by, within_days=within)
        for group in report.groups:
            # each lead at most once per stage; the skipped among the reached
            for s in group.stages:
                assert 0 <= s.skipped <= s.reached <= leads and 0 <= s.entered <= leads
            for step in group.conversions:
                check_rate(step.rate)
    # over a period holding all the history (every date is in 2024): every lead reached the
    # first stage once, and reach never increases down the ladder (lost apart). Within a
    # shorter period it may: a lead can reach suspect in January and prospect in February.
    for by in (None, "channel"):
        groups = funnel(organization=org, period=Period.year(2024), by=by).groups
        assert sum(g.stages[0].reached for g in groups) == leads
        for group in groups:
            reached = {s.key: s.reached for s in group.stages}
            climbing = [reached[k] for k in KEYS[:6]]
            assert climbing == sorted(climbing, reverse=True)


@settings(max_examples=examples(30))
@given(
    paths=lead_paths,
    period=months,
    first=st.sampled_from(KEYS[:3]),
    won_after=st.integers(0, 20),
)
def test_a_won_lead_never_lowers_conversion_to_won(
    db: Any, paths: Any, period: Period, first: str, won_after: int
) -> None:
    org, owner = build(paths)
    before = conversion(organization=org, from_stage=first, to_stage="customer", period=period).rate
    check_rate(before)
    # a lead that reaches `first` in the period and is won
    when = at(period.start.year, period.start.month, period.start.day)
    lead = new_lead(org, "newcomer", when, first)
    move(lead, "customer", when + timedelta(days=won_after), owner, revenue="1")
    after = conversion(organization=org, from_stage=first, to_stage="customer", period=period).rate
    check_rate(after)
    assert (after.k, after.n) == (before.k + 1, before.n + 1)
    assert before.rate is None or after.rate >= before.rate  # type: ignore[operator]
