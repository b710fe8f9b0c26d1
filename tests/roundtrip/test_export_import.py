"""Export → import into an empty organization gives back the same leads, stages with their
dates, and outcomes (issue 3). Both real halves: the exporter's leads CSV and the import
engine's `plain` preset."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from keepscore.exports.tables import export_leads
from keepscore.exports.writers import csv_write
from keepscore.imports.services import import_leads
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    LostReason,
    QualificationCriterion,
    StageChange,
)
from keepscore.leads.services import Outcome, lead_create, lead_move, qualification_set
from tests.conftest import channel, make_org, stage

pytestmark = pytest.mark.django_db


def snapshot(org):
    """What must survive the trip, keyed by lead name: fields, path with dates, outcome."""
    out = {}
    for lead in Lead.objects.for_org(org).select_related("stage", "channel"):
        path = [
            (c.to_stage.key, c.at)
            for c in StageChange.objects.filter(lead=lead).order_by("at", "id")
        ]
        outcome = DealOutcome.objects.filter(lead=lead).order_by("-at").first()
        out[lead.name] = {
            "fields": (lead.company, lead.email, lead.phone, lead.channel.key, lead.campaign,
                       lead.utm_source, lead.value, lead.stage.key, lead.first_touch_at),
            "path": path,
            "outcome": None if outcome is None else (
                outcome.result, outcome.revenue, outcome.cost,
                outcome.lost_reason.name if outcome.lost_reason else None, outcome.at),
        }  # fmt: skip
    return out


def test_export_then_import_into_an_empty_organization_is_equal(tmp_path: Path):
    # given: an organization with a won, a lost and an open lead, each with dated history
    org, owner = make_org("source", "owner@source.test")
    t0 = (timezone.now() - timedelta(days=90)).replace(microsecond=0)
    won = lead_create(
        organization=org, name="Winnie", channel=channel(org, "referral"), by=owner,
        first_touch_at=t0, company="W Ltd", email="w@w.test", value=Decimal("1500.00"),
        campaign="Spring", utm_source="news",
    )  # fmt: skip
    for c in QualificationCriterion.objects.for_org(org):
        qualification_set(lead=won, criterion=c, met=True, by=owner)
    for days, key in ((3, "prospect"), (10, "lead"), (20, "qualified"), (30, "proposal")):
        lead_move(lead=won, to_stage=stage(org, key), by=owner, at=t0 + timedelta(days=days))
    lead_move(
        lead=won, to_stage=stage(org, "customer"), by=owner, at=t0 + timedelta(days=41),
        outcome=Outcome(revenue=Decimal("1450.00"), cost=Decimal("600.00")),
    )  # fmt: skip
    lost = lead_create(
        organization=org, name="Loïc", channel=channel(org, "ads"), by=owner,
        first_touch_at=t0 + timedelta(days=5), phone="+44 20 7946 0000",
    )  # fmt: skip
    lead_move(lead=lost, to_stage=stage(org, "lead"), by=owner, at=t0 + timedelta(days=8))
    reason = LostReason.objects.for_org(org).get(name="Price too high")
    lead_move(
        lead=lost, to_stage=stage(org, "lost"), by=owner, at=t0 + timedelta(days=12),
        outcome=Outcome(lost_reason=reason),
    )  # fmt: skip
    lead_create(
        organization=org, name="=Open Olga", channel=channel(org, "walk-in"), by=owner,
        first_touch_at=t0 + timedelta(days=50), email="olga@o.test",
    )  # fmt: skip
    before = snapshot(org)

    # when: its leads are exported and imported into an empty organization
    path = tmp_path / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv_write(export_leads(organization=org), fh)
    target, target_owner = make_org("target", "owner@target.test")
    result = import_leads(organization=target, path=path, preset="plain", by=target_owner)

    # then: the same leads, the same stages with the same dates, the same outcomes
    assert not result.failed, result
    assert result.created == 3
    # (text that looks like a formula, "=Open Olga", "+44 …", is escaped with a ' on export
    # and read back as it was written)
    assert snapshot(target) == before

    # and importing the same file again adds nothing
    again = import_leads(organization=target, path=path, preset="plain", by=target_owner)
    assert again.created == 0 and again.duplicates == 3
