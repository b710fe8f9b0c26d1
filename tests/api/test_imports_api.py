"""GET /import-jobs and /import-jobs/{id}: the token's organization's imports only."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from keepscore.accounts.services import member_add
from keepscore.imports import mapping
from keepscore.imports.services import import_leads
from keepscore.leads.models import DealOutcome, Lead
from tests.api.conftest import api_for, fields_of
from tests.conftest import make_org, make_user
from tests.imports.conftest import assert_leads_are_the_sheets, write_csv

pytestmark = pytest.mark.django_db


def test_list_and_read_an_import_job(api_a, owner_a, org_a, tmp_path):
    rows = [["name", "source", "created"], ["Ada", "referral", "2024-01-05"]]
    rows.append(["Bad", "referral", "not a date"])
    result = import_leads(organization=org_a, path=write_csv(tmp_path / "a.csv", rows), by=owner_a)
    listed = api_a.get("/import-jobs")
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 1 and body["items"][0]["id"] == result.job_id
    assert body["items"][0]["created_by"] == "owner@acme.test"
    job = api_a.get(f"/import-jobs/{result.job_id}").json()
    assert job["status"] == "failed" and job["rows"] == 2
    assert job["errors"][0] == {
        "line": 3,
        "column": "created",
        "reason": job["errors"][0]["reason"],
    }
    assert job["errors_total"] == 1


def test_another_organizations_job_is_404(api_a, api_b, org_b, tmp_path):
    rows = [["name", "source"], ["Bea", "referral"]]
    result = import_leads(organization=org_b, path=write_csv(tmp_path / "b.csv", rows))
    assert api_a.get(f"/import-jobs/{result.job_id}").status_code == 404
    assert api_a.get("/import-jobs").json() == {"items": [], "count": 0}
    assert api_b.get("/import-jobs").json()["count"] == 1
    assert api_a.get("/import-jobs", limit=0).status_code == 422


# --- POST /import-jobs: an upload, checked or imported as the app does ------------------

SHEET = (
    "Full name,E-mail,Phone,Date added,Lead source,Company\n"
    "Ada Lovelace,ada@example.com,+44 20 7946 0001,2024-01-05,Referral,Analytical Ltd\n"
    "Alan Turing,alan@example.com,+44 20 7946 0002,2024-02-11,Website,Bletchley\n"
)


def test_an_upload_is_mapped_by_its_headers_and_imported(api_a, org_a):
    response = api_a.upload("/import-jobs", "people.csv", SHEET.encode())
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "imported" and job["created"] == 2 and job["rows"] == 2
    shown = {c["column"]: (c["field"], c["label"]) for c in job["columns"]}
    assert shown["Date added"] == ("created", "Date of first contact")
    assert shown["E-mail"] == ("email", "Email")
    assert shown["Lead source"][0] == "source" and shown["Full name"][0] == "name"
    leads = {lead.email: lead for lead in Lead.objects.for_org(org_a).select_related("channel")}
    assert set(leads) == {"ada@example.com", "alan@example.com"}
    ada = leads["ada@example.com"]
    assert (ada.name, ada.company, ada.phone) == (
        "Ada Lovelace",
        "Analytical Ltd",
        "+44 20 7946 0001",
    )
    assert ada.channel.name == "Referral"
    assert ada.first_touch_at.date() == date(2024, 1, 5)
    # the job is the organization's, listed with the others
    assert api_a.get(f"/import-jobs/{job['id']}").json()["created"] == 2


def test_an_upload_takes_the_cli_options(api_a, org_a):
    body = (
        "Who,Where,Stage,When,Amount\n"
        "Ada,Referral,Engaging,20-10-16,\n"
        "Bob,Referral,Won,03-11-16,500\n"
    )
    response = api_a.upload(
        "/import-jobs",
        "crm.csv",
        body.encode(),
        map=["Who=name", "Where=Source", "When=Date of first contact"],
        stage_map=["Engaging=lead", "Won=customer"],
        date_format="DD-MM-YY",
        dry_run="true",
    )
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "dry_run" and job["dry_run"] and job["rows"] == 2
    assert not Lead.objects.for_org(org_a).exists()  # a dry run writes nothing
    assert job["date_formats"] == {"When": "DD-MM-YY"}
    response = api_a.upload(
        "/import-jobs",
        "crm.csv",
        body.encode(),
        map=["Who=name", "Where=Source", "When=Date of first contact"],
        stage_map=["Engaging=lead", "Won=customer"],
        date_format="DD-MM-YY",
    )
    job = response.json()
    assert job["status"] == "imported", job
    stages = dict(Lead.objects.for_org(org_a).values_list("name", "stage__key"))
    assert stages == {"Ada": "lead", "Bob": "customer"}
    won = DealOutcome.objects.for_org(org_a).get()
    assert (won.lead.name, won.revenue, won.at.date()) == (
        "Bob",
        Decimal("500.00"),
        date(2016, 11, 3),
    )


def test_a_bad_upload_says_what_is_wrong_and_writes_nothing(api_a, org_a):
    wrong_kind = api_a.upload("/import-jobs", "people.pdf", b"%PDF-1.4")
    assert wrong_kind.status_code == 422
    assert fields_of(wrong_kind) == ["file"]
    empty = api_a.upload("/import-jobs", "people.csv", b"")
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    bad_map = api_a.upload("/import-jobs", "people.csv", SHEET.encode(), map=["Full name"])
    assert bad_map.status_code == 422 and fields_of(bad_map) == ["map"]
    bad_preset = api_a.upload("/import-jobs", "people.csv", SHEET.encode(), preset="nope")
    assert bad_preset.status_code == 422 and fields_of(bad_preset) == ["preset"]
    # a row error: the job failed, with the line and column, and nothing was kept
    bad_row = SHEET + "Grace Hopper,grace@example.com,,not a date,Referral,Navy\n"
    failed = api_a.upload("/import-jobs", "people.csv", bad_row.encode())
    assert failed.status_code == 201
    job = failed.json()
    assert job["status"] == "failed" and job["errors_total"] == 1
    assert (job["errors"][0]["line"], job["errors"][0]["column"]) == (4, "Date added")
    unknown_field = api_a.upload(
        "/import-jobs", "people.csv", SHEET.encode(), map=["Full name=shoe size"]
    )
    assert unknown_field.json()["status"] == "failed"
    assert "is not a field" in unknown_field.json()["problems"][0]
    assert not Lead.objects.for_org(org_a).exists()


def test_an_upload_needs_owner_or_marketing_and_stays_in_its_organization(
    api_a, api_b, org_a, org_b, owner_a
):
    sales = member_add(
        organization=org_a, user=make_user("sales@acme.test"), is_sales=True, is_marketing=False
    )
    refused = api_for(sales).upload("/import-jobs", "people.csv", SHEET.encode())
    assert refused.status_code == 403
    assert api_b.upload("/import-jobs", "people.csv", SHEET.encode()).status_code == 201
    assert Lead.objects.for_org(org_b).count() == 2
    assert not Lead.objects.for_org(org_a).exists()
    assert api_a.get("/import-jobs").json()["count"] == 0


@pytest.mark.django_db(transaction=True)  # the background thread must see committed rows
def test_a_big_upload_runs_in_the_background_and_the_job_says_when_done(monkeypatch, settings):
    org, owner = make_org("acme", "owner@acme.test")
    api = api_for(owner)
    settings.IMPORTS_IN_BACKGROUND = True  # as served (the suite runs them inline)
    monkeypatch.setattr(mapping, "INLINE_BELOW", 10)  # every upload is "big"
    if connection.vendor == "sqlite":
        # the suite's in-memory SQLite shares its cache: a read's table locks would fail the
        # thread's writes at once (a file database in WAL mode, as served, has none)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")
    response = api.upload("/import-jobs", "people.csv", SHEET.encode())
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] in ("running", "imported")
    for _ in range(300):
        job = api.get(f"/import-jobs/{job['id']}").json()
        if job["status"] != "running":
            break
        time.sleep(0.1)
    assert job["status"] == "imported" and job["created"] == 2
    assert Lead.objects.for_org(org).count() == 2


# --- headers mapped without help (issue 13, item 1) --------------------------------------

DONE_WHEN = (
    "Full name,E-mail,Phone,Date added,Lead source,Company\n"
    "Ada Lovelace,ada@example.com,+44 20 7946 0001,2024-01-05,Referral,AE Ltd\n"
    "Grace Hopper,grace@example.com,+1 555 0100,2024-02-11,Trade fair,\n"
    "Alan Turing,alan@example.com,+44 161 496 0000,2024-03-20,Referral,Bletchley\n"
)
GERMAN = (
    "Vorname;Name;E-Mail;Telefon;Firma;Herkunft;Erstellt am;Verantwortlicher\n"
    "Jürgen;Groß;jurgen@beispiel.de;+49 30 1234567;Bäckerei Groß;Empfehlung;03.02.2024;"
    "Anna Weiß\n"
    "Änne;Müller;anne@beispiel.de;+49 40 7654321;;Messe;15.01.2024;\n"
)


def _rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_the_done_when_spreadsheet_uploads_with_no_map(api_a, org_a):
    response = api_a.upload("/import-jobs", "people.csv", DONE_WHEN.encode())
    assert response.status_code == 201, response.content
    job = response.json()
    assert [(c["column"], c["label"]) for c in job["columns"]] == [
        ("Full name", "Name"),
        ("E-mail", "Email"),
        ("Phone", "Phone"),
        ("Date added", "Date of first contact"),
        ("Lead source", "Source (marketing channel)"),
        ("Company", "Company"),
    ]
    rows = _rows(DONE_WHEN)
    assert job["status"] == "imported" and job["created"] == len(rows)
    assert_leads_are_the_sheets(org_a, rows)


def test_a_german_upload_with_no_map(api_a, org_a):
    response = api_a.upload("/import-jobs", "kunden.csv", GERMAN.encode())
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "imported", job
    labels = {c["column"]: c["label"] for c in job["columns"]}
    assert labels["Name"] == "Last name" and labels["Vorname"] == "First name"
    assert labels["Verantwortlicher"] == "Owner (salesperson)"
    for row in _rows(GERMAN, ";"):
        lead = Lead.objects.select_related("channel", "owner__user").get(
            organization=org_a, email=row["E-Mail"]
        )
        assert lead.name == f"{row['Vorname']} {row['Name']}"
        assert (lead.company, lead.phone, lead.channel.name) == (
            row["Firma"],
            row["Telefon"],
            row["Herkunft"],
        )
        day, month, year = (int(p) for p in row["Erstellt am"].split("."))
        assert lead.first_touch_at.date() == date(year, month, day)
        if row["Verantwortlicher"]:
            assert lead.owner is not None
            assert lead.owner.user.get_full_name() == row["Verantwortlicher"]
        else:
            assert lead.owner is None


def test_an_unknown_field_in_map_is_named_with_the_fields_in_plain_words(api_a, org_a):
    response = api_a.upload(
        "/import-jobs", "people.csv", DONE_WHEN.encode(), map=["Date added=Birthday"]
    )
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "failed"
    (problem,) = job["problems"]
    assert "'Birthday' is not a field" in problem and "Date of first contact" in problem
    assert not Lead.objects.for_org(org_a).exists()


def test_the_olist_preset_and_deals_are_not_uploaded(api_a, org_a):
    olist = api_a.upload("/import-jobs", "mql.csv", DONE_WHEN.encode(), preset="olist")
    assert olist.status_code == 422 and fields_of(olist) == ["preset"]
    deals = api_a.upload("/import-jobs", "deals.csv", DONE_WHEN.encode(), kind="deals")
    assert deals.status_code == 422 and fields_of(deals) == ["kind"]
    assert not Lead.objects.for_org(org_a).exists()
