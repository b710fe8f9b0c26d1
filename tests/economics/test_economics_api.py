"""``GET /economics``: the service's JSON, the default period, bad parameters as a 422 naming
the field, and only the token's organization."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from keepscore.common.periods import Period
from keepscore.economics.channels import channel_economics
from keepscore.funnel.filters import default_period
from tests.api.conftest import Api, api_for, fields_of
from tests.economics.channel_story import spend, story_fixture  # noqa: F401  (story)
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db

FEB = {"from": "2025-02-01", "to": "2025-02-28"}


@pytest.fixture
def api(owner_a: Any) -> Api:
    return api_for(owner_a)


def test_the_json_is_the_services(api: Api, story: Any):
    response = api.get("/economics", **FEB)
    assert response.status_code == 200, response.content
    body = response.json()
    expected = channel_economics(story, Period(date(2025, 2, 1), date(2025, 2, 28))).as_dict()
    assert body == json.loads(json.dumps(expected))
    referral = next(c for c in body["channels"] if c["key"] == "referral")
    # by hand (tests/economics/channel_story.py)
    assert (referral["spend"], referral["leads"], referral["customers"]) == (100.0, 3, 1)
    assert referral["margin"] == 600.0 and referral["return_on_spend"] == 5.0
    assert referral["conversion"]["k"] == 1 and referral["conversion"]["n"] == 3
    search = next(c for c in body["channels"] if c["key"] == "search")
    assert search["cost_per_lead"] is None and search["cost_per_customer"] is None
    assert body["total"]["spend"] == 900.0 and body["qualified_stage"] == "qualified"


def test_the_default_period(api: Api, story: Any):
    body = api.get("/economics").json()
    assert body["period"] == default_period().as_dict()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "to"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(api: Api, params: dict[str, str], field: str):
    response = api.get("/economics", **params)
    assert response.status_code == 422, response.content
    assert fields_of(response) == [field]


def test_only_the_tokens_organization(api: Api, story: Any, org_b: Any, owner_b: Any):
    lead = new_lead(org_b, "Zed", at(2025, 2, 2), channel_key="email")
    move(lead, "customer", at(2025, 2, 3), owner_b, revenue="4242")
    spend(org_b, date(2025, 2, 1), "email", "3131")
    body = api.get("/economics", **FEB).json()
    email = next(c for c in body["channels"] if c["key"] == "email")
    assert email["spend"] is None and email["revenue"] == 0  # none recorded here
    assert body["total"]["revenue"] == 1500.0
    theirs = api_for(owner_b).get("/economics", **FEB).json()
    assert theirs["total"]["revenue"] == 4242.0 and theirs["total"]["spend"] == 3131.0
