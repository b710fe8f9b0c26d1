"""API tokens: created for a member, stored hashed, shown once, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from keepscore.accounts.models import ApiToken, Membership, Organization

TOKEN_PREFIX = "ks_"
#: ``ks_`` + 8 hex characters: the visible part of a token
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
#: ``last_used_at`` is written at most this often per token
LAST_USED_EVERY = timedelta(minutes=1)
_MAX_RAW = 200


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def token_create(*, membership: Membership, name: str) -> tuple[ApiToken, str]:
    """A new token for ``membership``; returns it and the raw token (shown this once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A token needs a name."})
    while True:
        prefix = TOKEN_PREFIX + secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        organization_id=membership.organization_id,
        membership=membership,
        name=name,
        prefix=prefix,
        hashed=token_hash(raw),
    )
    token.full_clean(exclude=["organization", "membership"])
    token.save()
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token; it never authenticates again. Revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The active token ``raw`` is, with its member and organization; ``None`` otherwise.

    Notes the time of use, at most once a minute per token.
    """
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or len(raw) > _MAX_RAW:
        return None
    token = (
        ApiToken.objects.select_related("membership__user", "organization")
        .filter(hashed=token_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not secrets.compare_digest(token.hashed, token_hash(raw)):
        return None
    if not token.membership.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_of(*, organization: Organization) -> QuerySet[ApiToken]:
    """Every token of the organization, newest first."""
    return ApiToken.objects.for_org(organization).select_related("membership__user")


def tokens_visible(*, membership: Membership) -> QuerySet[ApiToken]:
    """The tokens a member manages: their own; an owner, every token of the organization."""
    qs = tokens_of(organization=membership.organization)
    return qs if membership.is_owner else qs.filter(membership=membership)


def token_find(*, organization: Organization, ref: str) -> ApiToken | None:
    """A token of the organization by its id or its visible prefix."""
    ref = (ref or "").strip()
    qs = tokens_of(organization=organization)
    if ref.isdigit() and len(ref) < 19:
        return qs.filter(Q(pk=int(ref)) | Q(prefix=ref)).first()
    return qs.filter(prefix=ref[:PREFIX_LENGTH]).first() if ref.startswith(TOKEN_PREFIX) else None
