"""An API client with a member's token: ``api.get("/leads")``, ``api.post("/leads", {...})``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from keepscore.accounts.models import Membership
from keepscore.accounts.tokens import token_create

BASE = "/api/v1"


@dataclass
class Api:
    client: Client
    token: str

    def _send(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        send = getattr(self.client, method)
        if body is None:
            return send(BASE + path, kw or None, headers=headers)
        return send(BASE + path, json.dumps(body), content_type="application/json", headers=headers)

    def get(self, path: str, **params: Any) -> Any:
        return self._send("get", path, **params)

    def post(self, path: str, body: Any) -> Any:
        return self._send("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._send("patch", path, body)


def api_for(membership: Membership) -> Api:
    _token, raw = token_create(membership=membership, name="tests")
    return Api(Client(), raw)


@pytest.fixture
def api_a(owner_a: Membership) -> Api:
    return api_for(owner_a)


@pytest.fixture
def api_b(owner_b: Membership) -> Api:
    return api_for(owner_b)


def fields_of(response: Any) -> list[str]:
    """The fields named by an error response."""
    return [e["field"] for e in response.json()["errors"]]
