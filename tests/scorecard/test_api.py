"""The scorecard API: manual metrics, their values, targets, goals and reviews."""

from __future__ import annotations

import pytest

from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, ReviewEntry, Target
from keepscore.scorecard.services import goal_set, review_add, target_set
from tests.scorecard.conftest import api_for

pytestmark = pytest.mark.django_db


MODELS = (ManualMetric, ManualValue, Target, Goal, ReviewEntry)


def snapshot(organization=None):
    rows = [
        m.objects.all() if organization is None else m.objects.for_org(organization) for m in MODELS
    ]
    return [sorted(qs.values_list()) for qs in rows]


def fields_of(response):
    return [e["field"] for e in response.json()["errors"]]


def test_the_catalogue_lists_computed_and_manual_metrics(api_a, visitors_a, visitors_b):
    response = api_a.get("/metrics")
    assert response.status_code == 200
    body = response.json()
    keys = [m["key"] for m in body]
    assert keys[0] == "new_leads" and "website_visitors" in keys and "bravo_visitors" not in keys
    manual = next(m for m in body if m["key"] == "website_visitors")
    assert manual["manual"] is True and manual["group"] == "SUSPECT"
    assert next(m for m in body if m["key"] == "revenue")["manual"] is False


def test_a_manual_metric_is_added(api_a, org_a):
    response = api_a.post("/metrics", {"name": "Downloads", "group": "PROSPECT"})
    assert response.status_code == 201, response.json()
    assert response.json()["key"] == "downloads"
    clash = api_a.post("/metrics", {"name": "Revenue 2", "key": "revenue", "group": "CUSTOMER"})
    assert clash.status_code == 422 and fields_of(clash) == ["key"]
    assert clash.json()["detail"].startswith("key:")


def test_a_value_is_put_read_and_cleared(api_a, visitors_a):
    path = "/metrics/website_visitors/values/2026-03"
    assert api_a.get(path).json()["value"] is None
    response = api_a.put(path, {"value": "1200"})
    assert response.status_code == 200, response.json()
    assert response.json()["value"] == "1200" and response.json()["by"] == "owner@acme.test"
    assert api_a.get(path).json()["value"] == "1200"
    assert api_a.put(path, {"value": None}).json()["value"] is None
    assert not ManualValue.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/metrics/website_visitors/values/2026-13", {"value": 1}, "month"),
        ("/metrics/website_visitors/values/2026-01", {"value": -1}, "value"),
        ("/metrics/website_visitors/values/2026-01", {"value": "abc"}, "value"),
        ("/targets/close_rate/2026-01", {"value": 101}, "value"),
        ("/targets/revenue/13-2026", {"value": 1}, "month"),
        ("/goals/revenue/20260", {"value": 1}, "year"),
    ],
)
def test_bad_input_is_422_naming_the_field(api_a, visitors_a, path, body, field):
    before = snapshot()
    response = api_a.put(path, body)
    assert response.status_code == 422, response.json()
    assert field in fields_of(response)
    assert snapshot() == before


def test_targets_and_goals(api_a):
    assert api_a.put("/targets/revenue/2026-04", {"value": 5000}).json() == {
        "metric": "revenue",
        "month": "2026-04",
        "value": "5000",
    }
    assert api_a.get("/targets/revenue/2026-04").json()["value"] == "5000"
    assert api_a.delete("/targets/revenue/2026-04").status_code == 204
    assert api_a.get("/targets/revenue/2026-04").json()["value"] is None
    assert api_a.put("/goals/customers/2026", {"value": 40}).json()["value"] == "40"
    assert api_a.get("/goals/customers/2026").json() == {
        "metric": "customers",
        "year": 2026,
        "value": "40",
    }
    assert api_a.delete("/goals/customers/2026").status_code == 204
    assert not Goal.objects.exists() and not Target.objects.exists()


def test_reviews(api_a):
    response = api_a.post("/reviews/2026-03", {"kind": "decision", "text": "Call more"})
    assert response.status_code == 201, response.json()
    assert api_a.post("/reviews/2026-03", {"kind": "note", "text": " "}).status_code == 422
    assert api_a.post("/reviews/2026-03", {"kind": "edit", "text": "x"}).status_code == 422
    listed = api_a.get("/reviews/2026-03").json()
    assert [(r["kind"], r["text"], r["by"]) for r in listed] == [
        ("decision", "Call more", "owner@acme.test")
    ]


def test_a_sales_only_token_reads_but_cannot_write(api_a, sales_a, visitors_a):
    api = api_for(sales_a)
    before = snapshot()
    assert api.get("/metrics").status_code == 200
    assert api.get("/reviews/2026-03").status_code == 200
    for method, path, body in [
        ("post", "/metrics", {"name": "x", "group": "LEAD"}),
        ("put", "/metrics/website_visitors/values/2026-01", {"value": 1}),
        ("put", "/targets/revenue/2026-01", {"value": 1}),
        ("delete", "/targets/revenue/2026-01", None),
        ("put", "/goals/revenue/2026", {"value": 1}),
        ("delete", "/goals/revenue/2026", None),
        ("post", "/reviews/2026-01", {"text": "x"}),
    ]:
        response = api.send(method, path, body)
        assert response.status_code == 403, (method, path)
        assert response.json()["detail"]
    assert snapshot() == before


def test_a_token_of_a_never_reaches_b(api_a, org_b, owner_b, visitors_b):
    # given: B's data
    target_set(organization=org_b, metric_key="bravo_visitors", month="2026-01", value=5)
    goal_set(organization=org_b, metric_key="bravo_visitors", year=2026, value=50)
    review_add(organization=org_b, month="2026-01", kind="note", text="Bravo secret", by=owner_b)
    before = snapshot(org_b)
    # when / then: B's manual metric is unknown to A's token, whatever the method
    for method, path, body in [
        ("get", "/metrics/bravo_visitors/values/2026-01", None),
        ("put", "/metrics/bravo_visitors/values/2026-01", {"value": 1}),
        ("get", "/targets/bravo_visitors/2026-01", None),
        ("put", "/targets/bravo_visitors/2026-01", {"value": 1}),
        ("delete", "/targets/bravo_visitors/2026-01", None),
        ("get", "/goals/bravo_visitors/2026", None),
        ("put", "/goals/bravo_visitors/2026", {"value": 1}),
        ("delete", "/goals/bravo_visitors/2026", None),
    ]:
        response = api_a.send(method, path, body)
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["detail"]
    # computed metrics and months are shared names: A reads and writes only its own rows
    assert api_a.get("/reviews/2026-01").json() == []
    assert "bravo" not in api_a.get("/metrics").content.decode().lower()
    api_a.put("/targets/revenue/2026-01", {"value": 1})
    api_a.post("/reviews/2026-01", {"text": "Acme"})
    assert snapshot(org_b) == before
    assert Target.objects.for_org(org_b).get().value == 5


def test_no_token_is_401(client, org_a):
    assert client.get("/api/v1/metrics").status_code == 401
