"""``GET /funnel`` and ``GET /funnel/cycle``. The story is test_views.py's (March 2024)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import override_settings

from keepscore.api.api import api as the_api
from keepscore.common.periods import Period
from keepscore.funnel.filters import default_period
from keepscore.funnel.selectors import funnel
from tests.api.conftest import Api, api_for, fields_of
from tests.funnel.test_views import MARCH, story  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


@pytest.fixture
def api(owner_a: Any, settings: Any) -> Api:
    return api_for(owner_a, base=BASE)


def test_the_funnel_is_the_reports_json(api, org_a, story):  # noqa: F811
    # when
    response = api.get("/funnel", **MARCH, by="channel", within="30")
    # then
    assert response.status_code == 200
    body = response.json()
    expected = funnel(
        organization=org_a,
        period=Period(date(2024, 3, 1), date(2024, 3, 31)),
        by="channel",
        within_days=30,
    )
    assert body == _jsonable(expected.as_dict())
    assert body["period"] == {"from": "2024-03-01", "to": "2024-03-31"}
    assert body["by"] == "channel" and body["within_days"] == 30
    referral = body["groups"][0]
    assert (referral["key"], referral["label"]) == ("referral", "Referral")
    assert referral["stages"][0] == {
        "key": "suspect",
        "name": "Suspect",
        "reached": 2,
        "entered": 0,
        "skipped": 2,  # both came in at prospect
    }
    overall = referral["conversions"][-1]
    assert (overall["from"], overall["to"], overall["k"], overall["n"]) == (
        "suspect",
        "customer",
        1,
        2,
    )
    assert overall["rate"] == 0.5 and overall["enough"] is False
    assert overall["ci_low"] == pytest.approx(0.0945, abs=1e-4)
    assert overall["ci_high"] == pytest.approx(0.9055, abs=1e-4)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def test_the_defaults(api, org_a, story):  # noqa: F811
    # when
    body = api.get("/funnel").json()
    everyone = api.get("/funnel", by="all").json()
    # then
    period = default_period()
    assert body["period"] == {"from": str(period.start), "to": str(period.end)}
    assert body["by"] == "channel" and body["within_days"] is None
    assert everyone["by"] is None
    assert [g["key"] for g in everyone["groups"]] == ["all"]


def test_grouped_by_owner_and_by_a_fact(api, story):  # noqa: F811
    by_owner = api.get("/funnel", **MARCH, by="owner").json()
    by_fact = api.get("/funnel", **MARCH, by="fact:size").json()
    assert [g["label"] for g in by_owner["groups"]] == [
        "owner@acme.test",
        "(none)",
        "sales@acme.test",
    ]
    assert by_fact["by"] == "fact:size"
    assert [g["label"] for g in by_fact["groups"]] == ["(none)"]


def test_the_cycle(api, story):  # noqa: F811
    # when
    response = api.get("/funnel/cycle", **MARCH)
    # then: 19 and 28 days
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"from": "2024-03-01", "to": "2024-03-31"}
    assert body["count"] == 2
    assert body["median_days"] == pytest.approx(23.5)
    assert body["p80_days"] == pytest.approx(26.2)
    assert {"bin": "14-30", "count": 2} in body["histogram"]
    assert [b["bin"] for b in body["histogram"]][:2] == ["0-7", "7-14"]


def test_an_empty_cycle(api, story):  # noqa: F811
    body = api.get("/funnel/cycle", **{"from": "2020-01-01", "to": "2020-01-31"}).json()
    assert body["count"] == 0 and body["median_days"] is None and body["p80_days"] is None


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("/funnel", {"from": "2024-02-30"}, "from"),
        ("/funnel", {"from": "soon"}, "from"),
        ("/funnel", {"to": "0001-01-01"}, "to"),
        ("/funnel", {"from": "2024-04-01", "to": "2024-03-01"}, "to"),
        ("/funnel", {"from": "2999-01-01"}, "from"),
        ("/funnel", {"by": "colour"}, "by"),
        ("/funnel", {"by": "fact:"}, "by"),
        ("/funnel", {"by": "x" * 201}, "by"),
        ("/funnel", {"by": "a\x00b"}, "by"),
        ("/funnel", {"within": "-1"}, "within"),
        ("/funnel", {"within": "9" * 30}, "within"),
        ("/funnel", {"within": "soon"}, "within"),
        ("/funnel/cycle", {"to": "2024-13-01"}, "to"),
        ("/funnel/cycle", {"from": "2024-04-01", "to": "2024-03-01"}, "to"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(api, story, endpoint, params, field):  # noqa: F811
    # when
    response = api.get(endpoint, **params)
    # then
    assert response.status_code == 422, response.content
    assert fields_of(response) == [field]
    assert response.json()["detail"].startswith(f"{field}: ")


def test_a_token_is_needed(client, settings, org_a):
    assert client.get(f"{BASE}/funnel").status_code == 401
    assert client.get(f"{BASE}/funnel/cycle").status_code == 401


def test_another_organizations_leads_are_not_counted(api, story, org_b, lead_b):  # noqa: F811
    body = api.get("/funnel", **{"from": "2000-01-01", "to": "2999-12-31"}, by="all").json()
    # A's four leads, not B's
    assert body["groups"][0]["stages"][0]["reached"] == 4


def test_the_openapi_document_describes_the_report():
    schema = the_api.get_openapi_schema()
    get = schema["paths"]["/api/v1/funnel"]["get"]
    names = {p["name"] for p in get["parameters"]}
    assert names == {"from", "to", "by", "within"}
    assert {str(code) for code in get["responses"]} >= {"200", "401", "422"}
    components = schema["components"]["schemas"]
    conversion = components["ConversionOut"]["properties"]
    assert set(conversion) == {
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
    assert set(components["FunnelOut"]["properties"]) == {"period", "by", "within_days", "groups"}
    assert set(components["PeriodOut"]["properties"]) == {"from", "to"}
    cycle = schema["paths"]["/api/v1/funnel/cycle"]["get"]
    assert {p["name"] for p in cycle["parameters"]} == {"from", "to"}
    assert set(components["CycleOut"]["properties"]) == {
        "period",
        "count",
        "median_days",
        "p80_days",
        "histogram",
    }


@override_settings(KEEPSCORE_MIN_N=2)
def test_enough_follows_the_setting(api, story):  # noqa: F811
    body = api.get("/funnel", **MARCH).json()
    assert body["groups"][0]["conversions"][-1]["enough"] is True
