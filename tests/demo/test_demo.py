"""The demo generator: reproducible, realistic, and true to the rules the services enforce."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization, User
from keepscore.activities.models import Activity, Objection
from keepscore.common.periods import Period
from keepscore.demo.generator import (
    DEMO_PASSWORD,
    DemoSummary,
    demo_create,
    demo_delete,
    demo_email,
)
from keepscore.demo.history import demo_plan
from keepscore.economics.channels import channel_economics
from keepscore.funnel.jobs import jobs_report
from keepscore.funnel.selectors import funnel
from keepscore.funnel.summary import month_counts
from keepscore.history import recorder
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    StageKind,
    Touch,
)
from keepscore.leads.selectors import LeadFilters, lead_list
from keepscore.leads.services import DEFAULT_LOST_REASONS, Outcome, lead_move
from tests.demo.conftest import TODAY

HORIZON = datetime(2025, 6, 30, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demos: tuple[DemoSummary, ...]) -> Organization:
    return Organization.objects.get(slug=demos[0].organization)


def _counts(summary: DemoSummary) -> dict[str, Any]:
    data = asdict(summary)
    for key in ("organization", "name", "login_email", "other_logins"):
        data.pop(key)
    return data


def _by_month_and_channel(organization: Organization) -> dict[tuple[Any, str], tuple[int, int]]:
    rows = (
        Lead.objects.for_org(organization)
        .annotate(month=TruncMonth("first_touch_at"))
        .values("month", "channel__key")
        .annotate(n=Count("id"), won=Count("id", filter=Q(stage__kind=StageKind.WON)))
    )
    return {(r["month"], r["channel__key"]): (r["n"], r["won"]) for r in rows}


# --- reproducible -----------------------------------------------------------------------


def test_same_seed_and_day_give_the_same_data(demos: tuple[DemoSummary, ...]) -> None:
    a, b = demos
    assert _counts(a) == _counts(b)
    org_a = Organization.objects.get(slug=a.organization)
    org_b = Organization.objects.get(slug=b.organization)
    assert _by_month_and_channel(org_a) == _by_month_and_channel(org_b)

    def outcomes(organization: Organization) -> list[tuple[Any, ...]]:
        return list(
            DealOutcome.objects.for_org(organization)
            .order_by("at", "revenue", "lead__name")
            .values_list("at", "result", "revenue", "cost", "lost_reason__name")
        )

    assert outcomes(org_a) == outcomes(org_b)


def test_another_seed_gives_other_data() -> None:
    one = demo_plan(seed=1, months=6, today=TODAY)
    two = demo_plan(seed=2, months=6, today=TODAY)
    assert [p.first_touch_at for p in one] != [p.first_touch_at for p in two]
    again = demo_plan(seed=1, months=6, today=TODAY)
    assert [(p.name, p.first_touch_at, p.stage) for p in one] == [
        (p.name, p.first_touch_at, p.stage) for p in again
    ]


# --- realistic --------------------------------------------------------------------------


def test_size_and_shape(demos: tuple[DemoSummary, ...], org: Organization) -> None:
    summary = demos[0]
    assert 1500 <= summary.leads <= 2500
    assert summary.leads == Lead.objects.for_org(org).count()
    assert summary.stage_changes == StageChange.objects.for_org(org).count()
    assert summary.activities == Activity.objects.for_org(org).count()
    assert summary.objections == Objection.objects.for_org(org).count()
    assert summary.touches == Touch.objects.for_org(org).count()
    assert 3 <= summary.activities / summary.leads <= 8
    assert 0.10 <= summary.won / summary.leads <= 0.20
    assert summary.lost > summary.open > 0
    assert summary.won + summary.lost + summary.open == summary.leads
    assert summary.objections > 0.15 * summary.leads / 2


def test_at_least_eighteen_months(org: Organization) -> None:
    months = {
        d.strftime("%Y-%m")
        for d in Lead.objects.for_org(org).values_list("first_touch_at", flat=True)
    }
    assert len(months) >= 18
    assert "2023-07" in months and "2025-06" in months


def test_members_and_logins(demos: tuple[DemoSummary, ...], org: Organization) -> None:
    members = Membership.objects.filter(organization=org).select_related("user")
    assert members.count() == 4 == demos[0].members
    owner = members.get(is_owner=True)
    assert (owner.is_marketing, owner.is_sales, owner.marketing_share) == (True, True, 40)
    assert members.filter(is_marketing=True, is_owner=False).count() == 1
    assert members.filter(is_sales=True, is_owner=False).count() == 2
    assert demos[0].login_email == demo_email("demo-a") == owner.user.email
    assert authenticate(None, username=owner.user.email, password=DEMO_PASSWORD) is not None
    sales = members.filter(is_sales=True, is_owner=False).first()
    assert sales is not None
    assert authenticate(None, username=sales.user.email, password=DEMO_PASSWORD) is not None


def test_channels_differ_in_conversion_and_speed(org: Organization) -> None:
    def won_share(key: str) -> float:
        leads = Lead.objects.for_org(org).filter(channel__key=key)
        return leads.filter(stage__kind=StageKind.WON).count() / leads.count()

    def cycle_days(key: str) -> float:
        won = Lead.objects.for_org(org).filter(channel__key=key, stage__kind=StageKind.WON)
        return statistics.median((w.stage_entered_at - w.first_touch_at).days for w in won)

    assert won_share("referral") > 3 * won_share("ads")
    assert won_share("website-form") > won_share("ads")
    assert cycle_days("referral") < cycle_days("ads")
    volume = Counter(Lead.objects.for_org(org).values_list("channel__key", flat=True))
    assert volume["ads"] > 3 * volume["referral"]
    # trade shows come in bursts: most of their leads in two months of the year
    show_months = Counter(
        d.month
        for d in Lead.objects.for_org(org)
        .filter(channel__key="trade-show")
        .values_list("first_touch_at", flat=True)
    )
    assert set(show_months) <= {3, 10}
    # campaigns carry their UTM values
    tagged = Lead.objects.for_org(org).exclude(utm_campaign="")
    assert tagged.count() > 100
    assert not tagged.filter(Q(utm_source="") | Q(utm_medium="") | Q(campaign="")).exists()


def test_margins_vary_and_some_deals_are_won_at_a_loss(org: Organization) -> None:
    won = DealOutcome.objects.for_org(org).filter(result="won")
    margins = [(o.revenue - o.cost) / o.revenue for o in won]
    assert sum(1 for m in margins if m < 0) >= 3
    assert max(margins) > Decimal("0.4")
    by_channel: dict[str, list[Decimal]] = defaultdict(list)
    for o in won.select_related("lead__channel"):
        by_channel[o.lead.channel.key].append((o.revenue - o.cost) / o.revenue)
    assert statistics.mean(by_channel["referral"]) > statistics.mean(by_channel["ads"])


def test_price_objections_grow(org: Organization) -> None:
    def price_share(start: datetime, end: datetime) -> float:
        rows = Objection.objects.for_org(org).filter(at__gte=start, at__lt=end)
        return rows.filter(tag="price").count() / rows.count()

    first_year = price_share(datetime(2023, 7, 1, tzinfo=UTC), datetime(2024, 7, 1, tzinfo=UTC))
    last_year = price_share(datetime(2024, 7, 1, tzinfo=UTC), HORIZON)
    assert last_year > first_year


def test_some_skip_stages_and_some_move_backward(org: Organization) -> None:
    positions = dict(Stage.objects.for_org(org).values_list("id", "position"))
    back = skip = 0
    for change in StageChange.objects.for_org(org).exclude(from_stage=None):
        if change.to_stage_id is None or change.from_stage_id is None:
            continue
        a, b = positions[change.from_stage_id], positions[change.to_stage_id]
        if b < a:
            back += 1
        if b - a > 10 and b <= 50:  # past an open stage, not counting won/lost
            skip += 1
    assert back >= 10 and skip >= 20


# --- true to the rules ------------------------------------------------------------------


def test_every_lead_stage_is_its_last_stage_change_and_changes_are_in_order(
    org: Organization,
) -> None:
    history: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in (
        StageChange.objects.for_org(org)
        .order_by("lead_id", "id")
        .values_list("lead_id", "from_stage_id", "to_stage_id", "at")
    ):
        history[row[0]].append(row[1:])
    leads = Lead.objects.for_org(org).values_list(
        "id", "stage_id", "stage_entered_at", "first_touch_at"
    )
    for lead_id, stage_id, entered, first_touch in leads:
        changes = history[lead_id]
        assert changes[0][0] is None and changes[0][2] == first_touch
        assert (changes[-1][1], changes[-1][2]) == (stage_id, entered)
        for before, after in itertools.pairwise(changes):
            assert after[2] >= before[2], lead_id  # time order
            assert after[0] == before[1], lead_id  # from = the stage it was at
            assert after[1] != before[1], lead_id


def test_outcomes_follow_the_rules(org: Organization) -> None:
    closed = StageChange.objects.for_org(org).filter(
        to_stage__kind__in=[StageKind.WON, StageKind.LOST]
    )
    assert closed.count() == DealOutcome.objects.for_org(org).count()
    assert not closed.filter(outcome__isnull=True).exists()
    for outcome in DealOutcome.objects.for_org(org).select_related(
        "stage_change__to_stage", "lost_reason"
    ):
        assert outcome.at == outcome.stage_change.at
        if outcome.result == "won":
            assert outcome.stage_change.to_stage.kind == StageKind.WON
            assert outcome.revenue is not None and outcome.revenue > 0
            assert outcome.cost is not None and outcome.cost >= 0
            assert outcome.lost_reason is None
        else:
            assert outcome.stage_change.to_stage.kind == StageKind.LOST
            assert outcome.lost_reason is not None
            assert outcome.lost_reason.name in DEFAULT_LOST_REASONS
            assert outcome.revenue is None
    # closed stages are final: nothing moves out of won or lost
    assert (
        not StageChange.objects.for_org(org)
        .filter(from_stage__kind__in=[StageKind.WON, StageKind.LOST])
        .exists()
    )


def test_the_qualification_gate_holds(org: Organization) -> None:
    required = set(
        QualificationCriterion.objects.for_org(org)
        .filter(required=True, active=True)
        .values_list("id", flat=True)
    )
    met: dict[int, set[int]] = defaultdict(set)
    for lead_id, criterion_id in (
        QualificationAnswer.objects.for_org(org)
        .filter(met=True)
        .values_list("lead_id", "criterion_id")
    ):
        met[lead_id].add(criterion_id)
    gated = StageChange.objects.for_org(org).filter(to_stage__requires_qualification=True)
    gated = gated | StageChange.objects.for_org(org).filter(to_stage__key="proposal")
    overrides = 0
    for change in gated.select_related("by"):
        if change.qualification_override:
            overrides += 1
            assert change.override_reason
            assert Membership.objects.get(organization=org, user=change.by).is_owner
        else:
            assert required <= met[change.lead_id], change.lead_id
    assert overrides > 0
    assert QualificationAnswer.objects.for_org(org).filter(met=True).count() > 500


def test_nothing_happens_on_or_after_today(org: Organization) -> None:
    checks = [
        Lead.objects.for_org(org).filter(
            Q(first_touch_at__gte=HORIZON) | Q(stage_entered_at__gte=HORIZON)
        ),
        StageChange.objects.for_org(org).filter(at__gte=HORIZON),
        DealOutcome.objects.for_org(org).filter(at__gte=HORIZON),
        Activity.objects.for_org(org).filter(at__gte=HORIZON),
        Objection.objects.for_org(org).filter(at__gte=HORIZON),
        Touch.objects.for_org(org).filter(at__gte=HORIZON),
    ]
    for rows in checks:
        assert not rows.exists(), rows.model
    # and nothing before a lead's first touch
    for model in (Activity, Objection, Touch, StageChange):
        rows = model.objects.for_org(org).filter(at__lt=F("lead__first_touch_at"))
        assert not rows.exists(), model


def test_activities_fit_the_stage_the_lead_reached(org: Organization) -> None:
    reached_proposal = set(
        StageChange.objects.for_org(org)
        .filter(to_stage__key="proposal")
        .values_list("lead_id", flat=True)
    )
    proposals = set(
        Activity.objects.for_org(org).filter(kind="proposal").values_list("lead_id", flat=True)
    )
    assert proposals == reached_proposal
    per_lead = Counter(Activity.objects.for_org(org).values_list("lead_id", flat=True))
    assert min(per_lead.values()) >= 3
    assert Activity.objects.for_org(org).filter(kind="connect", with_buyer=True).exists()
    assert Activity.objects.for_org(org).filter(kind="connect", with_buyer=False).exists()


def test_marketing_sourced_the_leads_of_its_channels(org: Organization) -> None:
    """Marketing & sales credits the marketing member with the leads it entered (its
    channels), whoever owns them; web-form leads are nobody's."""
    from keepscore.common.periods import Period
    from keepscore.demo.people import MARKETING_CHANNELS
    from keepscore.funnel.jobs import jobs_report

    marketing = Membership.objects.get(organization=org, user__email__startswith="marketing@")
    leads = Lead.objects.for_org(org)
    assert set(leads.filter(sourced_by=marketing).values_list("channel__key", flat=True)) == set(
        MARKETING_CHANNELS
    )
    assert not leads.filter(channel__key="website-form", sourced_by__isnull=False).exists()
    assert not leads.filter(owner=marketing).exists()  # it owns none: sales work them
    year = Period(date(2024, 7, 1), date(2025, 6, 30))
    credited = next(m for m in jobs_report(org, year).members if m.member_id == marketing.pk)
    since, until = year.bounds()
    touched = leads.filter(
        sourced_by=marketing, first_touch_at__gte=since, first_touch_at__lt=until
    )
    assert credited.total.leads_sourced == touched.count() > 100


def test_the_demo_summaries_agree_with_its_history(org: Organization) -> None:
    """Written through the recorder's bulk writer, counted when the block ended: every table
    equals a rebuild and every figure the reference (``keepscore summaries verify``)."""
    assert recorder.verify(organization=org) == []


def test_a_demo_lead_still_moves_with_the_services(org: Organization) -> None:
    lead = Lead.objects.for_org(org).filter(stage__kind=StageKind.OPEN).first()
    assert lead is not None
    owner = Membership.objects.get(organization=org, is_owner=True)
    lost = Stage.objects.get(organization=org, kind=StageKind.LOST)
    reason = LostReason.objects.for_org(org).first()
    lead_move(lead=lead, to_stage=lost, by=owner, outcome=Outcome(lost_reason=reason))
    lead.refresh_from_db()
    assert lead.stage == lost


# --- create and delete ------------------------------------------------------------------


def test_demo_create_refuses_a_taken_slug(org_a: Organization) -> None:
    with pytest.raises(ValidationError):
        demo_create(slug="acme", months=3, today=TODAY)


def test_demo_delete_refuses_a_real_organization(org_a: Organization) -> None:
    with pytest.raises(ValidationError):
        demo_delete(slug="acme")
    assert Organization.objects.filter(slug="acme").exists()
    assert demo_delete(slug="no-such-org") is False


def test_demo_delete_removes_everything(db: Any) -> None:
    summary = demo_create(slug="small", months=3, today=TODAY)
    pk = Organization.objects.get(slug="small").pk
    assert summary.leads > 0
    assert demo_delete(slug="small") is True
    assert not Organization.objects.filter(pk=pk).exists()
    assert not Membership.objects.filter(organization_id=pk).exists()
    assert not User.objects.filter(email__endswith="@small.keepscore.test").exists()
    for model in (Lead, StageChange, DealOutcome, Activity, Objection, Touch, Stage):
        assert not model.objects.filter(organization_id=pk).exists(), model
    # and it can be made again
    assert demo_create(slug="small", months=3, today=TODAY) == summary


def test_demo_runs_up_to_yesterday_by_default(db: Any) -> None:
    summary = demo_create(slug="now", months=3)
    assert summary.last_day == timezone.now().date() - timedelta(days=1)
    assert summary.first_day >= summary.last_day - timedelta(days=100)


def test_the_demo_walks_the_default_ladder_and_its_gate() -> None:
    """The generator plans without the database; its ladder must stay the services' one."""
    from keepscore.demo.business import GATED, LOST_STAGE, OPEN_STAGES, WON_STAGE
    from keepscore.leads.services import DEFAULT_LADDER

    open_keys = tuple(row[0] for row in DEFAULT_LADDER if row[3] == "open")
    assert open_keys == OPEN_STAGES
    assert [row[0] for row in DEFAULT_LADDER if row[3] == "won"] == [WON_STAGE]
    assert [row[0] for row in DEFAULT_LADDER if row[3] == "lost"] == [LOST_STAGE]
    gate = next(i for i, row in enumerate(DEFAULT_LADDER) if row[4])
    assert frozenset(row[0] for row in DEFAULT_LADDER[gate:] if row[3] == "open") == GATED


def test_the_reports_counts_are_their_lead_lists(org: Organization) -> None:
    """Each count of leads the funnel, economics, marketing & sales, scorecard and dashboard
    pages link from is the count of the lead list they link to (``LeadFilters``), per
    channel and stage, per member, and each month's new leads, customers and lost leads, over
    the demo's year."""
    period = Period(date(2024, 7, 1), date(2025, 6, 30))
    start, end = period.start, period.end
    channels = {c.key: c for c in Channel.objects.for_org(org)}
    stages = {s.key: s for s in Stage.objects.for_org(org)}

    def count(**filters: Any) -> int:
        return lead_list(organization=org, filters=LeadFilters(**filters)).count()

    checked = 0
    for group in funnel(organization=org, period=period, by="channel").groups:
        only = channels[group.key]
        for s in group.stages:
            reached = count(channel=only, reached=stages[s.key], reached_from=start, reached_to=end)
            entered = count(channel=only, entered=stages[s.key], entered_from=start, entered_to=end)
            assert (reached, entered) == (s.reached, s.entered), (group.key, s.key)
            checked += s.reached + s.entered
    economics = channel_economics(org, period)
    qualified = stages[economics.qualified_stage]
    for row in economics.rows:
        only = channels[row.key]
        assert count(channel=only, created_from=start, created_to=end) == row.leads
        assert count(channel=only, reached=qualified, reached_from=start, reached_to=end) == (
            row.qualified
        )
        assert count(channel=only, won_from=start, won_to=end) == row.customers, row.key
        checked += row.leads + row.customers
    for month, figures in month_counts(org, start, end).items():
        last = Period.month(month).end
        assert count(created_from=month, created_to=last) == figures["new_leads"], month
        assert count(closed_won_from=month, closed_won_to=last) == figures["closed_won"], month
        lost = int(figures["closed"]) - int(figures["closed_won"])  # the scorecard's "Lost"
        assert count(closed_lost_from=month, closed_lost_to=last) == lost, month
        checked += int(figures["closed_won"]) + lost
    jobs = jobs_report(org, period)
    assert jobs.qualified_stage is not None
    for member in jobs.members:
        if member.member_id is None:  # "(no member)": no list
            continue
        who = Membership.objects.get(pk=member.member_id)
        assert count(sourced_by=who, created_from=start, created_to=end) == (
            member.total.leads_sourced
        ), member.label
        assert count(
            sourced_by=who, reached=jobs.qualified_stage, reached_from=start, reached_to=end
        ) == (member.total.leads_qualified), member.label
        checked += member.total.leads_sourced
    assert checked > 3000  # not a year of zeros
