"""schemathesis against the live OpenAPI document: no server error, no response off-schema.

The WSGI app runs in-process on the test database; every operation gets a bounded number of
generated requests with a real token, and every default check of schemathesis runs on each.
One test per operation (the operations are read from the API at collection, and a test checks
that they are exactly the live document's), so xdist spreads them; the organizations and the
loaded schema are built once for the module, each test in its own savepoint.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from keepscore.accounts.models import Membership
from keepscore.accounts.tokens import token_create
from keepscore.activities.services import activity_log
from keepscore.api.api import api
from keepscore.leads.services import lead_create
from tests.conftest import built_once, channel, examples, make_org

pytestmark = pytest.mark.django_db

EXAMPLES = 25
#: "schema-valid data must be accepted" cannot hold for an API with business rules: a
#: well-formed request naming a channel key that does not exist is a 422 with its field, by
#: design. Every other default check runs.
EXCLUDED = [positive_data_acceptance]
BASE = "/api/v1/"
#: every operation of the API ("GET /api/v1/leads"), as ninja describes it;
#: ``test_every_operation_is_checked`` holds it to the live document schemathesis reads
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, methods in api.get_openapi_schema(path_prefix=BASE)["paths"].items()
    for method in methods
]


@contextmanager
def keep_connection() -> Iterator[None]:
    """The WSGI app runs inside the test's transaction: like Django's test client, do not
    let the end of a request close the connection (PostgreSQL would lose the test data)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def built(django_db_setup: Any, django_db_blocker: Any) -> Iterator[tuple[Any, Membership]]:
    """Organization A with a lead and an activity, organization B with a lead (the made-up
    ids may hit it), and the schema read from the live app: once for the module."""
    with built_once(django_db_blocker), keep_connection():
        org_a, owner_a = make_org("acme", "owner@acme.test")
        lead_a = lead_create(
            organization=org_a,
            name="Ada Lovelace",
            channel=channel(org_a),
            by=owner_a,
            company="AE",
        )
        org_b, owner_b = make_org("bravo", "owner@bravo.test")
        lead_create(
            organization=org_b, name="Bob Bravo", channel=channel(org_b), by=owner_b, company="BB"
        )
        activity_log(lead=lead_a, kind="connect", by=owner_a, with_buyer=True)
        yield schemathesis.openapi.from_wsgi(BASE + "openapi.json", get_wsgi_application()), owner_a


@pytest.fixture
def schema(built: tuple[Any, Membership], db: Any, settings: Any) -> Iterator[Any]:
    # schemathesis sends hundreds of requests with made-up tokens from one address: the
    # throttle would answer them all 429 after ten (tests/accounts/test_lockout.py tests it)
    settings.AXES_FAILURE_LIMIT = 10**9
    with keep_connection():
        yield built[0]


@pytest.fixture
def owner_a(built: tuple[Any, Membership], db: Any) -> Membership:
    return copy.deepcopy(built[1])


def test_every_operation_is_checked(schema: Any) -> None:
    live = [result.ok().label for result in schema.get_all_operations()]
    assert len(live) >= 14
    assert sorted(live) == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_the_api_holds_to_its_schema(schema: Any, owner_a: Membership, label: str) -> None:
    _token, raw = token_create(membership=owner_a, name="schemathesis")
    headers = {"Authorization": f"Bearer {raw}"}
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples(EXAMPLES),
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

    check()


@pytest.mark.parametrize("label", OPERATIONS)
def test_without_a_token_every_operation_is_401(schema: Any, label: str) -> None:
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy())
    @settings(max_examples=examples(3), database=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code in (401, 405, 422), response.status_code

    check()
