"""``Authorization: Bearer <token>``: the token's member defines the organization, and
the operation's rule in ``keepscore.accounts.permissions.API`` what the member may do."""

from __future__ import annotations

import re
from typing import cast

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from keepscore.accounts import lockout, permissions
from keepscore.accounts.models import ApiToken, Membership, Organization
from keepscore.accounts.tokens import token_authenticate
from keepscore.audit import context as audit_context
from keepscore.audit import services as audit
from keepscore.audit.models import Via
from keepscore.common.money import money_activate

API_PREFIX = "api/v1"
TOO_MANY = (
    "Too many failed API tokens from this address: wait 15 minutes, then use a valid token "
    "(an owner can create one on the API tokens page)."
)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if lockout.token_failures_exceeded(request, failed=False):
            raise HttpError(429, TOO_MANY)
        found = token_authenticate(token)
        if found is None:
            if lockout.token_failures_exceeded(request, failed=True):
                audit.record(action="locked_out", summary="API tokens: too many failures")
            return None  # 401
        audit_context.update(
            via=Via.API, user_id=found.membership.user_id, membership_id=found.membership_id
        )
        operation = f"{request.method or 'GET'} {operation_path(request)}"
        need = permissions.api_need(*operation.split(" ", 1))
        if not permissions.allows(found.membership, need):
            audit.refused(organization=found.organization, what=operation, need=need)
            raise HttpError(403, permissions.refusal(need, found.membership))
        money_activate(found.organization)  # texts in its currency; MoneyMiddleware resets
        return found


def operation_path(request: HttpRequest) -> str:
    """The operation's path as the OpenAPI document names it, below /api/v1
    (``leads/<lead_id>/moves`` in the URL conf: ``/leads/{lead_id}/moves``)."""
    route = request.resolver_match.route if request.resolver_match else ""
    route = route.removeprefix(API_PREFIX)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).strip("/")


def token_of(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, getattr(request, "auth", None))


def organization_of(request: HttpRequest) -> Organization:
    return token_of(request).organization


def member_of(request: HttpRequest) -> Membership:
    return token_of(request).membership
