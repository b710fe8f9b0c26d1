"""The plain preset: history from stage dates, outcomes, owners, duplicates, formats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from openpyxl import Workbook

from keepscore.accounts.models import Membership, Organization
from keepscore.imports.services import import_leads
from keepscore.leads.models import Channel, DealOutcome, Lead, LostReason, StageChange
from tests.imports.conftest import write_csv

ZONE = ZoneInfo(settings.TIME_ZONE)
HEADER = [
    "id", "name", "company", "email", "phone", "source", "owner", "value", "created", "stage",
    "qualified_at", "customer_at", "lost_at", "revenue", "cost", "lost_reason",
]  # fmt: skip


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def test_history_outcomes_and_owners(org_a: Organization, tmp_path: Path) -> None:
    # given
    rows = [
        HEADER,
        ["A1", "Ada", "AE", "ada@x.com", "", "Referral", "Ann Seller", "100", "2024-01-02",
         "customer", "2024-01-10", "2024-02-01 10:30", "", "900", "300", ""],
        ["A2", "Bo", "", "", "+1 555 0100", "Trade fair", "Ann Seller", "", "2024-01-03",
         "lost", "", "", "2024-01-20", "", "", "Too slow"],
        ["A3", "Cy", "", "", "", "referral", "", "", "2024-01-04", "proposal", "", "", "", "",
         "", ""],
    ]  # fmt: skip
    path = write_csv(tmp_path / "leads.csv", rows)

    # when
    result = import_leads(organization=org_a, path=path)

    # then
    assert not result.failed, result.errors
    assert (result.created, result.outcomes) == (3, 2)
    assert result.new_channels == ["Trade fair"] and result.new_lost_reasons == ["Too slow"]
    ada = Lead.objects.get(organization=org_a, external_id="A1")
    history = list(StageChange.objects.filter(lead=ada).order_by("at", "id"))
    assert [(c.from_stage and c.from_stage.key, c.to_stage.key) for c in history] == [
        (None, "suspect"),
        ("suspect", "qualified"),
        ("qualified", "customer"),
    ]
    assert [c.at for c in history] == [
        _at("2024-01-02"), _at("2024-01-10"), _at("2024-02-01 10:30")
    ]  # fmt: skip
    assert history[1].qualification_override and history[1].override_reason == "imported"
    assert not history[0].qualification_override
    assert ada.stage.key == "customer" and ada.stage_entered_at == _at("2024-02-01 10:30")
    won = DealOutcome.objects.get(lead=ada)
    assert (won.result, won.revenue, won.cost) == ("won", Decimal("900.00"), Decimal("300.00"))
    assert won.stage_change == history[2]
    owner = Membership.objects.get(pk=ada.owner_id)
    assert owner.user.email == "ann-seller@members.invalid"
    assert not owner.user.has_usable_password() and owner.is_sales

    bo = Lead.objects.get(organization=org_a, external_id="A2")
    lost = DealOutcome.objects.get(lead=bo)
    assert lost.lost_reason == LostReason.objects.get(organization=org_a, name="Too slow")
    assert bo.owner_id == ada.owner_id and bo.channel.name == "Trade fair"
    cy = Lead.objects.get(organization=org_a, external_id="A3")
    assert cy.channel == Channel.objects.get(organization=org_a, key="referral")
    assert [c.to_stage.key for c in cy.stage_changes.order_by("at", "id")] == ["proposal"]


def test_won_needs_revenue_lost_needs_reason(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["name", "source", "stage", "created"],
        ["Ada", "Referral", "customer", "2024-01-01"],
        ["Bo", "Referral", "lost", "2024-01-01"],
    ]
    result = import_leads(organization=org_a, path=write_csv(tmp_path / "f.csv", rows))
    assert result.failed
    assert [(e.line, e.column) for e in result.errors] == [(2, "Revenue (won)"), (3, "Lost reason")]


def test_reimport_is_idempotent(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "email", "phone", "source"]] + [
        [f"L{i}", f"l{i}@x.com", f"+44 20 7946 {i:04d}", "Email"] for i in range(50)
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    first = import_leads(organization=org_a, path=path, missing_dates="now")
    second = import_leads(organization=org_a, path=path, missing_dates="now")
    assert (first.created, first.duplicates) == (50, 0)
    assert (second.created, second.duplicates) == (0, 50)
    assert Lead.objects.for_org(org_a).count() == 50
    # a phone written differently is the same phone
    other = write_csv(tmp_path / "g.csv", [rows[0], ["New", "", "+442079460007", "Email"]])
    assert import_leads(organization=org_a, path=other, missing_dates="now").duplicates == 1


def test_skip_invalid_writes_the_rejected_rows(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "created"], ["Ada", "Email", "2024-01-01"], ["", "Email", "x"]]
    path = write_csv(tmp_path / "f.csv", rows)
    result = import_leads(organization=org_a, path=path, skip_invalid=True)
    assert (result.created, result.rejected, result.failed) == (1, 1, False)
    assert result.rejected_path == tmp_path / "f.csv.rejected.csv"
    assert result.rejected_path.read_text().splitlines() == ["name,source,created", ",Email,x"]


def test_dry_run_writes_nothing(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name", "source"], ["Ada", "Brand new"]])
    result = import_leads(organization=org_a, path=path, dry_run=True, missing_dates="now")
    assert not result.failed and result.rows == 1 and result.created == 0
    assert not Lead.objects.for_org(org_a).exists()
    assert not Channel.objects.for_org(org_a).filter(name="Brand new").exists()


def test_encodings_and_delimiters(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "notes"], ["Zoë Müller", "Email", "café - ok"]]
    cases = [
        ("cp1252", ";", "cp1252", "semicolon"),
        ("utf-8-sig", "\t", "utf-8-sig", "tab"),
        ("utf-8", ",", "utf-8", "comma"),
    ]
    for i, (encoding, delimiter, shown, sep) in enumerate(cases):
        rows[1][0] = f"Zoë Müller {i}"
        path = write_csv(tmp_path / f"{i}.csv", rows, encoding=encoding, delimiter=delimiter)
        result = import_leads(organization=org_a, path=path, missing_dates="now")
        assert result.created == 1, result.problems
        assert result.file_format == f"CSV, {shown}, {sep}"
        lead = Lead.objects.get(organization=org_a, name=f"Zoë Müller {i}")
        assert lead.notes == "café - ok"


def test_late_non_utf8_bytes_fall_back_to_cp1252(org_a: Organization, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    body = "name,source\n" + "".join(f"L{i},Email\n" for i in range(30_000))
    path.write_bytes(body.encode() + "Zoë,Email\n".encode("cp1252"))
    result = import_leads(organization=org_a, path=path, missing_dates="now")
    assert result.created == 30_001 and "cp1252" in result.file_format
    assert Lead.objects.filter(organization=org_a, name="Zoë").exists()


def test_xlsx(org_a: Organization, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Email", "Source", "Created", "Value"])
    sheet.append(["Ada", "ada@x.com", "Referral", datetime(2024, 3, 1, 9, 30), 12.5])
    sheet.append(["Bo", "", "Email", "2024-03-02", 7])
    book.save(tmp_path / "f.xlsx")
    result = import_leads(organization=org_a, path=tmp_path / "f.xlsx")
    assert result.created == 2, (result.problems, result.errors)
    ada = Lead.objects.get(organization=org_a, name="Ada")
    assert ada.first_touch_at == _at("2024-03-01 09:30") and ada.value == Decimal("12.50")


def test_owner_map_and_no_new_members(
    org_a: Organization, owner_a: Membership, tmp_path: Path
) -> None:
    rows = [["name", "source", "owner"], ["Ada", "Email", "Boss"], ["Bo", "Email", "Nobody"]]
    path = write_csv(tmp_path / "f.csv", rows)
    refused = import_leads(
        organization=org_a,
        path=path,
        owner_map={"boss": owner_a.user.email},
        new_members=False,
        missing_dates="now",
    )
    assert refused.failed and [(e.line, e.column) for e in refused.errors] == [(3, "owner")]
    done = import_leads(
        organization=org_a,
        path=path,
        owner_map={"Boss": owner_a.user.email},
        missing_dates="now",
    )
    assert done.created == 2 and done.new_members == ["Nobody <nobody@members.invalid>"]
    assert Lead.objects.get(organization=org_a, name="Ada").owner == owner_a
