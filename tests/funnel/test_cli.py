"""``keepscore funnel``: in-process with CliRunner on the test database, through a Typer app
holding only this command until ``keepscore.cli.main`` registers it. The story is
test_views.py's (March 2024)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
import typer
from typer.testing import CliRunner, Result

from keepscore.cli.funnel import CSV_COLUMNS, funnel
from keepscore.common.periods import Period
from keepscore.funnel.filters import default_period
from keepscore.funnel.selectors import funnel as funnel_report
from tests.conftest import make_org
from tests.funnel.test_views import story  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

app = typer.Typer()
app.command("funnel")(funnel)


@app.callback()
def main() -> None:
    """A group, so that the command is called by its name as in ``keepscore funnel``."""


runner = CliRunner()
MARCH = ["--from", "2024-03-01", "--to", "2024-03-31"]


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["funnel", *args])


def error_line(result: Result) -> str:
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_json_is_the_reports_dict(org_a, story):  # noqa: F811
    # when
    result = invoke(*MARCH, "--by", "channel", "--within", "30", "--format", "json")
    # then
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = funnel_report(
        organization=org_a,
        period=Period(date(2024, 3, 1), date(2024, 3, 31)),
        by="channel",
        within_days=30,
    )
    assert body == json.loads(json.dumps(expected.as_dict()))
    assert body["period"] == {"from": "2024-03-01", "to": "2024-03-31"}
    referral = body["groups"][0]
    assert referral["label"] == "Referral"
    overall = referral["conversions"][-1]
    assert {k: overall[k] for k in ("from", "to", "k", "n", "enough")} == {
        "from": "suspect",
        "to": "customer",
        "k": 1,
        "n": 2,
        "enough": False,
    }
    assert set(overall) == {
        "from",
        "to",
        "overall",
        "k",
        "n",
        "rate",
        "ci_low",
        "ci_high",
        "enough",
    }


def test_csv_is_one_row_per_group_and_step(org_a, story):  # noqa: F811
    # when
    result = invoke(*MARCH, "--format", "csv")
    # then
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    # 2 groups x (5 consecutive steps + suspect -> customer)
    assert len(rows) == 12
    overall = next(
        r for r in rows if r["group_key"] == "website-form" and r["from"] == "suspect"
        and r["to"] == "customer"
    )  # fmt: skip
    assert overall["group_label"] == "Website form"
    assert (overall["k"], overall["n"], overall["rate"], overall["enough"]) == (
        "1",
        "2",
        "0.5",
        "false",
    )
    assert float(overall["ci_low"]) == pytest.approx(0.0945, abs=1e-4)
    assert overall["period_from"] == "2024-03-01" and overall["by"] == "channel"
    assert overall["within_days"] == ""


def test_csv_guards_labels_a_spreadsheet_would_run(org_a, owner_a):
    from tests.funnel.conftest import at, new_lead

    new_lead(org_a, "X", at(2024, 3, 3), campaign="=HYPERLINK(1)")
    result = invoke(*MARCH, "--by", "campaign", "--format", "csv")
    labels = {r["group_label"] for r in csv.DictReader(io.StringIO(result.stdout))}
    assert labels == {"'=HYPERLINK(1)"}


def test_the_table(org_a, story):  # noqa: F811
    # when
    result = invoke(*MARCH, "--by", "owner")
    # then
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Funnel 2024-03-01 to 2024-03-31, grouped by owner" in out
    for label in ("owner@acme.test", "sales@acme.test", "(none)"):
        assert label in out
    assert "New leads -> Customer" in out  # the overall step: every lead entering
    assert "not enough data (1 of 2)" in out


def test_the_table_with_enough_data(org_a, story, settings):  # noqa: F811
    settings.KEEPSCORE_MIN_N = 2
    result = invoke(*MARCH, "--by", "all", "--within", "60")
    assert result.exit_code == 0, result.output
    assert "All leads" in result.stdout
    assert "conversions within 60 days" in result.stdout
    # suspect -> customer: 2 of 4, 50%, Wilson 95% 15-85%
    assert "50% (2 of 4), 95% CI 15\u201385%" in result.stdout


def test_the_defaults(org_a, story):  # noqa: F811
    result = invoke("--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    period = default_period()
    assert body["period"] == {"from": str(period.start), "to": str(period.end)}
    assert body["by"] == "channel" and body["within_days"] is None


def test_an_empty_period(org_a, story):  # noqa: F811
    result = invoke("--from", "2020-01-01", "--to", "2020-01-31")
    assert result.exit_code == 0, result.output
    assert "No lead moved in this period." in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-02-30"], "--from: '2024-02-30' is not a date: use YYYY-MM-DD"),
        (["--to", "march"], "--to: 'march' is not a date"),
        (["--to", "0001-01-01"], "--to: Enter a date between 1900-01-01 and 2999-12-31."),
        (
            ["--from", "2024-04-01", "--to", "2024-03-01"],
            "--to: The end date (2024-03-01) is before the start date (2024-04-01)",
        ),
        (["--by", "colour"], "--by: cannot group or segment leads by 'colour'"),
        (["--by", "fact:"], "--by: cannot group"),
        (["--within", "-1"], "--within: give a number of days from 0 to 3650, not -1"),
        (["--within", "9" * 30], "--within: give a number of days from 0 to 3650"),
        (["--within", "soon"], "--within: 'soon' is not a whole number of days"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(org_a, args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in error_line(result)


def test_an_unknown_format_is_a_usage_error(org_a):
    result = invoke("--format", "xml")
    assert result.exit_code == 2


def test_the_organization_is_needed_when_there_are_several(org_a, story):  # noqa: F811
    make_org("bravo", "owner@bravo.test")
    several = invoke("--format", "json")
    unknown = invoke("--org", "nope")
    chosen = invoke("--org", "acme", "--format", "json", *MARCH)
    assert several.exit_code == 2 and "choose one with --org" in error_line(several)
    assert unknown.exit_code == 1 and "no organization 'nope'" in error_line(unknown)
    assert chosen.exit_code == 0 and json.loads(chosen.stdout)["groups"]
