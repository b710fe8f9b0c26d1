"""Malformed files: each a clear error, and nothing imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from keepscore.accounts.models import Organization
from keepscore.imports.report import ImportResult
from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from tests.imports.conftest import write_csv

HEADER = ["name", "email", "source", "created", "stage"]


def _import(org: Organization, path: Path, **kw: object) -> ImportResult:
    result = import_leads(organization=org, path=path, **kw)  # type: ignore[arg-type]
    assert result.failed and not result.imported
    assert Lead.objects.for_org(org).count() == 0
    return result


def _problem(result: ImportResult) -> str:
    assert result.problems, result.errors
    return " ".join(result.problems)


def test_wrong_encoding_utf16(org_a: Organization, tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("name,source\nAda,Referral\n".encode("utf-16"))
    assert "UTF-16" in _problem(_import(org_a, path))


def test_missing_required_column(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name", "email"], ["Ada", "a@x.com"]])
    assert "missing required column: Source (marketing channel)" in _problem(_import(org_a, path))


def test_unknown_column_in_map(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [HEADER, ["Ada", "", "Referral", "", ""]])
    result = _import(org_a, path, mapping={"Full name": "name"})
    assert "--map: the file has no column 'Full name'" in _problem(result)
    result = _import(org_a, path, mapping={"name": "nickname"})
    assert "'nickname' is not a field" in _problem(result)


def test_bad_date(org_a: Organization, tmp_path: Path) -> None:
    rows = [HEADER, ["Ada", "", "Referral", "2024-01-05", ""], ["Bo", "", "Referral", "soon", ""]]
    result = _import(org_a, write_csv(tmp_path / "f.csv", rows))
    assert [(e.line, e.column) for e in result.errors] == [(3, "created")]
    assert "'soon' is not a date" in result.errors[0].reason


def test_ambiguous_dates_ask_for_a_format(org_a: Organization, tmp_path: Path) -> None:
    rows = [HEADER] + [[f"L{i}", "", "Referral", "03/04/2018", ""] for i in range(5)]
    path = write_csv(tmp_path / "f.csv", rows)
    assert "ambiguous" in _problem(_import(org_a, path))
    assert "--date-format" in _problem(_import(org_a, path))
    # when told, it imports, in that order
    done = import_leads(organization=org_a, path=path, date_format="DD/MM/YYYY")
    assert done.created == 5
    assert Lead.objects.for_org(org_a).first().first_touch_at.month == 4  # type: ignore[union-attr]


def test_empty_file_and_header_only(org_a: Organization, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "is empty" in _problem(_import(org_a, empty))
    header = write_csv(tmp_path / "header.csv", [HEADER])
    assert "header but no rows" in _problem(_import(org_a, header))


def test_huge_field(org_a: Organization, tmp_path: Path) -> None:
    rows = [HEADER, ["Ada", "", "Referral", "", ""], ["x" * 10_000_000, "", "Referral", "", ""]]
    result = _import(org_a, write_csv(tmp_path / "f.csv", rows), missing_dates="now")
    assert [(e.line, e.column) for e in result.errors] == [(3, "name")]
    assert "longer than" in result.errors[0].reason


def test_stage_not_on_the_ladder(org_a: Organization, tmp_path: Path) -> None:
    rows = [HEADER, ["Ada", "", "Referral", "", "Engaging"]]
    result = _import(org_a, write_csv(tmp_path / "f.csv", rows), missing_dates="now")
    assert (result.errors[0].line, result.errors[0].column) == (2, "stage")
    assert "'Engaging' is not a stage" in result.errors[0].reason
    # mapped, it goes in
    ok = import_leads(
        organization=org_a,
        path=tmp_path / "f.csv",
        stage_map={"engaging": "lead"},
        missing_dates="now",
    )
    assert ok.created == 1


def test_duplicates_within_the_file(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["Ada", "ada@x.com", "Referral", "", ""],
        ["Ada again", " ADA@x.com ", "Referral", "", ""],
        ["Bo", "bo@x.com", "Referral", "", ""],
    ]
    result = import_leads(
        organization=org_a, path=write_csv(tmp_path / "f.csv", rows), missing_dates="now"
    )
    assert (result.created, result.duplicates) == (2, 1)
    assert result.duplicate_rows[0].line == 3
    assert Lead.objects.for_org(org_a).count() == 2


@pytest.mark.parametrize("bad", ["-5", "abc", "1.234"])
def test_bad_value(org_a: Organization, tmp_path: Path, bad: str) -> None:
    rows = [["name", "source", "value"], ["Ada", "Referral", bad]]
    result = _import(org_a, write_csv(tmp_path / "f.csv", rows))
    assert result.errors[0].column == "value"


def test_every_bad_row_is_reported(org_a: Organization, tmp_path: Path) -> None:
    rows = [HEADER] + [["", "bad", "Referral", "", ""] for _ in range(3)]
    result = _import(org_a, write_csv(tmp_path / "f.csv", rows), missing_dates="now")
    assert {e.line for e in result.errors} == {2, 3, 4}
    assert {e.column for e in result.errors} == {"name", "email"}
