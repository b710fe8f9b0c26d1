"""The objections report (``keepscore.funnel.objections``): every count worked out by hand, and
the trend test checked by hand on a rising and a flat series.

The story (UTC, noon unless said). Ann (referral) first touched 2023-12-01 at prospect, moved
to lead 2024-01-10, qualified 2024-02-01 12:00, proposal 2024-03-01. Ben (walk-in) first
touched 2024-01-05 at prospect, lost 2024-03-15.

    #  lead  tag         at                 stage at the time
    1  Ann   price       2024-01-15         lead
    2  Ann   price       2024-02-01 12:00   qualified (the move at the same moment counts)
    3  Ann   timing      2024-01-09         prospect (moved to lead the next day)
    4  Ben   price       2024-01-20         prospect
    5  Ben   competitor  2024-03-10         prospect
    6  Ben   price       2024-03-20         lost
    7  Ann   trust       2023-12-15         (before the period)
    8  Ann   price       2024-04-02         (after the period)

Q1 2024: 6 objections; price 4 (4/6), timing 1, competitor 1 (ties in the tags' order).
Months: Jan price 2 timing 1; Feb price 1; Mar price 1 competitor 1. Stages: prospect price 1
timing 1 competitor 1; lead price 1; qualified price 1; lost price 1. Channels: Referral price 2
timing 1; Walk-in price 2 competitor 1 (3 each: by name).
"""

from __future__ import annotations

import math
import statistics
from datetime import date, datetime
from typing import Any

import pytest

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Objection
from keepscore.activities.services import objection_add
from keepscore.common.periods import Period, local_date
from keepscore.funnel.filters import PeriodProblem
from keepscore.funnel.objections import (
    NO_STAGE_LABEL,
    objections_report,
    objections_trend,
    trend_test,
    trend_window,
)
from keepscore.history import recorder
from tests.conftest import make_org
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db

Q1 = Period(date(2024, 1, 1), date(2024, 3, 31))


def objection(lead: Any, tag: str, when: datetime, by: Membership | None = None) -> Objection:
    return objection_add(lead=lead, tag=tag, by=by, at=when)


@pytest.fixture
def story(org_a: Organization, owner_a: Membership) -> dict[str, Any]:
    return story_make(org_a, owner_a)


def story_make(org_a: Organization, owner_a: Membership) -> dict[str, Any]:
    ann = new_lead(org_a, "Ann", at(2023, 12, 1), channel_key="referral")
    ben = new_lead(org_a, "Ben", at(2024, 1, 5), channel_key="walk-in")
    move(ann, "lead", at(2024, 1, 10), owner_a)
    move(ann, "qualified", at(2024, 2, 1), owner_a)
    move(ann, "proposal", at(2024, 3, 1), owner_a)
    move(ben, "lost", at(2024, 3, 15), owner_a, reason="No budget")
    objection(ann, "price", at(2024, 1, 15), owner_a)
    objection(ann, "price", at(2024, 2, 1), owner_a)
    objection(ann, "timing", at(2024, 1, 9), owner_a)
    objection(ben, "price", at(2024, 1, 20))
    objection(ben, "competitor", at(2024, 3, 10))
    objection(ben, "price", at(2024, 3, 20))
    objection(ann, "trust", at(2023, 12, 15))
    objection(ann, "price", at(2024, 4, 2))
    return {"ann": ann, "ben": ben}


@pytest.fixture
def bravo(story: Any) -> Organization:
    org, owner = make_org("bravo", "owner@bravo.test")
    lead = new_lead(org, "Bo", at(2023, 12, 1))
    for day in (3, 4, 5):
        objection(lead, "need", at(2024, 1, day), owner)
    return org


def table(rows: list[Any], tags: list[str]) -> dict[str, dict[str, int]]:
    return {r.label: {t: n for t, n in zip(tags, r.counts, strict=True) if n} for r in rows}


def test_ranked_tags_with_count_and_share(org_a, story, bravo):
    # when
    report = objections_report(org_a, Q1)
    # then
    assert report.total == 6
    assert [(t.tag, t.label, t.count) for t in report.tags] == [
        ("price", "Price", 4),
        ("timing", "Timing", 1),
        ("competitor", "Competitor", 1),
    ]
    assert [t.share for t in report.tags] == [4 / 6, 1 / 6, 1 / 6]


def test_month_by_tag(org_a, story, bravo):
    report = objections_report(org_a, Q1)
    tags = [t.tag for t in report.tags]
    assert [r.key for r in report.months] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert table(report.months, tags) == {
        "Jan 2024": {"price": 2, "timing": 1},
        "Feb 2024": {"price": 1},
        "Mar 2024": {"price": 1, "competitor": 1},
    }
    assert [r.total for r in report.months] == [3, 1, 2]


def test_the_stage_is_the_one_the_lead_was_at_when_the_objection_was_logged(org_a, story):
    # given: Ann's timing objection on 01-09 at prospect, moved to lead on 01-10; she is at
    # proposal now
    report = objections_report(org_a, Q1)
    tags = [t.tag for t in report.tags]
    # then
    assert [r.label for r in report.stages] == ["Prospect", "Lead", "Qualified", "Lost"]
    assert table(report.stages, tags) == {
        "Prospect": {"price": 1, "timing": 1, "competitor": 1},
        "Lead": {"price": 1},
        "Qualified": {"price": 1},
        "Lost": {"price": 1},
    }
    assert story["ann"].stage.key == "proposal"


def test_an_objection_before_any_stage_change_has_no_stage(org_a, story):
    # given: imported data can date an objection before the lead's first stage change
    recorder.objection_append(
        objection=Objection(organization=org_a, lead=story["ben"], tag="need", at=at(2024, 1, 2))
    )
    # when
    report = objections_report(org_a, Q1)
    # then
    assert report.stages[-1].label == NO_STAGE_LABEL
    assert report.stages[-1].total == 1


def test_by_channel(org_a, story, bravo):
    report = objections_report(org_a, Q1)
    tags = [t.tag for t in report.tags]
    assert [(r.key, r.label, r.total) for r in report.channels] == [
        ("referral", "Referral", 3),
        ("walk-in", "Walk-in", 3),
    ]
    assert table(report.channels, tags) == {
        "Referral": {"price": 2, "timing": 1},
        "Walk-in": {"price": 2, "competitor": 1},
    }


def test_another_organization_sees_only_its_own(org_a, story, bravo):
    report = objections_report(bravo, Q1)
    assert [(t.tag, t.count) for t in report.tags] == [("need", 3)]
    assert report.total == 3


def test_an_empty_period(org_a, story):
    report = objections_report(org_a, Period(date(2022, 1, 1), date(2022, 2, 28)))
    assert report.total == 0 and report.tags == [] and report.stages == []
    assert [r.total for r in report.months] == [0, 0]


def test_a_period_of_more_than_120_months_is_refused(org_a):
    with pytest.raises(PeriodProblem):
        objections_report(org_a, Period(date(1900, 1, 1), date(2999, 12, 31)))


def test_the_report_is_a_few_queries(org_a, story, django_assert_max_num_queries):
    # the summaries' state and the ladder they were built for, the counted objections (Q1:
    # whole months, from the summaries), the ladder, channel names, the trend
    with django_assert_max_num_queries(6):
        objections_report(org_a, Q1)


# --- the trend test, by hand ------------------------------------------------------------------


def test_trend_test_on_a_rising_series_by_hand():
    # counts 1..6 over 6 months: t̄ = 2.5, Σ(t - t̄)² = 17.5, U = Σ y(t - t̄) = 17.5,
    # slope = U / 17.5 = 1; N = 21, var = 21 · 17.5 / 6 = 61.25, z = 17.5 / √61.25 = 2.2361,
    # p = 2 (1 - Φ(2.2361)) = 0.02535
    result = trend_test([1, 2, 3, 4, 5, 6])
    assert result.slope_per_month == pytest.approx(1.0)
    assert result.z == pytest.approx(2.2360680, abs=1e-6)
    assert result.p_value == pytest.approx(0.025347, abs=1e-6)


def test_trend_test_on_a_flat_and_a_falling_series():
    flat = trend_test([3, 3, 3, 3, 3, 3])
    assert flat.slope_per_month == 0 and flat.z == 0 and flat.p_value == 1.0
    falling = trend_test([6, 5, 4, 3, 2, 1])
    assert falling.slope_per_month == pytest.approx(-1.0)
    assert falling.p_value == pytest.approx(0.025347, abs=1e-6)
    assert trend_test([0, 0, 0]).p_value is None
    assert trend_test([5]).p_value is None


def test_trend_test_agrees_with_an_independent_regression():
    # the slope is the ordinary least-squares slope (the standard library's, same points)
    counts = [0, 4, 1, 7, 2, 9, 3]
    expected = statistics.linear_regression(range(len(counts)), counts).slope
    assert trend_test(counts).slope_per_month == pytest.approx(expected)


def test_objections_trend_rising_flat_and_not_enough(org_a, owner_a):
    # given, Apr 2023 - Mar 2024 (12 months, t = 0..11):
    #   price  0 0 1 1 1 2 2 2 3 3 4 5 (24): Σ c·t = 191, U = 191 - 24 · 5.5 = 59,
    #          Σ(t - 5.5)² = 143, slope = 59 / 143 = 0.41259, var = 24 · 143 / 12 = 286,
    #          z = 59 / √286 = 3.4887, p = 0.000485: rising
    #   timing 2 every month (24): slope 0, p 1: not rising
    #   trust  3 in March only: p is small, but 3 < 20 objections: not enough, not rising
    lead = new_lead(org_a, "Ann", at(2023, 1, 1))
    price = [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5]
    for i, n in enumerate(price):
        month = 4 + i
        year, month = 2023 + (month - 1) // 12, (month - 1) % 12 + 1
        for day in range(n):
            objection(lead, "price", at(year, month, 1 + day))
        for day in range(2):
            objection(lead, "timing", at(year, month, 10 + day))
    for day in range(3):
        objection(lead, "trust", at(2024, 3, 20 + day))
    objection(lead, "price", at(2024, 4, 1))  # after the window
    # when
    trends = {t.tag: t for t in objections_trend(org_a, 12, end=date(2024, 3, 31))}
    # then
    rising = trends["price"]
    assert rising.counts == price and rising.total == 24
    assert rising.months[0] == date(2023, 4, 1) and rising.months[-1] == date(2024, 3, 1)
    assert rising.slope_per_month == pytest.approx(59 / 143)
    assert rising.z == pytest.approx(59 / math.sqrt(286))
    assert rising.p_value == pytest.approx(0.000485, abs=1e-5)
    assert rising.rising and rising.enough
    flat = trends["timing"]
    assert flat.counts == [2] * 12 and flat.slope_per_month == 0 and flat.p_value == 1.0
    assert not flat.rising
    few = trends["trust"]
    assert few.total == 3 and few.p_value < 0.05 and not few.enough and not few.rising
    assert trends["need"].total == 0 and trends["need"].p_value is None
    assert [t.tag for t in objections_trend(org_a, 12, end=date(2024, 3, 31))][:2] == [
        "price",
        "timing",
    ]


def test_trend_window_is_full_months(org_a):
    assert trend_window(6, end=date(2024, 3, 5)) == Period(date(2023, 10, 1), date(2024, 3, 31))
    with pytest.raises(ValueError):
        trend_window(1)


def test_agrees_with_plain_python_over_random_data(org_a, owner_a):
    """An independent method: the stage at the time from each lead's history, in Python."""
    import random
    from collections import Counter

    from keepscore.leads.models import Stage, StageChange

    # given
    rng = random.Random(11)
    keys = ["prospect", "lead", "qualified", "proposal", "customer"]
    tags = ["price", "timing", "need", "trust"]
    span = at(2024, 12, 31) - at(2024, 1, 1)
    for i in range(40):
        when = at(2024, 1, 1) + span * rng.random() * 0.5
        lead = new_lead(
            org_a, f"L{i}", when, channel_key=rng.choice(["referral", "walk-in", "website-form"])
        )
        for key in keys[1 : 1 + rng.randrange(5)]:
            when = when + span * rng.random() * 0.1
            move(lead, key, when, owner_a, revenue="10" if key == "customer" else None)
        for _ in range(rng.randrange(4)):
            objection(lead, rng.choice(tags), lead.first_touch_at + span * rng.random() * 0.9)
    period = Period(date(2024, 1, 1), date(2024, 12, 31))
    # when
    report = objections_report(org_a, period)
    # then
    history: dict[int, list[tuple[datetime, int, int]]] = {}
    for lead_id, moment, pk, stage_id in StageChange.objects.for_org(org_a).values_list(
        "lead_id", "at", "pk", "to_stage_id"
    ):
        history.setdefault(lead_id, []).append((moment, pk, stage_id))
    keys_of = dict(Stage.objects.for_org(org_a).values_list("pk", "key"))
    expected_stage: Counter[tuple[str, str]] = Counter()
    expected_month: Counter[tuple[str, str]] = Counter()
    for lead_id, tag, moment in Objection.objects.for_org(org_a).values_list(
        "lead_id", "tag", "at"
    ):
        if not period.holds(moment):
            continue
        before = sorted(h for h in history[lead_id] if h[0] <= moment)
        expected_stage[(keys_of[before[-1][2]], tag)] += 1
        month = local_date(moment).replace(day=1).isoformat()
        expected_month[(month, tag)] += 1
    order = [t.tag for t in report.tags]
    shown_stage = Counter(
        {(r.key, t): n for r in report.stages for t, n in zip(order, r.counts, strict=True) if n}
    )
    shown_month = Counter(
        {(r.key, t): n for r in report.months for t, n in zip(order, r.counts, strict=True) if n}
    )
    assert shown_stage == expected_stage
    assert shown_month == expected_month
    assert report.total == sum(expected_month.values()) > 30
