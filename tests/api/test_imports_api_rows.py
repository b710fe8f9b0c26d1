"""POST /import-jobs with issue 13's options: a close date by the row's stage, a column to
several fields, lead facts, defaults for the file, and rows without a date of first contact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from keepscore.leads.models import DealOutcome, Lead, StageChange
from tests.api.conftest import fields_of

pytestmark = pytest.mark.django_db

CRM = (
    "Account,Agent,Product,Stage,Engage date,Close date,Close value\n"
    "Acme,Ann Seller,GTX Pro,Won,20-10-16,03-11-16,500\n"
    "Beta,Ann Seller,MG Special,Lost,21-10-16,04-11-16,0\n"
    "Gamma,,GTX Pro,Engaging,22-10-16,,\n"
    "Delta,,GTK 500,Prospecting,,,\n"
)
OPTIONS = {
    "map": ["Product=fact:product", "Engage date=created,lead_at", "Agent=owner"],
    "stage_map": ["Prospecting=prospect", "Engaging=lead", "Won=customer", "Lost=lost"],
    "default": ["source=Sales team", "Lost reason=Not recorded"],
    "date_format": "DD-MM-YY",
}


def test_a_crm_file_with_a_close_date_defaults_facts_and_missing_dates(api_a, org_a):
    refused = api_a.upload("/import-jobs", "crm.csv", CRM.encode(), **OPTIONS)
    assert refused.status_code == 201, refused.content
    job = refused.json()
    assert job["status"] == "failed" and job["errors_total"] == 1
    assert (job["errors"][0]["line"], job["errors"][0]["column"]) == (5, "Engage date")
    assert job["errors"][0]["reason"].startswith("no date of first contact")
    assert not Lead.objects.for_org(org_a).exists()

    response = api_a.upload("/import-jobs", "crm.csv", CRM.encode(), **OPTIONS, missing_dates="now")
    job = response.json()
    assert job["status"] == "imported", job
    assert job["warnings_total"] == 1 and job["warnings"][0]["line"] == 5
    shown = {c["column"]: (c["field"], c["label"]) for c in job["columns"]}
    assert shown["Close date"] == ("closed_at", "Close date")
    assert shown["Engage date"] == (
        "created,lead_at",
        "Date of first contact, Date of entering Lead",
    )
    assert shown["Product"] == ("fact:product", "Fact “product”")
    leads = {lead.name: lead for lead in Lead.objects.for_org(org_a).select_related("channel")}
    assert {name: lead.facts for name, lead in leads.items()} == {
        "Acme": {"product": "GTX Pro"},
        "Beta": {"product": "MG Special"},
        "Gamma": {"product": "GTX Pro"},
        "Delta": {"product": "GTK 500"},
    }
    assert {lead.channel.name for lead in leads.values()} == {"Sales team"}
    outcomes = {o.lead.name: o for o in DealOutcome.objects.for_org(org_a).select_related("lead")}
    assert set(outcomes) == {"Acme", "Beta"}
    assert (outcomes["Acme"].result, outcomes["Acme"].at.date()) == ("won", date(2016, 11, 3))
    assert outcomes["Acme"].revenue == Decimal("500.00")
    assert (outcomes["Beta"].result, outcomes["Beta"].at.date()) == ("lost", date(2016, 11, 4))
    assert outcomes["Beta"].lost_reason.name == "Not recorded"
    acme = [
        (c.to_stage.key, c.at.date())
        for c in StageChange.objects.filter(lead=leads["Acme"]).order_by("at", "id")
    ]
    assert acme == [("lead", date(2016, 10, 20)), ("customer", date(2016, 11, 3))]


def test_an_open_deal_with_a_close_date_is_a_row_error(api_a, org_a):
    body = "Name,Source,Stage,Created,Close date\nAda,Email,lead,2024-01-02,2024-01-09\n"
    job = api_a.upload("/import-jobs", "f.csv", body.encode()).json()
    assert job["status"] == "failed"
    assert (job["errors"][0]["line"], job["errors"][0]["column"]) == (2, "Close date")
    assert "an open deal has no close date" in job["errors"][0]["reason"]
    assert not Lead.objects.for_org(org_a).exists()


def test_bad_defaults_and_missing_dates_are_422(api_a, org_a):
    body = b"Name,Created\nAda,2024-01-02\n"
    for fields, field in [
        ({"default": ["shoe size=42"]}, "default"),
        ({"default": ["revenue=lots"]}, "default"),
        ({"default": ["source"]}, "default"),
        ({"missing_dates": "later"}, "missing_dates"),
    ]:
        response = api_a.upload("/import-jobs", "f.csv", body, **fields)
        assert response.status_code == 422, (fields, response.content)
        assert fields_of(response) == [field]
    # a default source stands for the missing column
    done = api_a.upload("/import-jobs", "f.csv", body, default=["Source=Fairs"]).json()
    assert done["status"] == "imported", done
    assert Lead.objects.for_org(org_a).get().channel.name == "Fairs"
