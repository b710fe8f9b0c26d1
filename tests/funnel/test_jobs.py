"""Marketing and sales, two jobs (``keepscore.funnel.jobs``): every count worked out by hand.

The story, Q1 2024, in Europe/Brussels (UTC+1 in winter), noon unless said. Members: the owner
(owner@acme.test), Mia Marketer (marketing, 80% on marketing), Sam Seller (sales, no split).

    lead  owner  first touch        moves (reach of "qualified", the gated stage)
    Ann   Mia    2024-01-05         qualified 01-20, proposal 02-10, customer 03-05 (1000, cost 400)
    Ben   Mia    2024-02-01 00:30   proposal 02-01 01:00 (passes qualified: reached in Feb),
                 (Jan 31 23:30 UTC)  lost 02-15
    Cy    Sam    2023-12-20         qualified 02-03, back to lead 02-04, qualified again 03-01
                                    (first reach counts: Feb), customer 03-20 (500, no cost)
    Dee   —      2024-02-14         qualified 04-02 (after the period)
    Eve   Mia    2023-11-01         qualified 2023-12-01 (before), proposal 01-10, customer 04-01
    Fay   Sam    2024-03-31 23:59   —

    activities: Sam connect+buyer 01-11, meeting+buyer 02-05, connect (no buyer) 02-06,
    proposal 03-02, call attempt 03-03; the owner proposal 02-09, meeting+buyer 02-20;
    no one connect+buyer 03-10; Mia connect+buyer 04-01 (after the period).

Per month (sourced, qualified, sales conversations, proposals, won deals, revenue, margin):

    Mia    Jan 1 1 0 0 0        Feb 1 1 0 0 0        Mar 0 0 0 0 1 1000 600
    owner  Jan 0 0 0 0 0        Feb 0 0 1 1 0        Mar 0 0 0 0 0
    Sam    Jan 0 0 1 0 0        Feb 0 1 1 0 0        Mar 1 0 0 1 1 500 500
    none   Jan 0 0 0 0 0        Feb 1 0 0 0 0        Mar 0 0 1 0 0
    total  Jan 1 1 1 0 0        Feb 2 2 2 1 0        Mar 1 0 1 1 2 1500 1100
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add
from keepscore.common.periods import Period, local_date
from keepscore.funnel.filters import PeriodProblem
from keepscore.funnel.jobs import NO_MEMBER, jobs_report, period_months
from keepscore.funnel.ladder import Ladder, stage_history
from tests.conftest import gates, make_org, make_user, stage_edit
from tests.funnel.conftest import at, log, move, new_lead

pytestmark = pytest.mark.django_db

Q1 = Period(date(2024, 1, 1), date(2024, 3, 31))
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
MIA, OWNER, SAM = "Mia Marketer", "owner@acme.test", "Sam Seller"
#: (label, month) -> (sourced, qualified, conversations, proposals, won, revenue, margin)
EXPECTED = {
    (MIA, JAN): (1, 1, 0, 0, 0, "0.00", "0.00"),
    (MIA, FEB): (1, 1, 0, 0, 0, "0.00", "0.00"),
    (MIA, MAR): (0, 0, 0, 0, 0, "0.00", "0.00"),
    (OWNER, JAN): (0, 0, 0, 0, 0, "0.00", "0.00"),
    (OWNER, FEB): (0, 0, 1, 1, 0, "0.00", "0.00"),
    (OWNER, MAR): (0, 0, 0, 0, 0, "0.00", "0.00"),
    (SAM, JAN): (0, 0, 1, 0, 0, "0.00", "0.00"),
    (SAM, FEB): (0, 1, 1, 0, 0, "0.00", "0.00"),
    # Ann (sourced by Mia, worked by Sam) and Cy won: Cy's cost was not recorded, so the
    # margin is Ann's alone (1,000 - 400), not 1,100 as if Cy's deal cost nothing
    (SAM, MAR): (1, 0, 0, 1, 2, "1500.00", "600.00"),
    (NO_MEMBER, JAN): (0, 0, 0, 0, 0, "0.00", "0.00"),
    (NO_MEMBER, FEB): (1, 0, 0, 0, 0, "0.00", "0.00"),
    (NO_MEMBER, MAR): (0, 0, 1, 0, 0, "0.00", "0.00"),
}
TOTALS = {
    JAN: (1, 1, 1, 0, 0, "0.00", "0.00"),
    FEB: (2, 2, 2, 1, 0, "0.00", "0.00"),
    MAR: (1, 0, 1, 1, 2, "1500.00", "600.00"),
}
FIELDS = (
    "leads_sourced",
    "leads_qualified",
    "sales_conversations",
    "proposals",
    "won_deals",
    "revenue",
    "margin",
)


def as_tuple(counts: Any) -> tuple[Any, ...]:
    return tuple(
        str(getattr(counts, name)) if name in ("revenue", "margin") else getattr(counts, name)
        for name in FIELDS
    )


@pytest.fixture
def brussels(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Brussels"


@pytest.fixture
def members(org_a: Organization, owner_a: Membership) -> dict[str, Membership]:
    return members_make(org_a, owner_a)


def members_make(org_a: Organization, owner_a: Membership) -> dict[str, Membership]:
    mia = member_add(
        organization=org_a,
        user=make_user("mia@acme.test", first_name="Mia", last_name="Marketer"),
        is_marketing=True,
        marketing_share=80,
    )
    sam = member_add(
        organization=org_a,
        user=make_user("sam@acme.test", first_name="Sam", last_name="Seller"),
        is_sales=True,
    )
    return {"owner": owner_a, "mia": mia, "sam": sam}


def story_make(org: Organization, m: dict[str, Membership]) -> None:
    owner, mia, sam = m["owner"], m["mia"], m["sam"]
    # who sourced a lead and who works it differ: Mia brought Ann in, Sam sells to her
    ann = new_lead(org, "Ann", at(2024, 1, 5), owner=sam, sourced_by=mia)
    move(ann, "qualified", at(2024, 1, 20), owner)
    move(ann, "proposal", at(2024, 2, 10), owner)
    move(ann, "customer", at(2024, 3, 5), owner, revenue="1000", cost="400")
    ben = new_lead(org, "Ben", at(2024, 2, 1, 0, 30), owner=mia, sourced_by=mia)
    move(ben, "proposal", at(2024, 2, 1, 1, 0), owner)
    move(ben, "lost", at(2024, 2, 15), owner, reason="No budget")
    cy = new_lead(org, "Cy", at(2023, 12, 20), owner=sam, sourced_by=sam)
    move(cy, "qualified", at(2024, 2, 3), owner)
    move(cy, "lead", at(2024, 2, 4), owner)
    move(cy, "qualified", at(2024, 3, 1), owner)
    move(cy, "customer", at(2024, 3, 20), owner, revenue="500")
    dee = new_lead(org, "Dee", at(2024, 2, 14))
    move(dee, "qualified", at(2024, 4, 2), owner)
    eve = new_lead(org, "Eve", at(2023, 11, 1), owner=mia, sourced_by=mia)
    move(eve, "qualified", at(2023, 12, 1), owner)
    move(eve, "proposal", at(2024, 1, 10), owner)
    move(eve, "customer", at(2024, 4, 1), owner, revenue="900")
    new_lead(org, "Fay", at(2024, 3, 31, 23, 59), owner=sam, sourced_by=sam)
    log(ann, "connect", at(2024, 1, 11), sam, buyer=True)
    log(cy, "meeting", at(2024, 2, 5), sam, buyer=True)
    log(cy, "connect", at(2024, 2, 6), sam)
    log(cy, "proposal", at(2024, 3, 2), sam)
    log(cy, "call_attempt", at(2024, 3, 3), sam)
    log(ann, "proposal", at(2024, 2, 9), owner)
    log(ben, "meeting", at(2024, 2, 20), owner, buyer=True)
    log(dee, "connect", at(2024, 3, 10), None, buyer=True)
    log(ann, "connect", at(2024, 4, 1), mia, buyer=True)


@pytest.fixture
def story(brussels: None, org_a: Organization, members: dict[str, Membership]) -> None:
    story_make(org_a, members)


@pytest.fixture
def bravo(story: None) -> Organization:
    """Organization B: its own sourced, qualified, won leads and conversations in Q1 2024."""
    org, owner = make_org("bravo", "owner@bravo.test")
    lead = new_lead(org, "Bo", at(2024, 1, 3), owner=owner, sourced_by=owner)
    move(lead, "qualified", at(2024, 1, 4), owner)
    move(lead, "customer", at(2024, 1, 30), owner, revenue="100")
    log(lead, "connect", at(2024, 1, 5), owner, buyer=True)
    return org


def test_every_count_per_member_and_month(org_a, story, bravo):
    # when
    report = jobs_report(org_a, Q1)
    # then
    assert report.qualified_stage is not None and report.qualified_stage.key == "qualified"
    assert [m.label for m in report.members] == [MIA, OWNER, SAM, NO_MEMBER]
    shown = {(m.label, month): as_tuple(c) for m in report.members for month, c in m.months}
    assert shown == EXPECTED
    assert {month: as_tuple(c) for month, c in report.months} == TOTALS
    assert as_tuple(report.total) == (4, 3, 4, 2, 2, "1500.00", "600.00")
    mia = report.members[0]
    assert as_tuple(mia.total) == (2, 2, 0, 0, 0, "0.00", "0.00")  # marketing: sourced
    assert isinstance(mia.total.revenue, Decimal)


def test_the_time_split_and_roles_are_shown_beside_the_jobs(org_a, story):
    # when
    report = jobs_report(org_a, Q1)
    # then
    split = {m.label: (m.roles, m.marketing_share, m.sales_share) for m in report.members}
    assert split == {
        MIA: (["marketing"], 80, 20),
        OWNER: (["owner", "marketing", "sales"], None, None),
        SAM: (["sales"], None, None),
        NO_MEMBER: ([], None, None),
    }


def test_a_period_inside_months_counts_only_its_days(org_a, story):
    # when: 1 Feb 01:00 (Ben's move, after his first touch at 00:30) to 14 Feb
    report = jobs_report(org_a, Period(date(2024, 2, 2), date(2024, 2, 14)))
    # then: Ben's first touch and move are on 1 Feb, outside; Cy qualified 02-03, Dee 02-14,
    # Sam's meeting 02-05, the owner's proposal 02-09 are inside
    [(month, totals)] = report.months
    assert month == FEB
    assert as_tuple(totals) == (1, 1, 1, 1, 0, "0.00", "0.00")


def test_months_follow_the_local_time_zone(org_a, story):
    # given: Ben's first touch is 1 Feb 00:30 in Brussels, 31 Jan 23:30 in UTC
    # when
    months = period_months(Q1)
    report = jobs_report(org_a, Period(date(2024, 2, 1), date(2024, 2, 1)))
    # then
    assert [m.start for m in months] == [JAN, FEB, MAR]
    assert months[1].since.utcoffset().total_seconds() == 3600
    assert as_tuple(report.total)[:2] == (1, 1)  # Ben: sourced and qualified on 1 Feb


def test_without_a_qualified_stage_the_column_is_none(org_a, members):
    # given: no gate and no stage keyed "qualified"
    gates(org_a)
    stage_edit(org_a, "qualified", key="vetted")
    new_lead(org_a, "Ann", at(2024, 1, 5), owner=members["mia"])
    # when
    report = jobs_report(org_a, Q1)
    # then
    assert report.qualified_stage is None
    assert report.total.leads_qualified is None and report.total.leads_sourced == 1
    assert report.as_dict()["totals"]["total"]["leads_qualified"] is None


def test_a_gated_stage_other_than_qualified_is_the_qualified_stage(org_a, members):
    # given: the gate moved to proposal
    gates(org_a, "proposal")
    lead = new_lead(org_a, "Ann", at(2024, 1, 5), owner=members["mia"])
    move(lead, "qualified", at(2024, 1, 6), members["owner"])
    move(lead, "proposal", at(2024, 2, 6), members["owner"])
    # when
    report = jobs_report(org_a, Q1)
    # then
    assert report.qualified_stage.key == "proposal"
    assert [c.leads_qualified for _m, c in report.months] == [0, 1, 0]


def test_no_other_organization_shows(org_a, story, bravo):
    # when
    report = jobs_report(bravo, Q1)
    # then
    assert [m.label for m in report.members] == ["owner@bravo.test"]
    assert as_tuple(report.total) == (1, 1, 1, 0, 1, "100.00", "None")  # Bo: no cost


def test_a_period_of_more_than_120_months_is_refused(org_a):
    with pytest.raises(PeriodProblem, match="at most 120 months"):
        jobs_report(org_a, Period(date(2000, 1, 1), date(2010, 1, 1)))
    assert len(jobs_report(org_a, Period(date(2000, 1, 1), date(2009, 12, 31))).months) == 120


def test_the_report_is_a_few_grouped_queries(org_a, story, django_assert_max_num_queries):
    # the queries do not grow with the leads or the months: ladder, 4 counts, members
    with django_assert_max_num_queries(6):
        jobs_report(org_a, Q1)


def test_json_shape(org_a, story):
    data = jobs_report(org_a, Q1).as_dict()
    assert data["period"] == {"from": "2024-01-01", "to": "2024-03-31"}
    assert data["qualified_stage"] == {"key": "qualified", "name": "Qualified"}
    mia = data["members"][0]
    assert mia["label"] == MIA and mia["marketing_share"] == 80 and mia["sales_share"] == 20
    assert mia["months"][2] == {
        "month": "2024-03-01",
        "leads_sourced": 0,
        "leads_qualified": 0,
        "sales_conversations": 0,
        "proposals": 0,
        "won_deals": 0,  # Ann's win is Sam's: he owns and works her
        "revenue": "0.00",
        "margin": "0.00",
    }
    sam = data["members"][2]
    assert (sam["months"][2]["won_deals"], sam["months"][2]["margin"]) == (2, "600.00")
    assert data["totals"]["total"]["revenue"] == "1500.00"


def test_agrees_with_plain_python_over_random_data(org_a, members, brussels):
    """An independent method: every count recomputed in Python over the stored rows (the
    reach dates from ``stage_history`` / ``reach_dates``), over 14 months."""
    import random
    from collections import Counter

    from keepscore.activities.models import Activity
    from keepscore.funnel.ladder import reach_dates
    from keepscore.leads.models import DealOutcome, Lead

    # given
    rng = random.Random(7)
    people = [None, members["owner"], members["mia"], members["sam"]]
    ladder_keys = ["prospect", "lead", "qualified", "proposal", "customer"]
    for i in range(60):
        when = at(2023, 12, 1) + (at(2025, 2, 28) - at(2023, 12, 1)) * rng.random()
        lead = new_lead(
            org_a, f"L{i}", when, owner=rng.choice(people), sourced_by=rng.choice(people)
        )
        for key in ladder_keys[1 : 1 + rng.randrange(5)]:
            when = when + (at(2024, 2, 1) - at(2024, 1, 1)) * rng.random()
            move(lead, key, when, members["owner"], revenue="120.50" if key == "customer" else None)
        for _ in range(rng.randrange(3)):
            kind = rng.choice(["connect", "meeting", "proposal", "call_attempt"])
            log(lead, kind, when, rng.choice(people), buyer=rng.random() < 0.6)
    period = Period(date(2024, 1, 1), date(2025, 2, 28))
    # when
    report = jobs_report(org_a, period)
    # then
    month = lambda moment: local_date(moment).replace(day=1)  # noqa: E731
    expected: Counter[tuple[int | None, date, str]] = Counter()
    owners = dict(Lead.objects.for_org(org_a).values_list("pk", "owner_id"))
    sourced = dict(Lead.objects.for_org(org_a).values_list("pk", "sourced_by_id"))
    for pk, touch in Lead.objects.for_org(org_a).values_list("pk", "first_touch_at"):
        if period.holds(touch):
            expected[(sourced[pk], month(touch), "leads_sourced")] += 1
    ladder = Ladder.of(org_a)
    target = ladder.find("qualified")
    for pk, history in stage_history(org_a, ladder).items():
        reached = reach_dates(history, ladder)[target]
        if reached is not None and period.holds(reached):
            expected[(sourced[pk], month(reached), "leads_qualified")] += 1
    for kind, moment, buyer, by in Activity.objects.for_org(org_a).values_list(
        "kind", "at", "with_buyer", "by_id"
    ):
        if period.holds(moment):
            if buyer and kind in ("connect", "meeting"):
                expected[(by, month(moment), "sales_conversations")] += 1
            if kind == "proposal":
                expected[(by, month(moment), "proposals")] += 1
    revenue: Counter[tuple[int | None, date]] = Counter()
    for lead_id, moment, amount in DealOutcome.objects.for_org(org_a).values_list(
        "lead_id", "at", "revenue"
    ):
        if period.holds(moment):
            expected[(owners[lead_id], month(moment), "won_deals")] += 1
            revenue[(owners[lead_id], month(moment))] += amount
    shown: Counter[tuple[int | None, date, str]] = Counter()
    shown_revenue: Counter[tuple[int | None, date]] = Counter()
    for member in report.members:
        for start, counts in member.months:
            for name in FIELDS[:5]:
                if getattr(counts, name):
                    shown[(member.member_id, start, name)] += getattr(counts, name)
            if counts.revenue:
                shown_revenue[(member.member_id, start)] += counts.revenue
    assert shown == expected
    assert shown_revenue == revenue
    assert len(report.months) == 14 and sum(expected.values()) > 100
