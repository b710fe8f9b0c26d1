"""The pre-aggregated summaries (keepscore.funnel.summary) give the reference services'
answers, whether maintained write by write or rebuilt, and roll back with their write."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add, member_remove
from keepscore.activities.models import Activity, Objection, ObjectionTag
from keepscore.activities.services import objection_add
from keepscore.common.periods import GRAINS, Period
from keepscore.funnel import activity, jobs, objections, stats, summary
from keepscore.funnel import selectors as ref
from keepscore.funnel.models import (
    CloseCount,
    CohortCount,
    CycleDayCount,
    EntryCount,
    FirstWin,
    MonthCount,
    ObjectionCount,
    StageCount,
    SummaryState,
    WonConversation,
)
from keepscore.funnel.summary import upkeep
from keepscore.funnel.summary.sql import TEMP_TRUNCATE_BYTES
from keepscore.history import recorder
from keepscore.history.bulk import bulk
from keepscore.leads.corrections import stage_change_undo
from keepscore.leads.models import DealOutcome, Lead, LostReason, Stage, StageChange
from keepscore.leads.services import lead_update
from keepscore.leads.settings_services import stage_save, stage_shift
from tests.conftest import examples, make_org, make_user
from tests.funnel.conftest import at, log, move, new_lead

pytestmark = pytest.mark.django_db

KEYS = ("suspect", "prospect", "lead", "qualified", "proposal", "customer", "lost")
CHANNELS = ("referral", "walk-in", "website-form")
WITHIN = (None, 7, 30)
_orgs = itertools.count()


def month_figures(org: Organization, month: date) -> dict[str, Any]:
    """What month_counts holds, from the reference services."""
    period = Period.month(month)
    out: dict[str, Any] = {"new_leads": ref.new_leads(organization=org, period=period)}
    for key, n in ref.stage_entries(organization=org, period=period).items():
        out[f"entered.{key}"] = n
    (group,) = ref.funnel_reference(organization=org, period=period).groups
    for s in group.stages:
        out[f"reached.{s.key}"] = s.reached
    (bucket,) = ref.activity_counts(organization=org, period=period)
    for kind, name in ref._KIND_FIELD.items():
        out[f"activities.{kind}"] = getattr(bucket, name)
    out["sales_conversations"] = bucket.sales_conversations
    out["conversations_won"] = bucket.conversations_won
    money = ref.money(organization=org, period=period)
    out["won"], out["revenue"], out["cost"] = money.won, money.revenue, money.cost
    close = ref.close_rate(organization=org, period=period)
    out["closed"], out["closed_won"] = close.n, close.k
    out.update(plain_month_figures(org, month))
    return out


def plain_month_figures(org: Organization, month: date) -> dict[str, Any]:
    """The month's new leads with a won outcome (at any time), won deals below their cost
    and objections by tag, by plain Python over the rows."""

    def month_of(when: Any) -> date:
        return ref.local_date(when).replace(day=1)

    won = DealOutcome.Result.WON
    outcomes = list(DealOutcome.objects.filter(organization=org))
    winners = {o.lead_id for o in outcomes if o.result == won}
    out: dict[str, Any] = {
        "won_leads": sum(
            1
            for lead in Lead.objects.filter(organization=org)
            if month_of(lead.first_touch_at) == month and lead.pk in winners
        ),
        "losses": sum(
            1
            for o in outcomes
            if o.result == won
            and month_of(o.at) == month
            and o.cost is not None
            and o.revenue is not None
            and o.cost > o.revenue
        ),
    }
    return out


def check(org: Organization, periods: list[Period]) -> None:
    """summary == reference for these periods, every grouping and a few windows."""
    assert summary.ready(org)
    for period in periods:
        for by in summary.SUMMARY_GROUPINGS:
            for within in WITHIN:
                assert summary.supports(period, by, within)
                expected = ref.funnel_reference(
                    organization=org, period=period, by=by, within_days=within
                ).as_dict()
                got = summary.funnel(org, period, by=by, within_days=within).as_dict()
                assert got == expected, (period, by, within)
    months = sorted({p.start for p in periods})
    counts = summary.month_counts(org, months[0], months[-1])
    for month in months:
        expected = month_figures(org, month)
        got = {k: v for k, v in counts[month].items() if k in expected}
        assert got == expected, month
    check_spans(org, periods)
    for period in periods:
        check_jobs(org, period)
    check_activity(org, periods)
    check_objections(org, periods)
    # leads now at each stage: the same as counting them
    now: dict[int, int] = {}
    for stage_id in Lead.objects.filter(organization=org).values_list("stage_id", flat=True):
        now[stage_id] = now.get(stage_id, 0) + 1
    assert summary.stage_counts(org) == now


def check_jobs(org: Organization, period: Period) -> None:
    """The marketing & sales report's counts (by who sourced a lead, who logged an activity,
    who owns a won lead; per month) from the summaries == its grouped queries on the rows;
    and the report reads the summaries."""
    assert jobs.summary_answers(org, period)
    months = jobs.period_months(period)
    ladder = ref.Ladder.of(org)
    stage = jobs.qualified_stage(ladder)
    expected = jobs.reference_cells(org, months, ladder, stage)
    assert dict(jobs.summary_cells(org, months, stage)) == dict(expected), period


def check_activity(org: Organization, periods: list[Period]) -> None:
    """The activity report's counts (from the summaries for whole months per month or
    quarter, grouped on the database otherwise) == the reference's, every grain and grouping;
    and the grouped query == the reference for whole months too."""
    # partial first and last months around whole ones; within one month
    spans = [
        *periods,
        Period(date(2024, 1, 15), date(2024, 3, 10)),
        Period(date(2024, 2, 3), date(2024, 2, 20)),
    ]
    for period in spans:
        for grain in GRAINS:
            for by_member in (False, True):
                expected = ref.activity_counts(
                    organization=org, period=period, grain=grain, by_member=by_member
                )
                got = activity.activity_counts(org, period, grain=grain, by_member=by_member)
                assert got == expected, (period, grain, by_member)
        grouped = activity._grouped(org, period, "month", True)
        for bucket in ref.activity_counts(
            organization=org, period=period, grain="month", by_member=True
        ):
            found = grouped.get((bucket.bucket_start, bucket.member_id), {})
            assert found.get("conversations_won", 0) == bucket.conversations_won, period
            assert found.get("sales_conversations", 0) == bucket.sales_conversations, period


def check_objections(org: Organization, periods: list[Period]) -> None:
    """The objections report's counts per month, tag, stage at the time and channel (whole
    months from the summaries, partial ones from the objections) == one grouped query on
    the objections; and each tag's trend series the same as counting the objections."""
    spans = [
        *periods,
        Period(date(2024, 1, 15), date(2024, 3, 10)),
        Period(date(2024, 2, 3), date(2024, 2, 20)),
    ]
    for period in spans:
        got: Counter[tuple[Any, ...]] = Counter()
        wanted: Counter[tuple[Any, ...]] = Counter()
        for month, tag, stage, channel, n in objections._counted(org, period):
            got[(month, tag, stage, channel)] += n
        for month, tag, stage, channel, n in objections._grouped(org, period):
            wanted[(month, tag, stage, channel)] += n
        assert +got == +wanted, period
    by_month: Counter[tuple[date, str]] = Counter()
    for month, tag, _stage, _channel, n in objections._grouped(
        org, Period(date(2024, 1, 1), date(2024, 6, 30))
    ):
        by_month[(month, tag)] += n
    for trend in objections.objections_trend(org, 6, end=date(2024, 6, 30)):
        assert trend.counts == [by_month[(m, trend.tag)] for m in trend.months], trend.tag


def check_spans(org: Organization, periods: list[Period]) -> None:
    """The close rate (each lead once, by its last outcome in the span) and the sales cycle
    (the leads first won in the span: the same days, so the same quantiles) over each run of
    whole months, from the summaries == the reference."""
    for period in periods:
        close = ref.close_rate(organization=org, period=period)
        assert summary.span_closed(org, period.start, period.end) == (close.k, close.n), period
        cycles = summary.cycle_days(org, period.start, period.end)
        days = sorted(d for month_days in cycles.values() for d in month_days)
        expected = ref.sales_cycle(organization=org, period=period)
        assert days == expected.days, period
        assert stats.quantile(days, 0.5) == expected.median_days
        assert stats.quantile(days, 0.8) == expected.p80_days
        for q in (0, 0.25, 0.5, 0.8, 1):  # the one or two values around it, read in order
            assert summary.cycle_quantile(org, period.start, period.end, q) == (
                stats.quantile(expected.days, q)
            ), (period, q)
        # several at once, by their ranks in one ordering
        at_once = summary.cycle_quantiles(org, period.start, period.end, [0.8, 0.25, 0.5])
        assert at_once == (
            {q: stats.quantile(expected.days, q) for q in (0.8, 0.25, 0.5)} if days else {}
        ), period
        for month, month_days in cycles.items():
            assert period.start <= month <= period.end and month_days == sorted(month_days)
            assert (
                month_days == ref.sales_cycle(organization=org, period=Period.month(month)).days
            ), month
            # by whole days of the cycle, rounded down (a win before its first touch: < 0)
            assert +Counter(
                {key: n for key, n in day_counts(org).items() if key[0] == month}
            ) == Counter((month, math.floor(d)) for d in month_days), month
        # each month's count, and its quantiles and the span's in one query, == the
        # reference's days
        read = summary.CycleDays(org, period.start, period.end)
        assert read.counts() == {month: len(month_days) for month, month_days in cycles.items()}
        assert read.count(period.start, period.end) == len(days)
        qs = (0, 0.25, 0.5, 0.8, 1)
        span = (period.start.replace(day=1), period.end.replace(day=1))
        quantiles = read.quantiles([(m, m) for m in read.counts()] + [span], qs)
        assert quantiles == {
            (month, month): {
                q: stats.quantile(
                    ref.sales_cycle(organization=org, period=Period.month(month)).days, q
                )
                for q in qs
            }
            for month in cycles
        } | ({span: {q: stats.quantile(days, q) for q in qs}} if days else {}), period


def day_counts(org: Organization) -> Counter[tuple[date, int]]:
    """CycleDayCount's first wins by month and whole days of the cycle (those not 0)."""
    return Counter(
        {
            (row.month, row.day): row.n
            for row in CycleDayCount.objects.filter(organization=org)
            if row.n
        }
    )


def runs_of(year: int, first: int, last: int) -> list[Period]:
    """Every run of whole months from month ``first`` to ``last`` of the year."""
    return [
        Period(date(year, a, 1), Period.month(date(year, b, 1)).end)
        for a in range(first, last + 1)
        for b in range(a, last + 1)
    ]


def snapshot(org: Organization) -> dict[Any, int]:
    """Every non-zero count of the organization's summaries."""
    out: dict[Any, int] = {}
    for row in CohortCount.objects.filter(organization=org).values():
        for k in ("k_ever", "k_7", "k_14", "k_30", "k_60", "k_90", "k_180", "k_365"):
            if row[k]:
                key = (row["month"], row["stage_a"], row["stage_b"], row["channel"], row["owner"])
                out[("c", k, *key)] = row[k]
    for entry in EntryCount.objects.filter(organization=org):
        if entry.n:
            out[("e", entry.month, entry.prev_month, entry.stage, entry.channel, entry.owner)] = (
                entry.n
            )
    for flow in MonthCount.objects.filter(organization=org):
        if flow.value:
            out[("m", flow.month, flow.metric, flow.channel, flow.member)] = flow.value
    for close in CloseCount.objects.filter(organization=org):
        spans = (close.month, close.next_month, close.channel, close.owner)
        if close.closed:
            out[("cc", *spans)] = close.closed
        if close.won:
            out[("cw", *spans)] = close.won
    for win in FirstWin.objects.filter(organization=org):
        out[("w", win.lead, win.month, win.channel, win.owner)] = win.cycle_us
    for day in CycleDayCount.objects.filter(organization=org):
        if day.n:
            out[("d", day.month, day.day)] = day.n
    for won in WonConversation.objects.filter(organization=org):
        if won.n:
            out[("wc", won.lead, won.month, won.member, won.channel)] = won.n
    for count in ObjectionCount.objects.filter(organization=org):
        if count.n:
            out[("o", count.month, count.tag, count.stage, count.channel)] = count.n
    for now in StageCount.objects.filter(organization=org):
        if now.n:
            out[("s", now.stage)] = now.n
    return out


def rebuilt_equal(org: Organization) -> None:
    before = snapshot(org)
    recorder.rebuild(organization=org)
    assert snapshot(org) == before


def months_of(year: int, first: int, last: int) -> list[Period]:
    return [Period.month(date(year, m, 1)) for m in range(first, last + 1)]


def hand_built(org: Organization, owner: Membership, sales: Membership) -> None:
    a = new_lead(org, "A", at(2024, 1, 31, 23, 30), "suspect", owner=sales)
    move(a, "prospect", at(2024, 2, 1, 0, 10), owner)
    move(a, "proposal", at(2024, 2, 20), owner)  # skips lead and qualified
    move(a, "lead", at(2024, 3, 2), owner)  # backward: keeps its reaches
    move(a, "proposal", at(2024, 3, 3), owner)  # enters proposal again, another month
    move(a, "customer", at(2024, 3, 5), owner, revenue="1200.50", cost="200.25")
    b = new_lead(org, "B", at(2024, 1, 5), "prospect", channel_key="walk-in")
    move(b, "lost", at(2024, 1, 20), owner, reason="Bad timing")
    move(b, "lead", at(2024, 2, 1), owner)  # reopened
    move(b, "customer", at(2024, 3, 2, 12), owner, revenue="10")  # 30 days + 0 h after lead
    c = new_lead(org, "C", at(2024, 2, 10), "lead", owner=owner)
    move(c, "lost", at(2024, 2, 11), owner, reason="Price too high")
    move(c, "customer", at(2024, 2, 12), owner, revenue="99.99")  # lost then won in a month
    log(a, "call_attempt", at(2024, 2, 1, 9), owner)
    log(a, "connect", at(2024, 2, 2), sales, buyer=True)
    log(b, "meeting", at(2024, 3, 1), None, buyer=True)
    log(c, "email", at(2024, 2, 11), owner)
    lead_update(lead=c, owner=sales)


def test_hand_built_history_equals_reference(org_a: Organization, owner_a: Any) -> None:
    sales = member_add(organization=org_a, user=make_user("sales@acme.test"), is_sales=True)
    hand_built(org_a, owner_a, sales)
    periods = [*months_of(2024, 1, 4), Period(date(2024, 1, 1), date(2024, 3, 31))]
    check(org_a, periods)
    rebuilt_equal(org_a)
    counts = summary.month_counts(org_a, date(2024, 3, 1), date(2024, 3, 1))[date(2024, 3, 1)]
    assert counts["revenue"] == Decimal("1210.50") and counts["won"] == 2
    # the marketing & sales report, by hand. Recorded by no one, the leads were sourced by
    # no one; A is then credited to the owner (forgotten and counted again). A reached
    # qualified in February (its skip to proposal), C in February (its win), B in March (its
    # win). Sales owns A (won in March: 1,200.50, cost 200.25) and C (won in February,
    # 99.99 without cost: no margin); B has no owner (won in March: 10). The connect is
    # logged by sales (February), B's meeting by no one (March).
    lead_update(lead=Lead.objects.get(organization=org_a, name="A"), sourced_by=owner_a)
    check(org_a, periods)
    report = jobs.jobs_report(org_a, Period(date(2024, 1, 1), date(2024, 3, 31)))
    by = {m.member_id: m for m in report.members}
    months = {m.member_id: [c for _m, c in m.months] for m in report.members}
    assert [c.leads_sourced for c in months[owner_a.pk]] == [1, 0, 0]
    assert [c.leads_qualified for c in months[owner_a.pk]] == [0, 1, 0]
    assert [c.leads_sourced for c in months[None]] == [1, 1, 0]
    assert [c.leads_qualified for c in months[None]] == [0, 1, 1]
    assert [c.won_deals for c in months[sales.pk]] == [0, 1, 1]
    assert [c.revenue for c in months[sales.pk]] == [0, Decimal("99.99"), Decimal("1200.50")]
    assert [c.margin for c in months[sales.pk]] == [0, None, Decimal("1000.25")]
    assert [(c.won_deals, c.revenue) for c in months[None]][2] == (1, Decimal("10.00"))
    assert [c.sales_conversations for c in months[sales.pk]] == [0, 1, 0]
    assert [c.sales_conversations for c in months[None]] == [0, 0, 1]
    assert by[owner_a.pk].total.won_deals == 0 and report.total.won_deals == 3


def deal_write(lead: Lead, result: str, when: Any, cost: str | None = None) -> None:
    """A won or lost outcome (with its change into customer or lost) written directly, at any
    moment (before the lead's first touch or its latest change too), as an import may."""
    org = lead.organization
    won = result == DealOutcome.Result.WON
    with bulk(org, extends=[lead.pk]) as block:
        (change,) = block.create(
            [
                StageChange(
                    organization=org,
                    lead=lead,
                    from_stage=lead.stage,
                    to_stage=Stage.objects.get(organization=org, key="customer" if won else "lost"),
                    at=when,
                )
            ]
        )
        block.create(
            [
                DealOutcome(
                    organization=org,
                    lead=lead,
                    stage_change=change,
                    result=result,
                    at=when,
                    revenue=Decimal("50") if won else None,
                    cost=Decimal(cost) if won and cost is not None else None,
                    lost_reason=None
                    if won
                    else LostReason.objects.get(organization=org, name="Bad timing"),
                )
            ]
        )


def test_a_bulk_write_of_conversations_and_a_win_in_new_months(
    org_a: Organization, owner_a: Any
) -> None:
    """A bulk write counts its leads before its activities: the conversations it writes in
    months the summaries never saw (before the lead's first touch, as an import may), with
    the win that makes them won, are counted once."""
    lead = new_lead(org_a, "E", at(2024, 1, 3), "prospect", owner=owner_a)
    log(lead, "connect", at(2024, 1, 4), owner_a, buyer=True)
    customer = Stage.objects.get(organization=org_a, key="customer")
    with bulk(org_a, extends=[lead.pk]) as block:
        block.create(
            [
                Activity(organization=org_a, lead=lead, kind=kind, at=when, with_buyer=True, by=by)
                for kind, when, by in (
                    ("meeting", at(2020, 5, 2), owner_a),
                    ("connect", at(2020, 5, 3), None),
                    ("meeting", at(2024, 7, 1), owner_a),  # after the win: not won
                )
            ]
        )
        (change,) = block.create(
            [
                StageChange(
                    organization=org_a,
                    lead=lead,
                    from_stage=lead.stage,
                    to_stage=customer,
                    at=at(2024, 6, 1),
                )
            ]
        )
        block.create(
            [
                DealOutcome(
                    organization=org_a,
                    lead=lead,
                    stage_change=change,
                    result=DealOutcome.Result.WON,
                    at=at(2024, 6, 1),
                    revenue=Decimal("50"),
                )
            ]
        )
    may = Period.month(date(2020, 5, 1))
    (bucket,) = ref.activity_counts(organization=org_a, period=may)
    assert (bucket.sales_conversations, bucket.conversations_won) == (2, 2)
    check_activity(org_a, [Period(date(2020, 1, 1), date(2024, 12, 31)), may])
    counts = summary.month_counts(org_a, date(2020, 5, 1), date(2024, 7, 1))
    assert counts[date(2020, 5, 1)]["conversations_won"] == 2
    assert counts[date(2024, 1, 1)]["conversations_won"] == 1
    assert counts[date(2024, 7, 1)]["conversations_won"] == 0
    rebuilt_equal(org_a)


def test_objections_follow_later_writes_of_the_stage_history(
    org_a: Organization, owner_a: Any
) -> None:
    """An objection's stage at the time changes when a stage change dated before it is
    written later (a move, a back-dated change) or undone: the summaries follow."""
    lead = new_lead(org_a, "F", at(2024, 1, 3), "prospect")
    objection_add(lead=lead, tag="price", by=None, at=at(2024, 2, 10))
    objection_add(lead=lead, tag="timing", by=None, at=at(2024, 3, 10))
    prospect, qualified = (
        Stage.objects.get(organization=org_a, key=key).pk for key in ("prospect", "qualified")
    )
    q1 = Period(date(2024, 1, 1), date(2024, 3, 31))

    def stages() -> dict[str, int | None]:
        return {tag: stage for _m, tag, stage, _c, _n in objections._counted(org_a, q1)}

    assert stages() == {"price": prospect, "timing": prospect}
    move(lead, "lead", at(2024, 1, 20), owner_a)  # before both objections
    lead_stage = Stage.objects.get(organization=org_a, key="lead").pk
    assert stages() == {"price": lead_stage, "timing": lead_stage}
    with bulk(org_a, extends=[lead.pk]) as block:  # back-dated between them
        block.create(
            [
                StageChange(
                    organization=org_a,
                    lead=lead,
                    from_stage=lead.stage,
                    to_stage_id=qualified,
                    at=at(2024, 3, 1),
                )
            ]
        )
    assert stages() == {"price": lead_stage, "timing": qualified}
    check(org_a, [*months_of(2024, 1, 3), q1])
    rebuilt_equal(org_a)


def test_a_member_who_sourced_leads_leaves(org_a: Organization, owner_a: Any) -> None:
    """A member who sourced leads (and owns none) leaves: the database clears the leads'
    sourced-by, and the summaries count them again as sourced by no one, as a rebuild does."""
    marketing = member_add(organization=org_a, user=make_user("mk@acme.test"), is_marketing=True)
    lead = new_lead(org_a, "A", at(2024, 3, 2), "lead", owner=owner_a, sourced_by=marketing)
    move(lead, "qualified", at(2024, 3, 3), owner_a)
    month = date(2024, 3, 1)

    def sourced(member: int) -> int:
        rows = MonthCount.objects.filter(
            organization=org_a, month=month, metric="new_leads", member=member
        )
        return sum(r.value for r in rows)

    assert (sourced(marketing.pk), sourced(0)) == (1, 0)
    member_remove(membership=marketing)
    assert (sourced(marketing.pk), sourced(0)) == (0, 1)
    check(org_a, months_of(2024, 3, 3))
    rebuilt_equal(org_a)


def test_objections_written_in_bulk_are_counted_a_chunk_at_a_time(
    org_a: Organization, owner_a: Any, monkeypatch: Any
) -> None:
    """A bulk write of objections for leads it does not count again tells the summaries
    their ids, a chunk at a time (SQLite takes at most 32,766 parameters a statement; the
    scale benchmark writes 465,000): every chunk counted once."""
    from keepscore.funnel.summary import upkeep

    monkeypatch.setattr(upkeep, "OBJECTIONS_CHUNK", 3)
    leads = [new_lead(org_a, f"L{i}", at(2024, 3, 2 + i), "lead", owner=owner_a) for i in range(3)]
    tags = ObjectionTag.values
    with bulk(org_a) as block:
        block.create(
            [
                Objection(organization=org_a, lead=lead, tag=tags[i % 3], at=at(2024, 3, 10 + i))
                for i, lead in enumerate(leads * 3)
            ]
        )
    march = Period(date(2024, 3, 1), date(2024, 3, 31))
    counts: Counter[str] = Counter()
    for _month, tag, _stage, _channel, n in summary.objection_months(org_a, march):
        counts[tag] += n
    assert [counts[tag] for tag in tags[:3]] == [3, 3, 3]
    check(org_a, months_of(2024, 3, 3))
    rebuilt_equal(org_a)


def test_many_rows_made_in_bulk_are_found_through_a_temporary_table(
    org_a: Organization, owner_a: Any, monkeypatch: Any
) -> None:
    """More rows made by ``bulk.create``, or more leads extended, than a query names one by
    one (465,000 objections at a million leads went over SQLite's parameter limit): their
    ids go to a temporary table, every row is counted once, and the table is gone when the
    block ends."""

    from keepscore.history import bulk as bulk_module

    monkeypatch.setattr(bulk_module, "IDS_INLINE", 2)
    leads = [new_lead(org_a, f"L{i}", at(2024, 3, 2 + i), "lead", owner=owner_a) for i in range(3)]
    tags = ObjectionTag.values
    with bulk(org_a) as block:
        made = block.create(
            [
                Objection(organization=org_a, lead=lead, tag=tags[i % 2], at=at(2024, 3, 10 + i))
                for i, lead in enumerate(leads * 3)
            ]
        )
        assert block._new(Objection) is not None
        assert sorted(block._new(Objection).values_list("pk", flat=True)) == sorted(  # type: ignore[union-attr]
            o.pk for o in made
        )
    # a block extending more existing leads than a query names: counted again once each
    with bulk(org_a, extends=[lead.pk for lead in leads]) as block:
        block.create(
            [
                Objection(organization=org_a, lead=lead, tag=tags[2], at=at(2024, 3, 20))
                for lead in leads
            ]
        )
    march = Period(date(2024, 3, 1), date(2024, 3, 31))
    counts: Counter[str] = Counter()
    for _month, tag, _stage, _channel, n in summary.objection_months(org_a, march):
        counts[tag] += n
    assert (counts[tags[0]], counts[tags[1]], counts[tags[2]]) == (5, 4, 3)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # temporary tables are listed apart
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
            tables = [row[0] for row in cursor.fetchall()]
        else:
            tables = connection.introspection.table_names(cursor, include_views=False)
    assert not [t for t in tables if t.startswith("ks_bulk_")]
    check(org_a, months_of(2024, 3, 3))
    rebuilt_equal(org_a)


def test_first_wins_and_close_rate_over_runs_of_months(org_a: Organization, owner_a: Any) -> None:
    """Cycles of first wins only, negative cycles, ties broken by id, and leads closed in
    several months: every run of months equals the reference, rebuilt or maintained."""
    o = owner_a
    d = new_lead(org_a, "D", at(2024, 1, 3), "prospect")
    move(d, "customer", at(2024, 1, 20, 9, 15), o, revenue="10")  # first win: January
    move(d, "lost", at(2024, 2, 2), o, reason="Bad timing")
    move(d, "customer", at(2024, 4, 2), o, revenue="20")  # won again: not a first win
    e = new_lead(org_a, "E", at(2024, 3, 10, 8, 1), "prospect")
    deal_write(e, DealOutcome.Result.WON, at(2024, 3, 1, 7))  # before its first touch
    f = new_lead(org_a, "F", at(2024, 1, 2), "prospect")
    move(f, "lost", at(2024, 1, 10), o, reason="Bad timing")
    move(f, "prospect", at(2024, 2, 1), o)
    move(f, "lost", at(2024, 2, 5), o, reason="Bad timing")
    move(f, "customer", at(2024, 2, 25), o, revenue="5")
    g = new_lead(org_a, "G", at(2024, 2, 20), "prospect")
    move(g, "customer", at(2024, 3, 31, 23, 59), o, revenue="7")
    move(g, "lost", at(2024, 4, 1, 0, 1), o, reason="Bad timing")  # lost in the next month
    h = new_lead(org_a, "H", at(2024, 3, 2), "prospect")
    move(h, "customer", at(2024, 3, 9), o, revenue="8")
    move(h, "lost", at(2024, 3, 9), o, reason="Bad timing")  # same moment: the later id wins
    periods = runs_of(2024, 1, 5)
    check_spans(org_a, periods)
    assert summary.cycle_days(org_a, date(2024, 3, 1), date(2024, 3, 1))[date(2024, 3, 1)][0] < 0
    assert summary.span_closed(org_a, date(2024, 3, 1), date(2024, 4, 30)) == (
        2,
        4,
    )  # D, E won; G, H lost
    rebuilt_equal(org_a)
    check(org_a, months_of(2024, 1, 5))
    lead_update(lead=Lead.objects.get(pk=d.pk), owner=o)  # forget + count: rows unchanged
    rebuilt_equal(org_a)
    check_spans(org_a, periods)


def test_sales_cycle_quantiles_across_whole_day_boundaries(
    org_a: Organization, owner_a: Any
) -> None:
    """CycleDayCount puts each first win in the whole days of its cycle rounded down: a win
    1 µs before its first touch in day -1, one exactly a day after it in day 1. The
    quantiles read through those counts (then the first wins of one day) equal the
    reference's at every q, maintained and rebuilt, and after a first win goes."""
    touch = at(2024, 5, 6, 9)
    offsets = {
        timedelta(0): 0,
        timedelta(days=1): 1,
        timedelta(days=1, microseconds=-1): 0,
        timedelta(microseconds=-1): -1,
        timedelta(days=-1): -1,
        timedelta(days=-1, microseconds=-1): -2,
        timedelta(days=3, hours=5): 3,
        timedelta(days=3, hours=6): 3,
    }
    for i, offset in enumerate(offsets):
        deal_write(
            new_lead(org_a, f"L{i}", touch, "prospect"), DealOutcome.Result.WON, touch + offset
        )
    may = date(2024, 5, 1)
    by_hand = Counter((may, day) for day in offsets.values())
    assert day_counts(org_a) == by_hand
    # a win by a move, 3 days 7 hours after the first touch: day 3 holds three
    moved = new_lead(org_a, "M", touch, "prospect")
    won = move(moved, "customer", touch + timedelta(days=3, hours=7), owner_a, revenue="10")
    assert day_counts(org_a) == by_hand + Counter([(may, 3)])

    def quantiles_equal_reference() -> None:
        days = ref.sales_cycle(organization=org_a, period=Period.month(may)).days
        for q in (0, 0.1, 0.25, 0.5, 0.8, 0.9, 1):
            assert summary.cycle_quantile(org_a, may, may, q) == stats.quantile(days, q), q
        # a run of months around it (no first wins in April or June): the same
        assert summary.cycle_quantiles(org_a, date(2024, 4, 1), date(2024, 6, 1), [0.5]) == {
            0.5: stats.quantile(days, 0.5)
        }

    quantiles_equal_reference()
    rebuilt_equal(org_a)
    # a span beyond the months read is refused, not answered from part of its months
    with pytest.raises(ValueError, match="not a run of the months read"):
        summary.CycleDays(org_a, may, may).quantiles([(date(2024, 4, 1), may)], [0.5])
    # the move is undone (its stage change and outcome leave the history): day 3 holds two
    stage_change_undo(change=won, by=owner_a, reason="entered by mistake")
    assert day_counts(org_a) == by_hand
    quantiles_equal_reference()
    rebuilt_equal(org_a)


@override_settings(TIME_ZONE="America/New_York")
def test_local_months_in_another_time_zone(db: Any) -> None:
    org, owner = make_org("nyc", "owner@nyc.test")
    sales = member_add(organization=org, user=make_user("sales@nyc.test"), is_sales=True)
    hand_built(org, owner, sales)
    check(org, [*months_of(2024, 1, 3), Period(date(2024, 1, 1), date(2024, 12, 31))])
    check_spans(org, runs_of(2024, 1, 4))
    rebuilt_equal(org)


def test_summaries_built_in_another_time_zone_are_rebuilt_before_use(db: Any) -> None:
    """Built under UTC, read under New York: months differ near their edges (A's move at
    00:10 UTC on 1 Feb is still January in New York), so the summaries are rebuilt first and
    both paths agree; the state records the zone."""
    org, owner = make_org("zones", "owner@zones.test")
    sales = member_add(organization=org, user=make_user("sales@zones.test"), is_sales=True)
    with override_settings(TIME_ZONE="UTC"):
        hand_built(org, owner, sales)
        assert SummaryState.objects.get(organization=org).zone == "UTC"
        utc = snapshot(org)
    with override_settings(TIME_ZONE="America/New_York"):
        assert summary.ready(org)  # rebuilt here
        assert SummaryState.objects.get(organization=org).zone == "America/New_York"
        assert snapshot(org) != utc
        check(org, [*months_of(2024, 1, 3), Period(date(2024, 1, 1), date(2024, 3, 31))])
        assert recorder.verify(organization=org) == []


def test_supports() -> None:
    month = Period.month(date(2024, 2, 1))
    assert summary.supports(month, "channel", 365)
    assert summary.supports(Period(date(2024, 1, 1), date(2024, 12, 31)), "owner", None)
    assert not summary.supports(Period(date(2024, 1, 2), date(2024, 1, 31)), None, None)
    assert not summary.supports(Period(date(2024, 1, 1), date(2024, 1, 30)), None, None)
    assert not summary.supports(month, "campaign", None)
    assert not summary.supports(month, None, 0)
    assert not summary.supports(month, None, True)


def test_failed_move_leaves_the_summary_unchanged(
    org_a: Organization, owner_a: Any, monkeypatch: Any
) -> None:
    lead = new_lead(org_a, "A", at(2024, 1, 10), "suspect")
    move(lead, "lead", at(2024, 1, 20), owner_a)
    before = snapshot(org_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        move(lead, "proposal", at(2024, 2, 1), owner_a)
        raise RuntimeError("the caller fails after the move")
    assert snapshot(org_a) == before

    def boom(*args: Any) -> None:
        raise RuntimeError("fails between forget and count")

    monkeypatch.setattr(upkeep, "leads_count", boom)
    with pytest.raises(RuntimeError):
        move(Lead.objects.get(pk=lead.pk), "proposal", at(2024, 2, 1), owner_a)
    monkeypatch.undo()
    assert snapshot(org_a) == before
    assert StageChange.objects.filter(lead=lead).count() == 2
    check(org_a, months_of(2024, 1, 2))


def test_ladder_edit_rebuilds(org_a: Organization, owner_a: Any) -> None:
    lead = new_lead(org_a, "A", at(2024, 1, 10), "suspect")
    move(lead, "qualified", at(2024, 1, 20), owner_a)
    other = new_lead(org_a, "B", at(2024, 1, 11), "prospect", channel_key="walk-in")
    move(other, "customer", at(2024, 2, 3), owner_a, revenue="5")
    periods = [*months_of(2024, 1, 2), Period(date(2024, 1, 1), date(2024, 2, 29))]
    check(org_a, periods)
    demo = stage_save(organization=org_a, name="Demo", group="LEAD")  # appended last
    for _ in range(4):  # up, above customer and lost ... and proposal, qualified
        stage_shift(stage=demo, direction=-1)
    check(org_a, periods)
    # an edit that keeps the order and kinds does not rebuild, and keeps the answers
    stage_save(organization=org_a, name="Demo call", group="LEAD", stage=demo)
    check(org_a, periods)
    stage_shift(stage=Stage.objects.get(organization=org_a, key="suspect"), direction=+1)
    check(org_a, periods)


def test_rebuild_of_an_organization_without_summaries(org_a: Organization, owner_a: Any) -> None:
    lead = new_lead(org_a, "A", at(2024, 1, 10), "suspect")
    move(lead, "lead", at(2024, 1, 20), owner_a)
    from keepscore.funnel.models import SummaryState

    SummaryState.objects.filter(organization=org_a).delete()
    assert not summary.ready(org_a)
    move(lead, "proposal", at(2024, 2, 1), owner_a)  # the next write builds them
    check(org_a, months_of(2024, 1, 2))


# --- random histories -------------------------------------------------------------------

START = at(2024, 1, 1)
steps = st.lists(
    st.one_of(
        # a new lead: first touch (days after 1 Jan), first stage, channel, owner (0-2)
        st.tuples(
            st.just("new"),
            st.integers(0, 100),
            st.sampled_from(KEYS[:3]),
            st.sampled_from(CHANNELS),
            st.integers(0, 2),
        ),
        # a move of lead i (mod the leads so far) after a gap in hours (back-dated: before now)
        st.tuples(
            st.just("move"), st.integers(0, 20), st.integers(0, 24 * 40), st.sampled_from(KEYS)
        ),
        # a change written before the lead's latest one (as the deals import may)
        st.tuples(
            st.just("backdate"), st.integers(0, 20), st.integers(1, 24 * 20), st.sampled_from(KEYS)
        ),
        st.tuples(st.just("owner"), st.integers(0, 20), st.integers(0, 2)),
        st.tuples(st.just("sourced"), st.integers(0, 20), st.integers(0, 2)),
        # an outcome written directly, hours after the first touch (or before it)
        st.tuples(
            st.just("deal"),
            st.integers(0, 20),
            st.integers(-72, 24 * 60),
            st.sampled_from(DealOutcome.Result.values),
            # its cost (revenue 50): none, a margin, a loss
            st.sampled_from([None, "20", "80"]),
        ),
        # an objection, hours after the first touch: through the recorder, or in a bulk block
        st.tuples(
            st.just("objection"),
            st.integers(0, 20),
            st.integers(0, 24 * 60),
            st.sampled_from(ObjectionTag.values),
            st.booleans(),
        ),
        st.tuples(
            st.just("activity"),
            st.integers(0, 20),
            st.integers(0, 24 * 60),
            st.sampled_from(["call_attempt", "connect", "meeting", "proposal", "note"]),
            st.booleans(),
            st.integers(0, 2),
        ),
        # the sales member leaves: their leads lose their owner, their activities their author
        st.tuples(st.just("leave")),
        # an objection logged through the activities service, hours after the first touch
        st.tuples(
            st.just("objection_logged"),
            st.integers(0, 20),
            st.integers(0, 24 * 60),
            st.sampled_from(ObjectionTag.values[:3]),
        ),
    ),
    min_size=1,
    max_size=14,
)


def run(org: Organization, members: list[Membership | None], step: tuple[Any, ...]) -> None:
    leads = list(Lead.objects.for_org(org).order_by("pk"))
    kind = step[0]
    if kind == "new":
        _kind, days, first, channel_key, owner = step
        new_lead(
            org,
            f"lead {len(leads)}",
            START + timedelta(days=days, hours=days % 7),
            first,
            channel_key=channel_key,
            owner=members[owner],
            sourced_by=members[(owner + days) % 3],
        )
        return
    if kind == "leave":
        if members[1] is not None:
            member_remove(membership=members[1])
            members[1] = None
        return
    if not leads:
        return
    lead = leads[step[1] % len(leads)]
    last = StageChange.objects.filter(lead=lead).order_by("-at").first()
    assert last is not None
    if kind == "move":
        _kind, _i, hours, key = step
        if key != lead.stage.key:
            by = members[0]
            assert by is not None
            move(lead, key, last.at + timedelta(hours=hours), by, "100", "10", "Bad timing")
    elif kind == "backdate":
        _kind, _i, hours, key = step
        when = max(lead.first_touch_at, last.at - timedelta(hours=hours))
        with bulk(org, extends=[lead.pk]) as block:
            block.create(
                [
                    StageChange(
                        organization=org,
                        lead=lead,
                        from_stage=lead.stage,
                        to_stage=Stage.objects.get(organization=org, key=key),
                        at=when,
                    )
                ]
            )
    elif kind == "objection_logged":
        _kind, _i, hours, tag = step
        objection_add(lead=lead, tag=tag, by=None, at=lead.first_touch_at + timedelta(hours=hours))
    elif kind == "owner":
        lead_update(lead=lead, owner=members[step[2]])
    elif kind == "sourced":
        lead_update(lead=lead, sourced_by=members[step[2]])
    elif kind == "deal":
        _kind, _i, hours, result, cost = step
        deal_write(lead, result, lead.first_touch_at + timedelta(hours=hours), cost)
    elif kind == "objection":
        _kind, _i, hours, tag, in_bulk = step
        objection = Objection(
            organization=org, lead=lead, tag=tag, at=lead.first_touch_at + timedelta(hours=hours)
        )
        if in_bulk:
            with bulk(org) as block:
                block.create([objection])
        else:
            recorder.objection_append(objection=objection)
    else:
        _kind, _i, hours, what, buyer, by = step
        log(lead, what, lead.first_touch_at + timedelta(hours=hours), members[by], buyer)


@settings(max_examples=examples(25))
@given(history=steps)
def test_random_histories_equal_reference(db: Any, history: list[tuple[Any, ...]]) -> None:
    n = next(_orgs)
    org, owner = make_org(f"h{n}", f"owner{n}@hyp.test")
    sales = member_add(organization=org, user=make_user(f"sales{n}@hyp.test"), is_sales=True)
    members: list[Membership | None] = [owner, sales, None]
    periods = [*months_of(2024, 1, 6), Period(date(2024, 1, 1), date(2024, 6, 30))]
    for i, step in enumerate(history):
        run(org, members, step)
        if summary.ready(org) and (i % 4 == 3 or i == len(history) - 1):
            check(org, periods[::2] + periods[-1:])
    if summary.ready(org):
        check(org, periods)
        check_spans(org, runs_of(2024, 1, 6))
        rebuilt_equal(org)


def _temp_storage() -> int:
    """SQLite: the bytes of the connection's temporary database (the summaries' tables)."""

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA temp.page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA temp.page_size")
        return int(pages * cursor.fetchone()[0])


def _temp_files() -> dict[str, int]:
    """PostgreSQL: the size of each of the connection's temporary tables' files."""

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relpersistence = 't' AND c.relkind = 'r' AND c.relname LIKE 'ks\\_%%' "
            "AND pg_table_is_visible(c.oid)"
        )
        return dict(cursor.fetchall())


def test_the_temporary_tables_do_not_grow_with_each_use(org_a: Organization, owner_a: Any) -> None:
    """The summaries' temporary tables live as long as the connection and are emptied before
    each use. Emptied with a DELETE, PostgreSQL kept every removed row in them (autovacuum
    never sees a temporary table), and each use read all the uses before it: a test run's
    connection grew them to 84,000 dead rows. Filled with the same rows again and again,
    SQLite holds the same storage as after the second time; on PostgreSQL no table's file
    grows past ``TEMP_TRUNCATE_BYTES`` and one more filling (DELETE alone grew them 40
    fillings' worth)."""

    for i in range(30):
        lead = new_lead(org_a, f"L{i}", at(2024, 1, 2 + i), "prospect", owner=owner_a)
        move(lead, "lead", at(2024, 2, 2 + i % 20), owner_a)
        move(lead, "qualified", at(2024, 3, 2 + i % 20), owner_a)
    upkeep.rebuild(org_a)
    if connection.vendor == "sqlite":
        upkeep.rebuild(org_a)
        after_two = _temp_storage()
        assert after_two > 0
        for _ in range(8):
            upkeep.rebuild(org_a)
        assert _temp_storage() == after_two
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(_temp_files())}")
        upkeep.rebuild(org_a)
        one = _temp_files()  # one filling, from empty files
        assert one["ks_reach"] > 0 and one["ks_seen"] > 0, one
        for _ in range(40):
            upkeep.rebuild(org_a)
            for table, size in _temp_files().items():
                assert size <= TEMP_TRUNCATE_BYTES + one[table], (table, size, one)
    rebuilt_equal(org_a)
