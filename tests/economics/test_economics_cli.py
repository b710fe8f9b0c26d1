"""``keepscore economics``: in-process with CliRunner on the test database, through the real
``keepscore`` app. The story is tests/economics/channel_story.py's (February 2025)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from keepscore.cli.main import app
from keepscore.common.periods import Period
from keepscore.economics.channels import channel_economics
from keepscore.funnel.filters import default_period
from keepscore.reports.channels import CSV_COLUMNS
from tests.conftest import make_org
from tests.economics.channel_story import story_fixture  # noqa: F401  (story)

pytestmark = pytest.mark.django_db

runner = CliRunner()
FEB = ["--from", "2025-02-01", "--to", "2025-02-28"]


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["economics", *args], env={"COLUMNS": "120"})


def error_line(result: Result) -> str:
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_json_is_the_services_dict(story: Any):
    result = invoke(*FEB, "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = channel_economics(story, Period(date(2025, 2, 1), date(2025, 2, 28)))
    assert body == json.loads(json.dumps(expected.as_dict()))
    ads = next(c for c in body["channels"] if c["key"] == "ads")
    # by hand: 600 spent; E new, won twice (500 revenue, 50 cost): one customer
    assert (ads["spend"], ads["leads"], ads["customers"], ads["margin"]) == (600.0, 1, 1, 150.0)
    assert ads["costed_deals"] == 1  # E's first deal has no cost: not in the margin
    assert ads["return_on_spend"] == pytest.approx(-0.75)


def test_csv_is_a_row_per_channel_and_the_total(story: Any):
    result = invoke(*FEB, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[-1]["channel_key"] == "total" and rows[-1]["spend"] == "900.00"
    referral = next(r for r in rows if r["channel_key"] == "referral")
    assert referral["cost_per_lead"] == "33.33" and referral["cost_per_customer"] == "100.00"
    assert referral["too_small"] == "true"


def test_the_table(story: Any):
    result = invoke(*FEB)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Channel economics 2025-02-01 to 2025-02-28" in out
    assert "qualified: qualified" in out
    line = next(li for li in out.splitlines() if li.strip().startswith("Referral"))
    # 100 spent, 3 new, 3 qualified, 1 customer, margin 600; ratios too small (in euros,
    # the organization's currency by default)
    assert line.split()[:5] == ["Referral", "€100", "3", "3", "1"]
    assert "€600" in line and "n/e" in line
    search = next(li for li in out.splitlines() if li.strip().startswith("Search"))
    assert "\u2014" in search  # cost per lead undefined: no leads
    assert next(li for li in out.splitlines() if li.strip().startswith("All channels"))


def test_the_default_period(story: Any):
    body = json.loads(invoke("--format", "json").stdout)
    assert body["period"] == default_period().as_dict()


def test_the_organization_is_chosen_with_org(story: Any):
    make_org("bravo", "owner@bravo.test")
    line = error_line(invoke(*FEB))
    assert "--org" in line
    body = json.loads(invoke(*FEB, "--org", "bravo", "--format", "json").stdout)
    assert body["total"]["spend"] is None and body["total"]["leads"] == 0
    assert "no organization 'nope'" in error_line(invoke(*FEB, "--org", "nope"))


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--from", "2025-02-30"], "--from"),
        (["--to", "later"], "--to"),
        (["--from", "2025-03-01", "--to", "2025-02-01"], "--to"),
    ],
)
def test_bad_options_are_one_line_naming_the_option(story: Any, args: list[str], option: str):
    line = error_line(invoke(*args))
    assert option in line


def test_an_unknown_format_is_a_usage_error(story: Any):
    result = invoke(*FEB, "--format", "xml")
    assert result.exit_code == 2
