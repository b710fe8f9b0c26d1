"""``keepscore import leads|deals``: summaries, the report, exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from keepscore.accounts.models import Organization
from keepscore.cli.main import app
from keepscore.leads.models import DealOutcome, Lead
from tests.imports.conftest import olist_dir, write_csv

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["import", *args])


def test_import_leads_plain(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "email", "source"], ["Ada", "a@x.com", "Email"], ["Bo", "b@x.com", "Email"]]
    path = write_csv(tmp_path / "f.csv", rows)
    result = invoke("leads", str(path), "--org", "acme", "--missing-dates", "now")
    assert result.exit_code == 0, result.output
    assert "Imported 2 leads (0 duplicates, 0 rejected)." in result.stdout
    again = invoke("leads", str(path), "--org", "acme", "--missing-dates", "now")
    assert "Imported 0 leads (2 duplicates, 0 rejected)." in again.stdout


def test_dry_run(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name", "source"], ["Ada", "Email"]])
    result = invoke("leads", str(path), "--org", "acme", "--dry-run", "--missing-dates", "now")
    assert result.exit_code == 0, result.output
    assert "Dry run: 1 leads would be imported" in result.stdout
    assert not Lead.objects.for_org(org_a).exists()


def test_errors_report_and_exit_code(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "created"], ["Ada", "Email", "2024-01-01"], ["", "Email", "x"]]
    path = write_csv(tmp_path / "f.csv", rows)
    result = invoke("leads", str(path), "--org", "acme")
    assert result.exit_code == 1
    assert "line 3, column name: a lead needs a name or a company" in result.stdout
    assert "line 3, column created: 'x' is not a date" in result.stdout
    assert result.stderr.strip().splitlines() == [
        "error: nothing imported: 1 of 2 rows have errors (fix them, or use --skip-invalid "
        "to import the others)"
    ]
    report = (tmp_path / "f.csv.report.csv").read_text().splitlines()
    assert report[0] == "line,column,problem,matched_lead" and report[1].startswith("3,name,")
    assert not Lead.objects.for_org(org_a).exists()


def test_skip_invalid(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source"], ["Ada", "Email"], ["", "Email"]]
    path = write_csv(tmp_path / "f.csv", rows)
    result = invoke("leads", str(path), "--org", "acme", "--skip-invalid", "--missing-dates", "now")
    assert result.exit_code == 0, result.output
    assert "Imported 1 leads (0 duplicates, 1 rejected)." in result.stdout
    assert (tmp_path / "f.csv.rejected.csv").read_text().splitlines() == ["name,source", ",Email"]


def test_file_problem_is_one_line(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name"], ["Ada"]])
    result = invoke("leads", str(path), "--org", "acme", "--map", "Nope=name")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: nothing imported: --map: the file has no")
    bad = invoke("leads", str(path), "--org", "acme", "--stage-map", "oops")
    assert bad.exit_code == 2 and "NAME=VALUE" in bad.stderr


def test_olist_leads_and_deals(org_a: Organization) -> None:
    folder = olist_dir()
    leads = invoke("leads", str(folder / "olist_marketing_qualified_leads_dataset.csv"),
                   "--preset", "olist", "--org", "acme")  # fmt: skip
    assert leads.exit_code == 0, leads.output
    assert "Imported 8000 leads" in leads.stdout
    deals = invoke("deals", str(folder / "olist_closed_deals_dataset.csv"), "--preset", "olist",
                   "--org", "acme")  # fmt: skip
    assert deals.exit_code == 0, deals.output
    assert "Imported 842 deals won" in deals.stdout
    assert DealOutcome.objects.for_org(org_a).count() == 842
