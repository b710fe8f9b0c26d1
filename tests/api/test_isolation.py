"""A token sees only its organization: every operation of the OpenAPI document, walked.

For each path and method in ``api.get_openapi_schema()`` (a new endpoint is covered without
being listed here), organization A's token is sent with organization B's ids (and keys) in the
path: 404, and B's data unchanged. List endpoints return none of B's rows.

A path whose only parameters are values (a month, a year: ``/reviews/{month}``), like a path
without any (``/funnel``), names nothing of B's: it answers for A (2xx), shows nothing of B's
and changes nothing of B's. PUT and POST send a body that would succeed in B's organization.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pytest
from django.apps import apps

from keepscore.activities.services import activity_log, objection_add
from keepscore.api.api import api
from keepscore.leads.models import Channel, LostReason, StageChange
from keepscore.leads.services import Outcome, lead_create, lead_move
from tests.conftest import built_once, channel, make_org, stage, table_rows

pytestmark = pytest.mark.django_db

OPERATIONS = sorted(
    (path.removeprefix("/api/v1"), method)
    for path, item in api.get_openapi_schema()["paths"].items()
    for method in item
)
#: a body that would succeed in B's own organization, per operation path
BODIES = {
    "/leads": {"name": "Hijack", "channel": "referral"},
    "/leads/{lead_id}": {"name": "Hijacked"},
    "/leads/{lead_id}/moves": {"to_stage": "prospect"},
    "/leads/{lead_id}/activities": {"kind": "note", "notes": "hijack"},
    "/leads/{lead_id}/objections": {"tag": "price", "text": "hijack"},
    "/channels": {"name": "Hijack"},
    "/metrics": {"name": "Hijack", "group": "SUSPECT"},
    "/metrics/{key}/values/{month}": {"value": 1},
    "/targets/{key}/{month}": {"value": 1},
    "/goals/{key}/{year}": {"value": 1},
    "/plan/{year}": {"goal_kind": "revenue", "goal_amount": 1000},
    "/plan/{year}/accept": {"replace": True},
    "/reviews/{month}": {"text": "x"},
    "/products": {"name": "Hijack", "price": 1},
    "/products/{product_id}": {"name": "Hijacked", "active": False},
    "/money-settings": {"default_margin_pct": 10},
    "/spend": {"month": "2026-01", "channel": "ads", "amount": 10},
    "/cash": {"month": "2026-01", "cash_on_hand": 10, "monthly_fixed_costs": 1},
    "/leads/{lead_id}/tasks": {"kind": "call", "due_on": "2026-01-05"},
    "/leads/{lead_id}/stage-changes/{change_id}/undo": {"reason": "hijack"},
    "/tasks/{task_id}": {"done": True, "note": "hijack"},
    # B's lead has this email (A's too): A's token erases only A's
    "/people/erase": {"email": "shared@example.com", "confirm": True},
    "/invitations": {"email": "invited@example.com", "roles": ["sales"]},
    # the token's own member's notices: B's members' stay as they are
    "/notices": {"lead_assigned": False, "digest": False},
    "/review-meeting": {"which": "first", "weekday": "Tuesday"},
}
#: operations that take a file (multipart): the file and its form fields, per path; an import
#: of a lead with B's lead's email goes to A's organization, and matches nothing of B's
UPLOADS = {
    "/import-jobs": (
        "leads.csv",
        b"name,email,source\nHijack,shared@example.com,referral\n",
        {"map": ["email=email"]},
    ),
}
#: the monthly reports take at most 120 months: the ten years to the end of this one
TEN_YEARS = {"from": f"{date.today().year - 9}-01-01", "to": f"{date.today().year}-12-31"}
#: query parameters for a GET, so that B's rows would show if they leaked (all of time; B's
#: owner's email names the group of B's lead)
QUERIES = {
    "/funnel": {"from": "2000-01-01", "to": "2999-12-31", "by": "owner"},
    "/funnel/cycle": {"from": "2000-01-01", "to": "2999-12-31"},
    "/economics": {"from": "2000-01-01", "to": "2999-12-31"},
    "/jobs": TEN_YEARS,
    "/objections/report": TEN_YEARS,
    "/people/export": {"email": "shared@example.com"},
}
#: path parameters that are values, not objects of an organization
VALUE_PARAMS = {"month", "year"}
#: text of B's that no answer to A may hold
B_TEXTS = ("Bob Bravo", "bravo", "B visitors", "b_visitors", "Review of B", "B campaign", "B cash")


def snapshot() -> dict[str, list[Any]]:
    labels = ("accounts", "leads", "activities", "scorecard", "economics", "followups")
    return {
        m._meta.label: table_rows(m)
        for m in apps.get_models()
        if m._meta.app_label in labels and m._meta.model_name != "apitoken"
    }


def of_org(rows: dict[str, list[Any]], org_id: int) -> dict[str, list[Any]]:
    from keepscore.accounts.models import Organization

    mine = {}
    for model in apps.get_models():
        if model._meta.label not in rows:
            continue
        names = [f.name for f in model._meta.concrete_fields]
        if model is Organization:
            column = names.index("id")
        elif "organization" in names:
            column = names.index("organization")
        else:
            continue
        mine[model._meta.label] = [r for r in rows[model._meta.label] if r[column] == org_id]
    return mine


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """Organizations A and B, their leads (as ``tests/conftest.py`` makes them) and B's world,
    built once for the module (each test runs in a savepoint rolled back at its end, see
    ``tests.conftest.built_once``)."""
    with built_once(django_db_blocker):
        org_a, owner_a = make_org("acme", "owner@acme.test")
        org_b, owner_b = make_org("bravo", "owner@bravo.test")
        lead_a = lead_create(
            organization=org_a,
            name="Ada Lovelace",
            channel=channel(org_a),
            by=owner_a,
            company="AE",
        )
        lead_b = lead_create(
            organization=org_b, name="Bob Bravo", channel=channel(org_b), by=owner_b, company="BB"
        )
        world = make_b_world(org_b, owner_b, lead_b, lead_a, owner_a)
        yield {"org_a": org_a, "org_b": org_b, "lead_a": lead_a, "lead_b": lead_b, "b": world}


@pytest.fixture
def fresh(built, db):
    """The module's objects for one test: fresh copies (a test may change them in memory)."""
    return copy.deepcopy(built)


@pytest.fixture
def org_a(fresh):
    return fresh["org_a"]


@pytest.fixture
def org_b(fresh):
    return fresh["org_b"]


@pytest.fixture
def lead_a(fresh):
    return fresh["lead_a"]


@pytest.fixture
def lead_b(fresh):
    return fresh["lead_b"]


@pytest.fixture
def b_world(fresh):
    return fresh["b"]


def make_b_world(org_b, owner_b, lead_b, lead_a, owner_a):
    activity_log(lead=lead_a, kind="note", by=owner_a)
    lead_move(
        lead=lead_a,
        to_stage=stage(lead_a.organization, "lost"),
        by=owner_a,
        outcome=Outcome(lost_reason=LostReason.objects.for_org(lead_a.organization).first()),
    )
    activity = activity_log(lead=lead_b, kind="connect", by=owner_b)
    objection_add(lead=lead_b, tag="price", by=owner_b, activity=activity)
    lead_move(lead=lead_b, to_stage=stage(org_b, "prospect"), by=owner_b)
    lead_move(
        lead=lead_b,
        to_stage=stage(org_b, "lost"),
        by=owner_b,
        outcome=Outcome(lost_reason=LostReason.objects.for_org(org_b).first()),
    )
    from django.utils import timezone

    from keepscore.imports.models import ImportJob
    from keepscore.scorecard.services import (
        goal_set,
        manual_metric_save,
        manual_value_set,
        review_add,
        target_set,
    )

    metric = manual_metric_save(organization=org_b, name="B visitors", group="SUSPECT")
    manual_value_set(metric=metric, month="2026-01", value=5, by=owner_b)
    target_set(organization=org_b, metric_key=metric.key, month="2026-01", value=7)
    goal_set(organization=org_b, metric_key=metric.key, year=2026, value=70)
    review_add(organization=org_b, month="2026-01", kind="note", text="Review of B", by=owner_b)
    from keepscore.plan.services import plan_save

    plan_save(
        organization=org_b,
        year=2026,
        goal_kind="customers",
        goal_amount=77,
        overrides={},
        by=owner_b,
    )
    # A's plan, complete (its few leads measure no rate): A's token may write its targets
    rates = {"to_qualified": 0.5, "to_proposal": 0.5, "to_customer": 0.5}
    plan_save(
        organization=lead_a.organization,
        year=2026,
        goal_kind="customers",
        goal_amount=12,
        overrides=rates,
        by=None,
    )

    for org in (lead_a.organization, org_b):
        job = ImportJob.objects.create(
            organization=org, kind="leads", file_name=f"{org.slug}.csv", preset="plain",
            status=ImportJob.Status.IMPORTED, started_at=timezone.now(),
        )  # fmt: skip
    from decimal import Decimal

    from keepscore.economics.services import default_margin_set, product_save

    product_save(organization=lead_a.organization, name="Alpha widget", price=Decimal(5))
    product_b = product_save(organization=org_b, name="bravo widget", price=Decimal(7))
    default_margin_set(organization=org_b, pct=Decimal(20))
    from keepscore.economics.services import cash_set, spend_set

    spend_set(
        organization=lead_a.organization,
        month="2026-01",
        channel="ads",
        amount="5",
        campaign="A campaign",
    )
    spend_b = spend_set(
        organization=org_b,
        month="2026-01",
        channel="ads",
        amount="9",
        campaign="B campaign",
        by=owner_b,
    )
    cash_set(
        organization=lead_a.organization,
        month="2026-01",
        cash_on_hand="100",
        monthly_fixed_costs="10",
    )
    cash_set(
        organization=org_b,
        month="2026-01",
        cash_on_hand="900",
        monthly_fixed_costs="10",
        note="B cash",
    )
    from keepscore.followups.services import followup_add

    # one email in both organizations: A's token exports and erases A's person only
    for org, owner, name in ((lead_a.organization, owner_a, "Ada"), (org_b, owner_b, "Bob Bravo")):
        lead_create(
            organization=org,
            name=f"{name} (shared email)",
            channel=Channel.objects.for_org(org).first(),
            by=owner,
            email="shared@example.com",
            notes=f"{name}'s notes",
        )
    followup_add(lead=lead_a, by=owner_a, kind="call", due_on=date(2026, 1, 5))
    task_b = followup_add(
        lead=lead_b, by=owner_b, kind="meeting", due_on=date(2026, 1, 5), note="B campaign"
    )
    return {
        "change_id": StageChange.objects.filter(lead=lead_b).order_by("at", "id").last().pk,
        "task_id": task_b.pk,
        "product_id": product_b.pk,
        "spend_id": spend_b.pk,
        "lead_id": lead_b.pk,
        "job_id": job.pk,
        "key": metric.key,
        "month": "2026-01",
        "year": 2026,
    }


def test_every_operation_is_covered():
    assert len(OPERATIONS) >= 14, OPERATIONS
    writes = [path for path, method in OPERATIONS if method in ("post", "patch", "put")]
    assert all(path in BODIES or path in UPLOADS for path in writes)
    assert {method for _path, method in OPERATIONS} <= {"get", "post", "patch", "put", "delete"}


def test_b_world_fills_every_path_parameter(b_world):
    params = {p for path, _method in OPERATIONS for p in re.findall(r"{(\w+)}", path)}
    assert params <= set(b_world), params - set(b_world)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_a_token_of_a_never_reaches_b(api_a, lead_a, b_world, org_b, path, method):
    # given
    before = snapshot()
    params = re.findall(r"{(\w+)}", path)
    url = path.format(**{p: b_world[p] for p in params})
    # when
    sent = () if method in ("get", "delete") or path in UPLOADS else (BODIES[path],)
    query = QUERIES.get(path, {}) if method == "get" else {}
    if path in UPLOADS and method == "post":
        name, content, fields = UPLOADS[path]
        response = api_a.upload(url, name, content, **fields)
    else:
        response = getattr(api_a, method)(url, *sent, **query)
    # then
    if set(params) - VALUE_PARAMS:
        assert response.status_code == 404, (url, response.status_code, response.content)
        assert response.json()["detail"]
    else:
        assert response.status_code in (200, 201, 204), (url, response.content)
        text = response.content.decode()
        assert not [t for t in B_TEXTS if t in text], (url, text)
        answer = response.json() if response.content else None
        items = answer["items"] if isinstance(answer, dict) and "items" in answer else answer
        if isinstance(items, list) and not params:
            assert items, f"{url} returned nothing of A's either"
    assert of_org(snapshot(), org_b.pk) == of_org(before, org_b.pk)


def test_b_token_sees_its_own_lead(api_b, lead_b):
    assert api_b.get(f"/leads/{lead_b.pk}").status_code == 200
