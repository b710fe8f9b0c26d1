"""Activities, objections, channels and stages over the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keepscore.activities.models import Activity, Objection
from keepscore.activities.services import activity_log
from keepscore.leads.models import Channel, Stage
from tests.api.conftest import fields_of

pytestmark = pytest.mark.django_db


def test_log_and_list_activities(api_a, lead_a, owner_a):
    response = api_a.post(
        f"/leads/{lead_a.pk}/activities",
        {"kind": "meeting", "with_buyer": True, "outcome": " Keen ", "notes": "n"},
    )
    assert response.status_code == 201, response.json()
    activity = Activity.objects.get(pk=response.json()["id"])
    assert activity.lead == lead_a and activity.by == owner_a and activity.kind == "meeting"
    assert activity.outcome == "Keen" and activity.with_buyer
    body = response.json()
    assert body["is_sales_conversation"] is True and body["by"] == "owner@acme.test"
    listed = api_a.get(f"/leads/{lead_a.pk}/activities").json()
    assert [a["id"] for a in listed] == [activity.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "dance"}, "kind"),
        ({}, "kind"),
        ({"kind": "email", "at": "2999-01-01T00:00Z"}, "at"),
        ({"kind": "email", "at": "2000-01-01T00:00Z"}, "at"),
        ({"kind": "email", "outcome": "x" * 201}, "outcome"),
    ],
)
def test_bad_activities_name_the_field(api_a, lead_a, body, field):
    response = api_a.post(f"/leads/{lead_a.pk}/activities", body)
    assert response.status_code == 422, response.json()
    assert fields_of(response) == [field]
    assert Activity.objects.count() == 0


def test_activities_of_the_organization_filtered_and_paginated(api_a, lead_a, owner_a):
    old = activity_log(lead=lead_a, kind="email", by=owner_a)
    new = activity_log(lead=lead_a, kind="meeting", by=owner_a)
    body = api_a.get("/activities").json()
    assert body["count"] == 2 and {a["id"] for a in body["items"]} == {old.pk, new.pk}
    assert [a["id"] for a in api_a.get("/activities", kind="email").json()["items"]] == [old.pk]
    today = datetime.now(UTC).date().isoformat()
    assert api_a.get("/activities", **{"from": today, "to": today}).json()["count"] == 2
    assert api_a.get("/activities", to="2001-01-01").json()["count"] == 0
    assert len(api_a.get("/activities", limit=1).json()["items"]) == 1
    assert fields_of(api_a.get("/activities", kind="dance")) == ["kind"]
    assert fields_of(api_a.get("/activities", limit=501)) == ["limit"]


def test_objections(api_a, lead_a, lead_b, owner_a, owner_b):
    activity = activity_log(lead=lead_a, kind="connect", by=owner_a)
    response = api_a.post(
        f"/leads/{lead_a.pk}/objections",
        {"tag": "price", "text": "Too dear", "activity": activity.pk},
    )
    assert response.status_code == 201, response.json()
    objection = Objection.objects.get(pk=response.json()["id"])
    assert objection.activity == activity and objection.tag == "price" and objection.by == owner_a
    assert [o["id"] for o in api_a.get(f"/leads/{lead_a.pk}/objections").json()] == [objection.pk]
    theirs = activity_log(lead=lead_b, kind="connect", by=owner_b)
    refused = api_a.post(f"/leads/{lead_a.pk}/objections", {"tag": "price", "activity": theirs.pk})
    assert refused.status_code == 422 and fields_of(refused) == ["activity"]
    assert fields_of(api_a.post(f"/leads/{lead_a.pk}/objections", {"tag": "x"})) == ["tag"]
    assert Objection.objects.count() == 1


def test_channels(api_a, org_a):
    listed = api_a.get("/channels").json()
    assert {c["key"] for c in listed} == set(
        Channel.objects.for_org(org_a).values_list("key", flat=True)
    )
    created = api_a.post("/channels", {"name": "Podcast"})
    assert created.status_code == 201
    channel = Channel.objects.for_org(org_a).get(pk=created.json()["id"])
    assert channel.key == "podcast" and channel.active
    duplicate = api_a.post("/channels", {"name": "podcast"})
    assert duplicate.status_code == 422 and fields_of(duplicate) == ["name"]
    assert fields_of(api_a.post("/channels", {"name": " "})) == ["name"]


def test_stages(api_a, org_a):
    body = api_a.get("/stages").json()
    assert [s["key"] for s in body] == list(
        Stage.objects.for_org(org_a).values_list("key", flat=True)
    )
    qualified = next(s for s in body if s["key"] == "qualified")
    assert qualified["requires_qualification"] is True and qualified["group"] == "LEAD"


def test_docs_work_offline_and_the_document_is_served(client):
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    import re

    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/static/") for u in urls), urls
    assert "cdn" not in html.lower()
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["version"] == "1"
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
