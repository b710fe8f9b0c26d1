"""The economics page and its CSV: the service's figures, "not enough data" and "—", the
chart, bad filters as a 400, members only, no other organization's data."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.urls import reverse

from keepscore.accounts.models import Organization
from keepscore.accounts.services import member_add
from keepscore.economics import channels
from keepscore.funnel.filters import default_period
from keepscore.leads.models import Channel
from tests.conftest import linked_leads, make_org, make_user
from tests.economics.channel_story import spend, story_fixture  # noqa: F401  (story)
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db

FEB = {"from": "2025-02-01", "to": "2025-02-28"}


def url(org: Organization, name: str = "economics") -> str:
    return reverse(name, kwargs={"org": org.slug})


def cells(html: str, key: str) -> list[str]:
    """The texts of the cells of the table row of channel ``key``."""
    row = re.search(rf'<tr data-channel="{key}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, key
    texts = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", t).strip() for t in texts]


COLUMNS = [
    "name",
    "spend",
    "leads",
    "qualified",
    "customers",
    "conversion",
    "revenue",
    "cost",
    "margin",
    "margin_pct",
    "cost_per_lead",
    "cost_per_customer",
    "return_on_spend",
    "payback",
]


def row_of(html: str, key: str) -> dict[str, str]:
    return dict(zip(COLUMNS, cells(html, key), strict=True))


def idle_line(html: str) -> str:
    found = re.search(r'<p class="muted" id="economics-idle">(.*?)</p>', html)
    return found.group(1) if found else ""


def test_the_page_shows_the_figures(client_a: Any, story: Organization, settings: Any, monkeypatch):
    settings.KEEPSCORE_MIN_N = 1
    monkeypatch.setattr(channels, "MIN_CUSTOMERS", 1)
    response = client_a.get(url(story), FEB)
    assert response.status_code == 200
    html = response.content.decode()
    referral = row_of(html, "referral")
    # by hand (see test_channels.story): 100 spent; B C D new; A B D qualified; A won
    assert referral == {
        "name": "Referral",
        "spend": "€100",  # the organization's currency (EUR, written as in Ireland)
        "leads": "3",
        "qualified": "3",
        "customers": "1",
        "conversion": "33% (1 of 3), 95% CI 6.1\u201379%",
        "revenue": "€1,000",
        "cost": "€400",
        "margin": "€600",
        "margin_pct": "60%",
        "cost_per_lead": "€33.33",
        "cost_per_customer": "€100",
        "return_on_spend": "500%",
        "payback": "0.17",
    }
    search = row_of(html, "search")  # 200 spent, nothing else
    assert search["cost_per_lead"] == "—" and search["cost_per_customer"] == "—"
    # defined but too small (no lead at all): not enough data; undefined ones "—"
    assert search["return_on_spend"] == "not enough data" and search["payback"] == "—"
    assert search["margin_pct"] == "—"
    total = row_of(html, "total")
    # E's first deal has no cost recorded: the margin is of the deals with one (600 + 150)
    assert total["spend"] == "€900" and total["margin"] == "€750"
    assert total["cost_per_customer"] == "€450"
    # a channel with nothing in the period has no row of zeros: it is named under the table
    assert 'data-channel="walk-in"' not in html and 'data-channel="email"' not in html
    assert idle_line(html) == (
        "Nothing in the period (no spend entered, no lead, no deal): Email, Phone enquiry, "
        "Social, Telemarketing, Trade show, Walk-in, Website form."
    )
    # the chart: a mark per channel with spend or margin, numbers on hover, the same
    # return on spend as the table (with its "not enough data")
    assert "ks-spend-margin" in html
    assert "<title>Referral: spend €100, margin €600, return on spend 500%</title>" in html
    assert "<title>Ads: spend €600, margin €150, return on spend \u221275%</title>" in html
    assert "<title>Search: spend €200, margin €0, return on spend not enough data</title>" in html
    assert "Two counts of customers" in html
    assert 'aria-current="page">Economics</a>' in html


def test_too_small_rows_say_not_enough_data(client_a: Any, story: Organization):
    html = client_a.get(url(story), FEB).content.decode()
    referral = row_of(html, "referral")  # 3 new leads, 1 customer: too few (20, 5)
    assert referral["cost_per_lead"] == "€33.33"  # a plain division: always shown
    assert referral["return_on_spend"] == "not enough data"  # the margin of 1 customer
    assert referral["payback"] == "not enough data"
    assert referral["conversion"] == "not enough data (1 of 3)"
    assert referral["spend"] == "€100" and referral["margin"] == "€600"  # facts stay
    assert "Return on spend and payback: not enough data (1 customer (fewer than 5))" in html
    # the chart says the same as the table
    assert "<title>Referral: spend €100, margin €600, return on spend not enough data</title>" in (
        html
    )


def test_each_count_of_leads_links_to_those_leads(client_a: Any, story: Organization):
    html = client_a.get(url(story), FEB).content.decode()

    def listed(key: str, figure: str) -> list[str] | None:
        row = re.search(rf'<tr data-channel="{key}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        return linked_leads(
            client_a, re.search(rf'data-figure="{figure}">(.*?)</td>', row).group(1)
        )

    # by hand (channel_story): referral B C D new in February; A B D reached qualified (D by
    # skipping it); A first won (B in March); ads: E new, qualified by skipping, won twice
    assert listed("referral", "leads") == ["B", "C", "D"]
    assert listed("referral", "qualified") == ["A", "B", "D"]
    assert listed("referral", "customers") == ["A"]
    assert listed("ads", "customers") == ["E"]
    assert listed("total", "leads") == ["B", "C", "D", "E"]
    assert listed("total", "qualified") == ["A", "B", "D", "E"]
    assert listed("total", "customers") == ["A", "E"]
    # a count of none is not a link
    search = re.search(r'<tr data-channel="search"[^>]*>(.*?)</tr>', html, re.S).group(1)
    assert '<td class="num" data-figure="leads">0</td>' in search


def test_a_period_with_nothing_in_it_says_so(client_a: Any, org_a: Organization):
    html = client_a.get(url(org_a), FEB).content.decode()
    assert "<tr data-channel=" not in html.split("<tfoot>")[0]  # no row of zeros
    assert "No channel had spend, leads or deals in the period." in html
    channels = Channel.objects.for_org(org_a).count()
    assert len(idle_line(html).split(": ")[1].split(", ")) == channels  # every channel named


def test_the_default_period_is_the_last_12_months(client_a: Any, org_a: Organization):
    response = client_a.get(url(org_a))
    assert response.status_code == 200
    period = default_period()
    assert response.context["period"] == period


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-02-30"}, "From"),
        ({"from": "yesterday"}, "From"),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "To"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(
    client_a: Any, org_a: Organization, params: dict[str, str], field: str
):
    for name in ("economics", "economics_csv"):
        response = client_a.get(url(org_a, name), params)
        assert response.status_code == 400
        html = response.content.decode()
        assert 'id="economics-errors"' in html and f"{field}:" in html


def test_htmx_bad_filters_are_swapped(client_a: Any, org_a: Organization):
    response = client_a.get(url(org_a), {"from": "nope"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"economics-errors" in response.content


def test_csv(client_a: Any, story: Organization):
    response = client_a.get(url(story, "economics_csv"), FEB)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "acme-economics-2025-02-01-2025-02-28.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_key = {r["channel_key"]: r for r in rows}
    assert rows[-1]["channel_key"] == "total"
    ref = by_key["referral"]
    assert (ref["spend"], ref["leads"], ref["customers"], ref["margin"]) == (
        "100.00",
        "3",
        "1",
        "600.00",
    )
    assert ref["cost_per_lead"] == "33.33" and ref["return_on_spend"] == "5.0"
    assert by_key["search"]["cost_per_lead"] == "" and by_key["search"]["payback_months"] == ""
    assert by_key["total"]["spend"] == "900.00"


def test_any_member_reads_it(client: Any, story: Organization):
    member = member_add(organization=story, user=make_user("mkt@acme.test"), is_marketing=True)
    client.force_login(member.user)
    assert client.get(url(story), FEB).status_code == 200
    client.logout()
    assert client.get(url(story), FEB).status_code in (302, 403)


def test_another_organization_is_a_404_and_its_data_never_shows(client_a: Any, story: Organization):
    other, owner_b = make_org("bravo", "owner@bravo.test")
    lead = new_lead(other, "Zed", at(2025, 2, 2), channel_key="email")
    move(lead, "customer", at(2025, 2, 3), owner_b, revenue="4242")
    spend(other, at(2025, 2, 1).date(), "email", "3131")
    assert client_a.get(url(other), FEB).status_code == 404
    assert client_a.get(url(other, "economics_csv"), FEB).status_code == 404
    html = client_a.get(url(story), FEB).content.decode()
    assert "4,242" not in html and "3,131" not in html
    assert 'data-channel="email"' not in html and "Email" in idle_line(html)  # nothing here


def test_the_spend_margin_chart():
    from keepscore.reports.charts import SpendMarginRow, spend_margin_chart

    svg = str(
        spend_margin_chart(
            [
                SpendMarginRow("<Ads>", 600, 450, "\u221225%"),
                SpendMarginRow("Search", 200, -150, "not enough data"),
            ],
            title="Spend and margin",
        )
    )
    assert svg.startswith("<svg") and svg.count('<g class="mark">') == 2
    assert "&lt;Ads&gt;: spend €600, margin €450, return on spend \u221225%" in svg
    assert "Search: spend €200, margin -€150, return on spend not enough data" in svg
    bars = re.findall(r'<rect class="bar margin" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    (ads_x, ads_w), (search_x, search_w) = ((float(x), float(w)) for x, w in bars)
    zero = ads_x  # a positive bar starts at zero; a negative one ends there
    assert search_x + search_w == pytest.approx(zero, abs=0.01) and search_x < zero
    assert ads_w / search_w == pytest.approx(450 / 150, rel=1e-3)  # coordinates: 2 decimals
    assert "No data yet" in str(spend_margin_chart([], title="Empty"))
