"""The scorecard page, its exports and the dashboard summary."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.reports.pdf import PdfUnavailable
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db


def page(org: Organization, month: str = "") -> str:
    base = reverse("scorecard", kwargs={"org": org.slug})
    return f"{base}{month}/" if month else base


@pytest.fixture
def won(org_a: Organization, owner_a: Membership) -> Any:
    now = timezone.now()
    lead = new_lead(org_a, "Won", now)
    move(lead, "customer", now, owner_a, revenue="1200")
    return lead


def test_this_month_shows_the_four_groups(client_a: Any, org_a: Organization, won: Any):
    response = client_a.get(page(org_a))
    assert response.status_code == 200
    html = response.content.decode()
    for group in ("SUSPECT", "PROSPECT", "LEAD", "CUSTOMER"):
        assert f'id="group-{group}"' in html
    assert 'data-metric="close_rate"' in html and "not enough data" in html
    assert "keepscore/charts.css" in html and "ks-spark" in html and "ks-funnel" in html
    assert 'id="review"' in html
    assert 'rel="prev"' in html and 'rel="next"' in html


def test_a_month_and_its_navigation(client_a: Any, org_a: Organization):
    response = client_a.get(page(org_a, "2025-01"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "January 2025" in html
    assert 'href="/o/acme/scorecard/2024-12/"' in html
    assert 'href="/o/acme/scorecard/2025-02/"' in html
    # the PDF is asked of the background worker (tests/worker/test_pdf.py)
    assert 'action="/o/acme/scorecard/2025-01/pdf/"' in html


@pytest.mark.parametrize("month", ["2026-13", "1800-01", "2026-00"])
def test_a_bad_month_is_404(client_a: Any, org_a: Organization, month: str):
    assert client_a.get(page(org_a, month)).status_code == 404
    assert client_a.get(f"{page(org_a, month)}export.csv").status_code == 404


def test_any_member_reads_others_do_not(
    client: Any, org_a: Organization, sales_a: Membership, owner_b: Membership
):
    client.force_login(sales_a.user)
    assert client.get(page(org_a)).status_code == 200
    client.force_login(owner_b.user)
    assert client.get(page(org_a)).status_code == 404


def test_exports(client_a: Any, org_a: Organization, won: Any):
    month = timezone.localdate().strftime("%Y-%m")
    csv = client_a.get(f"{page(org_a, month)}export.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert f'acme-scorecard-{month}.csv"' in csv["Content-Disposition"]
    assert "customers" in csv.content.decode()
    xlsx = client_a.get(f"{page(org_a, month)}export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client_a.get(f"{page(org_a, month)}export.doc").status_code == 404


def test_pdf_export(client_a: Any, org_a: Organization, won: Any):
    response = client_a.get(f"{page(org_a, '2025-03')}export.pdf")
    assert response.status_code == 200 and response.content[:4] == b"%PDF"


def test_pdf_unavailable_is_a_friendly_503(client_a: Any, org_a: Organization, monkeypatch: Any):
    def refuse(*args: Any, **kw: Any) -> bytes:
        raise PdfUnavailable(OSError("no pango"))

    monkeypatch.setattr("keepscore.reports.month.month_pdf", refuse)
    response = client_a.get(f"{page(org_a, '2025-03')}export.pdf")
    assert response.status_code == 503
    assert "PDF export needs WeasyPrint" in response.content.decode()


def test_dashboard_shows_the_scorecard_summary(client_a: Any, org_a: Organization, won: Any):
    response = client_a.get(reverse("dashboard", kwargs={"org": org_a.slug}))
    html = response.content.decode()
    assert 'id="scorecard-summary"' in html and 'id="focus"' in html  # the card: tests/focus
    for key in ("new_leads", "sales_conversations", "customers", "revenue", "close_rate"):
        assert f'data-metric="{key}"' in html
    assert 'id="funnel-90"' in html and "ks-funnel" in html
    assert "1,200" in html
