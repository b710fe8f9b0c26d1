"""Every funnel figure against a value worked out by hand in the comments.

The March 2024 ladder story (default ladder: suspect, prospect, lead, qualified, proposal,
customer (won), lost), all at noon unless said:

    A  referral  prospect 03-01 -> lead 03-10 -> qualified 03-25 -> lead 04-25 -> qualified 05-01
    B  referral  prospect 03-05 -> lead 03-06 -> qualified 04-20
    C  referral  prospect 03-10 -> proposal 04-01 -> customer 04-10 (500, no cost)
    D  referral  prospect 03-20 -> lost 03-25 (Price too high)
    E  website form  suspect 02-10 -> lead 03-15 (reaches prospect, skipped) -> qualified 04-14
    F  website form  prospect 02-20 -> qualified 03-12 -> proposal 03-20 -> customer 03-28
    G  website form  suspect 03-28 -> prospect 04-02
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from keepscore.accounts.models import Membership, Organization
from keepscore.common.periods import Period
from keepscore.funnel.groupings import Segment
from keepscore.funnel.selectors import (
    activity_counts,
    close_rate,
    conversion,
    funnel,
    lost_reasons,
    money,
    new_leads,
    sales_cycle,
    stage_entries,
    stage_times,
)
from keepscore.funnel.stats import rate
from keepscore.history import recorder
from keepscore.leads.models import Lead
from tests.funnel.conftest import at, log, move, new_lead

pytestmark = pytest.mark.django_db

Z = 1.959964
MARCH = Period(date(2024, 3, 1), date(2024, 3, 31))


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    """The Wilson interval, written out (not keepscore.funnel.stats.wilson)."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def assert_rate(figure: Any, k: int, n: int) -> None:
    assert (figure.k, figure.n) == (k, n)
    if n == 0:
        assert figure.rate is None and figure.ci_low is None and figure.ci_high is None
        return
    low, high = wilson_by_hand(k, n)
    assert figure.rate == pytest.approx(k / n)
    assert figure.ci_low == pytest.approx(low, abs=1e-9)
    assert figure.ci_high == pytest.approx(high, abs=1e-9)


@pytest.fixture
def story(org_a: Organization, owner_a: Membership) -> dict[str, Lead]:
    o = owner_a
    a = new_lead(org_a, "A", at(2024, 3, 1))
    b = new_lead(org_a, "B", at(2024, 3, 5))
    c = new_lead(org_a, "C", at(2024, 3, 10))
    d = new_lead(org_a, "D", at(2024, 3, 20))
    e = new_lead(org_a, "E", at(2024, 2, 10), "suspect", "website-form")
    f = new_lead(org_a, "F", at(2024, 2, 20), "prospect", "website-form")
    g = new_lead(org_a, "G", at(2024, 3, 28), "suspect", "website-form")
    move(b, "lead", at(2024, 3, 6), o)
    move(a, "lead", at(2024, 3, 10), o)
    move(f, "qualified", at(2024, 3, 12), o)
    move(e, "lead", at(2024, 3, 15), o)
    move(f, "proposal", at(2024, 3, 20), o)
    move(a, "qualified", at(2024, 3, 25), o)
    move(d, "lost", at(2024, 3, 25), o, reason="Price too high")
    move(f, "customer", at(2024, 3, 28), o, revenue="1000", cost="400")
    move(c, "proposal", at(2024, 4, 1), o)
    move(g, "prospect", at(2024, 4, 2), o)
    move(c, "customer", at(2024, 4, 10), o, revenue="500")
    move(e, "qualified", at(2024, 4, 14), o)  # exactly 30 days after 03-15 noon
    move(b, "qualified", at(2024, 4, 20), o)
    move(a, "lead", at(2024, 4, 25), o)  # backward: A keeps its reach of qualified (03-25)
    move(a, "qualified", at(2024, 5, 1), o)
    return {x.name: x for x in (a, b, c, d, e, f, g)}


# --- conversion -----------------------------------------------------------------------------


def test_cohort_conversion_prospect_to_qualified(org_a: Organization, story: Any) -> None:
    # cohort: first observed at prospect (a change into it) in March = A 03-01, B 03-05,
    # C 03-10, D 03-20; E skipped prospect (suspect -> lead), so it is not judged on it;
    # F was observed in February, G in April -> n = 4.
    # reached qualified at or after: A 03-25, B 04-20, C 04-01 (proposal is past it); D never
    result = conversion(
        organization=org_a, from_stage="prospect", to_stage="qualified", period=MARCH
    )
    assert_rate(result.rate, 3, 4)  # 0.75, Wilson (0.300642, 0.954413)
    assert result.rate.ci_low == pytest.approx(0.300642, abs=1e-6)
    # flow: explicit changes into qualified dated in March: F 03-12, A 03-25 -> 2
    assert result.flow == 2
    assert result.rate.enough is False  # n = 5 < KEEPSCORE_MIN_N = 20


def test_conversion_within_a_window(org_a: Organization, story: Any) -> None:
    # within 30 days: A 24 days, C 22 days, B 46 days (not) -> 2 of 4
    result = conversion(
        organization=org_a,
        from_stage="prospect",
        to_stage="qualified",
        period=MARCH,
        within_days=30,
    )
    assert_rate(result.rate, 2, 4)
    # E's lead -> qualified takes exactly 30 days (03-15 noon to 04-14 noon): counted within
    # 30 days (<= 30), not within 29
    assert_rate(
        conversion(
            organization=org_a,
            from_stage="lead",
            to_stage="qualified",
            period=MARCH,
            within_days=30,
        ).rate,
        2,
        3,
    )
    assert_rate(
        conversion(
            organization=org_a,
            from_stage="lead",
            to_stage="qualified",
            period=MARCH,
            within_days=29,
        ).rate,
        1,
        3,
    )


def test_conversion_of_a_segment_and_to_lost(org_a: Organization, story: Any) -> None:
    # referral leads reaching prospect in March: A, B, C, D; to qualified: A, B, C -> 3 of 4
    referral = Segment("channel", "referral")
    result = conversion(
        organization=org_a,
        from_stage="prospect",
        to_stage="qualified",
        period=MARCH,
        segment=referral,
    )
    assert_rate(result.rate, 3, 4)
    assert result.flow == 1  # only A's change into qualified (F is a website form lead)
    # lost is reached only by entering it: of the 4, D -> 1 of 4; flow into lost in March: D
    lost = conversion(organization=org_a, from_stage="prospect", to_stage="lost", period=MARCH)
    assert_rate(lost.rate, 1, 4)
    assert lost.flow == 1


def test_rate_enough_follows_the_minimum(settings: Any) -> None:
    settings.KEEPSCORE_MIN_N = 5
    assert rate(3, 5).enough and not rate(3, 4).enough
    assert_rate(rate(0, 0), 0, 0)
    assert rate(0, 0).enough is False


# --- the funnel -----------------------------------------------------------------------------


def test_funnel_of_march(org_a: Organization, story: Any) -> None:
    report = funnel(organization=org_a, period=MARCH).as_dict()
    assert report["period"] == {"from": "2024-03-01", "to": "2024-03-31"}
    assert report["by"] is None and report["within_days"] is None
    [group] = report["groups"]
    assert (group["key"], group["label"]) == ("all", "All leads")
    stages = {s["key"]: (s["reached"], s["entered"], s["skipped"]) for s in group["stages"]}
    assert [s["key"] for s in group["stages"]] == [
        "suspect", "prospect", "lead", "qualified", "proposal", "customer", "lost",
    ]  # fmt: skip
    # reached suspect (any first entry) in March: A, B, C, D, G (E, F: February) -> 5
    #   entered suspect: G -> 1; skipped: A, B, C, D (they came in at prospect) -> 4
    # reached prospect: A, B, C, D, E -> 5; entered: A, B, C, D -> 4; skipped: E -> 1
    # reached lead: A 03-10, B 03-06, E 03-15, F 03-12 (via qualified) -> 4; entered A, B, E
    #   -> 3; skipped: F -> 1
    # reached qualified: A 03-25, F 03-12 -> 2; entered the same -> 2; none skipped
    # reached proposal: F 03-20 -> 1 (C's 04-01 is April); entered F -> 1
    # reached customer: F 03-28 -> 1; entered 1.  lost: D -> 1, 1
    assert stages == {
        "suspect": (5, 1, 4),
        "prospect": (5, 4, 1),
        "lead": (4, 3, 1),
        "qualified": (2, 2, 0),
        "proposal": (1, 1, 0),
        "customer": (1, 1, 0),
        "lost": (1, 1, 0),
    }
    conversions = {(c["from"], c["to"]): c for c in group["conversions"]}
    assert list(conversions) == [
        ("suspect", "prospect"),
        ("prospect", "lead"),
        ("lead", "qualified"),
        ("qualified", "proposal"),
        ("proposal", "customer"),
        ("suspect", "customer"),
    ]
    # each step judges the leads first observed at its first stage in March:
    # suspect: G (03-28; E was observed in February; A, B, C, D skipped it): reached
    #   prospect 04-02 -> 1/1 (not 5/5: leads that came in at prospect prove nothing)
    # prospect: A, B, C, D (E skipped it): all but D reached lead -> 3/4
    # lead: A, B, E (F skipped it): all reached qualified (B, E in April) -> 3/3
    # qualified: A, F: F reached proposal, A never -> 1/2
    # proposal: F: won -> 1/1
    # overall: every lead that entered the funnel in March, at any stage: A, B, C, D, G;
    #   only C won (04-10) -> 1/5
    expected = {
        ("suspect", "prospect"): (1, 1),
        ("prospect", "lead"): (3, 4),
        ("lead", "qualified"): (3, 3),
        ("qualified", "proposal"): (1, 2),
        ("proposal", "customer"): (1, 1),
        ("suspect", "customer"): (1, 5),
    }
    for pair, (k, n) in expected.items():
        figure = conversions[pair]
        assert (figure["k"], figure["n"]) == (k, n), pair
        low, high = wilson_by_hand(k, n)
        assert figure["rate"] == pytest.approx(k / n)
        assert figure["ci_low"] == pytest.approx(low) and figure["ci_high"] == pytest.approx(high)
        assert figure["enough"] is False
        assert figure["overall"] == (pair == ("suspect", "customer"))


def test_funnel_by_channel(org_a: Organization, story: Any) -> None:
    report = funnel(organization=org_a, period=MARCH, by="channel", within_days=30)
    # referral: A, B, C, D reached suspect in March (4); website form: G (1) -> referral first
    assert [(g.key, g.label) for g in report.groups] == [
        ("referral", "Referral"),
        ("website-form", "Website form"),
    ]
    referral, web = report.groups
    assert [s.reached for s in referral.stages] == [4, 4, 2, 1, 0, 0, 1]
    # website form: suspect G; prospect E; lead E, F; qualified F; proposal F; customer F
    assert [s.reached for s in web.stages] == [1, 1, 2, 1, 1, 1, 0]
    steps = {(c.from_key, c.to_key): (c.rate.k, c.rate.n) for c in referral.conversions}
    # referral prospect -> lead within 30 days: A 9 days, B 1 day, C 22 days (proposal) -> 3/4
    # lead -> qualified within 30: A (03-10 -> 03-25) yes, B (03-06 -> 04-20) no -> 1/2
    # overall: C won 04-10, 31 days after 03-10 -> not within 30 -> 0/4
    assert steps[("prospect", "lead")] == (3, 4)
    assert steps[("lead", "qualified")] == (1, 2)
    assert steps[("suspect", "customer")] == (0, 4)
    as_dict = report.as_dict()
    assert as_dict["by"] == "channel" and as_dict["within_days"] == 30


def test_funnel_conversions_agree_with_conversion(org_a: Organization, story: Any) -> None:
    for by, segment_of in ((None, None), ("channel", "channel")):
        for group in funnel(organization=org_a, period=MARCH, by=by, within_days=30).groups:
            segment = Segment(segment_of, group.key) if segment_of else None
            for step in group.conversions:
                if step.overall:  # every lead entering the funnel: the period's new leads
                    assert step.rate.n == new_leads(
                        organization=org_a, period=MARCH, segment=segment
                    )
                    continue
                single = conversion(
                    organization=org_a,
                    from_stage=step.from_key,
                    to_stage=step.to_key,
                    period=MARCH,
                    within_days=30,
                    segment=segment,
                )
                assert single.rate == step.rate
                entered = next(s.entered for s in group.stages if s.key == step.to_key)
                assert single.flow == entered


def test_funnel_groups_blank_values_and_facts(
    org_a: Organization, owner_a: Membership, sales_a: Membership
) -> None:
    one = new_lead(org_a, "one", at(2024, 3, 2), campaign="Spring", owner=sales_a)
    new_lead(org_a, "two", at(2024, 3, 3), campaign="  ")
    new_lead(org_a, "three", at(2024, 3, 4), campaign="Spring")
    one.facts = {"lead_type": "industry"}
    recorder.lead_save(lead=one, fields=["facts"])
    # by campaign: Spring 2, blank 1 -> Spring first
    report = funnel(organization=org_a, period=MARCH, by="campaign")
    assert [(g.key, g.label, g.stages[0].reached) for g in report.groups] == [
        ("Spring", "Spring", 2),
        ("", "(none)", 1),
    ]
    by_fact = funnel(organization=org_a, period=MARCH, by="fact:lead_type")
    assert [(g.label, g.stages[0].reached) for g in by_fact.groups] == [
        ("(none)", 2),
        ("industry", 1),
    ]
    by_owner = funnel(organization=org_a, period=MARCH, by="owner")
    assert [(g.key, g.label) for g in by_owner.groups] == [
        ("", "(none)"),
        (str(sales_a.pk), "sales@acme.test"),
    ]
    assert new_leads(organization=org_a, period=MARCH, segment=Segment("owner", sales_a)) == 1
    assert new_leads(organization=org_a, period=MARCH, segment=Segment("campaign", "")) == 1
    # a month with no stage change: the ungrouped funnel still has its one group, zeros
    april = funnel(organization=org_a, period=Period.month(date(2024, 4, 9)))
    assert [s.reached for s in april.groups[0].stages] == [0] * 7
    assert (
        funnel(organization=org_a, period=Period.month(date(2024, 4, 9)), by="campaign").groups
        == []
    )


@pytest.mark.parametrize("by", ["stage", "fact:", "Channel", "utm_term"])
def test_unknown_grouping_is_refused(org_a: Organization, by: str) -> None:
    with pytest.raises(ValueError, match="cannot group or segment leads by"):
        funnel(organization=org_a, period=MARCH, by=by)
    with pytest.raises(ValueError, match="cannot group or segment leads by"):
        Segment(by, "x")


# --- flow and new leads ---------------------------------------------------------------------


def test_stage_entries_and_new_leads(org_a: Organization, story: Any) -> None:
    # the funnel's "entered" column; new leads: first touch in March: A, B, C, D, G -> 5
    assert stage_entries(organization=org_a, period=MARCH) == {
        "suspect": 1,
        "prospect": 4,
        "lead": 3,
        "qualified": 2,
        "proposal": 1,
        "customer": 1,
        "lost": 1,
    }
    assert new_leads(organization=org_a, period=MARCH) == 5
    assert (
        new_leads(organization=org_a, period=MARCH, segment=Segment("channel", "website-form")) == 1
    )  # G
    # April flow into qualified: E 04-14, B 04-20 -> 2; May: A 05-01 -> 1 (A counted again)
    assert (
        stage_entries(organization=org_a, period=Period.month(date(2024, 4, 1)))["qualified"] == 2
    )
    assert (
        stage_entries(organization=org_a, period=Period.month(date(2024, 5, 1)))["qualified"] == 1
    )


@override_settings(TIME_ZONE="America/New_York")
def test_periods_are_local_dates(org_a: Organization, owner_a: Membership) -> None:
    # 23:30 on 31 March in New York is 03:30 UTC on 1 April: a March lead all the same
    late = new_lead(org_a, "late", at(2024, 3, 31, 23, 30))
    new_lead(org_a, "early", at(2024, 4, 1, 0, 30))
    assert new_leads(organization=org_a, period=MARCH) == 1
    assert new_leads(organization=org_a, period=Period.month(date(2024, 4, 1))) == 1
    move(late, "lead", at(2024, 4, 30, 23, 59), owner_a)
    assert stage_entries(organization=org_a, period=Period.month(date(2024, 4, 1)))["lead"] == 1
    assert stage_entries(organization=org_a, period=Period.month(date(2024, 5, 1)))["lead"] == 0


def test_period_helpers() -> None:
    assert Period.month(date(2024, 2, 17)) == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert Period.month(date(2024, 12, 31)) == Period(date(2024, 12, 1), date(2024, 12, 31))
    assert Period.year(2023) == Period(date(2023, 1, 1), date(2023, 12, 31))
    assert date(2024, 3, 31) in MARCH and date(2024, 4, 1) not in MARCH
    with pytest.raises(ValueError):
        Period(date(2024, 3, 2), date(2024, 3, 1))


# --- outcomes: cycle, close rate, lost reasons, money -------------------------------------


@pytest.fixture
def may(org_a: Organization, owner_a: Membership) -> None:
    """Deals closed in May 2024.

    W1..W3 won in May after 2, 10, 20 days; W4 lost on 05-10, reopened, won on 05-20,
    40 days after its first touch; R won in April and again in May; L1..L3 lost in May.
    """
    o = owner_a
    w1 = new_lead(org_a, "W1", at(2024, 5, 1), "lead")
    w2 = new_lead(org_a, "W2", at(2024, 4, 28), "lead")
    w3 = new_lead(org_a, "W3", at(2024, 4, 20), "lead")
    w4 = new_lead(org_a, "W4", at(2024, 4, 10), "lead")
    r = new_lead(org_a, "R", at(2024, 3, 1), "lead")
    lost = [new_lead(org_a, f"L{i}", at(2024, 4, 1), "lead") for i in (1, 2, 3)]
    move(w1, "customer", at(2024, 5, 3), o, revenue="100", cost="40")
    move(w2, "customer", at(2024, 5, 8), o, revenue="200")
    move(w3, "customer", at(2024, 5, 10), o, revenue="300", cost="100")
    move(w4, "lost", at(2024, 5, 10), o, reason="Bad timing")
    move(w4, "proposal", at(2024, 5, 15), o)
    move(w4, "customer", at(2024, 5, 20), o, revenue="400", cost="200")
    move(r, "customer", at(2024, 4, 5), o, revenue="50", cost="10")
    move(r, "proposal", at(2024, 4, 20), o)
    move(r, "customer", at(2024, 5, 3), o, revenue="1000", cost="500")
    move(lost[0], "lost", at(2024, 5, 7), o, reason="Price too high")
    move(lost[1], "lost", at(2024, 5, 8), o, reason="Price too high")
    move(lost[2], "lost", at(2024, 5, 9), o, reason="Bad timing")


MAY = Period.month(date(2024, 5, 1))


def test_sales_cycle(org_a: Organization, may: None) -> None:
    # first wins in May: W1 2, W2 10, W3 20, W4 40 days (R's first win was in April)
    cycle = sales_cycle(organization=org_a, period=MAY)
    assert cycle.count == 4
    assert cycle.days == [2.0, 10.0, 20.0, 40.0]
    # median: index 1.5 -> (10 + 20) / 2 = 15; 80th: index 2.4 -> 20 + 0.4 * 20 = 28
    assert cycle.median_days == 15.0
    assert cycle.p80_days == pytest.approx(28.0)
    assert cycle.histogram == [
        ("0-7", 1), ("7-14", 1), ("14-30", 1), ("30-60", 1),
        ("60-90", 0), ("90-180", 0), ("180-365", 0), ("365+", 0),
    ]  # fmt: skip
    # April: R, 35 days
    april = sales_cycle(organization=org_a, period=Period.month(date(2024, 4, 1)))
    assert (april.count, april.median_days, april.p80_days) == (1, 35.0, 35.0)
    # June: none
    june = sales_cycle(organization=org_a, period=Period.month(date(2024, 6, 1)))
    assert (june.count, june.median_days, june.p80_days, june.days) == (0, None, None, [])
    # a segment: referral is every lead here; phone enquiry none
    assert (
        sales_cycle(organization=org_a, period=MAY, segment=Segment("channel", "referral")).count
        == 4
    )
    assert (
        sales_cycle(
            organization=org_a, period=MAY, segment=Segment("channel", "phone-enquiry")
        ).count
        == 0
    )


def test_close_rate_and_lost_reasons(org_a: Organization, may: None) -> None:
    # each lead's last outcome in May: W1, W2, W3 won; W4 won (its loss came first); R won;
    # L1, L2, L3 lost -> 5 won of 8: 0.625, Wilson (0.305742, 0.863156)
    figure = close_rate(organization=org_a, period=MAY)
    assert_rate(figure, 5, 8)
    assert figure.ci_low == pytest.approx(0.305742, abs=1e-6)
    # the lost: L1, L2 price, L3 timing (W4's loss is not its last outcome)
    assert lost_reasons(organization=org_a, period=MAY) == [
        ("Price too high", 2, pytest.approx(2 / 3)),
        ("Bad timing", 1, pytest.approx(1 / 3)),
    ]
    # April: R won -> 1 of 1
    assert_rate(close_rate(organization=org_a, period=Period.month(date(2024, 4, 1))), 1, 1)
    assert_rate(close_rate(organization=org_a, period=Period.month(date(2024, 6, 1))), 0, 0)
    assert lost_reasons(organization=org_a, period=Period.month(date(2024, 6, 1))) == []


def test_money(org_a: Organization, may: None) -> None:
    # won outcomes dated in May: W1 100/40, W2 200/-, W3 300/100, W4 400/200, R 1000/500
    # revenue 2000; W2's cost was not recorded, so the margin is the other four's:
    # 1800 - 840 = 960, 960 / 1800 = 53.3% (never W2's 200 as if it cost nothing)
    result = money(organization=org_a, period=MAY)
    assert result.won == 5 and result.costed == 4
    assert result.revenue == Decimal("2000.00")
    assert result.cost == Decimal("840.00")
    assert result.costed_revenue == Decimal("1800.00")
    assert result.margin == Decimal("960.00")
    assert result.margin_pct == pytest.approx(960 / 1800 * 100)
    april = money(organization=org_a, period=Period.month(date(2024, 4, 1)))
    assert (april.won, april.revenue, april.margin, april.margin_pct) == (
        1,
        Decimal("50.00"),
        Decimal("40.00"),
        pytest.approx(80.0),
    )
    june = money(organization=org_a, period=Period.month(date(2024, 6, 1)))
    assert (june.won, june.revenue, june.margin_pct) == (0, Decimal("0.00"), None)


# --- time in stage ------------------------------------------------------------------------


def test_stage_times(org_a: Organization, owner_a: Membership) -> None:
    o = owner_a
    t1 = new_lead(org_a, "T1", at(2024, 6, 1))
    t2 = new_lead(org_a, "T2", at(2024, 6, 10))
    t3 = new_lead(org_a, "T3", at(2024, 5, 25))
    move(t1, "lead", at(2024, 6, 3), o)  # prospect stay 2 days
    move(t3, "lead", at(2024, 6, 5), o)  # prospect stay 11 days, ends in June
    move(t1, "qualified", at(2024, 6, 13), o)  # lead stay 10 days
    move(t2, "lead", at(2024, 6, 14), o)  # prospect stay 4 days
    move(t2, "lost", at(2024, 6, 20), o, reason="Bad timing")  # lead stay 6 days
    move(t1, "proposal", at(2024, 7, 2), o)  # qualified stay 19 days, ends in July
    times = {
        t.stage.key: t
        for t in stage_times(organization=org_a, period=Period.month(date(2024, 6, 1)))
    }
    assert list(times) == [
        "suspect", "prospect", "lead", "qualified", "proposal", "customer", "lost",
    ]  # fmt: skip
    # prospect: [2, 4, 11] -> median 4; 80th: index 1.6 -> 4 + 0.6 * 7 = 8.2
    assert (times["prospect"].count, times["prospect"].median_days) == (3, 4.0)
    assert times["prospect"].p80_days == pytest.approx(8.2)
    # lead: [6, 10] -> median 8; 80th: index 0.8 -> 6 + 0.8 * 4 = 9.2
    assert (times["lead"].count, times["lead"].median_days) == (2, 8.0)
    assert times["lead"].p80_days == pytest.approx(9.2)
    # qualified: T1's stay ends in July; the lost T2 has not left lost
    assert (times["qualified"].count, times["qualified"].median_days) == (0, None)
    assert times["lost"].count == 0
    july = {
        t.stage.key: t
        for t in stage_times(organization=org_a, period=Period.month(date(2024, 7, 1)))
    }
    assert (july["qualified"].count, july["qualified"].median_days) == (1, 19.0)


# --- activities ---------------------------------------------------------------------------


@pytest.fixture
def calls(org_a: Organization, owner_a: Membership, sales_a: Membership) -> None:
    """March 2024 (1 March is a Friday; weeks start 26 Feb, 4, 11, 18, 25 March).

    X is won on 04-05, Z on 03-10, Y never.
    """
    o, s = owner_a, sales_a
    x = new_lead(org_a, "X", at(2024, 2, 1))
    y = new_lead(org_a, "Y", at(2024, 2, 1))
    z = new_lead(org_a, "Z", at(2024, 3, 1, 8), "lead")
    log(x, "call_attempt", at(2024, 2, 28), o)  # before the period
    log(x, "call_attempt", at(2024, 3, 1), o)
    log(x, "connect", at(2024, 3, 1, 15), o, buyer=True)  # sales conversation, won later
    log(y, "connect", at(2024, 3, 4), s)  # not with a buyer
    log(y, "meeting", at(2024, 3, 5), s, buyer=True)  # sales conversation, never won
    log(x, "qualifying", at(2024, 3, 12), s)
    move(z, "customer", at(2024, 3, 10), o, revenue="10")
    log(z, "connect", at(2024, 3, 15), s, buyer=True)  # after Z's win: not won
    log(x, "presentation", at(2024, 3, 20), o)
    log(x, "proposal", at(2024, 3, 21), o)
    log(x, "email", at(2024, 3, 22), o)  # not counted
    log(x, "meeting", at(2024, 3, 25), None, buyer=True)  # sales conversation, won later
    log(x, "meeting", at(2024, 4, 1), o, buyer=True)  # after the period
    move(x, "customer", at(2024, 4, 5), o, revenue="10")


FIELDS = (
    "call_attempts",
    "connects",
    "sales_conversations",
    "qualifying",
    "meetings",
    "presentations",
    "proposals",
    "conversations_won",
)


def counts(bucket: Any) -> tuple[int, ...]:
    return tuple(getattr(bucket, name) for name in FIELDS)


def test_activity_counts_by_month_quarter_and_week(org_a: Organization, calls: None) -> None:
    # March: 1 call attempt; connects X, Y, Z = 3; sales conversations X connect, Y meeting,
    # Z connect, X meeting = 4; qualifying 1; meetings 2; presentation 1; proposal 1;
    # won: X's two (won 04-05, after them) = 2
    march = (1, 3, 4, 1, 2, 1, 1, 2)
    [month] = activity_counts(organization=org_a, period=MARCH)
    assert (month.bucket_start, month.member_id, month.member_label) == (
        date(2024, 3, 1),
        None,
        "All members",
    )
    assert counts(month) == march
    [quarter] = activity_counts(organization=org_a, period=MARCH, grain="quarter")
    assert quarter.bucket_start == date(2024, 1, 1) and counts(quarter) == march
    weeks = activity_counts(organization=org_a, period=MARCH, grain="week")
    assert [(w.bucket_start, counts(w)) for w in weeks] == [
        (date(2024, 2, 26), (1, 1, 1, 0, 0, 0, 0, 1)),  # 03-01 only (02-28 is not March)
        (date(2024, 3, 4), (0, 1, 1, 0, 1, 0, 0, 0)),
        (date(2024, 3, 11), (0, 1, 1, 1, 0, 0, 0, 0)),
        (date(2024, 3, 18), (0, 0, 0, 0, 0, 1, 1, 0)),
        (date(2024, 3, 25), (0, 0, 1, 0, 1, 0, 0, 1)),
    ]
    # a quarter's months: zeros for the months with nothing
    q1 = activity_counts(organization=org_a, period=Period(date(2024, 1, 1), date(2024, 3, 31)))
    assert [(b.bucket_start, b.call_attempts) for b in q1] == [
        (date(2024, 1, 1), 0),
        (date(2024, 2, 1), 1),
        (date(2024, 3, 1), 1),
    ]
    with pytest.raises(ValueError):
        activity_counts(organization=org_a, period=MARCH, grain="day")


def test_activity_counts_by_member(
    org_a: Organization, calls: None, owner_a: Membership, sales_a: Membership
) -> None:
    rows = activity_counts(organization=org_a, period=MARCH, by_member=True)
    # ordered by label: "(none)", "owner@acme.test", "sales@acme.test"
    assert [(r.member_id, r.member_label, counts(r)) for r in rows] == [
        (None, "(none)", (0, 0, 1, 0, 1, 0, 0, 1)),
        (owner_a.pk, "owner@acme.test", (1, 1, 1, 0, 0, 1, 1, 1)),
        (sales_a.pk, "sales@acme.test", (0, 2, 2, 1, 1, 0, 0, 0)),
    ]
