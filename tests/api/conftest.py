"""An API client with a member's token: ``api.get("/leads")``, ``api.post("/leads", {...})``,
``api.put(...)``, ``api.delete(...)``. ``base`` is where the API is mounted (``/api/v1``; a
test-local API elsewhere)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from keepscore.accounts.models import Membership
from keepscore.accounts.tokens import token_create

BASE = "/api/v1"


@dataclass
class Api:
    client: Client
    token: str
    base: str = BASE

    def _send(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        send = getattr(self.client, method)
        url = self.base + path
        if body is None:
            if method == "get":
                return send(url, kw or None, headers=headers)
            return send(url, headers=headers)
        return send(url, json.dumps(body), content_type="application/json", headers=headers)

    def get(self, path: str, **params: Any) -> Any:
        return self._send("get", path, **params)

    def post(self, path: str, body: Any) -> Any:
        return self._send("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._send("patch", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self._send("put", path, body)

    def delete(self, path: str) -> Any:
        return self._send("delete", path)

    def upload(self, path: str, name: str, content: bytes, **fields: Any) -> Any:
        """A multipart POST of ``content`` as the file ``name``, with form ``fields`` (a
        list value repeats its field)."""
        file = SimpleUploadedFile(name, content)
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.client.post(self.base + path, {"file": file, **fields}, headers=headers)


def api_for(membership: Membership, base: str = BASE) -> Api:
    _token, raw = token_create(membership=membership, name="tests")
    return Api(Client(), raw, base)


@pytest.fixture
def api_a(owner_a: Membership) -> Api:
    return api_for(owner_a)


@pytest.fixture
def api_b(owner_b: Membership) -> Api:
    return api_for(owner_b)


def fields_of(response: Any) -> list[str]:
    """The fields named by an error response."""
    return [e["field"] for e in response.json()["errors"]]
