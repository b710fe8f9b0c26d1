"""``keepscore metrics|target|goal``: in-process with CliRunner on the test database.

The command groups are mounted on a local Typer app here until ``keepscore.cli.main``
registers them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import typer
from typer.testing import CliRunner, Result

from keepscore.cli.metrics import goal_app, metrics_app, target_app
from keepscore.scorecard.models import Goal, ManualValue, Target

pytestmark = pytest.mark.django_db

app = typer.Typer()
app.add_typer(metrics_app, name="metrics")
app.add_typer(target_app, name="target")
app.add_typer(goal_app, name="goal")
runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def error_line(result: Result) -> str:
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_import_then_import_again(tmp_path, org_a, org_b, visitors_a):
    path = tmp_path / "values.csv"
    path.write_text(
        "metric,month,value\nwebsite_visitors,2026-01,10\nwebsite_visitors,2026-02,12\n"
    )
    result = invoke("metrics", "import", str(path), "--org", "acme")
    assert result.exit_code == 0, result.output
    assert "Imported 2 values" in result.stdout and "2 new" in result.stdout
    again = invoke("metrics", "import", str(path), "--org", "acme")
    assert "2 unchanged" in again.stdout
    assert ManualValue.objects.count() == 2


def test_a_bad_file_imports_nothing_and_reports_each_row(tmp_path, org_a, visitors_a):
    path = tmp_path / "values.csv"
    path.write_text("metric,month,value\nwebsite_visitors,2026-13,10\nnope,2026-02,1\n")
    result = invoke("metrics", "import", str(path), "--org", "acme")
    assert "nothing imported: 2 problems" in error_line(result)
    assert "line 2, column month" in result.stdout and "line 3, column metric" in result.stdout
    report = (tmp_path / "values.csv.report.csv").read_text()
    assert report.splitlines()[0] == "line,column,problem" and "2,month," in report
    assert not ManualValue.objects.exists()


def test_a_file_without_the_columns_is_one_error_line(tmp_path, org_a):
    path = tmp_path / "values.csv"
    path.write_text("a,b\n1,2\n")
    assert "missing columns" in error_line(invoke("metrics", "import", str(path)))


def test_list_shows_computed_and_manual_metrics(org_a, visitors_a):
    result = invoke("metrics", "list", "--org", "acme")
    assert result.exit_code == 0, result.output
    assert "entered_prospect" in result.stdout and "website_visitors" in result.stdout
    assert "manual" in result.stdout and "computed" in result.stdout


def test_target_set_and_clear(org_a):
    result = invoke("target", "set", "revenue", "2026-03", "5000", "--org", "acme")
    assert result.exit_code == 0, result.output
    assert "Target revenue 2026-03: 5000." in result.stdout
    assert Target.objects.get().value == Decimal(5000)
    assert invoke("target", "clear", "revenue", "2026-03").exit_code == 0
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("target", "set", "revenue", "2026-13", "1"), "01 to 12"),
        (("target", "set", "nope", "2026-01", "1"), "nope"),
        (("target", "set", "close_rate", "2026-01", "150"), "-100 to 100"),
        (("target", "set", "revenue", "2026-01", "lots"), "not a number"),
        (("goal", "set", "customers", "20x6", "1"), "not a year"),
        (("target", "set", "revenue", "2026-01", "1", "--org", "zzz"), "no organization"),
    ],
)
def test_bad_arguments_are_one_error_line(org_a, args, message):
    assert message in error_line(invoke(*args))
    assert not Target.objects.exists() and not Goal.objects.exists()


def test_goal_set_and_clear(org_a):
    result = invoke("goal", "set", "customers", "2026", "40")
    assert result.exit_code == 0, result.output
    assert list(Goal.objects.values_list("metric_key", "year", "value")) == [
        ("customers", 2026, Decimal(40))
    ]
    assert "Cleared" in invoke("goal", "clear", "customers", "2026").stdout
    assert not Goal.objects.exists()


def test_several_organizations_need_org(org_a, org_b):
    assert "--org" in error_line(invoke("target", "set", "revenue", "2026-01", "1"))
    assert invoke("target", "set", "revenue", "2026-01", "1", "--org", "bravo").exit_code == 0
    assert Target.objects.get().organization == org_b
    assert Target.objects.get().month == date(2026, 1, 1)
