"""schemathesis against the live OpenAPI document: no server error, no response off-schema.

The WSGI app runs in-process on the test database; every operation gets a bounded number of
generated requests with a real token, and every default check of schemathesis runs on each.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from keepscore.accounts.tokens import token_create
from keepscore.activities.services import activity_log

pytestmark = pytest.mark.django_db

EXAMPLES = 25
#: "schema-valid data must be accepted" cannot hold for an API with business rules: a
#: well-formed request naming a channel key that does not exist is a 422 with its field, by
#: design. Every other default check runs.
EXCLUDED = [positive_data_acceptance]


@pytest.fixture
def keep_connection():
    """The WSGI app runs inside the test's transaction: like Django's test client, do not
    let the end of a request close the connection (PostgreSQL would lose the test data)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def schema(keep_connection, lead_a, owner_a, lead_b, settings):
    # schemathesis sends hundreds of requests with made-up tokens from one address: the
    # throttle would answer them all 429 after ten (tests/accounts/test_lockout.py tests it)
    settings.AXES_FAILURE_LIMIT = 10**9
    activity_log(lead=lead_a, kind="connect", by=owner_a, with_buyer=True)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


def test_the_api_holds_to_its_schema(schema, owner_a):
    _token, raw = token_create(membership=owner_a, name="schemathesis")
    headers = {"Authorization": f"Bearer {raw}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        check()


def test_without_a_token_every_operation_is_401(schema):
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code in (401, 405, 422), response.status_code

        check()
