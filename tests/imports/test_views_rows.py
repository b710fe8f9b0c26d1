"""The web import's mapping page (issue 13): defaults for rows without a value, what rows
without a date of first contact get, and a column kept as a lead fact."""

from __future__ import annotations

import re
from typing import Any

import pytest

from keepscore.imports.models import ImportJob
from keepscore.leads.models import DealOutcome, Lead
from tests.imports.test_views import form_data, owner, upload  # noqa: F401 (owner: a fixture)

pytestmark = pytest.mark.django_db

CSV = (
    "Name,Email,Stage,Created,Product\n"
    "Ada Lovelace,ada@example.com,lost,2024-01-05,GTX Pro\n"
    "Alan Turing,alan@example.com,lead,,MG Special\n"
)


def column(page: str, header: str) -> str:
    """The form field of a file column on the mapping page."""
    found = re.search(rf'<label for="id_(col_\d+)">{re.escape(header)}</label>', page)
    assert found, header
    return found.group(1)


def test_the_mapping_page_offers_defaults_missing_dates_and_facts(owner: Any) -> None:  # noqa: F811
    _org, client = owner
    page = client.get(upload(client, CSV)["Location"]).content.decode()
    assert "Defaults for rows without a value" in page
    for name in ("default_source", "default_lost_reason", "default_owner"):
        assert f'name="{name}"' in page
    assert 'name="missing_dates"' in page
    assert '<option value="error" selected>' in page  # nothing is invented by default
    assert '<option value="fact:product">Keep as a lead fact “product”</option>' in page


def test_defaults_missing_dates_and_a_fact_through_the_form(owner: Any) -> None:  # noqa: F811
    org, client = owner
    url = upload(client, CSV)["Location"]
    page = client.get(url).content.decode()
    # no source column, a lost row without a reason, a row without a date: all refused
    client.post(url, form_data(page, action="check"))
    job = ImportJob.objects.for_org(org).get()
    assert job.status == "failed"
    assert any(
        "missing required column: Source (marketing channel)" in p for p in job.report["problems"]
    )
    product = column(page, "Product")
    data = form_data(
        page,
        action="check",
        default_source="Sales team",
        default_lost_reason="Not recorded",
        default_owner="owner@acme.test",
        **{product: "fact:product"},
    )
    client.post(url, data)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.report["errors"] == [
        [
            3,
            "Created",
            "no date of first contact (created); choose --missing-dates now to use the moment "
            "of import",
        ]
    ]
    # the moment of import for the dateless row, shown as a warning
    assert client.post(url, {**data, "action": "import", "missing_dates": "now"}).status_code == 302
    job.refresh_from_db()
    assert job.status == "imported", job.report
    assert job.options["defaults"] == {
        "source": "Sales team",
        "lost_reason": "Not recorded",
        "owner": "owner@acme.test",
    }
    assert job.options["missing_dates"] == "now"
    assert job.report["warnings_total"] == 1 and job.report["warnings"][0][:2] == [3, "Created"]
    leads = {
        lead.name: lead for lead in Lead.objects.for_org(org).select_related("channel", "owner")
    }
    assert {lead.channel.name for lead in leads.values()} == {"Sales team"}
    assert {lead.owner.user.email for lead in leads.values() if lead.owner} == {"owner@acme.test"}
    assert leads["Ada Lovelace"].facts == {"product": "GTX Pro"}
    assert leads["Alan Turing"].facts == {"product": "MG Special"}
    lost = DealOutcome.objects.select_related("lost_reason").get(lead=leads["Ada Lovelace"])
    assert lost.lost_reason is not None and lost.lost_reason.name == "Not recorded"
    shown = client.get(url).content.decode()
    assert 'data-count="warnings">1<' in shown
    report = b"".join(client.get(url + "report.csv").streaming_content).decode()
    assert "3,Created,warning: no date of first contact" in report
    # the saved choices come back on the page
    assert 'value="Sales team"' in shown or "Imported" in shown


def test_a_bad_default_is_refused_on_the_page(owner: Any) -> None:  # noqa: F811
    org, client = owner
    url = upload(client, CSV)["Location"]
    page = client.get(url).content.decode()
    sent = client.post(url, form_data(page, action="import", default_source="x" * 101))
    assert sent.status_code == 400
    assert "at most 100 characters" in sent.content.decode()
    assert not Lead.objects.for_org(org).exists()
    assert ImportJob.objects.for_org(org).get().status == "uploaded"
