"""``keepscore spend import|list|set`` and ``keepscore cash set|list``: in-process with
CliRunner on the test database, through the registered ``keepscore`` app."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner, Result

from keepscore.cli.main import app
from keepscore.economics.models import CashPosition, Spend
from keepscore.economics.services import cash_set, spend_set

pytestmark = pytest.mark.django_db
runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def error_line(result: Result) -> str:
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def spend_rows(org):
    return sorted(
        Spend.objects.for_org(org).values_list("month", "channel__key", "campaign", "amount")
    )


def test_import_dry_run_then_import_then_again(tmp_path, org_a, org_b):
    path = tmp_path / "spend.csv"
    path.write_text("month;channel;campaign;amount\n2026-01;ads;;1.200,50\n2026-01;ads;Promo;300\n")
    dry = invoke("spend", "import", str(path), "--org", "acme", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: 2 rows checked (€1,500.50)" in dry.output and spend_rows(org_a) == []
    done = invoke("spend", "import", str(path), "--org", "acme")
    assert done.exit_code == 0, done.output
    assert "Imported 2 spend rows (2 new, 0 changed, 0 unchanged)" in done.output
    assert spend_rows(org_a) == [
        (date(2026, 1, 1), "ads", "", Decimal("1200.50")),
        (date(2026, 1, 1), "ads", "Promo", Decimal(300)),
    ]
    again = invoke("spend", "import", str(path), "--org", "acme")
    assert "(0 new, 0 changed, 2 unchanged)" in again.output
    assert spend_rows(org_b) == []


def test_import_reports_each_bad_row_and_writes_nothing(tmp_path, org_a):
    path = tmp_path / "bad.csv"
    path.write_text("month,channel,amount\n2026-01,ads,10\n2026-1x,nope,-3\n")
    result = invoke("spend", "import", str(path), "--org", "acme")
    assert "nothing imported: 3 problems in 2 rows" in error_line(result)
    assert "line 3, column month:" in result.stdout
    assert "line 3, column channel: 'nope' is not a channel's key or name" in result.stdout
    assert "line 3, column amount: Spend cannot be negative." in result.stdout
    report = (tmp_path / "bad.csv.report.csv").read_text().splitlines()
    assert report[0] == "line,column,problem" and len(report) == 4
    assert spend_rows(org_a) == []


def test_import_of_a_file_it_cannot_read(tmp_path, org_a):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "nothing imported: empty.csv is empty" in error_line(
        invoke("spend", "import", str(path), "--org", "acme")
    )


def test_set_and_list_in_every_format(org_a, org_b):
    result = invoke("spend", "set", "--month", "2026-02", "--channel", "ads", "--amount", "1,250",
                    "--org", "acme")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Spend 2026-02 ads: €1,250.00." in result.output
    invoke("spend", "set", "--month", "2026-03", "--channel", "referral", "--amount", "50.5",
           "--campaign", "Friends", "--org", "acme")  # fmt: skip
    spend_set(
        organization=org_b, month="2026-02", channel="ads", amount=999
    )  # another organization's: never listed
    table = invoke("spend", "list", "--org", "acme")
    assert table.exit_code == 0, table.output
    assert "2026-02" in table.output and "Friends" in table.output and "€1,300.50" in table.output
    as_csv = invoke("spend", "list", "--org", "acme", "--format", "csv", "--from", "2026-03")
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["month", "channel", "campaign", "amount", "note"],
        ["2026-03", "referral", "Friends", "50.50", ""],
    ]
    as_json = json.loads(invoke("spend", "list", "--org", "acme", "-f", "json").stdout)
    assert as_json["total"] == "1300.50"  # 1250 + 50.50
    assert as_json["channel_totals"] == {"ads": "1250.00", "referral": "50.50"}
    assert [r["month"] for r in as_json["rows"]] == ["2026-02", "2026-03"]


def test_bad_input_is_one_clear_line(org_a):
    line = error_line(
        invoke("spend", "set", "--month", "2026-02", "--channel", "ads", "--amount", "-1")
    )
    assert line == "error: amount: Spend cannot be negative."
    line = error_line(invoke("spend", "set", "--month", "13", "--channel", "ads", "--amount", "1"))
    assert "month:" in line and "YYYY-MM" in line
    line = error_line(
        invoke("spend", "set", "--month", "2026-02", "--channel", "tv", "--amount", "1")
    )
    assert "channel: 'tv' is not a channel of this organization." in line
    line = error_line(invoke("spend", "list", "--from", "2026-05", "--to", "2026-01"))
    assert "to: The last month comes before the first." in line
    usage = invoke("spend", "list", "--format", "xml")  # a usage error: run() makes it one line
    assert usage.exit_code == 2 and "'xml' is not one of" in usage.stderr
    assert Spend.objects.count() == 0


def test_several_organizations_need_org(org_a, org_b):
    line = error_line(invoke("spend", "list"))
    assert "choose one with --org SLUG" in line


def test_cash_set_and_list(org_a):
    result = invoke("cash", "set", "--month", "2026-01", "--cash", "12000", "--fixed-costs", "3000")
    assert result.exit_code == 0, result.output
    assert "runway 4.00 months" in result.output  # 12000 / 3000
    invoke("cash", "set", "--month", "2026-02", "--cash", "-100", "--fixed-costs", "3000",
           "--note", "overdraft")  # fmt: skip
    invoke("cash", "set", "--month", "2026-03", "--cash", "100", "--fixed-costs", "0")
    as_json = json.loads(invoke("cash", "list", "--format", "json").stdout)
    assert as_json == [
        {"month": "2026-03", "cash_on_hand": "100.00", "monthly_fixed_costs": "0.00",
         "runway_months": None, "note": ""},
        {"month": "2026-02", "cash_on_hand": "-100.00", "monthly_fixed_costs": "3000.00",
         "runway_months": "0", "note": "overdraft"},
        {"month": "2026-01", "cash_on_hand": "12000.00", "monthly_fixed_costs": "3000.00",
         "runway_months": "4.00", "note": ""},
    ]  # fmt: skip
    table = invoke("cash", "list")
    assert table.exit_code == 0 and "overdraft" in table.output
    line = error_line(
        invoke("cash", "set", "--month", "2026-01", "--cash", "1", "--fixed-costs", "-5")
    )
    assert line == "error: monthly_fixed_costs: Fixed costs cannot be negative."
    assert CashPosition.objects.for_org(org_a).get(month=date(2026, 1, 1)).cash_on_hand == 12000


def test_cash_list_other_organization_never_shows(org_a, org_b):
    cash_set(organization=org_b, month="2026-01", cash_on_hand=777, monthly_fixed_costs=1)
    assert json.loads(invoke("cash", "list", "--org", "acme", "-f", "json").stdout) == []
