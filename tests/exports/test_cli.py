"""``keepscore export``: files that read back."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from keepscore.cli.main import app
from tests.exports.conftest import Known

runner = CliRunner()


def test_export_leads_as_xlsx(known: Known, tmp_path: Path):
    out = tmp_path / "leads.xlsx"
    result = runner.invoke(
        app, ["export", "leads", "--format", "xlsx", "--org", "acme", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Exported 2 rows of leads" in result.output
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "name", "company")
    assert [r[1] for r in rows[1:]] == ["'=1+1", "'@SUM(A1)"]


def test_export_all_and_csv_to_stdout(known: Known, tmp_path: Path):
    out = tmp_path / "all.zip"
    result = runner.invoke(app, ["export", "all", "--org", "acme", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "leads.csv" in zipfile.ZipFile(out).namelist()
    result = runner.invoke(app, ["export", "outcomes", "--org", "acme"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["result"] for r in rows) == ["lost", "won"]


def test_export_needs_the_organization_when_there_are_several(known: Known):
    result = runner.invoke(app, ["export", "leads"])
    assert result.exit_code == 2
    assert "--org" in result.stderr


def test_help_says_all_holds_spend_and_is_read_back_by_import_all():
    result = runner.invoke(app, ["export", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.lower().split())
    assert "spend and settings included" in text and "keepscore import all" in text
