"""``keepscore summaries verify|rebuild``."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.cli.main import app
from keepscore.common.recorded import recording
from keepscore.leads.models import Lead
from tests.conftest import channel
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_verify_and_rebuild(org_a: Organization, owner_a: Membership, org_b: Organization) -> None:
    lead = new_lead(org_a, "A", at(2024, 1, 10), "suspect")
    move(lead, "lead", at(2024, 2, 1), owner_a)
    result = runner.invoke(app, ["summaries", "verify", "--org", org_a.slug])
    assert result.exit_code == 0, result.output
    assert f"{org_a.slug}: 0 differences" in result.stdout
    # a write that bypassed the recorder: found, listed, exit 1; the other organization clean
    with transaction.atomic(), recording():
        Lead.objects.filter(pk=lead.pk).update(channel=channel(org_a, "ads"))
    result = runner.invoke(app, ["summaries", "verify"])
    assert result.exit_code == 1
    assert (
        f"{org_a.slug}: " in result.stdout
        and "0 differences" not in result.stdout.split(f"{org_a.slug}: ")[1].splitlines()[0]
    )
    assert f"{org_b.slug}: 0 differences" in result.stdout
    assert "keepscore summaries rebuild" in result.stdout
    result = runner.invoke(app, ["summaries", "verify", "--org", org_a.slug, "--format", "json"])
    (report,) = json.loads(result.stdout)
    assert report["organization"] == org_a.slug and report["differences"]
    assert any("by channel" in d["where"] for d in report["differences"])
    result = runner.invoke(app, ["summaries", "rebuild", "--org", org_a.slug])
    assert result.exit_code == 0 and "rebuilt in" in result.stdout
    result = runner.invoke(app, ["summaries", "verify", "--org", org_a.slug, "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["differences"] == []


def test_an_unknown_organization_is_one_error_line(org_a: Organization) -> None:
    result = runner.invoke(app, ["summaries", "verify", "--org", "nope"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: no organization 'nope'")
