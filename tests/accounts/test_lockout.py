"""Sign-in throttling: 10 failures for one account or from one address within 15 minutes
pause signing in for 15 minutes (even with the right password), with a clear message; an
owner unlocks a member; API tokens are throttled the same way by address; all of it is in
the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from keepscore.accounts.lockout import lock_of
from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.tokens import token_create
from keepscore.audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LIMIT = 10


def sign_in(email: str, password: str, address: str = "192.0.2.1") -> Any:
    return Client(REMOTE_ADDR=address).post("/login/", {"username": email, "password": password})


def fail_times(email: str, n: int, address: str = "192.0.2.1") -> None:
    """``n`` failed sign-ins: the form with its error each time, the tenth paused (429)."""
    for i in range(1, n + 1):
        expected = 429 if i >= LIMIT else 200
        assert sign_in(email, "wrong", address).status_code == expected, i


def test_ten_failures_for_an_account_pause_it_even_from_other_addresses(
    org_a: Organization, owner_a: Membership
) -> None:
    email = owner_a.user.email
    for i in range(LIMIT - 1):  # nine, each from its own address: not yet
        assert sign_in(email.upper(), "wrong", f"192.0.2.{i + 10}").status_code == 200
    assert sign_in(email, PASSWORD, "198.51.100.1").status_code == 302  # still fine
    fail_times(email, LIMIT, "198.51.100.2")  # success reset the count: ten more pause it
    paused = sign_in(email, PASSWORD, "203.0.113.77")  # the right password, a new address
    assert paused.status_code == 429
    text = paused.content.decode()
    assert "Too many failed sign-ins" in text and "15 minutes" in text and "owner" in text
    assert AuditEvent.objects.filter(organization=org_a, action="locked_out").exists()


def test_ten_failures_from_an_address_pause_that_address(
    org_a: Organization, owner_a: Membership, sales_a: Membership
) -> None:
    for i in range(LIMIT):
        sign_in(f"guess{i}@acme.test", "wrong", "192.0.2.99")
    assert sign_in(sales_a.user.email, PASSWORD, "192.0.2.99").status_code == 429
    assert sign_in(sales_a.user.email, PASSWORD, "192.0.2.100").status_code == 302


def test_the_pause_ends_after_the_cooling_off_time(org_a: Organization, owner_a: Membership):
    from axes.models import AccessAttempt

    fail_times(owner_a.user.email, LIMIT)
    assert sign_in(owner_a.user.email, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(owner_a.user.email, PASSWORD).status_code == 302


def test_an_owner_unlocks_a_member(
    org_a: Organization, owner_a: Membership, sales_a: Membership
) -> None:
    fail_times(sales_a.user.email, LIMIT, "192.0.2.5")
    lock = lock_of(sales_a)
    assert lock is not None and lock.failures == LIMIT
    owner = Client()
    owner.force_login(owner_a.user)
    page = owner.get(f"/o/{org_a.slug}/members/{sales_a.pk}/")
    assert b"Sign-in paused after 10 failed attempts" in page.content
    done = owner.post(f"/o/{org_a.slug}/members/{sales_a.pk}/unlock/")
    assert done.status_code == 302
    assert lock_of(sales_a) is None
    assert sign_in(sales_a.user.email, PASSWORD, "203.0.113.8").status_code == 302
    (unlocked,) = AuditEvent.objects.filter(organization=org_a, action="unlocked")
    assert (unlocked.user_id, unlocked.object_id) == (owner_a.user_id, str(sales_a.user_id))
    seller = Client()
    seller.force_login(sales_a.user)
    assert seller.post(f"/o/{org_a.slug}/members/{owner_a.pk}/unlock/").status_code == 403


def test_api_tokens_are_throttled_by_address(org_a: Organization, owner_a: Membership) -> None:
    raw = token_create(membership=owner_a, name="script")[1]

    def call(token: str, address: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return Client(REMOTE_ADDR=address).get("/api/v1/stages", headers=headers).status_code

    assert call(raw, "192.0.2.7") == 200
    for i in range(LIMIT):
        assert call(f"ks_wrong{i}_xxxxxxxxxxxx", "192.0.2.7") == 401
    refused = Client(REMOTE_ADDR="192.0.2.7").get(
        "/api/v1/stages", headers={"Authorization": f"Bearer {raw}"}
    )
    assert refused.status_code == 429 and "Too many failed API tokens" in refused.json()["detail"]
    assert call(raw, "192.0.2.8") == 200  # another address is not held back
    assert AuditEvent.objects.filter(action="locked_out", summary__startswith="API").exists()
