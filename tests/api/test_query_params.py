"""Every query parameter of every API operation is validated by its type: a wrongly typed
value is a 422 that names the parameter, never a 200 with the value misread or ignored.

Table-driven from the OpenAPI document the API serves: a new parameter is covered as soon as
it exists, and one declared without a type to check (a bare string) fails here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from keepscore.accounts.models import Membership
from tests.api.conftest import Api, api_for

#: a value of the right type for the string parameters (the others are made from their type)
GOOD_TEXT = {
    "stage": "lead",
    "channel": "referral",
    "owner": "owner@acme.test",
    "sourced_by": "owner@acme.test",
    "entered": "lead",
    "reached": "qualified",
    "campaign": "Spring",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "spring-24",
    "q": "ada",
    "email": "ada@example.com",  # a person's data: none found is still a 200
    "by": "channel",
    "from": "2024-01",  # spend: a month
    "to": "2024-03",
}
#: a period every report takes whatever the other end's default (to: today, from: 60 days ago)
GOOD_DAY = {
    "from": (date.today() - timedelta(days=60)).isoformat(),
    "to": date.today().isoformat(),
}
#: dates pydantic would read as seconds since 1970, or not dates at all
WRONG_DAYS = ["0", "1700000000", "20240115", "2024-02-30", "15/01/2024", "2024-1-5", "today"]


def resolved(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The parameter's own type: ``X | None`` is X, a $ref its component."""
    if "anyOf" in schema:
        kinds = [s for s in schema["anyOf"] if s.get("type") != "null"]
        assert len(kinds) == 1, schema
        schema = {**kinds[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
    if "$ref" in schema:
        schema = {**components[schema["$ref"].rsplit("/", 1)[-1]], **schema}
        schema.pop("$ref")
    return schema


def wrong_values(name: str, schema: dict[str, Any]) -> list[str]:
    """Values of the wrong type for this schema; empty: nothing to check it by."""
    kind = schema.get("type")
    if "enum" in schema:
        return ["not-one-of-them", "0", "\x00"]
    if kind == "integer":
        wrong = ["abc", "1.5", "", "1e3"]
        if "minimum" in schema:
            wrong.append(str(int(schema["minimum"]) - 1))
        if "maximum" in schema:
            wrong.append(str(int(schema["maximum"]) + 1))
        return wrong
    if kind == "boolean":
        return ["maybe", "2", "yes please"]
    if kind == "string" and schema.get("format") == "date":
        return WRONG_DAYS
    if kind == "string":
        wrong = ["\x00"]
        if "pattern" in schema:
            wrong.append("not valid!")
        if "maxLength" in schema:
            wrong.append("x" * (int(schema["maxLength"]) + 1))
        return wrong if ("pattern" in schema or "maxLength" in schema) else []
    return []


def good_value(name: str, schema: dict[str, Any], ids: dict[str, int]) -> str | None:
    """A value the operation answers with 200; ``ids``: the rows that exist (by name), as
    PostgreSQL's sequences go on across tests and an id of 1 may be no one's."""
    kind = schema.get("type")
    if "enum" in schema:
        return str(schema["enum"][0])
    if name in ids:
        return str(ids[name])
    if kind == "integer":
        return str(max(int(schema.get("minimum", 1)), 1))
    if kind == "boolean":
        return "true"
    if kind == "string" and schema.get("format") == "date":
        return GOOD_DAY.get(name, date.today().isoformat())
    return GOOD_TEXT.get(name)


def operations(document: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if query:
                found.append((method, path, query))
    return found


@pytest.fixture
def api(owner_a: Membership, lead_a: Any) -> Api:
    return api_for(owner_a)


def send(api: Api, method: str, path: str, params: dict[str, str]) -> Any:
    assert "{" not in path, f"{path}: give its path parameters a value here"
    headers = {"Authorization": f"Bearer {api.token}"}
    return getattr(api.client, method)(path, params, headers=headers)


def test_every_query_parameter_refuses_a_wrongly_typed_value_by_name(api: Api, lead_a: Any) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    components = document.get("components", {}).get("schemas", {})
    found = operations(document)
    assert len(found) >= 13  # the list endpoints and the reports, as of this test
    problems: list[str] = []
    checked = 0
    for method, path, parameters in found:
        for parameter in parameters:
            name = parameter["name"]
            schema = resolved(parameter["schema"], components)
            where = f"{method.upper()} {path}?{name}"
            wrong = wrong_values(name, schema)
            if not wrong:
                problems.append(f"{where}: no type to check ({schema}): give it one")
                continue
            good = good_value(name, schema, {"lead": lead_a.pk})
            if good is None:
                problems.append(f"{where}: add a good value for it to GOOD_TEXT")
                continue
            ok = send(api, method, path, {name: good})
            if ok.status_code != 200:
                problems.append(f"{where}={good!r}: {ok.status_code} {ok.content[:200]!r}")
            for value in wrong:
                checked += 1
                response = send(api, method, path, {name: value})
                if response.status_code != 422:
                    problems.append(f"{where}={value[:20]!r}: {response.status_code}, not 422")
                    continue
                fields = [e["field"] for e in response.json()["errors"]]
                if fields != [name]:
                    problems.append(f"{where}={value[:20]!r}: names {fields}, not [{name!r}]")
    assert not problems, "\n".join(problems)
    assert checked > 150


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/leads", {"created_to": "0"}, "created_to"),
        ("/activities", {"to": "0"}, "to"),
        ("/activities", {"from": "0"}, "from"),
        ("/outcomes", {"from": "0"}, "from"),
        ("/funnel", {"to": "0"}, "to"),
        ("/jobs", {"from": "1700000000"}, "from"),
        ("/tasks", {"due_before": "0"}, "due_before"),
        ("/focus", {"date": "0"}, "date"),
    ],
)
def test_zero_is_not_a_date(api: Api, path: str, params: dict[str, str], field: str) -> None:
    """``?to=0`` was read as 1970-01-01 and answered 200."""
    response = api.get(path, **params)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "message": "Enter a date as YYYY-MM-DD."}]
    assert response.json()["detail"] == f"{field}: Enter a date as YYYY-MM-DD."


def test_an_impossible_day_says_so(api: Api) -> None:
    response = api.get("/activities", to="2024-02-30")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "to", "message": "2024-02-30 is not a date."}]


def test_a_body_time_is_no_number_either(api: Api, lead_a: Any) -> None:
    moved = api.post(f"/leads/{lead_a.pk}/moves", {"to_stage": "prospect", "at": 0})
    assert moved.status_code == 422
    assert [e["field"] for e in moved.json()["errors"]] == ["at"]
    task = api.post(f"/leads/{lead_a.pk}/tasks", {"kind": "call", "due_on": 20240101})
    assert task.status_code == 422
    assert "due_on" in [e["field"] for e in task.json()["errors"]]
    today = date.today().isoformat()
    just_now = datetime.now(UTC).isoformat()
    good = api.post(f"/leads/{lead_a.pk}/moves", {"to_stage": "prospect", "at": just_now})
    assert good.status_code == 201, good.content
    task = api.post(f"/leads/{lead_a.pk}/tasks", {"kind": "call", "due_on": today})
    assert task.status_code == 201, task.content


def test_a_time_of_day_with_an_offset_is_refused(api: Api, lead_a: Any) -> None:
    """It was a 500 on SQLite (found by schemathesis): the database keeps no offset."""
    today = date.today().isoformat()
    sent = {"kind": "call", "due_on": today, "due_time": "09:30:00+02:00"}
    task = api.post(f"/leads/{lead_a.pk}/tasks", sent)
    assert task.status_code == 422
    assert task.json()["errors"] == [
        {"field": "due_time", "message": "Give the time of day without an offset: 09:30."}
    ]
    assert api.post(f"/leads/{lead_a.pk}/tasks", {**sent, "due_time": "09:30"}).status_code == 201


#: other pairs of bounds an operation takes, (first, last): refused the same way
BOUND_PAIRS = [
    ("from", "to"),
    *(
        (f"{name}_from", f"{name}_to")
        for name in ("created", "entered", "reached", "won", "closed_won", "closed_lost")
    ),
]


def test_every_end_before_its_start_is_refused_by_name(api: Api) -> None:
    """A period whose end is before its start is a 422 naming the end, on every operation
    that takes both (the web pages refuse it too), never a 200 with nothing in it."""
    document = Client().get("/api/v1/openapi.json").json()
    components = document.get("components", {}).get("schemas", {})
    problems: list[str] = []
    checked = 0
    for method, path, parameters in operations(document):
        if "{" in path:
            continue
        names = {p["name"]: resolved(p["schema"], components) for p in parameters}
        for first, last in BOUND_PAIRS:
            if first not in names or last not in names:
                continue
            monthly = names[first].get("format") != "date"  # spend: months, YYYY-MM
            early, late = ("2024-01", "2024-03") if monthly else ("2024-01-01", "2024-03-31")
            where = f"{method.upper()} {path}?{first}={late}&{last}={early}"
            checked += 1
            response = send(api, method, path, {first: late, last: early})
            if response.status_code != 422:
                problems.append(f"{where}: {response.status_code}, not 422")
                continue
            fields = [e["field"] for e in response.json()["errors"]]
            if fields != [last]:
                problems.append(f"{where}: names {fields}, not [{last!r}]")
            good = send(api, method, path, {first: early, last: late})
            if good.status_code != 200:
                problems.append(f"{where}: the right way round is {good.status_code}")
    assert not problems, "\n".join(problems)
    assert checked >= 8  # the lists and the reports with a period, as of this test
