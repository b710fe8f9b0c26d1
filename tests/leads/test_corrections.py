"""Undoing a mistaken move: a new entry of the history; the move and its deal stop counting
in every figure (the summaries and the reference computation alike come back to what they
were before the mistake); only the latest move, the member's own for 24 hours, an owner's
any; the database refuses to edit a correction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add
from keepscore.common.recorded import recording
from keepscore.funnel.summary.verify import funnel_months, snapshot
from keepscore.history import recorder
from keepscore.leads.corrections import UNDO_HOURS, stage_change_undo
from keepscore.leads.models import DealOutcome, Lead, StageChange, StageCorrection
from keepscore.scorecard.compute import scorecard_for, scorecard_json
from tests.conftest import make_user
from tests.funnel.conftest import at, move, new_lead
from tests.leads.test_views import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(org_a: Organization) -> Membership:
    return member_add(organization=org_a, user=make_user("sam@acme.test"), is_sales=True)


def figures(org: Organization) -> dict[str, Any]:
    """Every figure the app shows, as the summaries and the reference compute them."""
    months = [date(2024, m, 1) for m in range(1, 13)]
    this_month = timezone.localdate().replace(day=1)
    card = scorecard_json(scorecard_for(org, this_month))
    card.pop("generated_at", None)
    return {
        "summaries": snapshot(org),
        "reference": funnel_months(org, [*months, this_month], (None, "channel")),
        "scorecard": card,
        "outcomes": sorted(DealOutcome.objects.for_org(org).values_list("lead_id", "revenue")),
    }


def test_an_undone_move_stops_counting_everywhere(org_a, owner_a, sales):
    # given: a history, its figures
    a = new_lead(org_a, "A", at(2024, 1, 10), "suspect", owner=sales)
    move(a, "lead", at(2024, 1, 20), owner_a)
    move(a, "customer", at(2024, 2, 3), owner_a, revenue="500", cost="100")
    c = new_lead(org_a, "C", timezone.now() - timedelta(days=3), "lead", owner=sales)
    c.refresh_from_db()
    entered = c.stage_entered_at
    before = figures(org_a)
    # when: a mistaken win (with its revenue), then undone
    mistake = move(c, "customer", timezone.now(), sales, revenue="900")
    assert figures(org_a) != before  # it counted
    mistake_pk = mistake.pk
    correction = stage_change_undo(change=mistake, by=sales, reason="wrong lead")
    # then: every figure is as before the mistake, summaries equal to the history
    assert figures(org_a) == before
    assert recorder.verify(organization=org_a) == []
    c.refresh_from_db()
    assert (c.stage.key, c.stage_entered_at) == ("lead", entered)
    assert not StageChange.objects.filter(pk=mistake_pk).exists()
    # and the correction keeps what the move said
    assert (correction.change_id, correction.change_to.key, correction.reason) == (
        mistake_pk,
        "customer",
        "wrong lead",
    )
    assert correction.outcome["result"] == "won" and correction.outcome["revenue"] == "900.00"


def test_who_may_undo_what(org_a, owner_a, sales):
    lead = new_lead(org_a, "L", timezone.now() - timedelta(days=2), "suspect", owner=sales)
    first = StageChange.objects.get(lead=lead)
    with pytest.raises(ValidationError, match="first stage"):
        stage_change_undo(change=first, by=owner_a)
    mine = move(lead, "prospect", timezone.now() - timedelta(hours=1), sales)
    other = member_add(organization=org_a, user=make_user("kim@acme.test"), is_sales=True)
    with pytest.raises(ValidationError, match="Only an owner"):
        stage_change_undo(change=mine, by=other)
    late = timezone.now() + timedelta(hours=UNDO_HOURS)
    with pytest.raises(ValidationError, match="24 hours"):
        stage_change_undo(change=mine, by=sales, now=late)
    latest = move(lead, "lead", timezone.now(), sales)
    with pytest.raises(ValidationError, match="latest move"):
        stage_change_undo(change=mine, by=sales)
    assert (
        StageCorrection.objects.count() == 0 and StageChange.objects.filter(lead=lead).count() == 3
    )
    # an owner undoes any member's latest move, at any age
    stage_change_undo(change=latest, by=owner_a, now=late + timedelta(days=30))
    lead.refresh_from_db()
    assert lead.stage.key == "prospect"


def test_another_organizations_member_is_refused(org_a, owner_a, owner_b):
    lead = new_lead(org_a, "L", timezone.now() - timedelta(days=1), "suspect")
    change = move(lead, "prospect", timezone.now(), owner_a)
    with pytest.raises(ValidationError):
        stage_change_undo(change=change, by=owner_b)
    assert StageChange.objects.filter(pk=change.pk).exists()


def test_the_database_refuses_to_edit_a_correction(org_a, owner_a):
    lead = new_lead(org_a, "L", timezone.now() - timedelta(days=1), "suspect")
    correction = stage_change_undo(
        change=move(lead, "prospect", timezone.now(), owner_a), by=owner_a
    )
    with pytest.raises(DatabaseError), transaction.atomic(), recording():
        StageCorrection.objects.filter(pk=correction.pk).update(reason="rewritten")
    assert StageCorrection.objects.get().reason == ""


def test_undo_from_the_lead_page_and_the_timeline_shows_both(client_a, org_a, owner_a):
    lead = new_lead(org_a, "Lee", timezone.now() - timedelta(days=1), "suspect")
    change = move(lead, "prospect", timezone.now(), owner_a)
    page = client_a.get(url("lead_detail", org_a, pk=lead.pk)).content.decode()
    undo = url("stage_change_undo", org_a, pk=lead.pk, change_pk=change.pk)
    assert f'action="{undo}"' in page and "Undo: back to Suspect" in page
    response = client_a.post(undo, {"reason": "clicked the wrong stage"})
    assert response.status_code == 302
    page = client_a.get(url("lead_detail", org_a, pk=lead.pk)).content.decode()
    assert "Move undone: Lee is back at Suspect." in page
    timeline = page.split('id="timeline"')[1]
    assert "Undid the move from" in timeline and "clicked the wrong stage" in timeline
    assert "<s>Moved from" in timeline and "undone" in timeline
    # the first change cannot be undone: no button
    assert 'action="' + url("stage_change_undo", org_a, pk=lead.pk, change_pk=change.pk) not in (
        timeline
    )
    Lead.objects.get(pk=lead.pk)  # still there


def test_undo_by_the_api(org_a, owner_a, lead_b):
    from tests.api.conftest import api_for, fields_of

    api = api_for(owner_a)
    lead = new_lead(org_a, "Api", timezone.now() - timedelta(days=1), "suspect")
    first = StageChange.objects.get(lead=lead)
    move(lead, "customer", timezone.now(), owner_a, revenue="700")
    change = StageChange.objects.filter(lead=lead).last()
    path = f"/leads/{lead.pk}/stage-changes/{change.pk}/undo"
    done = api.post(path, {"reason": "wrong lead"})
    assert done.status_code == 201, done.content
    body = done.json()
    assert (body["from_stage"], body["to_stage"], body["reason"]) == (
        "suspect",
        "customer",
        "wrong lead",
    )
    assert body["outcome"]["revenue"] == "700.00"
    refused = api.post(f"/leads/{lead.pk}/stage-changes/{first.pk}/undo", {})
    assert refused.status_code == 422 and fields_of(refused) == ["change"]
    theirs = StageChange.objects.get(lead=lead_b)
    assert api.post(f"/leads/{lead.pk}/stage-changes/{theirs.pk}/undo", {}).status_code == 404
    assert StageChange.objects.filter(pk=theirs.pk).exists()
