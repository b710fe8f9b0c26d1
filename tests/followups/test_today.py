"""The Today page's lists and counts read a member's open leads through the (organization,
owner, stage, stage_entered_at) index: the same leads, order and counts as filtering every
lead of the organization by hand (random leads, owners, stages and follow-ups)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add
from keepscore.common.days import entered_before
from keepscore.followups import today as today_module
from keepscore.followups.models import FollowUp
from keepscore.followups.selectors import open_followup_exists
from keepscore.followups.services import followup_add, followup_done
from keepscore.followups.today import today_for
from keepscore.leads.late import STALL_DAYS, late_stages
from keepscore.leads.models import Lead, StageKind
from tests.conftest import examples, make_org, make_user, query_plan
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db

_orgs = itertools.count()
#: rows per list in these tests: small, so that the lists are cut
ROWS = 2
KEYS = ("suspect", "prospect", "lead", "qualified", "proposal", "customer", "lost")

leads = st.lists(
    st.tuples(
        st.integers(0, 3 * STALL_DAYS),  # days before now the lead entered its stage
        st.sampled_from(KEYS),
        st.integers(0, 2),  # owner: owner, sales, no one
        st.sampled_from(["none", "open", "done", "other's open"]),  # its follow-up
    ),
    min_size=1,
    max_size=12,
)


def by_hand(org: Organization, member: Membership, now: Any) -> dict[str, Any]:
    """The Today lists from every lead of the organization, filtered in Python."""
    rows = list(Lead.objects.filter(organization=org).select_related("stage"))
    waiting = set(
        FollowUp.objects.filter(organization=org, done_at=None).values_list("lead_id", flat=True)
    )
    mine = [
        lead for lead in rows if lead.owner_id == member.pk and lead.stage.kind == StageKind.OPEN
    ]
    late = {s.pk for s in late_stages(org)}
    cut = entered_before(STALL_DAYS, now.date())
    order = sorted(mine, key=lambda lead: (lead.stage_entered_at, lead.pk))
    without = [lead.pk for lead in order if lead.pk not in waiting]
    stalled = [lead.pk for lead in order if lead.stage_id in late and lead.stage_entered_at < cut]
    return {
        "without": without[:ROWS],
        "without_count": len(without),
        "stalled": stalled[:ROWS],
        "stalled_count": len(stalled),
    }


def shown(org: Organization, member: Membership, now: Any) -> dict[str, Any]:
    with mock.patch.object(today_module, "ROWS", ROWS):
        day = today_for(org, member, now)
    return {
        "without": [lead.pk for lead in day.without_next_step],
        "without_count": day.without_next_step_count,
        "stalled": [lead.pk for lead in day.stalled],
        "stalled_count": day.stalled_count,
    }


#: every stage, owner and kind of follow-up, more leads than rows, stalled and not
EVERY = [
    (days, key, (i + i // 3) % 3, ("none", "open", "done", "other's open")[i % 4])
    for i, (days, key) in enumerate(
        (days, key) for key in KEYS for days in (0, STALL_DAYS + 1, 2 * STALL_DAYS)
    )
]


@settings(max_examples=examples(25))
@given(history=leads)
@example(history=EVERY)
def test_today_equals_every_lead_filtered_by_hand(db: Any, history: list[tuple[Any, ...]]) -> None:
    n = next(_orgs)
    org, owner = make_org(f"t{n}", f"owner{n}@today.test")
    sales = member_add(organization=org, user=make_user(f"sales{n}@today.test"), is_sales=True)
    members: list[Membership | None] = [owner, sales, None]
    now = timezone.localtime()
    for i, (days, key, who, followup) in enumerate(history):
        # leads entering the same minute in pairs: the order's tie is broken by id
        when = now - timedelta(days=days, minutes=i // 2)
        # a new lead starts before the qualification gate: moved on, the same moment
        first = key if key in ("suspect", "prospect", "lead") else "lead"
        lead = new_lead(org, f"lead {i}", when - timedelta(days=1), first, owner=members[who])
        if first != key:
            move(lead, key, when, owner, "100", "10", "Bad timing")
        if followup != "none":
            due = now.date() + timedelta(days=days % 3 - 1)
            mine = members[who] or owner
            theirs = sales if mine == owner else owner
            made = followup_add(
                lead=lead,
                by=owner,
                kind="call",
                due_on=due,
                owner=theirs if followup == "other's open" else mine,
            )
            if followup == "done":
                followup_done(followup=made, by=owner)
    for member in (owner, sales):
        assert shown(org, member, now) == by_hand(org, member, now)
    if history == EVERY:  # the example, by hand (late stages: qualified, proposal)
        mine, theirs = shown(org, owner, now), shown(org, sales, now)
        # the owner's suspect (no follow-up) and proposal (its follow-up done, 42 days)
        assert (mine["without_count"], mine["stalled_count"]) == (2, 1)
        # sales' lead and proposal (none) and qualified (done, 22 days: stalled); cut at 2
        assert (theirs["without_count"], len(theirs["without"]), theirs["stalled_count"]) == (
            3,
            ROWS,
            1,
        )


def test_lists_are_read_from_the_member_s_index(org_a: Organization, owner_a: Membership) -> None:
    """The member's open leads are counted from the index, and each stage's first rows read
    from it in order (no sort), not every lead of the organization. PostgreSQL chooses by
    its statistics (a few rows here: a scan of the table or a sort is cheaper), so it is
    asked with both turned off; by the statistics earlier tests left it counts through any
    of the leads' indexes (the full run has chosen the one by first touch), and lists
    through the member's index or the stages' one (the stage's leads in order, the
    member's among them): either answers in order (its ties, leads entered at the same
    moment, sorted by id as they come)."""
    lead = new_lead(org_a, "A", timezone.now() - timedelta(days=30), "lead", owner=owner_a)
    without = today_module._leads(org_a, owner_a).filter(~open_followup_exists())
    first = without.filter(stage=lead.stage_id).order_by("stage_entered_at", "id")[:ROWS]
    sqlite = connection.vendor == "sqlite"

    def plan(sql: str, params: Any) -> str:
        return query_plan(sql, params, off=("seqscan", "sort"))

    counted = plan(*without.order_by().values("pk").query.sql_with_params())
    if sqlite:
        assert "lead_org_owner_stage" in counted, counted
    else:  # by the statistics earlier tests left: any index of the leads, never the table
        assert "Seq Scan on leads_lead" not in counted, counted
        assert " on leads_lead " in counted and "Index" in counted, counted
    listed = plan(*first.query.sql_with_params())
    if sqlite:
        assert "lead_org_owner_stage" in listed, listed
        assert "TEMP B-TREE" not in listed, listed  # (the rowid is in every index)
    else:  # in the order of an index by (organization, [owner,] stage, entered): the
        # stage's leads, the member's first ones among them; only ties sorted by id
        ordered = ("lead_org_owner_stage", "lead_org_stage_open")
        assert any(name in listed for name in ordered), listed
        assert "Presorted Key: leads_lead.stage_entered_at" in listed, listed
        assert "Sort  (" not in listed.replace("Incremental Sort  (", ""), listed
