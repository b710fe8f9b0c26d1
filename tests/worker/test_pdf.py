"""The scorecard PDF asked for on the page and made by the background worker (its task run
here in the test's process, as ``sync`` settings do; a queue with no worker, by hand)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from keepscore.accounts.models import Membership, Organization
from keepscore.reports import pdf_jobs
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db


def pdf_url(month: str) -> str:
    return f"/o/acme/scorecard/{month}/pdf/"


@pytest.fixture(autouse=True)
def home(settings: Any, tmp_path: Any) -> Any:
    settings.KEEPSCORE_HOME = tmp_path  # the PDFs of this test only
    return tmp_path


@pytest.fixture
def won(org_a: Organization, owner_a: Membership) -> Any:
    now = timezone.now()
    lead = new_lead(org_a, "Won", now)
    move(lead, "customer", now, owner_a, revenue="1200")
    return lead


def test_the_page_asks_the_worker_and_offers_the_pdf(
    client_a: Any, org_a: Organization, won: Any
) -> None:
    month = timezone.localdate().strftime("%Y-%m")
    scorecard = client_a.get(f"/o/acme/scorecard/{month}/").content.decode()
    assert f'action="{pdf_url(month)}"' in scorecard

    asked = client_a.post(pdf_url(month))
    assert asked.status_code == 302
    location = asked["Location"]
    token = re.fullmatch(rf"{pdf_url(month)}\?t=([0-9a-f]{{32}})", location)
    assert token is not None, location
    page = client_a.get(location).content.decode()
    assert "The PDF is ready" in page and "hx-trigger" not in page  # the task ran (sync)

    download = client_a.get(location + "&download=1")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert f'acme-scorecard-{month}.pdf"' in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) >= 1
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Acme" in text and timezone.localdate().strftime("%B %Y") in text

    # the token is the month's and the organization's only
    other_month = "2001-01" if month != "2001-01" else "2001-02"
    assert client_a.get(f"{pdf_url(other_month)}?t={token.group(1)}").status_code == 404
    assert client_a.get(f"{pdf_url(month)}?t=../../secret_key").status_code == 404


def test_another_organization_cannot_read_the_pdf(
    client: Any, org_a: Organization, owner_a: Membership, owner_b: Membership
) -> None:
    client.force_login(owner_a.user)
    location = client.post(pdf_url("2025-03"))["Location"]
    client.force_login(owner_b.user)
    assert client.get(location + "&download=1").status_code == 404
    # its own organization's address with A's token: there is no such file of B's
    other = location.replace("/o/acme/", f"/o/{owner_b.organization.slug}/")
    response = client.get(other + "&download=1")
    assert response.status_code == 404 and not response.get("Content-Disposition")


def test_with_no_worker_the_page_waits_and_says_so(
    client_a: Any, org_a: Organization, monkeypatch: Any, settings: Any
) -> None:
    from django_q.conf import Conf
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)  # the task waits in the queue: no worker here
    location = client_a.post(pdf_url("2025-03"))["Location"]
    page = client_a.get(location).content.decode()
    assert "Preparing the PDF" in page and 'hx-trigger="every 1s"' in page
    assert "keepscore worker" not in page
    settings.WORKER_WAIT_HINT = 0
    partial = client_a.get(location, headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<div id="pdf-status"') and 'hx-trigger="every 1s"' in partial
    assert "Waiting for the worker" in partial and "keepscore worker" in partial

    # the worker takes it (run here as its task) and the next poll offers the download
    task = OrmQ.objects.get().task
    assert task["func"] == "keepscore.reports.tasks.pdf_render"
    from keepscore.reports.tasks import pdf_render

    assert pdf_render(*task["args"]) == "done"
    partial = client_a.get(location, headers={"HX-Request": "true"}).content.decode()
    assert "data-pdf-ready" in partial and "hx-trigger" not in partial


def test_a_pdf_the_server_cannot_make_says_why(
    client_a: Any, org_a: Organization, monkeypatch: Any
) -> None:
    from keepscore.reports.pdf import PdfUnavailable

    def refuse(*args: Any, **kw: Any) -> bytes:
        raise PdfUnavailable(OSError("no pango"))

    monkeypatch.setattr("keepscore.reports.scorecard.scorecard_pdf", refuse)
    location = client_a.post(pdf_url("2025-03"))["Location"]
    page = client_a.get(location).content.decode()
    assert "PDF export needs WeasyPrint" in page and "Try again" in page
    assert client_a.get(location + "&download=1").status_code == 200  # the page, no file
    assert not list(pdf_jobs.folder(org_a.pk).glob("*.pdf"))
