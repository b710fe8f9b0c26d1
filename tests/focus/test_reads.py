"""The focus reads its figures from the summaries' indexes, not from the rows: each such
read is checked by the database's own plan, on both databases, and its figures by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.focus import services
from keepscore.funnel import summary
from keepscore.funnel.models import FirstWin
from tests.conftest import channel, query_plan
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
    r = services.reads(org_a, timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        _cohorts, money = services._channel_reads(org_a, r)
    won = {pk: int(m[0]) for pk, m in money.items() if m[0]}
    assert won == {channel(org_a).pk: 2, channel(org_a, "ads").pk: 1}
    table = FirstWin._meta.db_table
    [counted] = [q["sql"] for q in queries.captured_queries if table in q["sql"]]
    plan = query_plan(counted)
    if connection.vendor == "sqlite":
        assert "COVERING INDEX firstwin_month_cover" in plan, plan
    else:
        assert "Index Only Scan using firstwin_month_cover" in plan, plan
