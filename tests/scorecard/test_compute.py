"""The scorecard of one month, checked figure by figure against a small fixture worked out by
hand, and each count checked against the funnel services (an independent path)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.funnel import selectors as funnel
from keepscore.funnel import summary
from keepscore.funnel.models import SummaryState
from keepscore.leads.models import Lead
from keepscore.scorecard import compute, figures, row_reads
from keepscore.scorecard.compute import scorecard_for, scorecard_json
from keepscore.scorecard.services import goal_set, manual_values_set, review_add, target_set
from keepscore.scorecard.types import MetricRow, Scorecard
from tests.conftest import assert_index_alone
from tests.funnel.conftest import at, log, move, new_lead
from tests.scorecard.conftest import make_metric

pytestmark = pytest.mark.django_db
MARCH = date(2025, 3, 1)
TODAY = date(2025, 4, 15)  # March is over


@pytest.fixture(params=["summary", "rows"])
def path(request: Any, monkeypatch: Any) -> str:
    """The scorecard read from the summaries, or (``rows``) from the stored rows."""
    if request.param == "rows":
        monkeypatch.setattr(figures.summary, "ready", lambda organization: False)
    return str(request.param)


@pytest.fixture
def story(org_a: Organization, owner_a: Membership, path: str) -> Organization:
    """Five leads (A-E), activities, goals, targets, two manual metrics and a review."""
    o = owner_a
    a = new_lead(org_a, "A", at(2025, 3, 5))
    move(a, "lead", at(2025, 3, 10), o)
    move(a, "customer", at(2025, 3, 20), o, revenue="1000", cost="400")
    b = new_lead(org_a, "B", at(2025, 3, 6))
    move(b, "lost", at(2025, 3, 25), o, reason="Price too high")
    c = new_lead(org_a, "C", at(2025, 2, 10))
    move(c, "customer", at(2025, 2, 20), o, revenue="500", cost="100")
    d = new_lead(org_a, "D", at(2024, 3, 15))
    move(d, "customer", at(2024, 3, 28), o, revenue="300")
    e = new_lead(org_a, "E", at(2025, 1, 10), value="2000")
    move(e, "proposal", at(2025, 3, 12), o)
    log(a, "call_attempt", at(2025, 3, 6), o)
    log(a, "connect", at(2025, 3, 7), o, buyer=True)
    log(b, "proposal", at(2025, 3, 8), o)
    log(c, "connect", at(2025, 2, 15), o)
    goal_set(organization=org_a, metric_key="customers", year=2025, value=10)
    goal_set(organization=org_a, metric_key="revenue", year=2025, value=12000)
    target_set(organization=org_a, metric_key="new_leads", month="2025-03", value=5)
    target_set(organization=org_a, metric_key="close_rate", month="2025-03", value=40)
    visitors = make_metric(org_a, key="visitors")
    manual_values_set(metric=visitors, values={date(2025, 2, 1): 100, MARCH: 150}, by=o)
    opens = make_metric(org_a, "Open rate", key="open_rate", unit="percent", group="PROSPECT")
    manual_values_set(metric=opens, values={MARCH: 25}, by=o)
    review_add(organization=org_a, month=MARCH, kind="decision", text="More referrals", by=o)
    assert summary.ready(org_a) == (path == "summary")
    return org_a


def rows(card: Scorecard) -> dict[str, MetricRow]:
    return {r.key: r for r in card.rows}


def check(row: MetricRow, **expected: Any) -> None:
    for name, value in expected.items():
        got = getattr(row, name)
        if isinstance(value, float) and got is not None:
            assert got == pytest.approx(value, abs=1e-6), (row.key, name, got, value)
        else:
            assert got == value, (row.key, name, got, value)


def test_every_figure_of_march_by_hand(story: Organization):
    card = scorecard_for(story, MARCH, today=TODAY)
    r = rows(card)
    assert card.month == MARCH and card.organization == "Acme"
    assert [x.kind for x in card.reviews] == ["decision"]
    # new leads: A, B in March; C in February; D in March 2024; E in January
    check(r["new_leads"], value=2.0, previous=1.0, change=1.0, same_month_last_year=1.0)
    check(r["new_leads"], ytd=4.0, target=5.0, goal=None, pace=None)
    assert r["new_leads"].trend[-3:] == (1.0, 1.0, 2.0) and len(r["new_leads"].trend) == 12
    # flow counts: A, B entered prospect; A lead and customer; E proposal
    check(r["entered_prospect"], value=2.0, previous=1.0, ytd=4.0)
    check(r["entered_lead"], value=1.0, previous=0.0, ytd=1.0)
    check(r["entered_proposal"], value=1.0, ytd=1.0)
    check(r["entered_customer"], value=1.0, previous=1.0, same_month_last_year=1.0, ytd=2.0)
    # cohorts: March's prospects A, B; A reached lead. Feb: C (won, so reached lead). Jan: E.
    # 1 of 2 and 1 of 1: too few leads (min n 20), so "not enough data" and no change
    check(r["conversion_prospect_lead"], value=0.5, previous=1.0, change=None, ytd=0.75)
    check(r["conversion_prospect_lead"], enough=False)
    conv = r["conversion_prospect_lead"].rate
    assert conv is not None and (conv.k, conv.n, conv.enough) == (1, 2, False)
    # a step judges only the leads observed at its first stage: nobody was ever at suspect
    check(r["conversion_suspect_prospect"], value=None, ytd=None)
    # observed at lead in March: A (03-10), which went on; E skipped lead (prospect ->
    # proposal) and C in February skipped it too (prospect -> customer)
    check(r["conversion_lead_qualified"], value=1.0, previous=None)
    qualified = r["conversion_qualified_proposal"]  # A and E skipped qualified: no one
    check(qualified, value=None, previous=None, same_month_last_year=None)
    assert qualified.rate is not None and (qualified.rate.k, qualified.rate.n) == (0, 0)
    # activities
    check(r["call_attempts"], value=1.0, previous=0.0)
    check(r["connects"], value=1.0, previous=1.0, ytd=2.0)
    check(r["sales_conversations"], value=1.0, previous=0.0, ytd=1.0)
    check(r["proposals"], value=1.0)
    check(r["presentations"], value=0.0, previous=0.0)
    # closed: A won, B lost in March; C won in February; D won March 2024
    check(r["customers"], value=1.0, previous=1.0, same_month_last_year=1.0, ytd=2.0)
    check(r["lost"], value=1.0, previous=0.0, ytd=1.0)
    check(r["close_rate"], value=0.5, previous=1.0, same_month_last_year=1.0, target=0.4)
    check(r["close_rate"], ytd=2 / 3, goal=None, pace=None)
    close = r["close_rate"].rate
    assert close is not None and (close.k, close.n) == (1, 2)
    assert close.ci_low == pytest.approx(0.0945, abs=1e-4)
    assert close.ci_high == pytest.approx(0.9055, abs=1e-4)
    # money and margins (percent as fractions)
    check(r["revenue"], value=1000.0, previous=500.0, change=500.0, same_month_last_year=300.0)
    check(r["margin"], value=600.0, previous=400.0, ytd=1000.0)
    check(r["margin_pct"], value=0.6, previous=0.8, ytd=1000 / 1500)
    # March 2024: D won 300 with no cost recorded: its margin is unknown, not 300 (100%)
    check(r["margin"], same_month_last_year=None)
    check(r["margin_pct"], same_month_last_year=None)
    # sales cycle: A 15 days (March); C 10 days (February)
    check(r["sales_cycle_median"], value=15.0, previous=10.0, ytd=12.5)
    check(r["sales_cycle_p80"], value=15.0, ytd=14.0)
    assert r["sales_cycle_median"].higher_is_better is False
    # manual metrics: stored as typed, percent points become fractions
    check(r["visitors"], value=150.0, previous=100.0, change=50.0, ytd=250.0)
    check(r["visitors"], same_month_last_year=None, manual=True)
    check(r["open_rate"], value=0.25, previous=None, change=None, ytd=0.25)


def test_pace_of_customers_and_revenue_by_hand(story: Organization):
    """As of 31 March (the month is over): the run rate is the mean of the last 6 whole
    months (Oct-Mar), the spread the sample variance of the last 12 (Apr 2024-Mar 2025, all
    after the history's start in March 2024), 9 months left."""
    card = scorecard_for(story, MARCH, today=TODAY)
    r = rows(card)
    # customers by month, Apr 2024-Mar 2025: ten 0s, then Feb 1 and Mar 1
    run_rate = (0 + 0 + 0 + 0 + 1 + 1) / 6
    projected = 2 + run_rate * 9
    mean = 2 / 12
    variance = (2 * (1 - mean) ** 2 + 10 * mean**2) / 11
    variance = max(variance, run_rate)  # a count: at least Poisson's
    half = 1.959964 * math.sqrt(variance * 9 + variance * 81 / 6)
    customers = r["customers"]
    check(customers, goal=10.0, projected_year_end=projected, projected_high=projected + half)
    check(customers, projected_low=2.0)  # never below what is done
    assert projected + half > 10 > projected  # the goal is inside the interval, above it
    assert customers.pace == "at_risk"
    assert customers.projection is not None
    assert customers.projection.run_months == tuple(date(y, m, 1) for y, m in (
        (2024, 10), (2024, 11), (2024, 12), (2025, 1), (2025, 2), (2025, 3)))  # fmt: skip
    assert customers.projection.pro_rata == pytest.approx(10 * 90 / 365)
    # revenue: Feb 500 and Mar 1,000; the interval reaches below the YTD, so it stops there
    run_rate = 1500 / 6
    projected = 1500 + run_rate * 9
    mean = 1500 / 12
    variance = ((500 - mean) ** 2 + (1000 - mean) ** 2 + 10 * mean**2) / 11
    half = 1.959964 * math.sqrt(variance * 9 + variance * 81 / 6)
    check(r["revenue"], goal=12000.0, projected_year_end=projected, pace="behind")
    check(r["revenue"], projected_low=1500.0, projected_high=projected + half)
    assert projected + half < 12000


def test_pace_in_a_month_that_runs(story: Organization):
    """On 15 March: the run rate is Sep-Feb (whole months), the months left 9 + 16/31."""
    card = scorecard_for(story, MARCH, today=date(2025, 3, 15))
    p = rows(card)["customers"].projection
    assert p is not None and p.run_rate is not None
    assert p.run_months[0] == date(2024, 9, 1) and p.run_months[-1] == date(2025, 2, 1)
    assert p.run_rate == pytest.approx(1 / 6)
    assert p.months_left == pytest.approx(9 + 16 / 31)
    assert p.year_end == pytest.approx(2 + p.run_rate * p.months_left)


def test_pace_needs_three_whole_months_of_history(org_a: Organization, owner_a: Membership):
    a = new_lead(org_a, "A", at(2025, 1, 5))
    move(a, "customer", at(2025, 2, 10), owner_a, revenue="100")
    goal_set(organization=org_a, metric_key="customers", year=2025, value=5)
    early = rows(scorecard_for(org_a, date(2025, 3, 1), today=date(2025, 3, 20)))["customers"]
    assert early.pace == "not_enough_data" and early.projected_year_end is None
    later = rows(scorecard_for(org_a, date(2025, 4, 1), today=date(2025, 4, 2)))["customers"]
    assert later.pace != "not_enough_data" and later.projected_year_end is not None


def test_only_some_metrics_gives_the_same_rows(story: Organization):
    # the dashboard asks for a few metrics (no sales cycle: its days are not read)
    full = {r.key: r for r in scorecard_for(story, MARCH, today=TODAY).rows}
    keys = ("new_leads", "customers", "revenue", "close_rate")
    few = scorecard_for(story, MARCH, today=TODAY, only=keys)
    assert [r.key for r in few.rows] == [k for k in full if k in keys]  # catalogue order
    assert all(r == full[r.key] for r in few.rows)


def test_pace_on_track_with_a_small_goal(story: Organization):
    goal_set(organization=story, metric_key="customers", year=2025, value=3)
    r = rows(scorecard_for(story, MARCH, today=TODAY))
    assert r["customers"].pace == "on_track"


def test_percent_goal_is_divided_and_gets_no_pace(story: Organization):
    goal_set(organization=story, metric_key="close_rate", year=2025, value=35)
    r = rows(scorecard_for(story, MARCH, today=TODAY))
    check(r["close_rate"], goal=0.35, pace=None, projected_year_end=None)


def test_json_is_stable(story: Organization):
    data = scorecard_json(scorecard_for(story, MARCH, today=TODAY))
    assert data["organization"] == "Acme" and data["month"] == "2025-03"
    first = data["metrics"][0]
    assert list(first) == [
        "key", "group", "name", "unit", "value", "enough", "recorded", "previous",
        "previous_same_days", "change", "same_month_last_year",
        "same_month_last_year_same_days", "target", "ytd", "goal", "projected_year_end",
        "projected_low", "projected_high", "pace", "run_rate", "run_months", "months_left",
        "k", "n", "ci_low", "ci_high",
    ]  # fmt: skip
    assert data["month_to_date"] is None  # March is over
    close = next(m for m in data["metrics"] if m["key"] == "close_rate")
    assert (close["k"], close["n"], close["value"]) == (1, 2, 0.5)
    assert data["reviews"][0]["text"] == "More referrals"


def test_months_are_local(org_a: Organization, settings: Any):
    settings.TIME_ZONE = "America/New_York"
    timezone.deactivate()
    new_lead(org_a, "Late", at(2025, 3, 31, 23, 30))  # 1 April in UTC
    r = rows(scorecard_for(org_a, MARCH, today=TODAY))
    assert r["new_leads"].value == 1.0 and r["entered_prospect"].value == 1.0
    april = rows(scorecard_for(org_a, date(2025, 4, 1), today=TODAY))
    assert april["new_leads"].value == 0.0


def test_an_empty_organization(org_a: Organization):
    r = rows(scorecard_for(org_a, MARCH, today=TODAY))
    check(r["new_leads"], value=0.0, ytd=0.0)
    check(r["close_rate"], value=None, ytd=None)
    assert r["close_rate"].rate is not None and r["close_rate"].rate.n == 0
    check(r["sales_cycle_median"], value=None)
    check(r["margin_pct"], value=None)


COUNT_CHECKS = {
    "call_attempts": "call_attempts",
    "connects": "connects",
    "sales_conversations": "sales_conversations",
    "qualifying_conversations": "qualifying",
    "presentations": "presentations",
    "proposals": "proposals",
}


def test_counts_equal_the_funnel_services(db: Any):
    """On the demo's data, every count of the last months equals the funnel's answer."""
    from keepscore.demo.generator import demo_create

    demo_create(slug="demo", months=6, today=date(2025, 6, 20))
    org = Organization.objects.get(slug="demo")
    for month in (date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)):
        period = funnel.Period.month(month)
        r = rows(scorecard_for(org, month, today=date(2025, 6, 20)))
        assert r["new_leads"].value == funnel.new_leads(organization=org, period=period)
        for key, count in funnel.stage_entries(organization=org, period=period).items():
            if f"entered_{key}" in r:
                assert r[f"entered_{key}"].value == count, key
        bucket = funnel.activity_counts(organization=org, period=period)[0]
        for key, name in COUNT_CHECKS.items():
            assert r[key].value == getattr(bucket, name), key
        close = funnel.close_rate(organization=org, period=period)
        assert (r["customers"].value, r["lost"].value) == (close.k, close.n - close.k)
        assert r["close_rate"].rate == close
        money = funnel.money(organization=org, period=period)
        assert r["revenue"].value == pytest.approx(float(money.revenue))
        assert r["margin"].value == pytest.approx(float(money.margin))
        cycle = funnel.sales_cycle(organization=org, period=period)
        assert r["sales_cycle_median"].value == cycle.median_days
        report = funnel.funnel(organization=org, period=period)
        for step in report.groups[0].conversions[:-1]:
            row = r[f"conversion_{step.from_key}_{step.to_key}"]
            assert row.rate == step.rate, row.key
        assert sum(1 for x in r.values() if x.key.startswith("conversion_")) == len(
            report.groups[0].conversions[:-1]
        )


def test_the_summaries_and_the_rows_give_the_same_scorecard(db: Any, owner_a: Membership):
    """On the demo's data (with goals, so pace and the pipeline too), every row of every
    month is the same read from the summaries and from the stored rows."""
    from keepscore.demo.generator import demo_create

    today = date(2025, 6, 20)
    demo_create(slug="demo", months=14, today=today)
    org = Organization.objects.get(slug="demo")
    assert summary.ready(org)
    goal_set(organization=org, metric_key="customers", year=2025, value=40)
    goal_set(organization=org, metric_key="revenue", year=2025, value=90000)
    goal_set(organization=org, metric_key="new_leads", year=2025, value=500)
    months = [date(2025, 1, 1), date(2025, 5, 1), date(2025, 6, 1)]
    from_summaries = [scorecard_for(org, m, today=today).rows for m in months]
    SummaryState.objects.filter(organization=org).delete()
    assert not summary.ready(org)
    from_rows = [scorecard_for(org, m, today=today).rows for m in months]
    for month, a, b in zip(months, from_summaries, from_rows, strict=True):
        assert [r.key for r in a] == [r.key for r in b]
        for x, y in zip(a, b, strict=True):
            assert x == y, (month, x.key, x, y)
    may = rows_of(from_summaries[1])
    assert may["customers"].pace is not None and may["revenue"].projected_year_end
    # the year to date's close rate and cycle against the reference, over the whole span
    span = funnel.Period(date(2025, 1, 1), date(2025, 5, 31))
    close = funnel.close_rate(organization=org, period=span)
    assert may["close_rate"].ytd == close.rate
    assert (
        may["sales_cycle_median"].ytd
        == funnel.sales_cycle(organization=org, period=span).median_days
    )
    assert may["sales_cycle_p80"].ytd == funnel.sales_cycle(organization=org, period=span).p80_days


def rows_of(card_rows: tuple[MetricRow, ...]) -> dict[str, MetricRow]:
    return {r.key: r for r in card_rows}


def test_a_lead_that_moved_later_is_in_the_pipeline_of_the_month(
    story: Organization, owner_a: Membership
):
    """The pipeline at March's end: E (at proposal since March) and F (at proposal then,
    won in April); not G (first touched in April) nor B (lost in March)."""
    o = owner_a
    f = new_lead(story, "F", at(2025, 3, 3), value="700")
    move(f, "proposal", at(2025, 3, 30), o)
    move(f, "customer", at(2025, 4, 2), o, revenue="800")
    g = new_lead(story, "G", at(2025, 4, 3))
    move(g, "proposal", at(2025, 4, 5), o)
    ladder = funnel.Ladder.of(story)
    until = funnel.Period.month(MARCH).bounds()[1]
    pipeline = row_reads.open_pipeline(story, ladder, until)
    proposal = ladder.find("proposal")
    assert [(p.index, p.leads, p.value_sum, p.valued) for p in pipeline] == [
        (proposal, 2, 2700.0, 2)
    ]
    assert Lead.objects.get(pk=f.pk).stage.key == "customer"


def test_the_year_close_rate_counts_a_lead_once_by_its_last_outcome(
    org_a: Organization, owner_a: Membership, path: str
):
    """H lost in January and won in March: one lead, won, over the year (the months count
    it in each); I lost in February."""
    o = owner_a
    h = new_lead(org_a, "H", at(2025, 1, 5))
    move(h, "lost", at(2025, 1, 20), o, reason="Price too high")
    move(h, "customer", at(2025, 3, 10), o, revenue="100")
    i = new_lead(org_a, "I", at(2025, 2, 5))
    move(i, "lost", at(2025, 2, 6), o, reason="Price too high")
    r = rows(scorecard_for(org_a, MARCH, today=TODAY))
    check(r["close_rate"], value=1.0, ytd=0.5)
    check(r["lost"], value=0.0, ytd=2.0)
    check(r["customers"], value=1.0, ytd=1.0)
    check(r["sales_cycle_median"], value=64.0, ytd=64.0)


def test_cycle_and_year_close_rate_equal_the_reference(
    org_a: Organization, owner_a: Membership, path: str
):
    """First wins only (J's and N's later wins do not count; N was first won in 2024), and
    leads closed in several months (each once over the year, by its last outcome): the
    month's, each trend month's and the year's figures equal the funnel services'."""
    o = owner_a
    j = new_lead(org_a, "J", at(2025, 1, 2))
    move(j, "customer", at(2025, 1, 12, 6), o, revenue="10")
    move(j, "lost", at(2025, 2, 3), o, reason="Price too high")
    move(j, "customer", at(2025, 3, 4), o, revenue="20")
    k = new_lead(org_a, "K", at(2024, 12, 20))
    move(k, "lost", at(2025, 1, 5), o, reason="Price too high")
    move(k, "customer", at(2025, 2, 7, 18, 30), o, revenue="30")
    m = new_lead(org_a, "M", at(2025, 3, 2, 9, 17))
    move(m, "customer", at(2025, 3, 2, 13, 1), o, revenue="40")
    n = new_lead(org_a, "N", at(2024, 11, 1))
    move(n, "customer", at(2024, 12, 30), o, revenue="50")
    move(n, "lost", at(2025, 1, 3), o, reason="Price too high")
    move(n, "customer", at(2025, 3, 3), o, revenue="60")
    assert summary.ready(org_a) == (path == "summary")
    r = rows(scorecard_for(org_a, MARCH, today=TODAY))
    span = funnel.Period(date(2025, 1, 1), date(2025, 3, 31))
    cycle = funnel.sales_cycle(organization=org_a, period=span)
    assert cycle.count == 3  # J (January), K (February), M (March)
    assert r["close_rate"].ytd == funnel.close_rate(organization=org_a, period=span).rate == 1.0
    assert r["sales_cycle_median"].ytd == cycle.median_days
    assert r["sales_cycle_p80"].ytd == cycle.p80_days
    assert figures.cycle_quantile(org_a, span.start, MARCH, 0.5) == cycle.median_days
    assert figures.cycle_quantile(org_a, span.start, MARCH, 0.8) == cycle.p80_days
    months = [compute.month_add(MARCH, -i) for i in range(11, -1, -1)]
    for key, field in (("sales_cycle_median", "median_days"), ("sales_cycle_p80", "p80_days")):
        expected = [
            getattr(funnel.sales_cycle(organization=org_a, period=funnel.Period.month(x)), field)
            for x in months
        ]
        assert list(r[key].trend) == expected, key
    close = [
        funnel.close_rate(organization=org_a, period=funnel.Period.month(x)).rate for x in months
    ]
    assert list(r["close_rate"].trend) == close
    if path == "summary":  # the index answers runs of months only, and says so
        cycles = figures.IndexedCycles(org_a, months[0], MARCH)
        assert cycles.quantile(months[-3:], 0.5) == cycle.median_days
        with pytest.raises(ValueError, match="run of months"):
            cycles.quantile([months[-3], MARCH], 0.5)


def test_the_summaries_answer_without_reading_outcomes(org_a: Organization, owner_a: Membership):
    """With the summaries built (and no goal, so no pipeline), the scorecard reads neither
    the deal outcomes nor the stage changes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from keepscore.leads.models import DealOutcome, StageChange

    a = new_lead(org_a, "A", at(2025, 1, 5))
    move(a, "lost", at(2025, 1, 20), owner_a, reason="Price too high")
    move(a, "customer", at(2025, 3, 10), owner_a, revenue="100")
    assert summary.ready(org_a)
    with CaptureQueriesContext(connection) as queries:
        r = rows(scorecard_for(org_a, MARCH, today=TODAY))
    tables = (DealOutcome._meta.db_table, StageChange._meta.db_table)
    read = [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in tables)]
    assert not read, read
    check(r["close_rate"], value=1.0, ytd=1.0)
    check(r["sales_cycle_median"], value=64.0, ytd=64.0)


def test_a_month_that_runs_is_compared_with_the_same_days(story: Organization):
    """On 15 March: A and B are new (5, 6 March); the same days of February hold C (10 Feb),
    of March 2024 D (15 March 2024, noon). The whole months stay as they are."""
    card = scorecard_for(story, MARCH, today=date(2025, 3, 15))
    assert card.days == 15 and card.days_in_month == 31
    new = rows(card)["new_leads"]
    check(new, value=2.0, previous_same_days=1.0, last_year_same_days=1.0, change=1.0)
    check(new, previous=1.0, same_month_last_year=1.0)  # the whole months
    data = scorecard_json(card)
    assert data["month_to_date"] == {"days": 15, "of_days": 31}
    row = next(m for m in data["metrics"] if m["key"] == "new_leads")
    assert (row["previous_same_days"], row["same_month_last_year_same_days"]) == (1.0, 1.0)
    # the dashboard's card: last month's same days only
    short = scorecard_for(story, MARCH, today=date(2025, 3, 15), last_year_same_days=False)
    check(rows(short)["new_leads"], previous_same_days=1.0, last_year_same_days=None, change=1.0)
    # a cohort conversion waits for the month's end: no like-for-like value, no change
    conversion = rows(card)["conversion_prospect_lead"]
    assert conversion.previous_same_days is None and conversion.change is None
    # once March is over, the change is against the whole of February
    over = rows(scorecard_for(story, MARCH, today=TODAY))["new_leads"]
    assert over.previous_same_days is None and over.change == 2.0 - 1.0
    from keepscore.reports.scorecard import scorecard_context

    context = scorecard_context(card)
    assert context["month_to_date"] == "month to date, 15 of 31 days"
    assert context["compared_with"] == "vs 1\u201315 Feb"


def test_the_open_pipeline_is_counted_from_the_index_alone(
    org_a: Organization, owner_a: Membership
) -> None:
    """The leads open at a moment, by stage, with their values: read from the index
    ``lead_org_stage_open`` alone, not from the leads' rows (440 ms against 47 ms at a
    million leads); and the counts are those of the leads by hand."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a = new_lead(org_a, "A", at(2025, 3, 5), value="100")
    move(a, "lead", at(2025, 3, 10), owner_a)
    new_lead(org_a, "B", at(2025, 3, 6), value="50")
    new_lead(org_a, "C", at(2025, 3, 7))
    later = new_lead(org_a, "Later", at(2025, 5, 1), value="999")  # not open yet on April 1
    assert later.pk
    ladder = funnel.Ladder.of(org_a)
    until = at(2025, 4, 1)
    with CaptureQueriesContext(connection) as queries:
        found = row_reads.open_pipeline(org_a, ladder, until)
    by_key = {ladder.stages[s.index].key: (s.leads, s.value_sum, s.valued) for s in found}
    assert by_key == {"prospect": (2, 50.0, 1), "lead": (1, 100.0, 1)}
    [counted] = [q["sql"] for q in queries.captured_queries if "FILTER" in q["sql"]]
    assert_index_alone(counted, "lead_org_stage_open", "leads_lead")
