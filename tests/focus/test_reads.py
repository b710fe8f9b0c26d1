"""The focus reads its figures from the summaries' indexes, not from the rows: each such
read is checked by the database's own plan, on both databases, and its figures by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.focus.indicators import channels, sales
from keepscore.focus.reads import reads
from keepscore.funnel import summary
from keepscore.funnel.models import FirstWin
from tests.conftest import assert_index_alone, channel
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db


def test_first_wins_by_channel_come_from_the_index_alone(
    org_a: Organization, owner_a: Membership
) -> None:
    """The deals first won per channel over the history (the channels' money): counted from
    the index ``firstwin_month_cover`` alone (161 against 30 ms at a million leads)."""
    now = timezone.now()
    for i, via in enumerate(["referral", "referral", "ads"]):
        lead = new_lead(org_a, f"W{i}", now - timedelta(days=90), "lead", via)
        move(lead, "customer", now - timedelta(days=60), owner_a, revenue="100")
    lost = new_lead(org_a, "L", now - timedelta(days=90), "lead")
    move(lost, "lost", now - timedelta(days=60), owner_a, reason="Price too high")
    assert summary.ready(org_a)
    r = reads(org_a, timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        _cohorts, money = channels._channel_reads(org_a, r)
    won = {pk: int(m[0]) for pk, m in money.items() if m[0]}
    assert won == {channel(org_a).pk: 2, channel(org_a, "ads").pk: 1}
    table = FirstWin._meta.db_table
    [counted] = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    assert_index_alone(counted, "firstwin_month_cover", "funnel_firstwin")


def test_sales_conversations_of_each_span_by_hand(org_a: Organization, owner_a: Membership) -> None:
    """The week's, month's and quarter's sales conversations and the leads among them won at
    or after their first conversation of the span, read in one scan of an index: equal to
    counting the rows by hand. As of Wednesday 2 April 2025 the week began on 31 March,
    before the month and the quarter: each span is its own."""
    from datetime import date, datetime

    from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity
    from keepscore.leads.models import DealOutcome
    from tests.funnel.conftest import log

    def at(month: int, day: int, hour: int = 10) -> datetime:
        return timezone.make_aware(datetime(2025, month, day, hour))

    as_of = date(2025, 4, 2)
    # (talks: (kind, moment, with the buyer), won at)
    story = [
        ([("connect", at(3, 31), True)], at(4, 1)),  # the week only; won after
        ([("meeting", at(4, 1), True), ("connect", at(4, 2), True)], at(4, 2, 12)),
        ([("connect", at(3, 20), True), ("meeting", at(3, 31), True)], at(3, 25)),  # won before
        ([("connect", at(1, 15), True)], at(2, 1)),  # the quarter before: none of the spans
        ([("call_attempt", at(4, 1), False), ("connect", at(4, 1), False)], None),  # no buyer
        ([("meeting", at(4, 2, 9), True)], at(4, 3)),  # won after the date: not yet
        ([("connect", at(4, 3), True)], None),  # after the date
    ]
    for i, (talks, won_at) in enumerate(story):
        lead = new_lead(org_a, f"T{i}", at(1, 2), "lead")
        for kind, moment, buyer in talks:
            log(lead, kind, moment, owner_a, buyer=buyer)
        if won_at is not None:
            move(lead, "customer", won_at, owner_a, revenue="100")
    r = reads(org_a, as_of)
    with CaptureQueriesContext(connection) as queries:
        evidence = sales.sales_conversations(org_a, r).evidence
    [scan] = [q["sql"] for q in queries.captured_queries if "SUM(t.n0)" in q["sql"]]
    assert_index_alone(scan, "activity_org_kind_lead", "activities_activity")
    end = timezone.make_aware(datetime(2025, 4, 3))
    talks = list(
        Activity.objects.filter(organization=org_a).values_list(
            "lead_id", "kind", "with_buyer", "at"
        )
    )
    wins = list(
        DealOutcome.objects.filter(organization=org_a, result="won").values_list("lead_id", "at")
    )
    for name, since in (
        ("week", date(2025, 3, 31)),
        ("month", date(2025, 4, 1)),
        ("quarter", date(2025, 4, 1)),
    ):
        start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
        inside = [
            (lead, moment)
            for lead, kind, buyer, moment in talks
            if buyer and kind in SALES_CONVERSATION_KINDS and start <= moment < end
        ]
        first: dict[int, datetime] = {}
        for lead, moment in inside:
            first[lead] = min(moment, first.get(lead, moment))
        converted = sum(
            any(lead == won and first[lead] <= moment < end for won, moment in wins)
            for lead in first
        )
        assert evidence[name]["since"] == since.isoformat()
        assert (evidence[name]["conversations"], evidence[name]["converted"]) == (
            len(inside),
            converted,
        ), name
    # by hand: the week T0, T1 twice, T2, T5; won after their first talk of it T0 and T1
    assert (evidence["week"]["conversations"], evidence["week"]["converted"]) == (5, 2)
    assert (evidence["month"]["conversations"], evidence["month"]["converted"]) == (3, 1)
