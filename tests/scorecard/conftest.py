"""Scorecard fixtures: manual metrics made by the services, an API client for the router."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add
from keepscore.accounts.tokens import token_create
from keepscore.scorecard.models import ManualMetric
from keepscore.scorecard.services import manual_metric_save
from tests.conftest import make_user

BASE = "/api/v1"


def make_metric(org: Organization, name: str = "Website visitors", **kw: Any) -> ManualMetric:
    return manual_metric_save(organization=org, name=name, group=kw.pop("group", "SUSPECT"), **kw)


@pytest.fixture
def visitors_a(org_a: Organization) -> ManualMetric:
    return make_metric(org_a)


@pytest.fixture
def visitors_b(org_b: Organization) -> ManualMetric:
    return make_metric(org_b, "Bravo visitors", key="bravo_visitors")


@pytest.fixture
def marketing_a(org_a: Organization) -> Membership:
    return member_add(organization=org_a, user=make_user("mkt@acme.test"), is_marketing=True)


@dataclass
class Api:
    client: Client
    token: str

    def send(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        send = getattr(self.client, method)
        if body is None:
            return send(BASE + path, headers=headers)
        return send(BASE + path, json.dumps(body), content_type="application/json", headers=headers)

    def get(self, path: str) -> Any:
        return self.send("get", path)

    def post(self, path: str, body: Any) -> Any:
        return self.send("post", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.send("put", path, body)

    def delete(self, path: str) -> Any:
        return self.send("delete", path)


def api_for(membership: Membership) -> Api:
    _token, raw = token_create(membership=membership, name="tests")
    return Api(Client(), raw)


@pytest.fixture
def api_a(owner_a: Membership) -> Api:
    return api_for(owner_a)
