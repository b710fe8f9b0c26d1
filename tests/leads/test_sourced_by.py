"""Who sourced a lead, apart from who owns it: recorded by every way a lead comes in (the
app, the API, an import's column or the member importing, the deals import's SDR, the
demo), kept for the leads there were before (from their first stage change), editable, and
what Marketing & sales credits."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add
from keepscore.common.periods import Period
from keepscore.common.recorded import recording
from keepscore.funnel.jobs import jobs_report
from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from keepscore.leads.services import lead_create, lead_update
from tests.api.conftest import api_for
from tests.conftest import channel, make_user
from tests.imports.conftest import write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(org_a: Organization) -> Membership:
    user = make_user("mia@acme.test", first_name="Mia", last_name="Marketer")
    return member_add(organization=org_a, user=user, is_marketing=True)


def test_the_member_who_records_a_lead_sourced_it(
    org_a: Organization, owner_a: Membership, marketer: Membership
) -> None:
    lead = lead_create(organization=org_a, name="A", channel=channel(org_a), by=marketer)
    assert lead.sourced_by == marketer and lead.owner is None
    handed = lead_create(
        organization=org_a, name="B", channel=channel(org_a), by=marketer, owner=owner_a
    )
    assert (handed.sourced_by, handed.owner) == (marketer, owner_a)
    web = lead_create(organization=org_a, name="C", channel=channel(org_a))  # no member
    assert web.sourced_by is None
    lead_update(lead=web, sourced_by=owner_a)  # a correction
    assert Lead.objects.get(pk=web.pk).sourced_by == owner_a


def test_another_organizations_member_cannot_be_who_sourced_it(
    org_a: Organization, owner_b: Membership, lead_a: Lead
) -> None:
    with pytest.raises(ValidationError) as error:
        lead_create(organization=org_a, name="X", channel=channel(org_a), sourced_by=owner_b)
    assert "sourced_by" in error.value.message_dict
    with pytest.raises(ValidationError):
        lead_update(lead=lead_a, sourced_by=owner_b)
    assert Lead.objects.get(pk=lead_a.pk).sourced_by != owner_b


def test_an_import_maps_its_column_or_credits_the_member_importing(
    org_a: Organization, owner_a: Membership, marketer: Membership, tmp_path: Path
) -> None:
    rows = [
        ["name", "source", "owner", "sourced by", "created"],
        ["Ada", "Referral", "owner@acme.test", "mia@acme.test", "2024-01-02"],
        ["Bo", "Referral", "", "Paul Promoter", "2024-01-03"],  # a new member: marketing
        ["Cy", "Referral", "", "", "2024-01-04"],
    ]
    result = import_leads(organization=org_a, path=write_csv(tmp_path / "a.csv", rows), by=owner_a)
    assert not result.failed, (result.problems, result.errors)
    by_name = {lead.name: lead for lead in Lead.objects.for_org(org_a).select_related("sourced_by")}
    assert by_name["Ada"].sourced_by == marketer and by_name["Ada"].owner == owner_a
    paul = by_name["Bo"].sourced_by
    assert paul is not None and paul.is_marketing and not paul.is_sales
    assert by_name["Cy"].sourced_by == owner_a  # no column value: who imported it


def test_the_leads_there_were_are_credited_to_who_recorded_them(
    org_a: Organization, owner_a: Membership, marketer: Membership
) -> None:
    """The migration's backfill: the member who wrote each lead's first stage change."""
    mine = lead_create(organization=org_a, name="A", channel=channel(org_a), by=marketer)
    theirs = lead_create(organization=org_a, name="B", channel=channel(org_a), by=owner_a)
    nobody = lead_create(organization=org_a, name="C", channel=channel(org_a))
    with transaction.atomic(), recording():  # as before the column existed
        Lead.objects.filter(organization=org_a).update(sourced_by=None)
    migration = importlib.import_module("keepscore.leads.migrations.0005_lead_sourced_by")
    sql = next(op.sql for op in migration.Migration.operations if hasattr(op, "sql"))
    with connection.cursor() as cursor:
        cursor.execute(sql)
    found = dict(Lead.objects.for_org(org_a).values_list("pk", "sourced_by_id"))
    assert found == {mine.pk: marketer.pk, theirs.pk: owner_a.pk, nobody.pk: None}


def test_marketing_is_credited_with_what_it_sourced(
    org_a: Organization, owner_a: Membership, marketer: Membership
) -> None:
    from tests.funnel.conftest import at, new_lead

    new_lead(org_a, "A", at(2024, 3, 2), owner=owner_a, sourced_by=marketer)
    new_lead(org_a, "B", at(2024, 3, 3), owner=owner_a, sourced_by=marketer)
    new_lead(org_a, "C", at(2024, 3, 4), owner=marketer, sourced_by=owner_a)
    report = jobs_report(org_a, Period(date(2024, 3, 1), date(2024, 3, 31)))
    sourced = {m.label: m.total.leads_sourced for m in report.members}
    assert sourced["Mia Marketer"] == 2 and sourced["owner@acme.test"] == 1


def test_the_api_reads_and_writes_it(
    owner_a: Membership, org_a: Organization, marketer: Any
) -> None:
    api_a = api_for(owner_a)
    created = api_a.post("/leads", {"name": "A", "channel": "referral"})
    assert created.status_code == 201, created.content
    assert created.json()["sourced_by"] == "owner@acme.test"  # the token's member
    given = api_a.post(
        "/leads", {"name": "B", "channel": "referral", "sourced_by": "mia@acme.test"}
    )
    assert given.json()["sourced_by"] == "mia@acme.test"
    changed = api_a.patch(f"/leads/{created.json()['id']}", {"sourced_by": "mia@acme.test"})
    assert changed.status_code == 200 and changed.json()["sourced_by"] == "mia@acme.test"
    bad = api_a.patch(f"/leads/{created.json()['id']}", {"sourced_by": "who@else.test"})
    assert bad.status_code == 422 and "sourced_by" in bad.content.decode()


def test_the_lead_page_shows_and_edits_it(
    client_a: Any, org_a: Organization, owner_a: Membership, marketer: Membership
) -> None:
    lead = lead_create(organization=org_a, name="A", channel=channel(org_a), by=marketer)
    url = f"/o/{org_a.slug}/leads/{lead.pk}/"
    assert "Sourced by" in client_a.get(url).content.decode()
    form = client_a.get(f"{url}edit/").content.decode()
    assert 'name="sourced_by"' in form
    response = client_a.post(
        f"{url}edit/", {"name": "A", "owner": "", "sourced_by": str(owner_a.pk)}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert Lead.objects.get(pk=lead.pk).sourced_by == owner_a
    assert 'name="sourced_by"' not in client_a.get(f"/o/{org_a.slug}/leads/add/").content.decode()
