"""Leads over the API: values checked against the database; rules refused with their field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from keepscore.activities.models import Activity
from keepscore.leads.models import DealOutcome, Lead, StageChange
from keepscore.leads.services import lead_create, lead_move
from tests.api.conftest import fields_of
from tests.conftest import channel, stage
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db


def test_list_leads_with_filters_and_pagination(api_a, org_a, owner_a, sales_a, lead_a):
    other = lead_create(
        organization=org_a,
        name="Grace Hopper",
        channel=channel(org_a, "walk-in"),
        by=owner_a,
        owner=sales_a,
        first_touch_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
    )
    everything = api_a.get("/leads").json()
    assert everything["count"] == 2
    assert [item["id"] for item in everything["items"]] == [lead_a.pk, other.pk]
    item = everything["items"][1]
    assert item["channel"] == "walk-in" and item["owner"] == "sales@acme.test"
    assert item["stage"] == "suspect"
    assert item["first_touch_at"].startswith("2024-03-01T12:00:00")

    def ids(**params):
        response = api_a.get("/leads", **params)
        assert response.status_code == 200, response.json()
        return [i["id"] for i in response.json()["items"]]

    assert ids(channel="walk-in") == [other.pk]
    assert ids(owner="SALES@acme.test") == [other.pk]
    assert ids(q="grace") == [other.pk]
    assert ids(stage="suspect") == [lead_a.pk, other.pk]
    assert ids(stage="prospect") == []
    assert ids(created_from="2024-03-01", created_to="2024-03-01") == [other.pk]
    assert ids(created_to="2024-02-29") == []
    page = api_a.get("/leads", limit=1, offset=1).json()
    assert page["count"] == 2 and [i["id"] for i in page["items"]] == [other.pk]


def test_list_leads_by_what_the_reports_count(api_a, org_a, owner_a, sales_a, lead_a):
    """The filters the reports' counts link to on the web, by hand: in March 2024 Ann (sourced
    by Sales) is won; Bob is won, then lost (March's last outcome: a loss); Cy, first touched
    in February, is qualified."""
    ann = new_lead(org_a, "Ann", at(2024, 3, 3), sourced_by=sales_a, campaign="Spring")
    move(ann, "customer", at(2024, 3, 10), owner_a, revenue="100")
    bob = new_lead(org_a, "Bob", at(2024, 3, 4))
    move(bob, "customer", at(2024, 3, 12), owner_a, revenue="100")
    move(bob, "lost", at(2024, 3, 20), owner_a, reason="Price too high")
    cy = new_lead(org_a, "Cy", at(2024, 2, 1))
    move(cy, "qualified", at(2024, 3, 5), owner_a)
    march = {"from": "2024-03-01", "to": "2024-03-31"}

    def names(**params: str) -> list[str]:
        response = api_a.get("/leads", **params)
        assert response.status_code == 200, response.json()
        return sorted(item["name"] for item in response.json()["items"])

    def dated(name: str, **more: str) -> list[str]:
        return names(**{f"{name}_{end}": day for end, day in march.items()}, **more)

    assert dated("created") == ["Ann", "Bob"]
    assert dated("closed_won") == ["Ann"]
    assert dated("closed_lost") == ["Bob"]
    assert dated("won") == ["Ann", "Bob"]  # first won in March, whatever came after
    assert dated("entered", entered="customer") == ["Ann", "Bob"]
    assert dated("entered", entered="qualified") == ["Cy"]
    assert dated("reached", reached="qualified") == ["Ann", "Bob", "Cy"]  # or a later stage
    assert dated("reached", reached="qualified", channel="referral") == ["Ann", "Bob", "Cy"]
    assert names(closed_won_from="2024-04-01") == []
    assert names(sourced_by="sales@acme.test") == ["Ann"]
    assert names(campaign=" Spring ") == ["Ann"] and names(utm_source="Spring") == []
    assert names(status="lost") == ["Bob"]
    assert names(status="won") == ["Ann"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"entered": "nope"}, "entered"),
        ({"reached": "nope"}, "reached"),
        ({"sourced_by": "nobody@x.test"}, "sourced_by"),
        ({"status": "maybe"}, "status"),
        ({"closed_lost_from": "2024-02-30"}, "closed_lost_from"),
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"stage": "nope"}, "stage"),
        ({"channel": "nope"}, "channel"),
        ({"owner": "nobody@x.test"}, "owner"),
        ({"created_from": "2024-13-45"}, "created_from"),
        ({"created_to": "0001-01-01"}, "created_to"),
    ],
)
def test_bad_list_parameters_name_the_field(api_a, lead_a, params, field):
    response = api_a.get("/leads", **params)
    assert response.status_code == 422
    assert fields_of(response) == [field]


def test_create_a_lead(api_a, org_a, sales_a):
    response = api_a.post(
        "/leads",
        {
            "name": " Ada ",
            "channel": "referral",
            "stage": "prospect",
            "email": "ada@example.com",
            "owner": "sales@acme.test",
            "value": "1200.50",
            "utm_source": "newsletter",
            "first_touch_at": "2024-05-01T09:30:00+02:00",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert lead.organization == org_a and lead.name == "Ada"
    assert lead.channel == channel(org_a) and lead.stage == stage(org_a, "prospect")
    assert lead.owner == sales_a and lead.value == Decimal("1200.50")
    assert lead.utm_source == "newsletter"
    assert lead.first_touch_at == datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    assert body["value"] == "1200.50" and body["owner"] == "sales@acme.test"
    change = StageChange.objects.get(lead=lead)
    assert change.from_stage is None and change.to_stage.key == "prospect"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "referral"}, "name"),
        ({"name": "", "channel": "referral"}, "name"),
        ({"name": "x"}, "channel"),
        ({"name": "x", "channel": "nope"}, "channel"),
        ({"name": "x", "channel": "referral", "stage": "customer"}, "stage"),
        ({"name": "x", "channel": "referral", "email": "not-an-email"}, "email"),
        ({"name": "x", "channel": "referral", "value": "-1"}, "value"),
        ({"name": "x", "channel": "referral", "value": "1e20"}, "value"),
        ({"name": "x", "channel": "referral", "value": "NaN"}, "value"),
        ({"name": "x\x00", "channel": "referral"}, "name"),
        ({"name": "x", "channel": "referral", "first_touch_at": "2999-01-01T00:00Z"}, None),
        ({"name": "x", "channel": "referral", "first_touch_at": "0001-01-01T00:00+14:00"}, None),
        ({"name": "x" * 201, "channel": "referral"}, "name"),
    ],
)
def test_create_refuses_bad_input_by_field(api_a, org_a, body, field):
    response = api_a.post("/leads", body)
    assert response.status_code == 422, response.json()
    assert fields_of(response) == [field or "first_touch_at"]
    assert Lead.objects.count() == 0


def test_malformed_json_is_a_client_error(api_a):
    response = api_a.client.post(
        "/api/v1/leads",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_a.token}"},
    )
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


def test_read_a_lead(api_a, lead_a):
    body = api_a.get(f"/leads/{lead_a.pk}").json()
    assert body["name"] == "Ada Lovelace" and body["company"] == "AE"
    assert body["channel"] == "referral" and body["value"] is None
    assert api_a.get("/leads/999999").status_code == 404
    assert api_a.get(f"/leads/{2**70}").status_code in (404, 422)


def test_update_a_lead(api_a, lead_a, sales_a):
    response = api_a.patch(
        f"/leads/{lead_a.pk}", {"phone": "+44 1", "owner": "sales@acme.test", "value": 99.5}
    )
    assert response.status_code == 200, response.json()
    lead_a.refresh_from_db()
    assert lead_a.phone == "+44 1" and lead_a.owner == sales_a
    assert lead_a.value == Decimal("99.50") and lead_a.company == "AE"
    assert response.json()["value"] == "99.50"
    cleared = api_a.patch(f"/leads/{lead_a.pk}", {"owner": None})
    assert cleared.status_code == 200
    lead_a.refresh_from_db()
    assert lead_a.owner is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"channel": "walk-in"}, ["channel"]),
        ({"utm_source": "x", "name": "New"}, ["utm_source"]),
        ({"stage": "prospect"}, ["stage"]),
        ({"first_touch_at": "2024-01-01T00:00Z"}, ["first_touch_at"]),
        ({"email": "nope"}, ["email"]),
        ({"name": ""}, ["name"]),
        ({"owner": "nobody@x.test"}, ["owner"]),
    ],
)
def test_update_refuses_source_and_bad_fields(api_a, lead_a, body, fields):
    before = Lead.objects.filter(pk=lead_a.pk).values().get()
    response = api_a.patch(f"/leads/{lead_a.pk}", body)
    assert response.status_code == 422
    assert fields_of(response) == fields
    assert Lead.objects.filter(pk=lead_a.pk).values().get() == before


def test_move_to_won_with_revenue(api_a, org_a, lead_a, owner_a):
    response = api_a.post(
        f"/leads/{lead_a.pk}/moves",
        {"to_stage": "customer", "revenue": "1000", "cost": 250.25, "note": "signed"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    change = StageChange.objects.get(pk=body["id"])
    assert change.to_stage.key == "customer" and change.by == owner_a.user
    assert change.note == "signed"
    deal = DealOutcome.objects.get(stage_change=change)
    assert deal.revenue == Decimal("1000") and deal.cost == Decimal("250.25")
    assert body["outcome"] == {
        "result": "won",
        "revenue": "1000.00",
        "cost": "250.25",
        "margin": "749.75",
        "lost_reason": None,
        "lost_note": "",
        "lines": [],
    }
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "customer"


def test_move_to_lost_by_reason_name_or_id(api_a, org_a, lead_a, owner_a):
    from keepscore.leads.models import LostReason

    reason = LostReason.objects.for_org(org_a).get(name="No budget")
    by_name = api_a.post(
        f"/leads/{lead_a.pk}/moves", {"to_stage": "lost", "lost_reason": "no budget"}
    )
    assert by_name.status_code == 201, by_name.json()
    assert by_name.json()["outcome"]["lost_reason"] == "No budget"
    api_a.post(f"/leads/{lead_a.pk}/moves", {"to_stage": "prospect"})
    by_id = api_a.post(f"/leads/{lead_a.pk}/moves", {"to_stage": "lost", "lost_reason": reason.pk})
    assert by_id.status_code == 201, by_id.json()
    assert DealOutcome.objects.filter(lead=lead_a, lost_reason=reason).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to_stage": "customer"}, "revenue"),
        ({"to_stage": "customer", "revenue": -5}, "revenue"),
        ({"to_stage": "customer", "revenue": "1e20"}, "revenue"),
        ({"to_stage": "lost"}, "lost_reason"),
        ({"to_stage": "lost", "lost_reason": "Aliens"}, "lost_reason"),
        ({"to_stage": "qualified"}, "to_stage"),
        ({"to_stage": "suspect"}, "to_stage"),
        ({"to_stage": "nope"}, "to_stage"),
        ({"to_stage": "prospect", "at": "2999-01-01T00:00:00Z"}, "at"),
        ({"to_stage": "prospect", "at": "2000-01-01T00:00:00Z"}, "at"),
    ],
)
def test_a_move_that_breaks_a_rule_writes_nothing(api_a, lead_a, body, field):
    before = (StageChange.objects.count(), DealOutcome.objects.count())
    response = api_a.post(f"/leads/{lead_a.pk}/moves", body)
    assert response.status_code == 422, response.json()
    assert fields_of(response) == [field]
    assert (StageChange.objects.count(), DealOutcome.objects.count()) == before
    lead_a.refresh_from_db()
    assert lead_a.stage.key == "suspect"


def test_a_sales_member_cannot_override_the_checklist(org_a, lead_a, sales_a):
    from tests.api.conftest import api_for

    api = api_for(sales_a)
    response = api.post(
        f"/leads/{lead_a.pk}/moves", {"to_stage": "qualified", "override_reason": "trust me"}
    )
    assert response.status_code == 422
    assert fields_of(response) == ["override_reason"]
    assert StageChange.objects.filter(lead=lead_a).count() == 1


def test_stage_changes(api_a, lead_a, owner_a):
    lead_move(lead=lead_a, to_stage=stage(lead_a.organization, "prospect"), by=owner_a)
    body = api_a.get(f"/leads/{lead_a.pk}/stage-changes").json()
    assert [(c["from_stage"], c["to_stage"]) for c in body] == [
        (None, "suspect"),
        ("suspect", "prospect"),
    ]
    assert body[1]["by"] == "owner@acme.test" and body[1]["outcome"] is None
    assert Activity.objects.count() == 0
