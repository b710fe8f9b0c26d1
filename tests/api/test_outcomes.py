"""Deal outcomes over the API: values against the database, margins by hand, filters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.leads.models import DealOutcome, Lead, LostReason
from keepscore.leads.services import Outcome, lead_create, lead_move
from tests.api.conftest import Api, fields_of
from tests.conftest import channel, stage

pytestmark = pytest.mark.django_db


def _at(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def _lead(org: Organization, by: Membership, name: str, key: str) -> Lead:
    return lead_create(
        organization=org,
        name=name,
        channel=channel(org, key),
        by=by,
        first_touch_at=_at("2024-01-02 08:00"),
    )


def _won(lead: Lead, by: Membership, at: str, revenue: str, cost: str | None) -> DealOutcome:
    change = lead_move(
        lead=lead,
        to_stage=stage(lead.organization, "customer"),
        by=by,
        at=_at(at),
        outcome=Outcome(revenue=Decimal(revenue), cost=Decimal(cost) if cost else None),
    )
    return DealOutcome.objects.get(stage_change=change)


def _lost(lead: Lead, by: Membership, at: str, reason: str, note: str = "") -> DealOutcome:
    change = lead_move(
        lead=lead,
        to_stage=stage(lead.organization, "lost"),
        by=by,
        at=_at(at),
        outcome=Outcome(
            lost_reason=LostReason.objects.for_org(lead.organization).get(name=reason),
            lost_note=note,
        ),
    )
    return DealOutcome.objects.get(stage_change=change)


@pytest.fixture
def deals(org_a: Organization, owner_a: Membership, lead_b: Lead, owner_b: Membership) -> Any:
    ada = _lead(org_a, owner_a, "Ada Lovelace", "referral")
    bo = _lead(org_a, owner_a, "Bo Brown", "email")
    cy = _lead(org_a, owner_a, "Cy Young", "referral")
    ada_won = _won(ada, owner_a, "2024-03-10 10:00", "1200.50", "300.25")
    bo_lost = _lost(bo, owner_a, "2024-03-15 00:00", "No budget", "next year")
    lead_move(lead=bo, to_stage=stage(org_a, "prospect"), by=owner_a, at=_at("2024-04-01 09:00"))
    bo_won = _won(bo, owner_a, "2024-04-20 23:59", "500", None)
    cy_won = _won(cy, owner_a, "2024-05-01 12:00", "99.99", "100")
    # organization B's deal: never listed for A
    lead_move(
        lead=lead_b,
        to_stage=stage(lead_b.organization, "lost"),
        by=owner_b,
        outcome=Outcome(lost_reason=LostReason.objects.for_org(lead_b.organization).first()),
    )
    return {
        "leads": (ada, bo, cy),
        "outcomes": (ada_won, bo_lost, bo_won, cy_won),
    }


def expected(outcome: DealOutcome, margin: str | None) -> dict[str, Any]:
    """The item for ``outcome`` read back from the database; the margin worked out by hand."""
    outcome = DealOutcome.objects.select_related("lead", "lost_reason").get(pk=outcome.pk)
    return {
        "id": outcome.pk,
        "lead": outcome.lead_id,
        "lead_name": outcome.lead.name,
        "result": outcome.result,
        "at": outcome.at,
        "revenue": None if outcome.revenue is None else f"{outcome.revenue:.2f}",
        "cost": None if outcome.cost is None else f"{outcome.cost:.2f}",
        "margin": margin,
        "lost_reason": outcome.lost_reason.name if outcome.lost_reason else None,
        "lost_note": outcome.lost_note,
        "stage_change": outcome.stage_change_id,
        "lines": [],  # typed in: no products sold (tests/economics/test_products_api.py)
    }


def _items(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.json()
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return [item | {"at": datetime.fromisoformat(item["at"])} for item in items]


def test_outcomes_of_the_organization(api_a: Api, deals: Any) -> None:
    ada_won, bo_lost, bo_won, cy_won = deals["outcomes"]
    response = api_a.get("/outcomes")
    assert response.json()["count"] == 4
    # newest first; margins: 1200.50 - 300.25, none for 500 (no cost recorded), 99.99 - 100
    assert _items(response) == [
        expected(cy_won, "-0.01"),
        expected(bo_won, None),
        expected(bo_lost, None),
        expected(ada_won, "900.25"),
    ]
    assert _items(response)[2] | {"at": None} == {
        "id": bo_lost.pk,
        "lead": deals["leads"][1].pk,
        "lead_name": "Bo Brown",
        "result": "lost",
        "at": None,
        "revenue": None,
        "cost": None,
        "margin": None,
        "lost_reason": "No budget",
        "lost_note": "next year",
        "stage_change": bo_lost.stage_change_id,
        "lines": [],
    }
    assert _items(response)[3]["revenue"] == "1200.50" and _items(response)[3]["cost"] == "300.25"


def _ids(api: Api, **params: Any) -> list[int]:
    return [item["id"] for item in _items(api.get("/outcomes", **params))]


def test_outcome_filters(api_a: Api, deals: Any) -> None:
    ada_won, bo_lost, bo_won, cy_won = (o.pk for o in deals["outcomes"])
    assert _ids(api_a, result="won") == [cy_won, bo_won, ada_won]
    assert _ids(api_a, result="lost") == [bo_lost]
    # from and to take in the whole of their days
    assert _ids(api_a, **{"from": "2024-03-15", "to": "2024-04-20"}) == [bo_won, bo_lost]
    assert _ids(api_a, **{"from": "2024-03-16"}) == [cy_won, bo_won]
    assert _ids(api_a, to="2024-03-14") == [ada_won]
    assert _ids(api_a, channel="email") == [bo_won, bo_lost]
    assert _ids(api_a, channel="referral", result="won", to="2024-04-30") == [ada_won]
    assert _ids(api_a, channel="ads") == []
    # an end before its start is refused by name, not answered with nothing
    backwards = api_a.get("/outcomes", **{"from": "2024-05-02", "to": "2024-05-01"})
    assert backwards.status_code == 422
    assert [e["field"] for e in backwards.json()["errors"]] == ["to"]
    assert _ids(api_a, **{"from": "2024-05-01", "to": "2024-05-01"}) == [cy_won]


def test_outcome_pages(api_a: Api, deals: Any) -> None:
    _ada_won, bo_lost, bo_won, _cy_won = (o.pk for o in deals["outcomes"])
    body = api_a.get("/outcomes", limit=2, offset=1).json()
    assert body["count"] == 4 and [i["id"] for i in body["items"]] == [bo_won, bo_lost]
    assert _ids(api_a, limit=2, offset=4) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"result": "maybe"}, "result"),
        ({"channel": "nope"}, "channel"),
        ({"from": "2024-02-30"}, "from"),
        ({"to": "1500-01-01"}, "to"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_bad_filters_name_the_field(api_a: Api, deals: Any, params: Any, field: str) -> None:
    response = api_a.get("/outcomes", **params)
    assert response.status_code == 422, response.json()
    assert fields_of(response) == [field]


def test_a_leads_outcomes(api_a: Api, deals: Any, lead_b: Lead) -> None:
    ada, bo, _cy = deals["leads"]
    ada_won, bo_lost, bo_won, _cy_won = deals["outcomes"]
    assert _items(api_a.get(f"/leads/{bo.pk}/outcomes")) == [
        expected(bo_won, None),
        expected(bo_lost, None),
    ]
    assert _items(api_a.get(f"/leads/{ada.pk}/outcomes")) == [expected(ada_won, "900.25")]
    # another organization's lead is not there
    response = api_a.get(f"/leads/{lead_b.pk}/outcomes")
    assert response.status_code == 404 and response.json()["detail"]


def test_a_lead_without_outcomes(api_a: Api, org_a: Organization, owner_a: Membership) -> None:
    lead = _lead(org_a, owner_a, "Dee", "walk-in")
    assert _items(api_a.get(f"/leads/{lead.pk}/outcomes")) == []
    assert api_a.get("/outcomes").json() == {"items": [], "count": 0}
