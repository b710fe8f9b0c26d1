"""Duplicates explained (which lead, by what), ``match`` (the keys), ``update`` (forward only).

Engine, command line and app. Ids are read back, never written down (PostgreSQL's go on
across tests).
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.audit.models import AuditEvent
from keepscore.cli.main import app
from keepscore.imports.cells import phone_key
from keepscore.imports.models import ImportJob
from keepscore.imports.services import import_leads
from keepscore.leads.models import Channel, DealOutcome, Lead, StageChange
from tests.imports.conftest import write_csv

runner = CliRunner()

FIRST = [
    ["id", "name", "email", "phone", "source", "stage", "created"],
    ["E1", "Ada Lovelace", "ada@x.com", "555 0101", "Referral", "lead", "2024-01-02"],
    ["E2", "Bo Brown", "bo@x.com", "555 0102", "Referral", "proposal", "2024-01-03"],
]
SECOND = [
    ["id", "name", "email", "phone", "source", "stage", "created"],
    ["E1", "Ada L.", "ada.other@x.com", "", "Referral", "lead", "2024-01-02"],  # id of Ada
    ["", "Bo", "BO@x.com", "", "Referral", "lead", "2024-01-03"],  # email of Bo
    ["", "Ada's phone", "", "(555) 0101", "Referral", "lead", "2024-01-04"],  # phone of Ada
    ["", "Dee", "dee@x.com", "", "Referral", "lead", "2024-01-05"],  # new
    ["", "Dee again", "dee@x.com", "", "Referral", "lead", "2024-01-06"],  # line 6 = line 5
    ["", "Cy", "cy@x.com", "", "Referral", "lead", "2024-01-07"],  # org B's email: new here
]


@pytest.fixture
def known(org_a: Organization, org_b: Organization, tmp_path: Path) -> dict[str, Lead]:
    """Ada and Bo in organization A; Cy (cy@x.com) in organization B."""
    assert not import_leads(organization=org_a, path=write_csv(tmp_path / "1.csv", FIRST)).failed
    other = [FIRST[0], ["B1", "Cy", "cy@x.com", "", "Referral", "lead", "2024-01-01"]]
    assert not import_leads(organization=org_b, path=write_csv(tmp_path / "b.csv", other)).failed
    return {lead.external_id: lead for lead in Lead.objects.for_org(org_a)}


def expected_duplicates(
    rows: list[list[str]], existing: list[dict[str, Any]], match: tuple[str, ...]
) -> list[tuple[int, str, Any]]:
    """(line, key, lead id or -line) of each duplicate, computed apart from the engine."""
    seen: dict[tuple[str, str], Any] = {}
    for lead in existing:
        for key in match:
            value = lead[key] if key != "phone" else phone_key(lead["phone"])
            if value:
                seen.setdefault((key, value.lower() if key == "email" else value), lead["pk"])
    out = []
    header = rows[0]
    for line, row in enumerate(rows[1:], start=2):
        values = dict(zip(header, row, strict=True))
        keys = {
            "external_id": values["id"],
            "email": values["email"].lower(),
            "phone": phone_key(values["phone"]),
        }
        hit = next(
            ((k, seen[(k, keys[k])]) for k in match if keys[k] and (k, keys[k]) in seen), None
        )
        if hit:
            out.append((line, hit[0], hit[1]))
            continue
        for k in match:
            if keys[k]:
                seen[(k, keys[k])] = -line
    return out


def test_each_duplicate_names_the_lead_it_matched_and_by_what(
    org_a: Organization, known: dict[str, Lead], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "2.csv", SECOND)
    result = import_leads(organization=org_a, path=path)
    assert not result.failed, result.errors
    ada, bo = known["E1"], known["E2"]
    assert [(d.line, d.column, d.reason, d.lead) for d in result.duplicate_rows] == [
        (2, "external_id", f"same id as lead #{ada.pk} “Ada Lovelace”", ada.pk),
        (3, "email", f"same email as lead #{bo.pk} “Bo Brown”", bo.pk),
        (4, "phone", f"same phone as lead #{ada.pk} “Ada Lovelace”", ada.pk),
        (6, "email", "same email as line 5 of this file", None),
    ]
    existing = list(
        Lead.objects.for_org(org_a)
        .filter(pk__in=[ada.pk, bo.pk])
        .values("pk", "external_id", "email", "phone")
    )
    computed = expected_duplicates(SECOND, existing, ("external_id", "email", "phone"))
    assert [
        (d.line, d.column, d.lead or -int(d.reason.split()[-4])) for d in result.duplicate_rows
    ] == computed
    # Cy is organization B's: a new lead here, and B's lead is untouched
    assert result.created == 2
    assert Lead.objects.for_org(org_a).filter(email="cy@x.com").count() == 1
    job = ImportJob.objects.get(pk=result.job_id)
    assert job.report["duplicates"][0] == [
        2,
        "external_id",
        result.duplicate_rows[0].reason,
        ada.pk,
    ]
    assert job.report["duplicates"][3][3] is None


def test_match_chooses_the_keys(
    org_a: Organization, known: dict[str, Lead], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "2.csv", SECOND)
    existing = list(Lead.objects.for_org(org_a).values("pk", "external_id", "email", "phone"))
    result = import_leads(organization=org_a, path=path, match=("email",), dry_run=True)
    computed = expected_duplicates(SECOND, existing, ("email",))
    assert [(d.line, d.column) for d in result.duplicate_rows] == [(n, k) for n, k, _ in computed]
    assert [d.line for d in result.duplicate_rows] == [3, 6]  # not the id's row, not the phone's
    result = import_leads(
        organization=org_a, path=path, match=("external_id", "phone"), dry_run=True
    )
    assert [(d.line, d.column) for d in result.duplicate_rows] == [(2, "external_id"), (4, "phone")]
    result = import_leads(organization=org_a, path=path, match=(), dry_run=True)
    assert result.duplicates == 0 and not result.failed
    bad = import_leads(organization=org_a, path=path, match=("fax",), dry_run=True)
    assert bad.failed and "'fax' is not a key" in bad.problems[0]


UPDATE = [
    ["id", "name", "company", "email", "phone", "source", "stage", "created", "value", "notes"],
    # Ada: a company and a new phone, and won (revenue from value): moves forward
    ["E1", "Ada Lovelace", "AE", "ada@x.com", "555 0199", "Trade fair", "customer", "2024-01-02",
     "500", ""],
    # Bo: behind his stage (proposal), nothing else new: not moved back, not changed
    ["E2", "Bo Brown", "", "bo@x.com", "555 0102", "Referral", "lead", "2024-01-03", "", ""],
    # Ada again in the same file: still a duplicate of line 2
    ["E1", "Ada", "", "", "", "Referral", "lead", "2024-01-02", "", ""],
    ["E9", "Eve", "", "eve@x.com", "", "Referral", "lead", "2024-01-09", "", ""],
]  # fmt: skip


def test_update_changes_fields_and_moves_forward_only(
    org_a: Organization, owner_a: Membership, known: dict[str, Lead], tmp_path: Path
) -> None:
    ada, bo = known["E1"], known["E2"]
    before = {
        lead: list(
            StageChange.objects.filter(lead=lead)
            .order_by("id")
            .values_list("id", "to_stage__key", "at")
        )
        for lead in (ada, bo)
    }
    audit_before = AuditEvent.objects.filter(organization_id=org_a.pk).count()
    path = write_csv(tmp_path / "u.csv", UPDATE)
    dry = import_leads(organization=org_a, path=path, update=True, dry_run=True)
    assert (dry.updated, dry.duplicates, dry.rows) == (2, 1, 4)
    assert dry.would_create["stages"] == {"Lead": 1}  # the new lead (Eve) only
    result = import_leads(organization=org_a, path=path, update=True, by=owner_a)
    assert not result.failed, result.errors
    assert (result.created, result.updated, result.duplicates) == (1, 1, 1)
    assert result.duplicate_rows[0].reason == "same id as line 2 of this file"
    ada.refresh_from_db()
    bo.refresh_from_db()
    assert (ada.company, ada.phone, ada.value, ada.stage.key) == (
        "AE",
        "555 0199",
        Decimal("500.00"),
        "customer",
    )
    assert ada.channel.key == "referral"  # the source stays the first touch's
    history = list(
        StageChange.objects.filter(lead=ada).order_by("id").values_list("id", "to_stage__key", "at")
    )
    assert history[: len(before[ada])] == before[ada]  # old events unchanged
    assert [key for _id, key, _at in history[len(before[ada]) :]] == ["customer"]
    won = DealOutcome.objects.get(lead=ada)
    assert (won.result, won.revenue) == ("won", Decimal("500.00"))
    # Bo: not moved back, a warning says so; his history as it was
    assert bo.stage.key == "proposal"
    assert (
        list(
            StageChange.objects.filter(lead=bo)
            .order_by("id")
            .values_list("id", "to_stage__key", "at")
        )
        == before[bo]
    )
    assert [(w.line, w.column) for w in result.warnings] == [(3, "stage")]
    assert (
        "Lead is behind" in result.warnings[0].reason
        and "not moved back" in result.warnings[0].reason
    )
    # the audit log has the change of Ada's fields and her new stage change
    events = AuditEvent.objects.filter(organization_id=org_a.pk).order_by("id")[audit_before:]
    changed = [e for e in events if e.object_type == "leads.Lead" and e.object_id == str(ada.pk)]
    assert changed and "company" in changed[0].summary and "phone" in changed[0].summary
    assert any(e.object_type == "leads.StageChange" and e.action == "created" for e in events)
    assert any(e.action == "imported" and ", 1 updated, " in e.summary for e in events)
    job = ImportJob.objects.get(pk=result.job_id)
    assert job.report["updated"] == 1 and job.report["update"] is True
    # "Trade fair" is named only by a row that updates a lead (whose source stays): no channel
    assert result.would_create["channels"] == []
    assert not Channel.objects.for_org(org_a).filter(name="Trade fair").exists()


def test_update_never_touches_another_organizations_lead(
    org_a: Organization, org_b: Organization, known: dict[str, Lead], tmp_path: Path
) -> None:
    cy_b = Lead.objects.get(organization=org_b, email="cy@x.com")
    rows = [
        FIRST[0],
        ["", "Cy Changed", "cy@x.com", "555 0777", "Referral", "proposal", "2024-01-07"],
    ]
    result = import_leads(organization=org_a, path=write_csv(tmp_path / "c.csv", rows), update=True)
    assert not result.failed, result.errors
    assert (result.created, result.updated, result.duplicates) == (1, 0, 0)
    cy_b.refresh_from_db()
    assert (cy_b.name, cy_b.phone, cy_b.stage.key) == ("Cy", "", "lead")
    assert Lead.objects.get(organization=org_a, email="cy@x.com").name == "Cy Changed"


# --- command line -------------------------------------------------------------------------


def test_cli_names_the_duplicates_and_writes_matched_lead(
    org_a: Organization, known: dict[str, Lead], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "2.csv", SECOND)
    out = runner.invoke(app, ["import", "leads", str(path), "--org", "acme"])
    assert out.exit_code == 0, out.output
    ada = known["E1"]
    assert f"line 2: same id as lead #{ada.pk} “Ada Lovelace”" in out.stdout
    assert "line 6: same email as line 5 of this file" in out.stdout
    with (tmp_path / "2.csv.report.csv").open(newline="") as f:
        report = list(csv.reader(f))
    assert report[0] == ["line", "column", "problem", "matched_lead"]
    assert [r[0] for r in report[1:]] == ["2", "3", "4", "6"]
    assert report[1][3] == str(ada.pk) and report[4][3] == ""


def test_cli_match_and_update(org_a: Organization, known: dict[str, Lead], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "2.csv", SECOND)
    out = runner.invoke(app, ["import", "leads", str(path), "--org", "acme", "--match", "id,fax"])
    assert out.exit_code == 2 and "'fax' is not id, email or phone" in out.output
    out = runner.invoke(
        app, ["import", "leads", str(path), "--org", "acme", "--match", "email", "--dry-run"]
    )
    assert out.exit_code == 0, out.output
    assert "2 duplicates" in out.stdout
    upd = write_csv(tmp_path / "u.csv", UPDATE)
    out = runner.invoke(
        app, ["import", "leads", str(upd), "--org", "acme", "--update", "--dry-run"]
    )
    assert "Would update 2 existing leads" in out.stdout
    out = runner.invoke(app, ["import", "leads", str(upd), "--org", "acme", "--update"])
    assert out.exit_code == 0, out.output
    assert "Updated 1 leads." in out.stdout
    assert Lead.objects.get(pk=known["E1"].pk).stage.key == "customer"


# --- the app ------------------------------------------------------------------------------


def _client(org: Organization) -> Client:
    client = Client()
    client.force_login(Membership.objects.get(organization=org, is_owner=True).user)
    return client


def _upload(client: Client, rows: list[list[str]]) -> str:
    body = "\n".join(",".join(r) for r in rows) + "\n"
    file = SimpleUploadedFile("people.csv", body.encode(), content_type="text/csv")
    response = client.post("/o/acme/import/", {"file": file, "kind": "leads", "preset": "plain"})
    assert response.status_code == 302
    return str(response["Location"])


def _form(page: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = chosen.group(1) if chosen else ""
    data.update(
        {"new_members": "on", "match_shown": "1", "match": ["external_id", "email", "phone"]}
    )
    data.update(changes)
    return data


def test_app_lists_duplicates_with_links_and_takes_match_and_update(
    org_a: Organization, known: dict[str, Lead], tmp_path: Path
) -> None:
    client = _client(org_a)
    url = _upload(client, SECOND)
    page = client.get(url).content.decode()
    assert 'name="match"' in page and "Update leads that already exist" in page
    client.post(url, _form(page, action="check"))
    page = client.get(url).content.decode()
    ada = known["E1"]
    assert f'href="/o/acme/leads/{ada.pk}/"' in page
    assert f"same id as lead #{ada.pk} “Ada Lovelace”" in page
    assert "same email as line 5 of this file" in page
    # phone and id unticked: only the email duplicates remain
    client.post(url, _form(page, action="check", match=["email"]))
    job = ImportJob.objects.get(pk=int(url.rstrip("/").split("/")[-1]))
    assert job.options["match"] == ["email"]
    assert [d[0] for d in job.report["duplicates"]] == [3, 6]
    # update: Ada and Bo are updated in place
    url = _upload(client, UPDATE)
    page = client.get(url).content.decode()
    client.post(url, _form(page, action="import", update="on"))
    page = client.get(url).content.decode()
    assert 'data-count="updated">1<' in page
    assert Lead.objects.get(pk=ada.pk).stage.key == "customer"


def test_update_past_the_qualification_gate_needs_an_owner(
    org_a: Organization, owner_a: Membership, known: dict[str, Lead], tmp_path: Path
) -> None:
    ada = known["E1"]  # at lead; qualified is behind the gate (the default checklist)
    rows = [
        FIRST[0],
        ["E1", "Ada Lovelace", "ada@x.com", "555 0101", "Referral", "qualified", "2024-01-02"],
    ]
    path = write_csv(tmp_path / "q.csv", rows)
    # no member runs it (the command line): not moved, and the warning says why
    result = import_leads(organization=org_a, path=path, update=True)
    assert not result.failed and result.updated == 0
    assert [(w.line, w.column) for w in result.warnings] == [(2, "stage")]
    assert "Only an owner may override" in result.warnings[0].reason
    assert Lead.objects.get(pk=ada.pk).stage.key == "lead"
    # an owner: moved, the override recorded with the import's reason
    result = import_leads(organization=org_a, path=path, update=True, by=owner_a)
    assert result.updated == 1 and not result.warnings
    change = StageChange.objects.filter(lead=ada).latest("id")
    assert (change.to_stage.key, change.qualification_override, change.override_reason) == (
        "qualified",
        True,
        "imported",
    )


def test_a_repeated_row_names_the_first_kept_line(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["name", "email", "phone", "source"],
        ["X", "x@x.com", "555 1111", "Referral"],
        ["Y", "y@x.com", "555-1111", "Referral"],  # line 3: X's phone (its email is new)
        ["", "z@x.com", "", "Referral"],  # line 4: rejected (no name): not a first
        ["Z", "Z@x.com", "", "Referral"],  # line 5: new
        ["Z2", "z@x.com", "", "Referral"],  # line 6: line 5's email
    ]
    result = import_leads(
        organization=org_a,
        path=write_csv(tmp_path / "r.csv", rows),
        skip_invalid=True,
        missing_dates="now",
    )
    assert (result.created, result.rejected) == (2, 1)
    assert [(d.line, d.column, d.reason, d.lead) for d in result.duplicate_rows] == [
        (3, "phone", "same phone as line 2 of this file", None),
        (6, "email", "same email as line 5 of this file", None),
    ]
