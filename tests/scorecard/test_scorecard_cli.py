"""``keepscore scorecard``: in-process with CliRunner on the test database (the Typer app of
``keepscore.cli.scorecard``; ``keepscore.cli.main`` registers the command)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from keepscore.cli.scorecard import app
from keepscore.scorecard.services import review_add
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db
runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def data(org_a: Any, owner_a: Any) -> Any:
    lead = new_lead(org_a, "A", at(2025, 3, 5))
    move(lead, "customer", at(2025, 3, 20), owner_a, revenue="1000")
    review_add(organization=org_a, month="2025-03", kind="note", text="Good month", by=owner_a)
    return org_a


def test_table_by_default(data: Any):
    result = invoke("--month", "2025-03")
    assert result.exit_code == 0, result.output
    for text in ("SUSPECT", "PROSPECT", "LEAD", "CUSTOMER", "New leads", "Close rate", "1,000"):
        assert text in result.output
    assert "not enough data (1 of 1)" in result.output and "Good month" in result.output


def test_json(data: Any):
    result = invoke("--month", "2025-03", "--format", "json", "--org", "acme")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["organization"] == "Acme" and payload["month"] == "2025-03"
    revenue = next(m for m in payload["metrics"] if m["key"] == "revenue")
    assert revenue["value"] == 1000.0 and revenue["group"] == "CUSTOMER"
    close = next(m for m in payload["metrics"] if m["key"] == "close_rate")
    assert (close["k"], close["n"]) == (1, 1)
    assert payload["reviews"][0]["text"] == "Good month"


def test_csv_to_stdout_and_files(data: Any, tmp_path: Any, monkeypatch: Any):
    result = invoke("--month", "2025-03", "--format", "csv")
    assert result.exit_code == 0 and result.stdout.startswith("group,key,name")
    out = tmp_path / "card.xlsx"
    result = invoke("--month", "2025-03", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK" and str(out) in result.output.replace("\n", "")
    monkeypatch.chdir(tmp_path)
    result = invoke("--month", "2025-03", "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "acme-scorecard-2025-03.pdf").read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize("month", ["2026-13", "1800-01", "march"])
def test_a_bad_month_is_one_line(data: Any, month: str):
    result = invoke("--month", month)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "--month" in result.stderr


def test_an_unknown_organization(data: Any):
    result = invoke("--org", "nope")
    assert result.exit_code == 1 and "no organization 'nope'" in result.stderr
