"""Invitations by email, against a real SMTP server (the ``smtp`` fixture): the mail, the
link working once, expired / tampered / replaced / revoked links refused with a clear page,
existing users joining a second organization, isolation between organizations, who may
invite, and ``keepscore invite``."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import authenticate
from django.core import signing
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from keepscore.accounts import invitations
from keepscore.accounts.invitations import SALT, invitation_send, token_of
from keepscore.accounts.models import Invitation, Membership, Organization, User
from keepscore.audit.models import AuditEvent
from keepscore.cli.main import app
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-and-fresh-one-42"


def invite(client: Any, org: Organization, email: str, *roles: str) -> Any:
    data = {"email": email, **{f"is_{role}": "on" for role in roles}}
    return client.post(f"/o/{org.slug}/members/invite/", data)


def link_in(smtp: Any, message: Any) -> str:
    """The invitation link of a mail, as a path on the test client."""
    [link] = smtp.links(message, "/invitation/")
    assert link.startswith("https://crm.example.test/invitation/")
    return urlsplit(link).path


def actions(org: Organization) -> list[str]:
    return list(
        AuditEvent.objects.filter(organization=org, object_type="accounts.Invitation")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )


def test_an_invitation_arrives_and_makes_a_new_member_once(
    smtp: Any, client_a: Any, org_a: Organization, owner_a: Membership
) -> None:
    response = invite(client_a, org_a, "New.Person@Example.test", "sales", "marketing")
    assert response.status_code == 302
    [received] = smtp.received
    assert received.rcpt_tos == ["New.Person@example.test"]
    message = received.message
    assert message["Subject"] == "You are invited to Acme on keepscore"
    text = smtp.part(message, "text/plain")
    html = smtp.part(message, "text/html")
    for part in (text, html):
        assert "owner@acme.test invites you" in part
        assert "marketing, sales" in part
        assert "https://crm.example.test/" in part  # the link back to the app
    invitation = Invitation.objects.for_org(org_a).get()
    expires = timezone.localtime(invitation.sent_at + timedelta(days=7))
    assert f"until {expires:%-d %B %Y, %H:%M}" in text
    path = link_in(smtp, message)
    # the members page lists it, with its link's end
    page = client_a.get(f"/o/{org_a.slug}/members/").content.decode()
    assert "New.Person@example.test" in page and f"invitation-{invitation.pk}" in page

    visitor = Client()
    shown = visitor.get(path)
    assert shown.status_code == 200
    assert "Choose a password for New.Person@example.test" in shown.content.decode()
    joined = visitor.post(
        path,
        {"first_name": "Nia", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert joined.status_code == 302
    user = User.objects.get(email="New.Person@example.test")
    assert user.first_name == "Nia"
    membership = Membership.objects.get(organization=org_a, user=user)
    assert (membership.is_sales, membership.is_marketing, membership.is_owner) == (
        True,
        True,
        False,
    )
    assert authenticate(None, username="new.person@example.test", password=NEW_PASSWORD) == user
    assert visitor.session["_auth_user_id"] == str(user.pk)  # signed in, at the organization
    assert visitor.get("/", follow=True).redirect_chain[-1][0] == f"/o/{org_a.slug}/today/"
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert actions(org_a) == ["invited", "joined"]

    # once: the same link again, signed in or not, is refused with a clear page
    for again in (visitor, Client()):
        used = again.get(path)
        assert used.status_code == 410
        assert "This invitation has been used already" in used.content.decode()
        posted = again.post(path, {"password": "x1-another-pass", "password_again": "x"})
        assert posted.status_code == 410
    assert Membership.objects.filter(user=user).count() == 1
    assert (
        "New.Person@example.test"
        not in client_a.get(f"/o/{org_a.slug}/members/")
        .content.decode()
        .split('id="invitations"')[1]
    )


def test_a_weak_or_mistyped_password_is_refused_and_the_link_still_works(
    smtp: Any, client_a: Any, org_a: Organization
) -> None:
    invite(client_a, org_a, "nia@example.test", "sales")
    path = link_in(smtp, smtp.messages[0])
    visitor = Client()
    weak = visitor.post(path, {"password": "12345678", "password_again": "12345678"})
    assert weak.status_code == 200
    assert "This password is too common" in weak.content.decode()
    differ = visitor.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x"})
    assert "The two passwords differ" in differ.content.decode()
    assert not User.objects.filter(email="nia@example.test").exists()
    ok = visitor.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert ok.status_code == 302
    assert Membership.objects.filter(organization=org_a, user__email="nia@example.test").exists()


def test_an_existing_user_signs_in_and_joins_a_second_organization(
    smtp: Any, client_a: Any, org_a: Organization, owner_b: Membership
) -> None:
    bob = owner_b.user  # owner of bravo, invited to acme as sales
    invite(client_a, org_a, bob.email.upper(), "sales")
    path = link_in(smtp, smtp.messages[0])
    visitor = Client()
    page = visitor.get(path).content.decode()
    assert "has a keepscore login already: sign in with it to join" in page
    # a password posted without signing in does nothing
    visitor.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert not Membership.objects.filter(organization=org_a, user=bob).exists()
    # someone else signed in is told whose invitation it is, and cannot take it
    other = Client()
    other.force_login(make_user("someone@acme.test"))
    told = other.get(path).content.decode()
    assert "you are signed in as someone@acme.test" in told
    other.post(path)
    assert (
        not Membership.objects.filter(organization=org_a)
        .filter(user__email__in=["someone@acme.test", bob.email])
        .exists()
    )
    # signed in as the invitee: one button, and they are in both organizations
    assert visitor.post("/login/", {"username": bob.email, "password": PASSWORD}).status_code == 302
    assert "Join Acme</button>" in visitor.get(path).content.decode()
    assert visitor.post(path).status_code == 302
    memberships = Membership.objects.filter(user=bob)
    assert sorted(m.organization.slug for m in memberships) == ["acme", "bravo"]
    assert memberships.get(organization=org_a).roles == ["sales"]
    assert authenticate(None, username=bob.email, password=PASSWORD) == bob  # unchanged
    assert visitor.get(path).status_code == 410


def test_a_member_without_a_login_sets_one_from_the_invitation(
    smtp: Any, client_a: Any, org_a: Organization, org_b: Organization
) -> None:
    from keepscore.accounts.services import member_create

    member_create(organization=org_b, email="kept@example.test", can_login=False, is_sales=True)
    invite(client_a, org_a, "kept@example.test", "marketing")
    path = link_in(smtp, smtp.messages[0])
    visitor = Client()
    assert "Choose a password for kept@example.test" in visitor.get(path).content.decode()
    visitor.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    user = User.objects.get(email="kept@example.test")
    assert authenticate(None, username=user.email, password=NEW_PASSWORD) == user
    assert Membership.objects.filter(user=user).count() == 2


class OldSigner(signing.TimestampSigner):
    """Django's signer, stamping the time eight days ago."""

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - 8 * 24 * 3600)


def test_expired_and_tampered_links_are_refused(
    smtp: Any, client_a: Any, org_a: Organization
) -> None:
    invite(client_a, org_a, "late@example.test", "sales")
    invitation = Invitation.objects.for_org(org_a).get()
    payload = {"i": invitation.pk, "k": invitation.key}
    visitor = Client()
    old = OldSigner(salt=SALT).sign_object(payload)
    expired = visitor.get(f"/invitation/{old}/")
    assert expired.status_code == 404
    assert "This invitation has expired: links work for 7 days" in expired.content.decode()
    # a shorter life, set by the installation, counts too
    good = token_of(invitation)
    assert visitor.get(f"/invitation/{good}/").status_code == 200
    from django.test import override_settings

    with override_settings(INVITATION_MAX_AGE=timedelta(days=7)):
        Invitation.objects.filter(pk=invitation.pk).update(
            sent_at=timezone.now() - timedelta(days=8)
        )
        gone = visitor.get(f"/invitation/{good}/")
        assert gone.status_code == 410 and "expired" in gone.content.decode()
        listed = client_a.get(f"/o/{org_a.slug}/members/").content.decode()
        assert '<span class="badge">expired</span>' in listed
    tampered = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # the signature
        signing.dumps({"i": invitation.pk, "k": "0" * 32}, salt=SALT),  # another key
        signing.dumps(payload, salt="another purpose"),  # signed for something else
        "not-a-token",
        good.replace(":", "", 1),
    ]
    for token in tampered:
        refused = visitor.get(f"/invitation/{token}/")
        assert refused.status_code in (404, 410), token
        assert b"This link does not work" in refused.content
        posted = visitor.post(
            f"/invitation/{token}/", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        )
        assert posted.status_code in (404, 410)
    assert not User.objects.filter(email="late@example.test").exists()


def test_resend_replaces_the_link_and_revoke_ends_it(
    smtp: Any, client_a: Any, org_a: Organization
) -> None:
    invite(client_a, org_a, "ann@example.test", "sales")
    invitation = Invitation.objects.for_org(org_a).get()
    first = link_in(smtp, smtp.messages[0])
    resent = client_a.post(f"/o/{org_a.slug}/members/invitations/{invitation.pk}/resend/")
    assert resent.status_code == 302
    assert len(smtp.to("ann@example.test")) == 2
    second = link_in(smtp, smtp.messages[1])
    assert second != first
    visitor = Client()
    replaced = visitor.get(first)
    assert replaced.status_code == 410
    assert "replaced by a newer one" in replaced.content.decode()
    assert visitor.get(second).status_code == 200
    # inviting the address again (other roles) is one more re-send of the same invitation
    invite(client_a, org_a, "ann@example.test", "marketing")
    third = link_in(smtp, smtp.messages[2])
    assert Invitation.objects.for_org(org_a).count() == 1
    assert "as marketing." in smtp.part(smtp.messages[2], "text/plain")
    assert visitor.get(second).status_code == 410
    revoked = client_a.post(f"/o/{org_a.slug}/members/invitations/{invitation.pk}/revoke/")
    assert revoked.status_code == 302
    withdrawn = visitor.get(third)
    assert withdrawn.status_code == 410
    assert "This invitation was withdrawn" in withdrawn.content.decode()
    assert actions(org_a) == ["invited", "invited", "invited", "invitation_revoked"]
    # a revoked invitation is not re-sent
    client_a.post(f"/o/{org_a.slug}/members/invitations/{invitation.pk}/resend/")
    assert len(smtp.messages) == 3
    # a new invitation of the same address is a new one, with a working link
    invite(client_a, org_a, "ann@example.test", "sales")
    assert Invitation.objects.for_org(org_a).count() == 2
    assert visitor.get(link_in(smtp, smtp.messages[3])).status_code == 200


def test_a_member_is_not_invited_again(smtp: Any, client_a: Any, org_a: Organization) -> None:
    response = invite(client_a, org_a, "OWNER@acme.test", "sales")
    assert response.status_code == 200
    assert "owner@acme.test is already a member of Acme." in response.content.decode()
    no_role = invite(client_a, org_a, "x@example.test")
    assert "Choose at least one role" in no_role.content.decode()
    assert smtp.messages == [] and not Invitation.objects.exists()


def test_another_organizations_owner_cannot_see_resend_or_revoke(
    smtp: Any, client_a: Any, org_a: Organization, owner_b: Membership
) -> None:
    invite(client_a, org_a, "secret-hire@example.test", "sales")
    invitation = Invitation.objects.for_org(org_a).get()
    before = list(Invitation.objects.values_list())
    other = Client()
    other.force_login(owner_b.user)
    slug_b = owner_b.organization.slug
    assert "secret-hire" not in other.get(f"/o/{slug_b}/members/").content.decode()
    for action in ("resend", "revoke"):
        own_slug = other.post(f"/o/{slug_b}/members/invitations/{invitation.pk}/{action}/")
        assert own_slug.status_code == 404
        their_slug = other.post(f"/o/{org_a.slug}/members/invitations/{invitation.pk}/{action}/")
        assert their_slug.status_code == 404
    assert other.get(f"/o/{org_a.slug}/members/").status_code == 404
    assert list(Invitation.objects.values_list()) == before
    assert len(smtp.messages) == 1


def test_a_sales_member_cannot_invite(smtp: Any, org_a: Organization, sales_a: Membership) -> None:
    client = Client()
    client.force_login(sales_a.user)
    for response in (
        client.get(f"/o/{org_a.slug}/members/invite/"),
        invite(client, org_a, "x@example.test", "owner"),
    ):
        assert response.status_code == 403
        assert "Only owners can do this" in response.content.decode()
    assert smtp.messages == [] and not Invitation.objects.exists()


def test_a_mail_server_that_fails_leaves_the_invitation_to_resend(
    smtp: Any, settings: Any, client_a: Any, org_a: Organization
) -> None:
    from tests.smtp import free_port

    working = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()
    response = invite(client_a, org_a, "ann@example.test", "sales")
    assert response.status_code == 302
    page = client_a.get(f"/o/{org_a.slug}/members/").content.decode()
    assert "The invitation is saved but was not sent: the mail to ann@example.test" in page
    invitation = Invitation.objects.for_org(org_a).get()
    settings.EMAIL_PORT = working
    client_a.post(f"/o/{org_a.slug}/members/invitations/{invitation.pk}/resend/")
    assert Client().get(link_in(smtp, smtp.messages[0])).status_code == 200


def test_the_command_line_invites(smtp: Any, org_a: Organization) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "invite",
            "cli@example.test",
            "--org",
            "acme",
            "--role",
            "sales",
            "--role",
            "marketing",
            "--show-link",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "Sent an invitation to cli@example.test for Acme (acme) as marketing, sales"
        in result.stdout
    )
    [message] = smtp.to("cli@example.test")
    [link] = smtp.links(message, "/invitation/")
    assert link in result.stdout
    assert "You are invited" in smtp.part(message, "text/plain")  # the machine, not a person
    event = AuditEvent.objects.get(organization=org_a, action="invited")
    assert event.via == "cli"
    again = runner.invoke(app, ["invite", "cli@example.test", "--org", "acme", "--role", "owner"])
    assert again.exit_code == 0
    assert (
        "Sent a new invitation" in again.stdout and "earlier link no longer works" in again.stdout
    )
    no_role = runner.invoke(app, ["invite", "x@example.test", "--org", "acme"])
    assert no_role.exit_code == 2
    assert "give at least one --role" in no_role.stderr
    bad = runner.invoke(app, ["invite", "not-an-email", "--org", "acme", "--role", "sales"])
    assert bad.exit_code == 1 and "email: Enter a valid email address." in bad.stderr
    assert len(smtp.messages) == 2


def test_a_link_is_one_url_path_segment(smtp: Any, org_a: Organization) -> None:
    sent = invitation_send(organization=org_a, email="p@example.test", is_sales=True)
    token = token_of(sent.invitation)
    assert re.fullmatch(r"[A-Za-z0-9_\-:]+", token), token
    assert invitations.invitation_from_token(token) == sent.invitation


def test_the_api_invites_for_owners_only(
    smtp: Any, org_a: Organization, owner_a: Membership, sales_a: Membership
) -> None:
    from keepscore.accounts.tokens import token_create

    client = Client()
    owner_token = token_create(membership=owner_a, name="t")[1]
    sales_token = token_create(membership=sales_a, name="t")[1]

    def post(token: str, body: dict[str, Any]) -> Any:
        return client.post(
            "/api/v1/invitations",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    refused = post(sales_token, {"email": "x@example.test", "roles": ["sales"]})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Only owners can do this")
    made = post(owner_token, {"email": "api@example.test", "roles": ["sales", "marketing"]})
    assert made.status_code == 201, made.content
    body = made.json()
    invitation = Invitation.objects.for_org(org_a).get()
    assert body["id"] == invitation.pk and body["roles"] == ["marketing", "sales"]
    assert body["resent"] is False
    [message] = smtp.to("api@example.test")
    assert "owner@acme.test invites you" in smtp.part(message, "text/plain")
    none = post(owner_token, {"email": "y@example.test", "roles": []})
    assert none.status_code == 422 and "at least one role" in none.json()["detail"]
    bad = post(owner_token, {"email": "nope", "roles": ["sales"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    assert len(smtp.messages) == 1
