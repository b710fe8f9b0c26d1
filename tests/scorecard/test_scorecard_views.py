"""The scorecard page, its exports and the dashboard summary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.common.months import month_add
from keepscore.reports.pdf import PdfUnavailable
from tests.conftest import linked_leads
from tests.funnel.conftest import at, move, new_lead

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


def test_each_count_of_leads_links_to_those_leads(
    client_a: Any, org_a: Organization, owner_a: Membership
):
    # by hand: March 2025 has Ann (won 10 Mar), Bob (won 12 Mar, lost 20 Mar: not a
    # customer of March) and Cy; February 2025 has Dee; March 2024 has Eve (won 5 Mar 2024)
    ann = new_lead(org_a, "Ann", at(2025, 3, 3))
    move(ann, "customer", at(2025, 3, 10), owner_a, revenue="100")
    bob = new_lead(org_a, "Bob", at(2025, 3, 4))
    move(bob, "customer", at(2025, 3, 12), owner_a, revenue="100")
    move(bob, "lost", at(2025, 3, 20), owner_a, reason="Price too high")
    new_lead(org_a, "Cy", at(2025, 3, 5))
    new_lead(org_a, "Dee", at(2025, 2, 14))
    eve = new_lead(org_a, "Eve", at(2024, 3, 1))
    move(eve, "customer", at(2024, 3, 5), owner_a, revenue="100")
    html = client_a.get(page(org_a, "2025-03")).content.decode()

    def listed(metric: str, column: str) -> list[str] | None:
        row = re.search(rf'<tr data-metric="{metric}">(.*?)</tr>', html, re.S).group(1)
        cell = re.search(rf'<td class="num {column}[^"]*"[^>]*>(.*?)</td>', row, re.S).group(1)
        return linked_leads(client_a, cell)

    assert listed("new_leads", "value") == ["Ann", "Bob", "Cy"]
    assert listed("new_leads", "previous") == ["Dee"]
    assert listed("new_leads", "last-year") == ["Eve"]
    assert listed("customers", "value") == ["Ann"]
    assert listed("customers", "last-year") == ["Eve"]
    assert listed("customers", "previous") is None  # none in February: no link
    assert listed("lost", "value") == ["Bob"]  # won, then lost: March's last outcome
    assert listed("lost", "last-year") is None
    assert listed("entered_customer", "value") == ["Ann", "Bob"]
    assert listed("entered_prospect", "value") == ["Ann", "Bob", "Cy"]  # new at prospect
    assert listed("sales_conversations", "value") is None  # activities, not leads


def test_while_the_month_runs_the_same_days_of_last_month_link_to_their_leads(
    client_a: Any, org_a: Organization, won: Any
):
    last_month = month_add(timezone.localdate().replace(day=1), -1)
    new_lead(org_a, "Old", at(last_month.year, last_month.month, 1))  # day 1: always inside
    html = client_a.get(page(org_a)).content.decode()
    row = re.search(r'<tr data-metric="new_leads">(.*?)</tr>', html, re.S).group(1)
    cell = re.search(r'<td class="num same-days">(.*?)</td>', row, re.S).group(1)
    assert ">1</a>" in cell and linked_leads(client_a, cell) == ["Old"]
