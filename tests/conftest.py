"""Fixtures shared by the whole suite: organizations, members and leads made by services."""

from __future__ import annotations

from typing import Any

import pytest

from keepscore.accounts.models import Membership, Organization, User
from keepscore.accounts.services import member_add, organization_create, user_create
from keepscore.history import recorder
from keepscore.leads.models import Channel, Stage
from keepscore.leads.services import lead_create

PASSWORD = "correct-horse-battery-9"


def make_user(email: str, **kw: Any) -> User:
    return user_create(email=email, password=PASSWORD, **kw)


def make_org(slug: str, owner_email: str) -> tuple[Organization, Membership]:
    owner = make_user(owner_email)
    org = organization_create(name=slug.title(), slug=slug, owner=owner)
    return org, Membership.objects.get(organization=org, user=owner)


def stage(org: Organization, key: str) -> Stage:
    return Stage.objects.get(organization=org, key=key)


def stage_edit(org: Organization, stage_key: str, **fields: Any) -> Stage:
    """Change fields of a stage as a ladder edit does (through the history recorder)."""
    found = stage(org, stage_key)
    for name, value in fields.items():
        setattr(found, name, value)
    recorder.stages_save(organization=org, stages=[found], fields=list(fields))
    return found


def gates(org: Organization, *keys: str) -> None:
    """Only these stages require qualification."""
    for s in Stage.objects.for_org(org):
        if s.requires_qualification != (s.key in keys):
            stage_edit(org, s.key, requires_qualification=s.key in keys)


def channel(org: Organization, key: str = "referral") -> Channel:
    return Channel.objects.get(organization=org, key=key)


@pytest.fixture
def org_a(db: Any) -> Organization:
    return make_org("acme", "owner@acme.test")[0]


@pytest.fixture
def owner_a(org_a: Organization) -> Membership:
    return Membership.objects.get(organization=org_a, is_owner=True)


@pytest.fixture
def sales_a(org_a: Organization) -> Membership:
    return member_add(organization=org_a, user=make_user("sales@acme.test"), is_sales=True)


@pytest.fixture
def org_b(db: Any) -> Organization:
    return make_org("bravo", "owner@bravo.test")[0]


@pytest.fixture
def owner_b(org_b: Organization) -> Membership:
    return Membership.objects.get(organization=org_b, is_owner=True)


@pytest.fixture
def lead_a(org_a: Organization, owner_a: Membership) -> Any:
    return lead_create(
        organization=org_a, name="Ada Lovelace", channel=channel(org_a), by=owner_a, company="AE"
    )


@pytest.fixture
def lead_b(org_b: Organization, owner_b: Membership) -> Any:
    return lead_create(
        organization=org_b, name="Bob Bravo", channel=channel(org_b), by=owner_b, company="BB"
    )


@pytest.fixture
def client_a(client: Any, owner_a: Membership) -> Any:
    """A test client logged in as organization A's owner."""
    client.force_login(owner_a.user)
    return client


@pytest.fixture
def smtp(settings: Any) -> Any:
    """A real SMTP server on 127.0.0.1 (tests/smtp.py), Django's SMTP backend sending to it;
    what arrived is in ``smtp.messages``."""
    from tests.smtp import serving

    with serving() as inbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = inbox.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10
        settings.KEEPSCORE_URL = "https://crm.example.test"
        settings.DEFAULT_FROM_EMAIL = "keepscore <keepscore@example.test>"
        yield inbox
