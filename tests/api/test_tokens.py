"""Tokens: stored hashed, shown once, revocable; the web page and the command line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from typer.testing import CliRunner

from keepscore.accounts.models import ApiToken
from keepscore.accounts.tokens import (
    token_authenticate,
    token_create,
    token_hash,
    token_revoke,
)
from keepscore.cli.main import app
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_created_token_authenticates_and_is_stored_only_hashed(owner_a):
    # given / when
    token, raw = token_create(membership=owner_a, name="script")
    # then
    assert raw.startswith(token.prefix + "_") and token.prefix.startswith("ks_")
    assert len(token.prefix) == 11
    assert token.hashed == token_hash(raw)
    assert token_authenticate(raw) == token
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # names from the schema
            dump.append(repr(cursor.fetchall()))
    assert raw not in "".join(dump)
    assert raw.split("_", 2)[2] not in "".join(dump)


def test_a_token_needs_a_name(owner_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        token_create(membership=owner_a, name="  ")
    assert "name" in err.value.message_dict
    assert ApiToken.objects.count() == 0


def test_revoked_and_unknown_tokens_do_not_authenticate(owner_a):
    token, raw = token_create(membership=owner_a, name="script")
    token_revoke(token=token)
    assert token_authenticate(raw) is None
    assert token_authenticate(raw + "x") is None
    assert token_authenticate("ks_" + "0" * 300) is None
    assert token_authenticate("") is None


def test_last_used_is_written_at_most_once_a_minute(owner_a):
    token, raw = token_create(membership=owner_a, name="script")
    first = token_authenticate(raw)
    assert first is not None and first.last_used_at is not None
    token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == first.last_used_at
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(seconds=5)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer ks_00000000_" + "x" * 43,
        "Bearer ks_\x00",
        "Token ks_abc",
    ],
)
def test_missing_or_malformed_header_is_401(lead_a, header):
    headers = {} if header is None else {"Authorization": header}
    response = Client().get("/api/v1/leads", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response.json()["errors"] == []


def test_a_revoked_token_is_401(api_a, lead_a):
    assert api_a.get("/leads").status_code == 200
    token_revoke(token=ApiToken.objects.get())
    response = api_a.get("/leads")
    assert response.status_code == 401


def test_an_inactive_users_token_stops_working(api_a, owner_a, lead_a):
    owner_a.user.is_active = False
    owner_a.user.save()
    assert api_a.get("/leads").status_code == 401


# --- the web page ---------------------------------------------------------------------------


def test_a_member_creates_a_token_and_sees_it_once(client, sales_a, org_a):
    client.login(username=sales_a.user.email, password=PASSWORD)
    url = reverse("token_list", kwargs={"org": org_a.slug})
    response = client.post(url, {"name": "Zapier"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.membership == sales_a and token.name == "Zapier"
    raw = response.context["raw_token"]
    assert raw in response.content.decode()
    assert token_authenticate(raw) == token
    again = client.get(url)
    assert token.prefix in again.content.decode()
    assert raw not in again.content.decode()


def test_a_blank_name_is_a_field_error(client_a, org_a):
    url = reverse("token_list", kwargs={"org": org_a.slug})
    response = client_a.post(url, {"name": " "})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert ApiToken.objects.count() == 0


def test_members_see_their_own_tokens_owners_all(client, org_a, owner_a, sales_a):
    mine, _ = token_create(membership=sales_a, name="mine")
    owners, _ = token_create(membership=owner_a, name="owners")
    url = reverse("token_list", kwargs={"org": org_a.slug})
    client.force_login(sales_a.user)
    assert list(client.get(url).context["tokens"]) == [mine]
    revoke = reverse("token_revoke", kwargs={"org": org_a.slug, "pk": owners.pk})
    assert client.post(revoke).status_code == 404
    owners.refresh_from_db()
    assert owners.revoked_at is None
    client.force_login(owner_a.user)
    assert set(client.get(url).context["tokens"]) == {mine, owners}
    revoke = reverse("token_revoke", kwargs={"org": org_a.slug, "pk": mine.pk})
    assert client.post(revoke).status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_another_organizations_token_cannot_be_revoked(client_a, org_a, owner_b):
    theirs, _ = token_create(membership=owner_b, name="theirs")
    revoke = reverse("token_revoke", kwargs={"org": org_a.slug, "pk": theirs.pk})
    assert client_a.post(revoke).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_settings_menu_links_to_tokens(client_a, org_a):
    page = client_a.get(reverse("settings_ladder", kwargs={"org": org_a.slug}))
    assert reverse("token_list", kwargs={"org": org_a.slug}) in page.content.decode()


# --- the command line -----------------------------------------------------------------------


def test_cli_creates_lists_and_revokes_a_token(org_a, sales_a):
    runner = CliRunner()
    created = runner.invoke(
        app, ["token", "create", "--org", "acme", "--email", "SALES@acme.test", "--name", "ci"]
    )
    assert created.exit_code == 0, created.output
    raw = created.output.splitlines()[0].strip()
    token = ApiToken.objects.get()
    assert token_authenticate(raw) == token and token.membership == sales_a

    listed = runner.invoke(app, ["token", "list", "--org", "acme"])
    assert listed.exit_code == 0 and token.prefix in listed.output and raw not in listed.output

    revoked = runner.invoke(app, ["token", "revoke", "--org", "acme", token.prefix])
    assert revoked.exit_code == 0, revoked.output
    assert token_authenticate(raw) is None


def test_cli_revokes_by_id_and_refuses_unknown(org_a, owner_a, owner_b):
    token, _ = token_create(membership=owner_a, name="x")
    theirs, _ = token_create(membership=owner_b, name="y")
    runner = CliRunner()
    assert runner.invoke(app, ["token", "revoke", "--org", "acme", str(token.pk)]).exit_code == 0
    other = runner.invoke(app, ["token", "revoke", "--org", "acme", str(theirs.pk)])
    assert other.exit_code == 1
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    stranger = runner.invoke(
        app, ["token", "create", "--org", "acme", "--email", "nobody@x.test", "--name", "n"]
    )
    assert stranger.exit_code == 1
