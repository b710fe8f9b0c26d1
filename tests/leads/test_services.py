"""The rules of the lead book, tested at the services where they live."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from keepscore.common.recorded import recording
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    LostReason,
    QualificationCriterion,
    StageChange,
)
from keepscore.leads.services import (
    Outcome,
    lead_create,
    lead_move,
    lead_update,
    qualification_missing,
    qualification_set,
    touch_add,
)
from keepscore.leads.settings_services import criterion_save
from tests.conftest import channel, examples, stage

pytestmark = pytest.mark.django_db


def tick_all(lead, by):
    for c in QualificationCriterion.objects.for_org(lead.organization):
        qualification_set(lead=lead, criterion=c, met=True, by=by)


def reason(org):
    return LostReason.objects.for_org(org).first()


# --- creating ---------------------------------------------------------------------------


def test_new_lead_needs_only_name_and_source_and_starts_its_history(org_a, owner_a):
    lead = lead_create(
        organization=org_a, name="  Walk-in Wendy ", channel=channel(org_a, "walk-in")
    )

    assert lead.name == "Walk-in Wendy"
    assert lead.stage.key == "suspect"
    changes = list(StageChange.objects.filter(lead=lead))
    assert len(changes) == 1
    assert changes[0].from_stage is None and changes[0].to_stage.key == "suspect"
    assert changes[0].at == lead.first_touch_at == lead.stage_entered_at


def test_new_lead_without_name_is_refused_and_nothing_is_written(org_a):
    with pytest.raises(ValidationError) as err:
        lead_create(organization=org_a, name="  ", channel=channel(org_a))
    assert "name" in err.value.message_dict
    assert Lead.objects.count() == 0 and StageChange.objects.count() == 0


def test_new_lead_with_another_organizations_channel_is_refused(org_a, org_b):
    with pytest.raises(ValidationError) as err:
        lead_create(organization=org_a, name="X", channel=channel(org_b))
    assert "channel" in err.value.message_dict
    assert Lead.objects.count() == 0


def test_new_lead_cannot_start_in_the_future_or_closed(org_a):
    with pytest.raises(ValidationError) as err:
        lead_create(
            organization=org_a,
            name="X",
            channel=channel(org_a),
            first_touch_at=timezone.now() + timedelta(days=2),
        )
    assert "first_touch_at" in err.value.message_dict
    with pytest.raises(ValidationError):
        lead_create(
            organization=org_a, name="X", channel=channel(org_a), stage=stage(org_a, "customer")
        )
    assert Lead.objects.count() == 0


def test_original_source_cannot_be_edited_but_later_touches_are_kept(lead_a):
    with pytest.raises(ValidationError) as err:
        lead_update(lead=lead_a, channel=channel(lead_a.organization, "ads"))
    assert "channel" in err.value.message_dict
    lead_a.refresh_from_db()
    assert lead_a.channel.key == "referral"

    touch_add(lead=lead_a, channel=channel(lead_a.organization, "ads"), utm_source="google")
    lead_a.refresh_from_db()
    assert lead_a.channel.key == "referral"
    assert [t.channel.key for t in lead_a.touches.all()] == ["ads"]


def test_lead_update_changes_what_may_change(lead_a, sales_a):
    lead_update(lead=lead_a, company="New Co", owner=sales_a, value=Decimal("1200"))
    lead_a.refresh_from_db()
    assert (lead_a.company, lead_a.owner, lead_a.value) == ("New Co", sales_a, Decimal("1200"))


def test_lead_update_refuses_a_member_of_another_organization(lead_a, owner_b):
    with pytest.raises(ValidationError) as err:
        lead_update(lead=lead_a, owner=owner_b)
    assert "owner" in err.value.message_dict


# --- moving -----------------------------------------------------------------------------


def test_each_move_writes_exactly_one_stage_change(lead_a, owner_a):
    before = StageChange.objects.filter(lead=lead_a).count()
    change = lead_move(lead=lead_a, to_stage=stage(lead_a.organization, "prospect"), by=owner_a)

    assert StageChange.objects.filter(lead=lead_a).count() == before + 1
    assert change.from_stage.key == "suspect" and change.to_stage.key == "prospect"
    assert change.by == owner_a.user
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "prospect" and lead_a.stage_entered_at == change.at


def test_moves_may_skip_forward_and_move_back_and_both_are_recorded(lead_a, owner_a):
    org = lead_a.organization
    lead_move(lead=lead_a, to_stage=stage(org, "lead"), by=owner_a)
    lead_move(lead=lead_a, to_stage=stage(org, "prospect"), by=owner_a, note="went cold")

    path = [
        (c.from_stage.key if c.from_stage else None, c.to_stage.key)
        for c in StageChange.objects.filter(lead=lead_a).order_by("at", "id")
    ]
    assert path == [(None, "suspect"), ("suspect", "lead"), ("lead", "prospect")]


def test_moving_to_the_current_stage_is_refused(lead_a, owner_a):
    with pytest.raises(ValidationError):
        lead_move(lead=lead_a, to_stage=lead_a.stage, by=owner_a)
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_moving_to_another_organizations_stage_is_refused(lead_a, owner_a, org_b):
    with pytest.raises(ValidationError):
        lead_move(lead=lead_a, to_stage=stage(org_b, "prospect"), by=owner_a)
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "suspect"


def test_a_move_cannot_be_dated_before_the_latest_change(lead_a, owner_a):
    org = lead_a.organization
    lead_move(lead=lead_a, to_stage=stage(org, "prospect"), by=owner_a)
    with pytest.raises(ValidationError) as err:
        lead_move(
            lead=lead_a,
            to_stage=stage(org, "lead"),
            by=owner_a,
            at=lead_a.first_touch_at - timedelta(days=1),
        )
    assert "at" in err.value.message_dict


def test_a_failing_move_leaves_no_trace(lead_a, owner_a, monkeypatch):
    """The stage change and the outcome are one transaction: a failure after the stage change
    was written rolls it back too."""
    org = lead_a.organization
    changes_before = StageChange.objects.count()

    def explode(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(DealOutcome, "save", explode)
    with pytest.raises(DatabaseError):
        lead_move(
            lead=lead_a,
            to_stage=stage(org, "customer"),
            by=owner_a,
            outcome=Outcome(revenue=Decimal("500")),
        )
    assert StageChange.objects.count() == changes_before
    assert Lead.objects.get(pk=lead_a.pk).stage.key == "suspect"


def test_history_is_append_only_in_the_database(lead_a):
    change = StageChange.objects.get(lead=lead_a)
    # past the recorder's guard (as raw SQL would be): the database refuses it too
    with pytest.raises(DatabaseError), transaction.atomic(), recording():
        StageChange.objects.filter(pk=change.pk).update(note="rewritten")
    change.refresh_from_db()
    assert change.note == ""


# --- qualification gate -----------------------------------------------------------------


def test_qualifying_with_criteria_unmet_says_which_are_missing(lead_a, owner_a):
    org = lead_a.organization
    criteria = list(QualificationCriterion.objects.for_org(org))
    qualification_set(lead=lead_a, criterion=criteria[0], met=True, by=owner_a)

    with pytest.raises(ValidationError) as err:
        lead_move(lead=lead_a, to_stage=stage(org, "qualified"), by=owner_a)

    message = " ".join(err.value.message_dict["to_stage"])
    assert criteria[0].text not in message
    for c in criteria[1:]:
        assert c.text in message
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_qualifying_with_every_required_criterion_met(lead_a, owner_a):
    org = lead_a.organization
    optional = criterion_save(organization=org, text="Has a website", required=False)
    retired = criterion_save(organization=org, text="Old rule", active=False)
    for c in QualificationCriterion.objects.for_org(org).exclude(pk__in=[optional.pk, retired.pk]):
        qualification_set(lead=lead_a, criterion=c, met=True, by=owner_a)

    assert qualification_missing(lead=lead_a) == []
    change = lead_move(lead=lead_a, to_stage=stage(org, "qualified"), by=owner_a)
    assert change.to_stage.key == "qualified" and not change.qualification_override


def test_unticking_a_criterion_closes_the_gate_again(lead_a, owner_a):
    org = lead_a.organization
    tick_all(lead_a, owner_a)
    first = QualificationCriterion.objects.for_org(org).first()
    qualification_set(lead=lead_a, criterion=first, met=False, by=owner_a)
    assert qualification_missing(lead=lead_a) == [first]


def test_skipping_past_qualified_is_gated_too_but_winning_is_not(lead_a, owner_a):
    org = lead_a.organization
    with pytest.raises(ValidationError):
        lead_move(lead=lead_a, to_stage=stage(org, "proposal"), by=owner_a)
    # a walk-in who buys on the spot: straight to customer
    change = lead_move(
        lead=lead_a,
        to_stage=stage(org, "customer"),
        by=owner_a,
        outcome=Outcome(revenue=Decimal("90")),
    )
    assert change.to_stage.key == "customer"


def test_owner_override_is_recorded_with_its_reason(lead_a, owner_a):
    change = lead_move(
        lead=lead_a,
        to_stage=stage(lead_a.organization, "qualified"),
        by=owner_a,
        override_reason="Known customer of our partner",
    )
    change.refresh_from_db()
    assert change.qualification_override is True
    assert change.override_reason == "Known customer of our partner"


def test_only_an_owner_may_override(lead_a, sales_a):
    with pytest.raises(ValidationError) as err:
        lead_move(
            lead=lead_a,
            to_stage=stage(lead_a.organization, "qualified"),
            by=sales_a,
            override_reason="I think it is fine",
        )
    assert "override_reason" in err.value.message_dict
    assert StageChange.objects.filter(lead=lead_a).count() == 1


# --- won and lost -----------------------------------------------------------------------


def test_won_needs_revenue(lead_a, owner_a):
    with pytest.raises(ValidationError) as err:
        lead_move(lead=lead_a, to_stage=stage(lead_a.organization, "customer"), by=owner_a)
    assert "revenue" in err.value.message_dict
    assert DealOutcome.objects.count() == 0 and StageChange.objects.filter(lead=lead_a).count() == 1


@pytest.mark.parametrize(
    ("revenue", "cost", "field"),
    [(Decimal("-1"), None, "revenue"), (Decimal("10"), Decimal("-5"), "cost")],
)
def test_won_refuses_negative_money(lead_a, owner_a, revenue, cost, field):
    with pytest.raises(ValidationError) as err:
        lead_move(
            lead=lead_a,
            to_stage=stage(lead_a.organization, "customer"),
            by=owner_a,
            outcome=Outcome(revenue=revenue, cost=cost),
        )
    assert field in err.value.message_dict
    assert DealOutcome.objects.count() == 0


def test_won_records_revenue_cost_and_margin(lead_a, owner_a):
    change = lead_move(
        lead=lead_a,
        to_stage=stage(lead_a.organization, "customer"),
        by=owner_a,
        outcome=Outcome(revenue=Decimal("1000.00"), cost=Decimal("650.50")),
    )
    outcome = DealOutcome.objects.get(stage_change=change)
    assert outcome.result == "won"
    assert outcome.margin == Decimal("349.50")
    assert outcome.at == change.at and outcome.lead == lead_a


def test_lost_needs_a_reason_from_its_own_organization(lead_a, owner_a, org_b):
    org = lead_a.organization
    with pytest.raises(ValidationError) as err:
        lead_move(lead=lead_a, to_stage=stage(org, "lost"), by=owner_a)
    assert "lost_reason" in err.value.message_dict
    with pytest.raises(ValidationError):
        lead_move(
            lead=lead_a,
            to_stage=stage(org, "lost"),
            by=owner_a,
            outcome=Outcome(lost_reason=reason(org_b)),
        )
    assert DealOutcome.objects.count() == 0

    lead_move(
        lead=lead_a,
        to_stage=stage(org, "lost"),
        by=owner_a,
        outcome=Outcome(lost_reason=reason(org), lost_note="went with the cheaper one"),
    )
    outcome = DealOutcome.objects.get(lead=lead_a)
    assert (outcome.result, outcome.lost_reason, outcome.revenue) == ("lost", reason(org), None)


def test_a_lost_lead_can_be_reopened_as_a_new_event(lead_a, owner_a):
    org = lead_a.organization
    lead_move(
        lead=lead_a,
        to_stage=stage(org, "lost"),
        by=owner_a,
        outcome=Outcome(lost_reason=reason(org)),
    )
    lead_move(lead=lead_a, to_stage=stage(org, "prospect"), by=owner_a, note="came back")
    keys = [c.to_stage.key for c in StageChange.objects.filter(lead=lead_a).order_by("at", "id")]
    assert keys == ["suspect", "lost", "prospect"]
    assert DealOutcome.objects.filter(lead=lead_a).count() == 1


# --- a property over any sequence of moves ----------------------------------------------

KEYS = ["suspect", "prospect", "lead", "qualified", "proposal", "customer", "lost"]


@settings(max_examples=examples(25))
@given(moves=st.lists(st.tuples(st.sampled_from(KEYS), st.booleans(), st.booleans()), max_size=8))
def test_any_sequence_of_moves_keeps_lead_and_history_consistent(org_a, owner_a, moves):
    lead = lead_create(organization=org_a, name="Prop", channel=channel(org_a))
    succeeded = 0
    for key, with_money, tick in moves:
        if tick:
            tick_all(lead, owner_a)
        outcome = Outcome(revenue=Decimal("10"), lost_reason=reason(org_a)) if with_money else None
        try:
            lead_move(lead=lead, to_stage=stage(org_a, key), by=owner_a, outcome=outcome)
            succeeded += 1
        except ValidationError:
            pass
    lead.refresh_from_db()
    history = list(StageChange.objects.filter(lead=lead).order_by("at", "id"))
    assert len(history) == succeeded + 1
    assert history[-1].to_stage_id == lead.stage_id
    for prev, nxt in itertools.pairwise(history):
        assert nxt.from_stage_id == prev.to_stage_id
        assert nxt.at >= prev.at
    closed = [c for c in history if c.to_stage.kind != "open"]
    assert DealOutcome.objects.filter(lead=lead).count() == len(closed)


def test_outcomes_are_append_only_in_the_database_too(lead_a, owner_a):
    change = lead_move(
        lead=lead_a,
        to_stage=stage(lead_a.organization, "customer"),
        by=owner_a,
        outcome=Outcome(revenue=Decimal("100")),
    )
    with pytest.raises(DatabaseError), transaction.atomic(), recording():
        DealOutcome.objects.filter(stage_change=change).update(revenue=Decimal("999"))
    assert DealOutcome.objects.get(stage_change=change).revenue == Decimal("100")


def test_a_new_lead_cannot_start_behind_the_qualification_gate(org_a):
    for key in ("qualified", "proposal"):
        with pytest.raises(ValidationError) as err:
            lead_create(
                organization=org_a, name="X", channel=channel(org_a), stage=stage(org_a, key)
            )
        assert "stage" in err.value.message_dict
    assert Lead.objects.count() == 0
    # with no required criteria written down, the gate is open
    QualificationCriterion.objects.for_org(org_a).update(required=False)
    lead = lead_create(
        organization=org_a, name="X", channel=channel(org_a), stage=stage(org_a, "proposal")
    )
    assert lead.stage.key == "proposal"


def test_members_of_another_organization_cannot_act_on_a_lead(lead_a, owner_b):
    org = lead_a.organization
    with pytest.raises(ValidationError) as err:
        lead_move(lead=lead_a, to_stage=stage(org, "qualified"), by=owner_b, override_reason="mine")
    assert "by" in err.value.message_dict
    criterion = QualificationCriterion.objects.for_org(org).first()
    with pytest.raises(ValidationError):
        qualification_set(lead=lead_a, criterion=criterion, met=True, by=owner_b)
    with pytest.raises(ValidationError):
        lead_create(organization=org, name="X", channel=channel(org), by=owner_b)
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_retired_channels_and_lost_reasons_are_refused(lead_a, owner_a):
    org = lead_a.organization
    ads = channel(org, "ads")
    ads.active = False
    ads.save()
    with pytest.raises(ValidationError) as err:
        lead_create(organization=org, name="X", channel=ads)
    assert "channel" in err.value.message_dict
    old = reason(org)
    old.active = False
    old.save()
    with pytest.raises(ValidationError) as err:
        lead_move(
            lead=lead_a, to_stage=stage(org, "lost"), by=owner_a, outcome=Outcome(lost_reason=old)
        )
    assert "lost_reason" in err.value.message_dict
    assert DealOutcome.objects.count() == 0


def test_revenue_too_large_for_the_books_is_a_field_error(lead_a, owner_a):
    with pytest.raises(ValidationError) as err:
        lead_move(
            lead=lead_a,
            to_stage=stage(lead_a.organization, "customer"),
            by=owner_a,
            outcome=Outcome(revenue=Decimal("1e20")),
        )
    assert "revenue" in err.value.message_dict
    assert StageChange.objects.filter(lead=lead_a).count() == 1 and DealOutcome.objects.count() == 0


def test_a_stage_with_history_keeps_its_kind(lead_a, owner_a):
    from keepscore.leads.settings_services import stage_save

    org = lead_a.organization
    lost = stage(org, "lost")
    lead_move(lead=lead_a, to_stage=lost, by=owner_a, outcome=Outcome(lost_reason=reason(org)))
    lead_move(lead=lead_a, to_stage=stage(org, "prospect"), by=owner_a)  # nobody is at lost now
    with pytest.raises(ValidationError) as err:
        stage_save(organization=org, stage=lost, name="Lost", group=lost.group, kind="open")
    assert "kind" in err.value.message_dict
    assert stage(org, "lost").kind == "lost"


def test_a_time_slightly_ahead_is_taken_as_now_and_later_moves_still_work(lead_a, owner_a):
    org = lead_a.organization
    ahead = timezone.now() + timedelta(minutes=3)
    first = lead_move(lead=lead_a, to_stage=stage(org, "prospect"), by=owner_a, at=ahead)
    assert first.at <= timezone.now()
    second = lead_move(lead=lead_a, to_stage=stage(org, "lead"), by=owner_a)
    assert second.at >= first.at
