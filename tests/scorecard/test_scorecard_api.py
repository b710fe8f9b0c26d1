"""``GET /scorecard/{month}`` and ``/scorecard/current`` on a test-local NinjaAPI."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from keepscore.cli.scorecard import app
from tests.funnel.conftest import at, move, new_lead
from tests.scorecard.conftest import Api, api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner_a: Any) -> Api:
    return api_for(owner_a)


@pytest.fixture
def data(org_a: Any, owner_a: Any) -> Any:
    lead = new_lead(org_a, "A", at(2025, 3, 5))
    move(lead, "customer", at(2025, 3, 20), owner_a, revenue="1000")
    return org_a


def test_a_month_is_the_cli_json(api: Api, data: Any):
    from typer.testing import CliRunner

    response = api.get("/scorecard/2025-03")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["month"] == "2025-03" and body["organization"] == "Acme"
    cli = CliRunner().invoke(app, ["--month", "2025-03", "--format", "json"])
    import json

    assert body == json.loads(cli.stdout)


def test_current(api: Api, data: Any):
    response = api.get("/scorecard/current")
    assert response.status_code == 200
    assert response.json()["month"] == timezone.localdate().strftime("%Y-%m")


@pytest.mark.parametrize("month", ["2026-13", "1800-01", "nope"])
def test_a_bad_month_is_422(api: Api, data: Any, month: str):
    response = api.get(f"/scorecard/{month}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "month"


def test_any_member_reads_and_a_token_is_needed(sales_a: Any, data: Any):
    assert api_for(sales_a).get("/scorecard/2025-03").status_code == 200
    assert Api(api_for(sales_a).client, "ks_wrong").get("/scorecard/2025-03").status_code == 401
