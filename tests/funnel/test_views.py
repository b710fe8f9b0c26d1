"""The funnel page: the service's figures on the page, filters, and bad filters as a 400.

The March 2024 story (default ladder; noon unless said), worked out by hand:

    A  referral      prospect 03-01 -> lead 03-10 -> customer 03-20 (500)    owner: the owner
    B  referral      prospect 03-05 -> lost 03-15 (Price too high)           owner: the owner
    C  website form  prospect 03-02 -> lead 03-04 -> customer 03-30 (800)    owner: sales
    D  website form  suspect 03-10                                           owner: none

By channel: Referral reaches suspect 2, prospect 2, lead 1 … customer 1, lost 1;
suspect -> customer is 1 of 2 in each group (Referral first: same first-stage reach, then by
label). Sales cycle: 19 and 28 days, median 23.5, 80th percentile 19 + 0.8 * 9 = 26.2.
Close rate 2 of 3. Lost: Price too high, 1 (100%). Time in prospect: 9, 10, 2 days (median 9),
in lead: 10 and 26 (median 18).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from keepscore.accounts.models import Membership, Organization
from keepscore.common.periods import Period
from keepscore.common.recorded import recording
from keepscore.funnel.filters import default_period, rate_text
from keepscore.funnel.stats import RateFigure
from keepscore.leads.models import Lead
from tests.conftest import linked_leads, make_org
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db

MARCH = {"from": "2024-03-01", "to": "2024-03-31"}


@pytest.fixture
def story(org_a: Organization, owner_a: Membership, sales_a: Membership) -> dict[str, Any]:
    a = new_lead(org_a, "Ann", at(2024, 3, 1), owner=owner_a)
    move(a, "lead", at(2024, 3, 10), owner_a)
    move(a, "customer", at(2024, 3, 20), owner_a, revenue="500")
    b = new_lead(org_a, "Ben", at(2024, 3, 5), owner=owner_a)
    move(b, "lost", at(2024, 3, 15), owner_a, reason="Price too high")
    c = new_lead(org_a, "Cat", at(2024, 3, 2), channel_key="website-form", owner=sales_a)
    move(c, "lead", at(2024, 3, 4), owner_a)
    move(c, "customer", at(2024, 3, 30), owner_a, revenue="800")
    d = new_lead(org_a, "Dan", at(2024, 3, 10), stage_key="suspect", channel_key="website-form")
    return {"a": a, "b": b, "c": c, "d": d}


def url(org: Organization) -> str:
    return reverse("funnel", kwargs={"org": org.slug})


def test_the_page_shows_the_services_figures(client_a, org_a, story):
    # when
    response = client_a.get(url(org_a), MARCH)
    # then
    assert response.status_code == 200
    ctx = response.context
    groups = [g["group"] for g in ctx["groups"]]
    assert [g.label for g in groups] == ["Referral", "Website form"]
    referral = {s.key: (s.reached, s.entered) for s in groups[0].stages}
    assert referral == {
        "suspect": (2, 0),
        "prospect": (2, 2),
        "lead": (1, 1),
        "qualified": (1, 0),
        "proposal": (1, 0),
        "customer": (1, 1),
        "lost": (1, 1),
    }
    overall = [c for c in ctx["groups"][0]["conversions"] if c["overall"]]
    assert [(c["value"], c["text"]) for c in overall] == [
        ("suspect>customer", "not enough data (1 of 2)")
    ]
    assert ctx["cycle"].median_days == pytest.approx(23.5)
    assert ctx["cycle"].p80_days == pytest.approx(26.2)
    assert (ctx["close"].k, ctx["close"].n) == (2, 3)
    assert ctx["lost_reasons"] == [{"name": "Price too high", "count": 1, "share": "100%"}]
    times = {t["key"]: (t["count"], t["median"]) for t in ctx["stage_times"]}
    assert times["prospect"] == (3, "9 days")
    assert times["lead"] == (2, "18 days")
    html = response.content.decode()
    assert "keepscore/charts.css" in html
    assert 'class="ks-chart ks-funnel"' in html
    assert 'class="ks-chart ks-rates"' in html
    assert 'class="ks-chart ks-histogram"' in html
    assert "Suspect: 4" in html  # the all-leads funnel's bar title
    assert "median 23.5 days" in html  # the cycle histogram's marker
    assert "not enough data (1 of 2)" in html
    assert "2 of 3" in html


@override_settings(KEEPSCORE_MIN_N=2)
def test_a_rate_with_enough_leads_shows_its_interval(client_a, org_a, story):
    # when
    html = client_a.get(url(org_a), MARCH).content.decode()
    # then: 1 of 2 is 50%, Wilson 95% interval 0.0945-0.9055 (worked out in the module doc of
    # docs/numbers.md's formula: centre 0.5, half 0.4055)
    assert "50% (1 of 2), 95% CI 9.5\u201391%" in html


def test_grouping_by_owner(client_a, org_a, story, owner_a, sales_a):
    # when
    response = client_a.get(url(org_a), {**MARCH, "by": "owner"})
    # then
    assert response.status_code == 200
    labels = [g["group"].label for g in response.context["groups"]]
    assert labels == ["owner@acme.test", "(none)", "sales@acme.test"]
    assert "by owner" in response.content.decode()


def listed(client: Any, html: str, group: str, stage: str, figure: str) -> list[str] | None:
    """The names on the lead list a group's count links to; None when it is no link."""
    block = html.split(f'data-group="{group}"', 1)[1].split('class="funnel-group"', 1)[0]
    row = re.search(rf'<tr data-stage="{stage}">(.*?)</tr>', block, re.S).group(1)
    return linked_leads(client, re.search(rf'data-figure="{figure}">(.*?)</td>', row).group(1))


def test_each_count_of_leads_links_to_those_leads(client_a, org_a, story, sales_a):
    html = client_a.get(url(org_a), MARCH).content.decode()
    # by hand (story): referral Ann (prospect, lead, customer) and Ben (prospect, lost);
    # website form Cat (prospect, lead, customer) and Dan (suspect)
    assert listed(client_a, html, "referral", "prospect", "reached") == ["Ann", "Ben"]
    assert listed(client_a, html, "referral", "prospect", "entered") == ["Ann", "Ben"]
    assert listed(client_a, html, "referral", "qualified", "reached") == ["Ann"]  # skipped it
    assert listed(client_a, html, "referral", "qualified", "entered") is None  # 0: no link
    assert listed(client_a, html, "referral", "lost", "reached") == ["Ben"]
    assert listed(client_a, html, "website-form", "suspect", "reached") == ["Cat", "Dan"]
    assert listed(client_a, html, "website-form", "customer", "entered") == ["Cat"]
    by_owner = client_a.get(url(org_a), {**MARCH, "by": "owner"}).content.decode()
    assert listed(client_a, by_owner, str(sales_a.pk), "lead", "reached") == ["Cat"]
    assert listed(client_a, by_owner, "", "suspect", "reached") is None  # no owner: no filter
    ungrouped = client_a.get(url(org_a), {**MARCH, "by": "all"}).content.decode()
    assert listed(client_a, ungrouped, "all", "customer", "reached") == ["Ann", "Cat"]
    april = {"from": "2024-04-01", "to": "2024-04-30"}
    assert "<a href" not in client_a.get(url(org_a), april).content.decode().split("By ")[-1]


def test_a_campaign_or_utm_groups_counts_link_to_its_leads(client_a, org_a, owner_a):
    # by hand: Eve (campaign "Spring", stored with spaces around) and Fay are the Spring
    # campaign; Gus has none; Hal is "Summer", from the newsletter (utm_source) as Eve
    eve = new_lead(org_a, "Eve", at(2024, 3, 1), utm_source="newsletter")
    # as a door that keeps the spaces would store it (the funnel groups it under "Spring")
    with recording():  # the campaign is not a figure of the summaries
        Lead.objects.filter(pk=eve.pk).update(campaign="  Spring ")
    new_lead(org_a, "Fay", at(2024, 3, 2), campaign="Spring")
    new_lead(org_a, "Gus", at(2024, 3, 3))
    new_lead(org_a, "Hal", at(2024, 3, 4), campaign="Summer", utm_source="newsletter")
    by_campaign = client_a.get(url(org_a), {**MARCH, "by": "campaign"}).content.decode()
    assert listed(client_a, by_campaign, "Spring", "prospect", "reached") == ["Eve", "Fay"]
    assert listed(client_a, by_campaign, "Summer", "prospect", "entered") == ["Hal"]
    assert listed(client_a, by_campaign, "", "prospect", "reached") is None  # (none): no list
    by_utm = client_a.get(url(org_a), {**MARCH, "by": "utm_source"}).content.decode()
    assert listed(client_a, by_utm, "newsletter", "prospect", "reached") == ["Eve", "Hal"]


def test_grouping_by_a_fact_and_ungrouped(client_a, org_a, story):
    # when
    by_fact = client_a.get(url(org_a), {**MARCH, "by": "fact:size"})
    everyone = client_a.get(url(org_a), {**MARCH, "by": "all"})
    # then
    assert by_fact.status_code == 200
    assert [g["group"].label for g in by_fact.context["groups"]] == ["(none)"]
    assert 'value="fact:size" selected' in by_fact.content.decode()
    assert [g["group"].label for g in everyone.context["groups"]] == ["All leads"]


def test_the_window_and_the_step_are_passed_on(client_a, org_a, story):
    # when: within 10 days, A's lead at 03-10 (9 days after prospect) counts, C's customer
    # (28 days) does not
    response = client_a.get(url(org_a), {**MARCH, "within": "10", "step": "prospect>lead"})
    # then
    assert response.status_code == 200
    assert response.context["report"].within_days == 10
    assert response.context["step"].value == "prospect>lead"
    rows = {g["group"].key: g["conversions"] for g in response.context["groups"]}
    overall = next(c for c in rows["website-form"] if c["value"] == "suspect>customer")
    assert (overall["rate"].k, overall["rate"].n) == (0, 2)
    assert "Prospect \u2192 Lead by channel" in response.content.decode()


def test_the_defaults_are_the_last_12_full_months(client_a, org_a):
    # when
    response = client_a.get(url(org_a))
    # then
    assert response.status_code == 200
    period = response.context["period"]
    assert period == default_period()
    assert response.context["by"] == "channel"
    assert response.context["within"] is None


def test_default_period():
    period = default_period(date(2026, 11, 23))
    assert (period.start, period.end) == (date(2025, 11, 1), date(2026, 10, 31))
    period = default_period(date(2026, 1, 1))
    assert (period.start, period.end) == (date(2025, 1, 1), date(2025, 12, 31))


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2024-02-30"}, "from", "Enter a valid date"),
        ({"from": "yesterday"}, "from", "Enter a valid date"),
        ({"to": "0001-01-01"}, "to", "Enter a date between"),
        ({"from": "2024-04-01", "to": "2024-03-01"}, "to", "before the start date"),
        ({"from": "2999-01-01", "to": ""}, "from", "before the start date"),
        ({"by": "colour"}, "by", "cannot group or segment leads by 'colour'"),
        ({"by": "fact:"}, "by", "cannot group"),
        ({"within": "-1"}, "within", "greater than or equal to 0"),
        ({"within": "9" * 30}, "within", "less than or equal to"),
        ({"within": "soon"}, "within", "Enter a whole number"),
        ({"step": "lost>suspect"}, "step", "No conversion"),
    ],
)
def test_bad_filters_are_a_400_with_a_clear_message(client_a, org_a, story, params, field, message):
    # when
    response = client_a.get(url(org_a), {**MARCH, **params})
    # then
    assert response.status_code == 400
    errors = response.context["form"].errors
    key = "from_" if field == "from" else field
    assert any(message in e for e in errors[key]), errors
    html = response.content.decode()
    assert "These filters cannot be shown" in html
    assert "ks-funnel" not in html


def test_htmx_gets_the_fragment_even_for_bad_filters(client_a, org_a, story):
    # when
    good = client_a.get(url(org_a), {**MARCH, "by": "owner"}, HTTP_HX_REQUEST="true")
    bad = client_a.get(url(org_a), {"by": "nope"}, HTTP_HX_REQUEST="true")
    restore = client_a.get(
        url(org_a), MARCH, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    # then
    assert good.status_code == 200 and "<html" not in good.content.decode()
    assert 'id="funnel-report"' in good.content.decode()
    assert bad.status_code == 200 and "These filters cannot be shown" in bad.content.decode()
    assert "<html" in restore.content.decode()
    # the report only: the filters stay in the page while it is swapped, the conversion
    # shown is sent with them
    assert 'id="funnel-report-filters"' not in good.content.decode()
    assert 'id="funnel-report-filters"' in restore.content.decode()
    assert 'form="funnel-report-filters"' in good.content.decode()


def test_any_member_may_read_it(client, org_a, story, sales_a):
    # given
    client.force_login(sales_a.user)
    # when
    response = client.get(url(org_a), MARCH)
    # then
    assert response.status_code == 200


def test_another_organization_is_a_404_and_anonymous_goes_to_login(client, org_a, story):
    # given
    _org_b, owner_b = make_org("bravo", "owner@bravo.test")
    # when
    anonymous = client.get(url(org_a))
    client.force_login(owner_b.user)
    other = client.get(url(org_a))
    # then
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert other.status_code == 404


def test_user_text_is_escaped(client_a, org_a, owner_a):
    # given
    new_lead(org_a, "X", at(2024, 3, 3), campaign="<script>alert(1)</script>")
    # when
    html = client_a.get(url(org_a), {**MARCH, "by": "campaign"}).content.decode()
    # then
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_only_get(client_a, org_a):
    assert client_a.post(url(org_a), MARCH).status_code == 405


@pytest.mark.parametrize(
    ("figure", "text"),
    [
        (RateFigure(0, 0, None, None, None, False), "not enough data (0 of 0)"),
        (RateFigure(3, 8, 0.375, 0.1, 0.7, False), "not enough data (3 of 8)"),
        (RateFigure(28, 50, 0.56, 0.42, 0.69, True), "56% (28 of 50), 95% CI 42\u201369%"),
        (
            RateFigure(1234, 2000, 0.617, 0.595, 0.638, True),
            "62% (1,234 of 2,000), 95% CI 60\u201364%",
        ),
    ],
)
def test_rate_text(figure, text):
    assert rate_text(figure) == text


def test_recent_months_are_whole_months_across_a_year_end():
    from keepscore.funnel.filters import recent_months

    assert recent_months(date(2026, 1, 15)) == Period(date(2025, 11, 1), date(2026, 1, 31))
    assert recent_months(date(2024, 3, 1)) == Period(date(2024, 1, 1), date(2024, 3, 31))
