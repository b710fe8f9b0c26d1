"""Password reset by email (Django's views, keepscore's mail), against a real SMTP server:
a known address gets a link that works once; an unknown one gets the same page and no mail;
the link is on KEEPSCORE_URL whatever Host the request named; asking is throttled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from keepscore.accounts.models import Membership, Organization
from keepscore.audit.models import AuditEvent
from tests.conftest import PASSWORD

# transactions commit as in the app: the reset mail goes (through the worker) on commit
pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "brand-new-secret-77"


@pytest.fixture(autouse=True)
def _no_throttle_left() -> Iterator[None]:
    """The throttle counts in the cache table, which a transactional test's flush keeps."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def without_csrf(page: str) -> str:
    """The page without its CSRF token (a new one for every visitor)."""
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", page)


def ask(client: Client, email: str, **extra: Any) -> Any:
    return client.post("/password_reset/", {"email": email}, **extra)


def test_the_login_page_offers_it() -> None:
    page = Client().get("/login/").content.decode()
    assert 'href="/password_reset/"' in page


def test_a_known_address_gets_a_link_that_works_once(
    smtp: Any, owner_a: Membership, org_a: Organization
) -> None:
    client = Client()
    assert client.get("/password_reset/").status_code == 200
    response = ask(client, "OWNER@ACME.TEST")
    assert response.status_code == 302 and response["Location"] == "/password_reset/done/"
    [received] = smtp.received
    assert received.rcpt_tos == ["owner@acme.test"]
    message = received.message
    assert message["Subject"] == "Reset your keepscore password"
    text = smtp.part(message, "text/plain")
    assert "reset the keepscore password of owner@acme.test" in text
    assert "It works once, for 24 hours" in text
    [link] = smtp.links(message, "/reset/")
    assert link.startswith("https://crm.example.test/reset/")
    path = urlsplit(link).path

    visitor = Client()
    form = visitor.get(path, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = visitor.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/reset/done/"
    assert "Password saved" in visitor.get("/reset/done/").content.decode()
    user = owner_a.user
    assert authenticate(None, username=user.email, password=NEW_PASSWORD) == user
    assert authenticate(None, username=user.email, password=PASSWORD) is None
    assert AuditEvent.objects.filter(organization=org_a, action="password_reset").count() == 1

    # once: the link no longer works, and cannot set another password
    again = Client().get(path, follow=True)
    assert "This link does not work" in again.content.decode()
    assert "new_password1" not in again.content.decode()
    posted = Client().post(
        path, {"new_password1": "x-other-pass-99", "new_password2": "x-other-pass-99"}
    )
    assert posted.status_code == 200 and "This link does not work" in posted.content.decode()
    assert authenticate(None, username=user.email, password=NEW_PASSWORD) == user


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    smtp: Any, owner_a: Membership
) -> None:
    known, unknown = ask(Client(), "owner@acme.test"), ask(Client(), "nobody@acme.test")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    done_known = without_csrf(Client().get(known["Location"]).content.decode())
    done_unknown = without_csrf(Client().get(unknown["Location"]).content.decode())
    assert done_known == done_unknown
    assert "If the address has a keepscore login, a link" in done_known
    assert [r.rcpt_tos for r in smtp.received] == [["owner@acme.test"]]
    # a member kept without a login gets none either (it would give them one)
    from keepscore.accounts.services import member_create

    member_create(
        organization=owner_a.organization, email="kept@acme.test", can_login=False, is_sales=True
    )
    ask(Client(), "kept@acme.test")
    assert len(smtp.received) == 1


def test_the_link_is_on_the_apps_address_not_the_requests_host(
    smtp: Any, owner_a: Membership, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    ask(Client(), "owner@acme.test", HTTP_HOST="evil.example.test")
    [link] = smtp.links(smtp.messages[0], "/reset/")
    assert link.startswith("https://crm.example.test/reset/")
    assert "evil" not in smtp.part(smtp.messages[0], "text/plain")


def test_asking_is_throttled(smtp: Any, owner_a: Membership) -> None:
    from keepscore.accounts.views import RESET_RATE_ADDRESS, RESET_RATE_EMAIL

    per_email = int(RESET_RATE_EMAIL.split("/")[0])
    per_address = int(RESET_RATE_ADDRESS.split("/")[0])
    client = Client()
    for _ in range(per_email + 2):
        assert ask(client, "owner@acme.test")["Location"] == "/password_reset/done/"
    assert len(smtp.messages) == per_email  # the same answer, and no more mail
    for n in range(per_address - per_email - 2):
        assert ask(client, f"someone{n}@acme.test").status_code == 302
    limited = ask(client, "someone-else@acme.test")
    assert limited.status_code == 429
    assert "Try again in an hour" in limited.content.decode()
    # another address is not held back
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert ask(other, "nobody@acme.test").status_code == 302
