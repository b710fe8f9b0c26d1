"""The audit log: every write through the services, imports and exports with their row
counts, sign-ins and failed ones, refusals, tokens — who, when, through what, from where
(a keyed hash), ids and field names only; append-only; read by owners on a page, as CSV,
by the API and the command line."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.tokens import token_create, token_revoke
from keepscore.audit.models import AuditEvent
from keepscore.cli.main import app
from keepscore.leads.models import Lead
from tests.conftest import PASSWORD, make_org

pytestmark = pytest.mark.django_db

SECRET_NAME = "Zed Secretname"
SECRET_EMAIL = "zed.secret@example.com"


def events(org: Organization, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(organization=org, **filters).order_by("id"))


def api(membership: Membership) -> tuple[Client, dict[str, str]]:
    raw = token_create(membership=membership, name="tests")[1]
    return Client(), {"Authorization": f"Bearer {raw}"}


def test_a_lead_added_on_the_web_is_recorded_with_who_and_where(
    org_a: Organization, sales_a: Membership
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(sales_a.user)
    before = AuditEvent.objects.count()
    response = client.post(
        f"/o/{org_a.slug}/leads/add/",
        {"name": SECRET_NAME, "email": SECRET_EMAIL, "channel": org_a_channel(org_a)},
    )
    assert response.status_code == 302, response.content[:500]
    lead = Lead.objects.get(name=SECRET_NAME)
    (created,) = events(org_a, object_type="leads.Lead", object_id=str(lead.pk))
    assert (created.action, created.via) == ("created", "web")
    assert (created.user_id, created.membership_id) == (sales_a.user_id, sales_a.pk)
    # the address: a keyed hash, the same for the same address, never the address
    assert len(created.address) == 32 and "203.0.113.9" not in created.address
    assert {e.address for e in AuditEvent.objects.all()[: AuditEvent.objects.count() - before]}
    # ids and field names only: nothing a person typed
    texts = " ".join(f"{e.summary} {e.object_id}" for e in AuditEvent.objects.all())
    assert SECRET_NAME not in texts and SECRET_EMAIL not in texts


def org_a_channel(org: Organization) -> int:
    from tests.conftest import channel

    return channel(org).pk


def test_an_api_write_is_recorded_as_the_token_s_member(
    org_a: Organization, owner_a: Membership
) -> None:
    client, headers = api(owner_a)
    response = client.post(
        "/api/v1/leads",
        {"name": SECRET_NAME, "channel": "referral"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    lead_id = response.json()["id"]
    (created,) = events(org_a, object_type="leads.Lead", object_id=str(lead_id))
    assert (created.via, created.user_id, created.membership_id) == (
        "api",
        owner_a.user_id,
        owner_a.pk,
    )
    # a change names the fields saved, not their values
    client.patch(
        f"/api/v1/leads/{lead_id}",
        {"phone": "+1 555 0100"},
        content_type="application/json",
        headers=headers,
    )
    changed = events(org_a, object_type="leads.Lead", object_id=str(lead_id), action="changed")
    assert changed and all("555" not in e.summary for e in changed)


def test_sign_ins_and_failed_ones(org_a: Organization, owner_a: Membership) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    email = owner_a.user.email
    assert client.post("/login/", {"username": email, "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": "nobody@x.test", "password": "x"}).status_code == 200
    assert client.post("/login/", {"username": email, "password": PASSWORD}).status_code == 302
    (failed,) = events(org_a, action="login_failed")
    assert (failed.object_id, failed.summary) == (str(owner_a.user_id), "wrong password")
    assert failed.user_id is None and failed.address  # not signed in; where from
    (unknown,) = AuditEvent.objects.filter(organization=None, action="login_failed")
    assert unknown.summary == "unknown account" and "nobody" not in unknown.summary
    (signed_in,) = events(org_a, action="logged_in")
    assert signed_in.user_id == owner_a.user_id and signed_in.address == failed.address


def test_refusals_are_recorded(org_a: Organization, sales_a: Membership, org_b: Any) -> None:
    client = Client()
    client.force_login(sales_a.user)
    assert client.get(f"/o/{org_a.slug}/settings/").status_code == 403
    assert client.get(f"/o/{org_b.slug}/leads/").status_code == 404  # not a member
    api_client, headers = api(sales_a)
    posted = api_client.post(
        "/api/v1/channels", {"name": "Flyers"}, content_type="application/json", headers=headers
    )
    assert posted.status_code == 403
    refused = [e.summary for e in events(org_a, action="refused")]
    assert refused == ["GET settings_ladder needs owner", "POST /channels needs owner"]
    (outsider,) = events(org_b, action="refused")
    assert outsider.summary == "GET lead_list: not a member"
    assert outsider.user_id == sales_a.user_id


def test_tokens_created_and_revoked(org_a: Organization, owner_a: Membership) -> None:
    token, raw = token_create(membership=owner_a, name="script")
    token_revoke(token=token)
    rows = events(org_a, object_type="accounts.ApiToken", object_id=str(token.pk))
    assert [e.action for e in rows] == ["created", "changed"]
    assert rows[1].summary == "fields: revoked_at"
    assert all(raw not in e.summary and token.hashed not in e.summary for e in rows)


def test_exports_and_imports_with_their_row_counts(
    org_a: Organization, owner_a: Membership, tmp_path: Any
) -> None:
    from keepscore.imports.services import import_leads

    source = tmp_path / "leads.csv"
    source.write_text("name,email,source\nAda,ada@x.test,referral\nBob,bob@x.test,referral\n")
    result = import_leads(
        organization=org_a, path=source, preset="plain", by=owner_a, missing_dates="now"
    )
    (imported,) = events(org_a, action="imported")
    assert imported.object_id == str(result.job_id)
    assert imported.summary.startswith("leads (imported): 2 rows, 2 created, 0 duplicates")
    client = Client()
    client.force_login(owner_a.user)
    body = b"".join(client.get(f"/o/{org_a.slug}/export/leads/", {"format": "csv"}))
    lines = len(body.decode().strip().splitlines()) - 1  # less the header
    assert lines == Lead.objects.for_org(org_a).count() == 2
    (exported,) = events(org_a, action="exported")
    assert exported.summary == "leads as csv: 2 rows"
    out = tmp_path / "all.zip"
    run = CliRunner().invoke(app, ["export", "all", "--org", org_a.slug, "--out", str(out)])
    assert run.exit_code == 0, run.output
    last = events(org_a, action="exported")[-1]
    assert last.via == "cli" and last.summary.startswith("all as zip: ")


def test_deletions_are_recorded(org_a: Organization, owner_a: Membership) -> None:
    from keepscore.economics.services import spend_delete, spend_set

    spend = spend_set(organization=org_a, month="2026-01", channel="ads", amount="10")
    spend_delete(organization=org_a, spend=spend)
    assert [e.action for e in events(org_a, object_type="economics.Spend")] == [
        "created",
        "deleted",
    ]


def test_the_log_is_append_only(org_a: Organization, owner_a: Membership) -> None:
    token_create(membership=owner_a, name="x")
    event = AuditEvent.objects.filter(organization=org_a).first()
    assert event is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="tampered")
    event.refresh_from_db()
    assert event.summary != "tampered"


def test_owners_read_it_filter_it_and_download_it(
    org_a: Organization, owner_a: Membership, sales_a: Membership
) -> None:
    token_create(membership=owner_a, name="x")
    client = Client()
    client.force_login(owner_a.user)
    page = client.get(f"/o/{org_a.slug}/settings/audit/", {"action": "created"})
    assert page.status_code == 200
    rows = page.context["rows"]
    assert rows and {r["action"] for r in rows} == {"created"}
    assert len(rows) == AuditEvent.objects.filter(organization=org_a, action="created").count()
    bad = client.get(f"/o/{org_a.slug}/settings/audit/", {"since": "2026-02-30"})
    assert bad.status_code == 400 and b"Enter a valid date" in bad.content
    body = b"".join(client.get(f"/o/{org_a.slug}/settings/audit/audit.csv")).decode()
    table = list(csv.reader(io.StringIO(body)))
    assert table[0][:3] == ["at", "via", "user_id"]
    assert len(table) - 1 == AuditEvent.objects.filter(organization=org_a).count()
    seller = Client()
    seller.force_login(sales_a.user)
    assert seller.get(f"/o/{org_a.slug}/settings/audit/").status_code == 403


def test_the_api_and_the_command_line(org_a: Organization, owner_a: Membership) -> None:
    other, _owner = make_org("other", "owner@other.test")
    client, headers = api(owner_a)
    answer = client.get("/api/v1/audit", {"action": "created"}, headers=headers)
    assert answer.status_code == 200
    mine = AuditEvent.objects.filter(organization=org_a, action="created")
    assert answer.json()["count"] == mine.count() > 0
    assert {i["object_type"] for i in answer.json()["items"]} >= {"accounts.ApiToken"}
    assert client.get("/api/v1/audit", {"action": "nope"}, headers=headers).status_code == 422
    run = CliRunner().invoke(app, ["audit", "--org", org_a.slug, "--format", "json"])
    assert run.exit_code == 0, run.output
    items = json.loads(run.stdout)
    assert len(items) == AuditEvent.objects.filter(organization=org_a).count()
    assert not AuditEvent.objects.filter(organization=other, pk__in=[0]).exists()
    bad = CliRunner().invoke(app, ["audit", "--org", org_a.slug, "--action", "nope"])
    assert bad.exit_code == 2 and "--action" in bad.output
