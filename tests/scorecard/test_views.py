"""The scorecard pages: who may edit, bad input, and one organization never reaching another."""

from __future__ import annotations

import re
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


def cells(key: str, **columns: Any) -> dict[str, Any]:
    """Cells of a grid (targets, manual values) as the page names them: ``new_leads-m03``."""
    return {f"{key}-{column}": value for column, value in columns.items()}


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


def test_the_values_of_the_year_are_saved_at_once_and_shown(client_a, org_a, visitors_a):
    from tests.scorecard.conftest import make_metric

    make_metric(org_a, "Downloads", group="LEAD")
    page = url(org_a, "scorecard_values") + "?year=2026"
    html = client_a.get(page).content.decode()
    assert html.index('id="group-SUSPECT"') < html.index('id="group-LEAD"')
    assert "website_visitors" not in visible_text(html)
    response = client_a.post(
        page, {**cells("website_visitors", m01="100", m02="120"), **cells("downloads", m03="7")}
    )
    assert response.status_code == 302
    assert sorted(ManualValue.objects.values_list("metric__key", "month", "value")) == [
        ("downloads", date(2026, 3, 1), Decimal(7)),
        ("website_visitors", date(2026, 1, 1), Decimal(100)),
        ("website_visitors", date(2026, 2, 1), Decimal(120)),
    ]
    html = client_a.get(page).content.decode()
    assert 'id="c-website_visitors-m02" value="120"' in html
    assert "Saved the manual values of 2026: 3 set, 0 cleared, 0 unchanged" in html
    # an empty cell clears its month
    client_a.post(page, cells("website_visitors", m01="100", m02=""))
    assert ManualValue.objects.count() == 2


def test_a_bad_cell_shows_the_grid_again_with_its_error_and_writes_nothing(
    client_a, org_a, visitors_a
):
    page = url(org_a, "scorecard_values") + "?year=2026"
    before = snapshot()
    for headers in ({}, HTMX):
        response = client_a.post(page, cells("website_visitors", m01="77", m02="-5"), **headers)
        assert response.status_code == 422
        html = response.content.decode()
        assert 'role="alert"' in html and "Website visitors, Feb 2026:" in html
        assert "negative" in html and 'value="77"' in html and 'aria-invalid="true"' in html
    assert snapshot() == before


def test_an_unknown_metric_in_the_grid_is_not_written(client_a, org_a, visitors_b):
    before = snapshot()
    response = client_a.post(url(org_a, "scorecard_values"), cells("bravo_visitors", m01="1"))
    assert response.status_code == 302  # not a cell of this page: nothing to save
    assert snapshot() == before


def test_the_values_service_refuses_another_organizations_metric(org_a, visitors_b):
    from django.core.exceptions import ValidationError

    from keepscore.scorecard.grids import manual_values_grid_set

    with pytest.raises(ValidationError, match="no manual metric “bravo_visitors”"):
        manual_values_grid_set(organization=org_a, year=2026, rows={"bravo_visitors": {"m01": 1}})
    assert not ManualValue.objects.exists()


def test_a_bad_year_shows_this_year(client_a, org_a):
    for year in ("abc", "99999", "-1", "1e309"):
        response = client_a.get(url(org_a, "scorecard_values") + f"?year={year}")
        assert response.status_code == 200


# --- targets and goals: one grid, one Save ----------------------------------------------------


def visible_text(html: str) -> str:
    """What a person reads: the page's text without tags nor attributes."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.parts = []
    parser.feed(html)
    return " ".join(parser.parts)


def test_the_grid_shows_glossary_names_once_per_group_in_ladder_order(client_a, org_a):
    from keepscore.scorecard.catalogue import metric_catalogue

    html = client_a.get(url(org_a, "scorecard_targets") + "?year=2027").content.decode()
    text = visible_text(html)
    assert "New leads" in text and "Close rate" in text and "Suspect → Prospect" in text
    # no internal key nor unit code is shown
    for metric in metric_catalogue(org_a):
        if "_" in metric.key:
            assert metric.key not in text, metric.key
    assert re.search(r"\b(count|percent|money|number)\b", text) is None
    assert "in %" in text and "in days" in text
    # each group once, in the ladder's order
    places = [html.index(f'id="group-{g}"') for g in ("SUSPECT", "PROSPECT", "LEAD", "CUSTOMER")]
    assert places == sorted(places)
    assert all(html.count(f'id="group-{g}"') == 1 for g in ("SUSPECT", "LEAD", "CUSTOMER"))
    # one form, one Save for the year
    assert html.count('<form method="post" action="/o/acme/scorecard/targets/?year=2027"') == 1
    assert html.count(">Save 2027</button>") == 1


def test_targets_and_goals_of_several_metrics_are_saved_at_once(client_a, org_a):
    page = url(org_a, "scorecard_targets") + "?year=2027"
    target_set(organization=org_a, metric_key="revenue", month="2027-01", value=900)
    response = client_a.post(
        page,
        {
            **cells("new_leads", m03="30", goal="400"),
            **cells("close_rate", m01="25", m02="25"),
            **cells("revenue", m01=""),  # an empty cell clears
        },
    )
    assert response.status_code == 302
    assert sorted(Target.objects.values_list("metric_key", "month", "value")) == [
        ("close_rate", date(2027, 1, 1), Decimal(25)),
        ("close_rate", date(2027, 2, 1), Decimal(25)),
        ("new_leads", date(2027, 3, 1), Decimal(30)),
    ]
    assert list(Goal.objects.values_list("metric_key", "year", "value")) == [
        ("new_leads", 2027, Decimal(400))
    ]
    html = client_a.get(page).content.decode()
    assert "Saved the targets and goals of 2027: 4 set, 1 cleared" in html
    assert 'name="new_leads-m03" id="c-new_leads-m03" value="30"' in html
    assert 'name="new_leads-goal" id="c-new_leads-goal" value="400"' in html


def test_a_bad_cell_is_marked_in_place_and_nothing_is_saved(client_a, org_a):
    before = snapshot()
    page = url(org_a, "scorecard_targets") + "?year=2027"
    response = client_a.post(
        page,
        {
            **cells("new_leads", m01="30", m03="abc", goal="400"),
            **cells("close_rate", m02="150"),
            **cells("customers", m04="2.5"),
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html and "Nothing was saved: 3 cells to correct." in html
    assert "New leads, Mar 2027: &#x27;abc&#x27; is not a number." in html
    assert "Close rate, Feb 2027: Close rate is a percentage: -100 to 100." in html
    assert "Customers, Apr 2027: Customers is a count: use a whole number." in html
    # the bad cell is marked where it is, and what was typed stays in the inputs
    assert (
        'name="new_leads-m03" id="c-new_leads-m03" value="abc" size="6" '
        'aria-label="New leads, Mar 2027" aria-invalid="true"' in html
    )
    assert 'id="c-new_leads-m01" value="30"' in html and 'id="c-new_leads-goal" value="400"' in html
    assert 'id="c-close_rate-m02" value="150"' in html
    assert html.count('aria-invalid="true"') == 3
    assert snapshot() == before


def test_a_goal_is_spread_over_the_months_and_not_saved(client_a, org_a):
    before = snapshot()
    page = url(org_a, "scorecard_targets") + "?year=2027"
    typed = {**cells("new_leads", goal="100"), **cells("customers", m05="7")}
    response = client_a.post(page, {**typed, "action": "spread:new_leads"})
    assert response.status_code == 200
    html = response.content.decode()
    # 100 / 12 = 8.33: eight each, the 4 left to the first months (no plan: evenly)
    for n, expected in enumerate([9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8], start=1):
        assert f'id="c-new_leads-m{n:02d}" value="{expected}"' in html, n
    assert "spread over the months evenly" in html and "Not saved yet" in html
    assert 'id="c-customers-m05" value="7"' in html  # the rest of what was typed stays
    assert snapshot() == before
    # a rate is not a sum: each month takes the goal
    response = client_a.post(
        page, {**cells("close_rate", goal="30"), "action": "spread:close_rate"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('value="30"') == 13
    assert "Close rate: the goal of 30 is set in every month: it is not a sum" in html
    # without a goal, the goal's cell says what to do
    response = client_a.post(page, {**cells("customers", goal=""), "action": "spread:customers"})
    assert response.status_code == 422
    assert "type the annual goal first" in response.content.decode()
    assert snapshot() == before


def test_the_csv_goes_out_and_comes_back_in(client_a, org_a):
    target_set(organization=org_a, metric_key="new_leads", month="2027-03", value=30)
    target_set(organization=org_a, metric_key="close_rate", month="2027-01", value="27.5")
    download = client_a.get(url(org_a, "scorecard_targets_csv", year=2027))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "acme-targets-2027.csv" in download["Content-Disposition"]
    body = download.content.decode()
    lines = body.splitlines()
    assert lines[0] == "metric,key,Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec,goal"
    assert "New leads,new_leads,,,30,,,,,,,,,," in lines
    assert "Close rate,close_rate,27.5,,,,,,,,,,,," in lines

    def targets() -> list[Any]:
        return sorted(Target.objects.values_list("organization", "metric_key", "month", "value"))

    before = targets()
    Target.objects.all().delete()
    upload = url(org_a, "scorecard_targets_upload") + "?year=2027"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_a.post(upload, {"file": SimpleUploadedFile("t.csv", body.encode())})
    assert response.status_code == 302
    assert targets() == before
    before = snapshot()
    # a bad cell: reported by row and column, nothing written
    bad = body.replace("New leads,new_leads,,,30,", "New leads,new_leads,,,abc,")
    response = client_a.post(upload, {"file": SimpleUploadedFile("t.csv", bad.encode())})
    assert response.status_code == 422
    row = next(i for i, line in enumerate(lines, start=1) if line.startswith("New leads,"))
    assert f"row {row}, column Mar: &#x27;abc&#x27; is not a number." in response.content.decode()
    assert snapshot() == before
    assert client_a.post(upload, {}).status_code == 400
    assert client_a.get(upload).status_code == 302


def test_a_percentage_target_over_100_is_refused(client_a, org_a):
    before = snapshot()
    page = url(org_a, "scorecard_targets") + "?year=2027"
    response = client_a.post(page, cells("close_rate", m01="150"))
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
    from keepscore.scorecard.selectors import reviews_for

    request = rf.get("/")
    request.user = owner_a.user
    html = render_to_string(
        "scorecard/_review.html",
        {
            "reviews": reviews_for(organization=org_a, month="2026-03"),
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
        url(org, "scorecard_targets_upload"),
        review_url(org),
    ]


def test_a_sales_only_member_reads_but_cannot_edit(client, org_a, sales_a, visitors_a):
    client.force_login(sales_a.user)
    target_set(organization=org_a, metric_key="revenue", month="2026-01", value=5)
    before = snapshot()
    for page in pages(org_a):
        response = client.get(page, follow=True)
        assert response.status_code == 200, page
        assert '<form method="post" action="/o/' not in response.content.decode(), page
        posted = {"name": "x", "text": "x", **cells("revenue", m01="9")}
        assert client.post(page, posted).status_code == 403
    # the grid without inputs: the values, read only; the file too
    html = client.get(url(org_a, "scorecard_targets") + "?year=2026").content.decode()
    assert 'name="revenue-m01"' not in html and ">Save 2026<" not in html
    assert re.search(
        r'<tr id="row-revenue"[^>]*>\s*<th[^>]*>Revenue.*?</th>\s*<td[^>]*>\s*5\s*</td>', html, re.S
    )
    assert (
        "Revenue,revenue,5,"
        in client.get(url(org_a, "scorecard_targets_csv", year=2026)).content.decode()
    )
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
    response = client_a.post(url(org_a, "scorecard_values"), cells("bravo_visitors", m01="9"))
    assert response.status_code == 302  # not a cell of A's grid: nothing saved
    assert "Bravo visitors" not in client_a.get(url(org_a, "scorecard_targets")).content.decode()
    assert snapshot() == before
    # B's targets are never shown on A's grid nor in A's file, and A's saves leave them be
    target_set(organization=org_b, metric_key="new_leads", month="2026-02", value=777)
    theirs_before = list(Target.objects.filter(organization=org_b).values_list())
    grid = url(org_a, "scorecard_targets") + "?year=2026"
    assert "777" not in client_a.get(grid).content.decode()
    assert (
        "777" not in client_a.get(url(org_a, "scorecard_targets_csv", year=2026)).content.decode()
    )
    assert client_a.get(url(org_b, "scorecard_targets_csv", year=2026)).status_code == 404
    response = client_a.post(
        grid, {**cells("new_leads", m02="1"), **cells("bravo_visitors", m02="5")}
    )
    assert response.status_code == 302
    assert list(Target.objects.filter(organization=org_b).values_list()) == theirs_before
    assert Target.objects.get(organization=org_a, metric_key="new_leads").value == 1
    assert not Target.objects.filter(metric_key="bravo_visitors").exists()
