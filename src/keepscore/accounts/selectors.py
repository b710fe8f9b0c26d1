"""Reads of members and organizations: who belongs where, with what roles."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from keepscore.accounts.models import Membership, Organization


def organizations_of_user(*, user: Any) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name")


def membership_get(*, user: Any, organization_slug: str) -> Membership:
    """The user's membership of the organization, or 404 (never a hint that it exists)."""
    if not user.is_authenticated:
        raise Http404("No such organization")
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(user=user, organization__slug=organization_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such organization")
    return membership


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user")
