"""The scorecard pages: who may edit, bad input, and one organization never reaching another."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, ReviewEntry, Target
from keepscore.scorecard.services import review_add, target_set

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(org: Any, name: str, **kw: Any) -> str:
    return reverse(name, kwargs={"org": org.slug, **kw})


def review_url(org: Any, month: str = "2026-03") -> str:
    year, number = month.split("-")
    return url(org, "scorecard_review", year=year, month=number)


def snapshot() -> list[Any]:
    return [
        sorted(m.objects.values_list())
        for m in (ManualMetric, ManualValue, Target, Goal, ReviewEntry)
    ]


def row(key: str, **months: Any) -> dict[str, Any]:
    return {"metric": key, **{f"m{n:02d}": "" for n in range(1, 13)}, **months}


# --- manual metrics --------------------------------------------------------------------------


def test_the_owner_adds_and_edits_a_manual_metric(client_a, org_a):
    page = client_a.get(url(org_a, "scorecard_metrics"))
    assert page.status_code == 200 and "Entered Prospect" in page.content.decode()
    response = client_a.post(
        url(org_a, "scorecard_metrics"),
        {"name": "Website visitors", "group": "SUSPECT", "unit": "count", "active": "on"},
    )
    assert response.status_code == 302
    metric = ManualMetric.objects.get(organization=org_a)
    assert metric.key == "website_visitors" and not metric.higher_is_better
    edit = url(org_a, "scorecard_metric_edit", metric_pk=metric.pk)
    assert client_a.get(edit).status_code == 200
    response = client_a.post(
        edit, {"name": "Visits", "group": "PROSPECT", "unit": "count", "higher_is_better": "on"}
    )
    assert response.status_code == 302
    metric.refresh_from_db()
    assert (metric.name, metric.group, metric.active) == ("Visits", "PROSPECT", False)


def test_a_clashing_key_shows_the_form_again_and_writes_nothing(client_a, org_a):
    before = snapshot()
    response = client_a.post(
        url(org_a, "scorecard_metrics"),
        {"name": "My revenue", "key": "revenue", "group": "CUSTOMER", "unit": "money"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html and "computed" in html and "My revenue" in html
    assert snapshot() == before


# --- the values grid -------------------------------------------------------------------------


def test_a_row_of_values_is_saved_and_shown(client_a, org_a, visitors_a):
    page = url(org_a, "scorecard_values") + "?year=2026"
    response = client_a.post(page, row("website_visitors", m01="100", m02="120"))
    assert response.status_code == 302
    assert sorted(ManualValue.objects.values_list("month", "value")) == [
        (date(2026, 1, 1), Decimal(100)),
        (date(2026, 2, 1), Decimal(120)),
    ]
    html = client_a.get(page).content.decode()
    assert 'value="120"' in html
    # an empty cell clears its month
    client_a.post(page, row("website_visitors", m01="100"))
    assert ManualValue.objects.count() == 1


def test_a_bad_cell_shows_the_row_again_with_its_error_and_writes_nothing(
    client_a, org_a, visitors_a
):
    page = url(org_a, "scorecard_values") + "?year=2026"
    before = snapshot()
    for headers in ({}, HTMX):
        response = client_a.post(page, row("website_visitors", m01="77", m02="-5"), **headers)
        assert response.status_code == (200 if headers else 422)
        html = response.content.decode()
        assert 'role="alert"' in html and "negative" in html and 'value="77"' in html
    assert snapshot() == before


def test_an_unknown_metric_in_the_grid_is_an_error(client_a, org_a, visitors_b):
    before = snapshot()
    response = client_a.post(url(org_a, "scorecard_values"), row("bravo_visitors", m01="1"))
    assert response.status_code == 422 and 'role="alert"' in response.content.decode()
    assert snapshot() == before


def test_a_bad_year_shows_this_year(client_a, org_a):
    for year in ("abc", "99999", "-1", "1e309"):
        response = client_a.get(url(org_a, "scorecard_values") + f"?year={year}")
        assert response.status_code == 200


# --- targets and goals -----------------------------------------------------------------------


def test_targets_and_the_goal_of_a_metric_are_saved_with_htmx(client_a, org_a):
    page = url(org_a, "scorecard_targets") + "?year=2027"
    assert "New leads" in client_a.get(page).content.decode()
    response = client_a.post(page, row("new_leads", m03="30", goal="400"), **HTMX)
    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert list(Target.objects.values_list("metric_key", "month", "value")) == [
        ("new_leads", date(2027, 3, 1), Decimal(30))
    ]
    assert list(Goal.objects.values_list("metric_key", "year", "value")) == [
        ("new_leads", 2027, Decimal(400))
    ]


def test_a_percentage_target_over_100_is_refused(client_a, org_a):
    before = snapshot()
    page = url(org_a, "scorecard_targets") + "?year=2027"
    response = client_a.post(page, row("close_rate", m01="150"))
    assert response.status_code == 422 and "-100 to 100" in response.content.decode()
    assert snapshot() == before


# --- the review ------------------------------------------------------------------------------


def test_a_note_is_added_to_the_months_review(client_a, org_a, owner_a):
    response = client_a.post(review_url(org_a), {"kind": "decision", "text": "Call more"})
    assert response.status_code == 302
    entry = ReviewEntry.objects.get()
    assert (entry.month, entry.kind, entry.by) == (date(2026, 3, 1), "decision", owner_a.user)
    html = client_a.get(review_url(org_a)).content.decode()
    assert "Call more" in html and "March 2026" in html
    response = client_a.post(review_url(org_a), {"kind": "note", "text": "Q2"}, **HTMX)
    assert response.status_code == 200 and 'id="review"' in response.content.decode()
    assert ReviewEntry.objects.count() == 2


def test_an_empty_note_is_refused(client_a, org_a):
    response = client_a.post(review_url(org_a), {"kind": "note", "text": "  "})
    assert response.status_code == 422 and 'role="alert"' in response.content.decode()
    assert not ReviewEntry.objects.exists()


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "0-1", "99999-01", "1899-12"])
def test_a_month_that_does_not_exist_is_404(client_a, org_a, month):
    assert client_a.get(review_url(org_a, month)).status_code == 404
    assert client_a.post(review_url(org_a, month), {"text": "x"}).status_code == 404


def test_the_review_partial_renders_from_reviews_and_month(rf, org_a, owner_a):
    from django.template.loader import render_to_string

    review_add(organization=org_a, month="2026-03", kind="note", text="<b>bold</b>")
    from keepscore.scorecard.services import reviews_for

    request = rf.get("/")
    request.user = owner_a.user
    html = render_to_string(
        "scorecard/_review.html",
        {
            "reviews": reviews_for(org_a, "2026-03"),
            "month": date(2026, 3, 1),
            "organization": org_a,
            "membership": owner_a,
        },
        request=request,
    )
    assert "&lt;b&gt;bold" in html and 'name="text"' in html and "/2026-03/review/" in html


# --- permissions -----------------------------------------------------------------------------


def pages(org: Any) -> list[str]:
    metric = ManualMetric.objects.for_org(org).first()
    assert metric is not None
    return [
        url(org, "scorecard_metrics"),
        url(org, "scorecard_metric_edit", metric_pk=metric.pk),
        url(org, "scorecard_values"),
        url(org, "scorecard_targets"),
        review_url(org),
    ]


def test_a_sales_only_member_reads_but_cannot_edit(client, org_a, sales_a, visitors_a):
    client.force_login(sales_a.user)
    target_set(organization=org_a, metric_key="revenue", month="2026-01", value=5)
    before = snapshot()
    for page in pages(org_a):
        response = client.get(page)
        assert response.status_code == 200, page
        assert '<form method="post" action="/o/' not in response.content.decode(), page
        assert client.post(page, {"name": "x", "text": "x", **row("revenue")}).status_code == 403
    assert snapshot() == before


def test_a_marketing_member_edits(client, org_a, marketing_a):
    client.force_login(marketing_a.user)
    response = client.post(review_url(org_a), {"kind": "note", "text": "From marketing"})
    assert response.status_code == 302 and ReviewEntry.objects.count() == 1


# --- isolation -------------------------------------------------------------------------------


def test_another_organizations_pages_and_metrics_are_404(client_a, org_a, org_b, visitors_b):
    target_set(organization=org_b, metric_key="revenue", month="2026-01", value=5)
    before = snapshot()
    for page in pages(org_b):
        assert client_a.get(page).status_code == 404, page
        assert client_a.post(page, {"name": "x", "text": "x"}).status_code == 404, page
    theirs = url(org_a, "scorecard_metric_edit", metric_pk=visitors_b.pk)
    assert client_a.get(theirs).status_code == 404
    assert (
        client_a.post(theirs, {"name": "Hijack", "group": "LEAD", "unit": "count"}).status_code
        == 404
    )
    # B's manual metric is no row of A's grid
    response = client_a.post(url(org_a, "scorecard_values"), row("bravo_visitors", m01="9"))
    assert response.status_code == 422
    assert "Bravo visitors" not in client_a.get(url(org_a, "scorecard_targets")).content.decode()
    assert snapshot() == before
