"""``Bulk.create``: model instances written as whole rows, the same rows Django's own
``bulk_create`` writes, found again by the block and counted by the summaries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import models

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Activity, Objection
from keepscore.common.recorded import recording
from keepscore.funnel.models import MonthCount, SummaryState
from keepscore.history import recorder
from keepscore.history.bulk import bulk
from keepscore.leads.models import DealOutcome, Lead, StageChange
from tests.conftest import channel, stage
from tests.funnel.conftest import at, new_lead

pytestmark = pytest.mark.django_db


def rows(model: type[models.Model], pk: Any, skip: tuple[str, ...]) -> dict[str, Any]:
    found = model._default_manager.filter(pk=pk).values().get()
    return {k: v for k, v in found.items() if k not in skip}


def test_created_rows_are_the_rows_bulk_create_writes(
    org_a: Organization, owner_a: Membership
) -> None:
    """The same instances, once through ``Bulk.create`` and once through Django's
    ``bulk_create``: every column equal but the id and the moment of writing."""
    org = org_a

    def build() -> tuple[Lead, StageChange, DealOutcome, Activity, Objection]:
        lead = Lead(
            organization=org,
            name="Zoë «Ünïcode»",
            company="Acme",
            stage=stage(org, "customer"),
            value=Decimal("1234.50"),
            first_touch_at=at(2024, 1, 10, 9, 30),
            stage_entered_at=at(2024, 2, 3),
            channel=channel(org),
            owner=owner_a,
            facts={"size": 12, "note": "ä"},
        )
        change = StageChange(
            organization=org,
            lead=lead,
            from_stage=None,
            to_stage=stage(org, "customer"),
            at=at(2024, 2, 3),
            by=owner_a.user,
            qualification_override=True,
            override_reason="met in person",
        )
        outcome = DealOutcome(
            organization=org,
            lead=lead,
            stage_change=change,
            result=DealOutcome.Result.WON,
            at=at(2024, 2, 3),
            revenue=Decimal("500.00"),
            cost=Decimal("99.99"),
        )
        activity = Activity(
            organization=org,
            lead=lead,
            kind="meeting",
            at=at(2024, 1, 20, 15),
            by=owner_a,
            with_buyer=True,
            outcome="next week",
        )
        objection = Objection(
            organization=org,
            lead=lead,
            activity=activity,
            tag="price",
            text="too dear",
            at=at(2024, 1, 20, 15),
            by=owner_a,
        )
        return lead, change, outcome, activity, objection

    with bulk(org, rebuild=True) as block:
        ours = build()
        for obj in ours:  # each batch after the rows it points at: their ids are taken
            assert block.create([obj]) == [obj]
            assert obj.pk is not None and not obj._state.adding
            assert obj.created_at == block.now  # type: ignore[attr-defined]
    assert recorder.verify(organization=org) == []
    with recording():  # the reference: Django's bulk_create (the summaries never see it)
        theirs = build()
        for obj in theirs:
            type(obj)._default_manager.bulk_create([obj])

    skip = ("id", "created_at", "updated_at", "lead_id", "stage_change_id", "activity_id")
    for mine, django in zip(ours, theirs, strict=True):
        assert rows(type(mine), mine.pk, skip) == rows(type(django), django.pk, skip)
        assert type(mine)._default_manager.get(pk=mine.pk).created_at == block.now  # type: ignore[attr-defined]
    lead, change, outcome, activity, objection = ours
    assert (change.lead_id, outcome.stage_change_id, objection.activity_id) == (
        lead.pk,
        change.pk,
        activity.pk,
    )
    assert Lead.objects.get(pk=lead.pk).updated_at == block.now


@pytest.mark.parametrize("built", [True, False], ids=["summaries built", "never built"])
def test_created_rows_are_counted_when_the_block_ends(
    org_a: Organization, owner_a: Membership, built: bool
) -> None:
    """A block that is not a rebuild finds the leads and activities it created (by their
    moment of writing) and counts them into the summaries: once each, also when the
    organization's summaries were never built (they are then built from every stored row,
    the block's activities among them, and nothing is added again)."""
    if built:
        new_lead(org_a, "built", at(2024, 2, 1))
    assert SummaryState.objects.filter(organization=org_a).exists() == built
    with bulk(org_a) as block:
        leads = block.create(
            Lead(
                organization=org_a,
                name=f"L{i}",
                stage=stage(org_a, "lead"),
                first_touch_at=at(2024, 3, 1) + timedelta(days=i),
                stage_entered_at=at(2024, 3, 1) + timedelta(days=i),
                channel=channel(org_a),
            )
            for i in range(3)
        )
        block.create(
            StageChange(organization=org_a, lead=lead, to_stage=lead.stage, at=lead.first_touch_at)
            for lead in leads
        )
        block.create(
            Activity(organization=org_a, lead=lead, kind="call_attempt", at=lead.first_touch_at)
            for lead in leads
        )
    assert set(
        Lead.objects.for_org(org_a).filter(created_at=block.now).values_list("pk", flat=True)
    ) == {lead.pk for lead in leads}
    assert recorder.verify(organization=org_a) == []
    calls = MonthCount.objects.filter(organization=org_a, metric="activities.call_attempt")
    assert sum(calls.values_list("value", flat=True)) == 3


def unsaved_lead(org: Organization, name: str) -> Lead:
    return Lead(
        organization=org,
        name=name,
        stage=stage(org, "lead"),
        first_touch_at=at(2024, 3, 1),
        stage_entered_at=at(2024, 3, 1),
    )


def test_an_unsaved_related_row_is_refused_and_nothing_is_written(
    org_a: Organization,
) -> None:
    lead = unsaved_lead(org_a, "never saved")
    activity = Activity(organization=org_a, lead=lead, kind="email", at=at(2024, 3, 2))
    with pytest.raises(ValueError, match="unsaved related object"), bulk(org_a) as block:
        block.create([activity])
    assert activity.pk is None
    assert not Activity.objects.for_org(org_a).exists()


def test_rows_of_another_organization_or_model_are_refused(
    org_a: Organization, org_b: Organization
) -> None:
    theirs, ours = unsaved_lead(org_b, "B's"), unsaved_lead(org_a, "A's")
    mixed = [ours, Activity(organization=org_a, kind="email", at=at(2024, 3, 2))]
    for rows in ([theirs], mixed):
        with pytest.raises(ValueError, match="this organization's"), bulk(org_a) as block:
            block.create(rows)
    assert theirs.pk is None and ours.pk is None
    assert not Lead.objects.filter(organization__in=[org_a, org_b]).exists()
