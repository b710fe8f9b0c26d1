"""Every kind in every format, read back; the zip holds only the organization's records."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook

from keepscore.activities.models import Activity
from keepscore.exports.services import KINDS, export_write
from keepscore.exports.tables import LEAD_HEAD
from keepscore.leads.models import DealOutcome, Lead, StageChange
from tests.exports.conftest import Known

LADDER = ["suspect", "prospect", "lead", "qualified", "proposal", "customer", "lost"]


def read_back(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """Rows as dicts of the header, whatever the format."""
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def export(known: Known, kind: str, fmt: str) -> bytes:
    out = io.BytesIO()
    export_write(organization=known.org, kind=kind, fmt=fmt, out=out)
    return out.getvalue()


def test_the_leads_columns_are_the_import_presets():
    # the plain preset of the import engine reads exactly these (export -> import round trip)
    assert LEAD_HEAD[:6] == ["id", "name", "company", "email", "phone", "notes"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_leads(known: Known, fmt: str):
    rows = read_back(export(known, "leads", fmt), fmt)
    stage_dates = [f"{k}_at" for k in LADDER]
    assert list(rows[0]) == [*LEAD_HEAD, *stage_dates, "revenue", "cost", "lost_reason"]
    won, lost = rows  # by first touch
    escaped = fmt != "jsonl"
    q = "'" if escaped else ""
    assert won["id"] == f"ks-{known.won.pk}"
    assert (won["name"], won["company"], won["notes"]) == (f"{q}=1+1", f"{q}+cmd", f"{q}-2+3")
    assert won["phone"] == f"{q}+44 20 7946 0000"
    assert lost["name"] == f"{q}@SUM(A1)"
    assert won["email"] == "ada@example.com"
    assert (won["source"], won["owner"], won["stage"]) == (
        "Referral",
        "owner@acme.test",
        "customer",
    )
    assert (won["utm_source"], won["utm_medium"], won["utm_campaign"]) == (
        "news",
        "email",
        "spring",
    )
    assert won["created"] == "2024-01-05T10:00:00+00:00"
    assert won["suspect_at"] == "2024-01-05T10:00:00+00:00"
    assert won["prospect_at"] == "2024-01-15T10:00:00+00:00"  # the last entry
    assert won["lead_at"] == "2024-01-12T10:00:00+00:00"
    assert won["qualified_at"] in ("", None)
    assert won["customer_at"] == "2024-01-20T10:00:00+00:00"
    assert lost["lost_at"] == "2024-02-10T10:00:00+00:00"
    assert lost["lost_reason"] == "Price too high"
    if fmt == "csv":
        assert (won["value"], won["revenue"], won["cost"]) == ("1200.50", "2500.00", "1000.00")
    else:  # numbers, not text
        assert (won["value"], won["revenue"], won["cost"]) == (1200.5, 2500, 1000)
    assert "Bob Bravo" not in str(rows)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "leads"])
def test_other_kinds(known: Known, kind: str, fmt: str):
    rows = read_back(export(known, kind, fmt), fmt)
    model = {"stage-changes": StageChange, "activities": Activity, "outcomes": DealOutcome}[kind]
    assert len(rows) == model.objects.for_org(known.org).count()
    assert {str(r["id"]) for r in rows} == {
        str(pk) for pk in model.objects.for_org(known.org).values_list("pk", flat=True)
    }
    if kind == "outcomes":
        won = next(r for r in rows if r["result"] == "won")
        assert str(won["margin"]) in ("1500.00", "1500")
        assert won["lead"] == f"ks-{known.won.pk}"
    if kind == "activities":
        (row,) = rows
        assert row["notes"] == ("=cmd" if fmt == "jsonl" else "'=cmd")
        assert row["by"] == "owner@acme.test"
    if kind == "stage-changes":
        moves = [
            (r["from_stage"] or "", r["to_stage"]) for r in rows if r["lead"] == rows[0]["lead"]
        ]
        assert moves[:2] == [("", "suspect"), ("suspect", "prospect")]


def test_all_is_a_zip_of_only_the_organizations_records(known: Known):
    archive = zipfile.ZipFile(io.BytesIO(export(known, "all", "csv")))
    names = set(archive.namelist())
    for table in [
        "leads",
        "stage_changes",
        "activities",
        "objections",
        "outcomes",
        "channels",
        "stages",
        "lost_reasons",
        "members",
        "qualification_criteria",
        "qualification_answers",
    ]:
        assert f"{table}.csv" in names
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["organization"]["slug"] == "acme"
    assert manifest["format_version"] == 2 and manifest["exported_at"]
    assert manifest["counts"]["leads"] == Lead.objects.for_org(known.org).count() == 2
    assert manifest["counts"]["stage_changes"] == StageChange.objects.for_org(known.org).count()
    assert manifest["counts"]["activities"] == 1 and manifest["counts"]["objections"] == 1
    everything = b"".join(archive.read(n) for n in names).decode()
    assert "Bob Bravo" not in everything and "bravo.test" not in everything
    members = list(csv.DictReader(io.StringIO(archive.read("members.csv").decode())))
    assert members == [
        {
            "email": "owner@acme.test",
            "first_name": "",
            "last_name": "",
            "roles": "owner marketing sales",
            "marketing_share": "",
        }
    ]
    assert "password" not in archive.read("members.csv").decode()
    for name in names - {"manifest.json"}:
        rows = list(csv.reader(io.StringIO(archive.read(name).decode())))
        assert len(rows) - 1 == manifest["counts"][name.removesuffix(".csv")], name
