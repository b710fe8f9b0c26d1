"""``Authorization: Bearer <token>``: the token's member defines the organization."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from keepscore.accounts.models import ApiToken, Membership, Organization
from keepscore.accounts.tokens import token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return token_authenticate(token)


def token_of(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, getattr(request, "auth", None))


def organization_of(request: HttpRequest) -> Organization:
    return token_of(request).organization


def member_of(request: HttpRequest) -> Membership:
    return token_of(request).membership
