"""Export pages: downloads, the lead list's filters, owners only, another organization's 404."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from keepscore.accounts.services import member_add
from tests.conftest import channel, make_user
from tests.exports.conftest import Known


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def owner_client(client: Any, known: Known) -> Any:
    client.force_login(known.owner.user)
    return client


def test_the_lead_list_export_honours_the_filters(owner_client, known: Known):
    url = reverse("export_leads", kwargs={"org": "acme"})
    response = owner_client.get(url, {"format": "csv", "channel": channel(known.org).pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert [r["name"] for r in rows] == ["'=1+1"]  # the referral lead only

    response = owner_client.get(url, {"format": "xlsx", "q": "plain"})
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["'@SUM(A1)"]

    unfiltered = owner_client.get(url, {"format": "jsonl"})
    assert len(body(unfiltered).decode().splitlines()) == 2


def test_the_list_links_to_its_export_with_its_filters(owner_client, known: Known):
    page = owner_client.get(reverse("lead_list", kwargs={"org": "acme"}), {"q": "plain", "page": 1})
    html = page.content.decode()
    assert "/o/acme/export/leads/?q=plain&amp;format=csv" in html
    assert "format=xlsx" in html


def test_a_missing_format_is_a_400(owner_client, known: Known):
    url = reverse("export_leads", kwargs={"org": "acme"})
    assert owner_client.get(url).status_code == 400
    assert owner_client.get(url, {"format": "pdf"}).status_code == 400


def test_the_export_page_downloads_everything(owner_client, known: Known):
    page = owner_client.get(reverse("export_index", kwargs={"org": "acme"}))
    assert page.status_code == 200
    assert "Everything (zip of CSV files)" in page.content.decode()
    url = reverse("export_download", kwargs={"org": "acme"})
    response = owner_client.get(url, {"kind": "all", "format": "csv"})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert json.loads(archive.read("manifest.json"))["counts"]["leads"] == 2
    stage_changes = owner_client.get(url, {"kind": "stage-changes", "format": "jsonl"})
    assert len(body(stage_changes).decode().splitlines()) == 7  # 5 + 2
    assert owner_client.get(url, {"kind": "spend", "format": "csv"}).status_code == 400


def test_the_export_page_is_for_owners_but_members_export_their_list(client, known: Known):
    member = member_add(organization=known.org, user=make_user("sales@acme.test"), is_sales=True)
    client.force_login(member.user)
    assert client.get(reverse("export_index", kwargs={"org": "acme"})).status_code == 403
    url = reverse("export_download", kwargs={"org": "acme"})
    assert client.get(url, {"kind": "all", "format": "csv"}).status_code == 403
    url = reverse("export_leads", kwargs={"org": "acme"})
    assert client.get(url, {"format": "csv"}).status_code == 200


@pytest.mark.parametrize("name", ["export_index", "export_download", "export_leads"])
def test_another_organizations_export_is_404(owner_client, known: Known, name: str):
    url = reverse(name, kwargs={"org": known.other.slug})
    assert owner_client.get(url, {"kind": "all", "format": "csv"}).status_code == 404
