"""The activity report: the page ``o/<org>/funnel/activity/``, ``keepscore activity`` (on a
test-local Typer app) and ``GET /activity`` (on a test-local API, this module being the URL
conf) until ``keepscore.cli.main`` and ``keepscore.api.api`` register them.

The story, Q1 2024 (noon unless said), worked out by hand. Leads first touched 2023-12-01;
Ann is won on 2024-02-20, Ben never is.

    the owner (owner@acme.test)           Sam Seller (sam@acme.test)        no one
    01-10 call attempt      Ann           01-20 call attempt     Ben        03-05 call attempt Ben
    01-11 connect, buyer    Ann  (won)    01-21 call attempt     Ben
    01-15 connect           Ben           01-22 connect, buyer   Ben
    02-05 meeting, buyer    Ann  (won)    02-10 qualifying       Ben
    02-06 presentation      Ann           02-12 email            Ben  (not counted)
    03-01 proposal          Ben           04-02 call attempt     Ben  (after the period)
    03-25 connect, buyer    Ann  (after the win: not won)

Per month, columns call attempts, connects, sales conversations, qualifying, meetings,
presentations, proposals, conversations won:

    Jan  owner 1 2 1 0 0 0 0 1 (100%)   Sam 2 1 1 0 0 0 0 0 (0%)     total 3 3 2 0 0 0 0 1 (50%)
    Feb  owner 0 0 1 0 1 1 0 1 (100%)   Sam 0 0 0 1 0 0 0 0 (—)      total 0 0 1 1 1 1 0 1 (100%)
    Mar  (none) 1 0 0 0 0 0 0 0   owner 0 1 1 0 0 0 1 0 (0%)   Sam zeros   total 1 1 1 0 0 0 1 0

Every member with an activity in the period gets every month (zeros included): "(none)" has
zeros in January and February. Labels sort "(none)" < "Sam Seller" < "owner@acme.test".
Organization B (bravo) has a member rep@bravo.test with activities in January 2024; none of
them may show in A's report.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
import typer
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add
from keepscore.api.api import api as the_api
from keepscore.cli.activity import CSV_COLUMNS, activity
from keepscore.common.periods import GRAINS, Period, bucket_count, buckets
from keepscore.funnel.activity import activity_default_period, bucket_label
from tests.api.conftest import Api, api_for, fields_of
from tests.conftest import examples, make_org, make_user
from tests.funnel.conftest import at, log, move, new_lead

pytestmark = pytest.mark.django_db

Q1 = {"from": "2024-01-01", "to": "2024-03-31"}
#: 601 weeks from Monday 1 Jan 2024 (one more than a report shows), and eleven centuries
LONG_WEEKS = {"from": "2024-01-01", "to": "2035-07-02", "grain": "week"}
CENTURIES = {"from": "1900-01-01", "to": "2999-12-31"}
OWNER, SAM, NONE = "owner@acme.test", "Sam Seller", "(none)"
COUNTS = (
    "call_attempts",
    "connects",
    "sales_conversations",
    "qualifying",
    "meetings",
    "presentations",
    "proposals",
    "conversations_won",
)
#: (month, label) -> the counts in COUNTS order, from the module doc (zeros of "(none)"
#: in January and February: every member gets every bucket)
EXPECTED = {
    ("2024-01-01", NONE): (0, 0, 0, 0, 0, 0, 0, 0),
    ("2024-01-01", OWNER): (1, 2, 1, 0, 0, 0, 0, 1),
    ("2024-01-01", SAM): (2, 1, 1, 0, 0, 0, 0, 0),
    ("2024-02-01", OWNER): (0, 0, 1, 0, 1, 1, 0, 1),
    ("2024-02-01", NONE): (0, 0, 0, 0, 0, 0, 0, 0),
    ("2024-02-01", SAM): (0, 0, 0, 1, 0, 0, 0, 0),
    ("2024-03-01", NONE): (1, 0, 0, 0, 0, 0, 0, 0),
    ("2024-03-01", OWNER): (0, 1, 1, 0, 0, 0, 1, 0),
    ("2024-03-01", SAM): (0, 0, 0, 0, 0, 0, 0, 0),
}
TOTALS = {
    "2024-01-01": (3, 3, 2, 0, 0, 0, 0, 1),
    "2024-02-01": (0, 0, 1, 1, 1, 1, 0, 1),
    "2024-03-01": (1, 1, 1, 0, 0, 0, 1, 0),
}
BRAVO_EMAILS = ("owner@bravo.test", "rep@bravo.test")


@pytest.fixture
def sam(org_a: Organization) -> Membership:
    user = make_user("sam@acme.test", first_name="Sam", last_name="Seller")
    return member_add(organization=org_a, user=user, is_sales=True)


@pytest.fixture
def story(org_a: Organization, owner_a: Membership, sam: Membership) -> dict[str, Any]:
    ann = new_lead(org_a, "Ann", at(2023, 12, 1))
    ben = new_lead(org_a, "Ben", at(2023, 12, 1))
    log(ann, "call_attempt", at(2024, 1, 10), owner_a)
    log(ann, "connect", at(2024, 1, 11), owner_a, buyer=True)
    log(ben, "connect", at(2024, 1, 15), owner_a)
    log(ann, "meeting", at(2024, 2, 5), owner_a, buyer=True)
    log(ann, "presentation", at(2024, 2, 6), owner_a)
    log(ben, "proposal", at(2024, 3, 1), owner_a)
    log(ann, "connect", at(2024, 3, 25), owner_a, buyer=True)
    log(ben, "call_attempt", at(2024, 1, 20), sam)
    log(ben, "call_attempt", at(2024, 1, 21), sam)
    log(ben, "connect", at(2024, 1, 22), sam, buyer=True)
    log(ben, "qualifying", at(2024, 2, 10), sam)
    log(ben, "email", at(2024, 2, 12), sam)
    log(ben, "call_attempt", at(2024, 4, 2), sam)
    log(ben, "call_attempt", at(2024, 3, 5), None)
    move(ann, "customer", at(2024, 2, 20), owner_a, revenue="500")
    return {"ann": ann, "ben": ben}


@pytest.fixture
def bravo(story: Any) -> Organization:
    """Organization B, with a member's activities in January 2024 (and a won lead)."""
    org, owner = make_org("bravo", "owner@bravo.test")
    rep = member_add(organization=org, user=make_user("rep@bravo.test"), is_sales=True)
    lead = new_lead(org, "Bo", at(2023, 12, 1))
    for day in (3, 4, 5):
        log(lead, "connect", at(2024, 1, day), rep, buyer=True)
    log(lead, "call_attempt", at(2024, 1, 6), owner)
    move(lead, "customer", at(2024, 1, 30), owner, revenue="100")
    return org


def as_counts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[name] for name in COUNTS)


# --- the page ----------------------------------------------------------------------------


def url(org: Organization) -> str:
    return reverse("activity_report", kwargs={"org": org.slug})


def test_the_page_shows_the_counts_per_month_and_member(client_a, org_a, story, bravo):
    # when
    response = client_a.get(url(org_a), Q1)
    # then
    assert response.status_code == 200
    tables = response.context["tables"]
    assert [t["label"] for t in tables] == ["Jan 2024", "Feb 2024", "Mar 2024"]
    shown = {
        (t["start"].isoformat(), r.label): tuple(int(v) for v in r.counts)
        for t in tables
        for r in t["rows"]
    }
    assert shown == EXPECTED
    assert [r.label for r in tables[2]["rows"]] == [NONE, SAM, OWNER]
    totals = {t["start"].isoformat(): tuple(int(v) for v in t["total"].counts) for t in tables}
    assert totals == TOTALS
    shares = {(t["label"], r.label): r.share for t in tables for r in t["rows"]}
    assert shares[("Jan 2024", OWNER)] == "100%"
    assert shares[("Jan 2024", SAM)] == "0%"
    assert shares[("Feb 2024", SAM)] == "\u2014"
    assert [t["total"].share for t in tables] == ["50%", "100%", "0%"]
    html = response.content.decode()
    assert "Sales conversations" in html and "Won share" in html
    assert 'data-bucket="2024-02-01"' in html
    assert "Sam Seller" in html and "Total" in html
    for email in BRAVO_EMAILS:
        assert email not in html


def test_all_members_together_per_quarter(client_a, org_a, story):
    # when
    response = client_a.get(url(org_a), {**Q1, "grain": "quarter", "by": "all"})
    # then
    assert response.status_code == 200
    [table] = response.context["tables"]
    assert table["label"] == "Q1 2024" and table["rows"] == []
    assert table["total"].label == "All members"
    assert tuple(int(v) for v in table["total"].counts) == (4, 4, 4, 1, 1, 1, 1, 2)
    assert table["total"].share == "50%"
    html = response.content.decode()
    assert OWNER not in html.split('id="activity-period"')[1]
    assert 'value="quarter" selected' in html and 'value="all" selected' in html


def test_weeks_start_on_monday_and_only_the_period_is_counted(client_a, org_a, story):
    # when: Wed 10 Jan to Sun 21 Jan 2024
    response = client_a.get(url(org_a), {"from": "2024-01-10", "to": "2024-01-21", "grain": "week"})
    # then
    tables = response.context["tables"]
    assert [t["start"] for t in tables] == [date(2024, 1, 8), date(2024, 1, 15)]
    assert [t["partial"] for t in tables] == [True, False]
    assert tables[0]["label"] == "Week of 8 Jan 2024"
    counts = {
        (t["start"].day, r.label): tuple(int(v) for v in r.counts)
        for t in tables
        for r in t["rows"]
    }
    assert counts[(8, OWNER)] == (1, 1, 1, 0, 0, 0, 0, 1)
    assert counts[(15, OWNER)] == (0, 1, 0, 0, 0, 0, 0, 0)
    assert counts[(15, SAM)] == (2, 0, 0, 0, 0, 0, 0, 0)  # 01-22's connect is after the period
    assert "counted from 10 Jan 2024" in response.content.decode()


def test_the_defaults_are_the_last_3_full_months_by_month_and_member(client_a, org_a):
    response = client_a.get(url(org_a))
    assert response.status_code == 200
    assert response.context["period"] == activity_default_period()
    assert response.context["grain"] == "month" and response.context["by_member"] is True
    assert len(response.context["tables"]) == 3
    html = response.content.decode()
    assert 'value="month" selected' in html and 'value="member" selected' in html
    assert "No activity logged in this period." in html


def test_default_period():
    period = activity_default_period(date(2026, 11, 23))
    assert (period.start, period.end) == (date(2026, 8, 1), date(2026, 10, 31))
    period = activity_default_period(date(2026, 2, 1))
    assert (period.start, period.end) == (date(2025, 11, 1), date(2026, 1, 31))


@pytest.mark.parametrize(
    ("start", "grain", "label"),
    [
        (date(2024, 3, 4), "week", "Week of 4 Mar 2024"),
        (date(2024, 3, 1), "month", "Mar 2024"),
        (date(2024, 10, 1), "quarter", "Q4 2024"),
    ],
)
def test_bucket_label(start, grain, label):
    assert bucket_label(start, grain) == label


@settings(max_examples=examples(200))
@given(
    start=st.dates(date(1900, 1, 1), date(2999, 12, 31)),
    days=st.integers(0, 5000),
    grain=st.sampled_from(GRAINS),
)
def test_bucket_count_counts_the_buckets(start, days, grain):
    period = Period(start, min(start + timedelta(days=days), date(2999, 12, 31)))
    assert bucket_count(period, grain) == len(buckets(period, grain))


def test_a_period_of_600_weeks_is_shown_and_one_of_601_refused(client_a, org_a, story):
    """A report shows at most 600 buckets: a long period per week asked the server for a
    page of a million rows (minutes of work); 600 weeks is the last period it shows."""
    shown = client_a.get(url(org_a), {**LONG_WEEKS, "to": "2035-07-01"})
    assert shown.status_code == 200
    assert shown.content.decode().count("data-bucket=") >= 600
    assert client_a.get(url(org_a), LONG_WEEKS).status_code == 400


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2024-02-30"}, "from", "Enter a valid date"),
        ({"to": "soon"}, "to", "Enter a valid date"),
        ({"to": "0001-01-01"}, "to", "Enter a date between"),
        ({"from": "2024-04-01", "to": "2024-03-01"}, "to", "before the start date"),
        ({"from": "2999-01-01", "to": ""}, "from", "before the start date"),
        ({"grain": "day"}, "grain", "grain is one of week, month, quarter, not 'day'"),
        ({"grain": "x" * 500}, "grain", "at most 40 characters"),
        ({"by": "owner"}, "by", "by is one of member, all, not 'owner'"),
        (LONG_WEEKS, "from", "is 601 weeks; the report shows at most 600"),
        ({**CENTURIES, "grain": "month"}, "from", "or count per quarter"),
    ],
)
def test_bad_filters_are_a_400_with_a_clear_message(client_a, org_a, story, params, field, message):
    # when
    response = client_a.get(url(org_a), {**Q1, **params})
    # then
    assert response.status_code == 400
    key = "from_" if field == "from" else field
    errors = response.context["form"].errors
    assert any(message in e for e in errors[key]), errors
    html = response.content.decode()
    assert "These filters cannot be shown" in html
    assert "data-bucket" not in html


def test_htmx_gets_200_even_for_bad_filters(client_a, org_a, story):
    good = client_a.get(url(org_a), Q1, HTTP_HX_REQUEST="true")
    bad = client_a.get(url(org_a), {"grain": "day"}, HTTP_HX_REQUEST="true")
    assert good.status_code == 200 and 'id="activity-report"' in good.content.decode()
    assert bad.status_code == 200 and "These filters cannot be shown" in bad.content.decode()


def test_any_member_may_read_it(client, org_a, story, sam):
    client.force_login(sam.user)
    assert client.get(url(org_a), Q1).status_code == 200


def test_another_organization_is_a_404_and_anonymous_goes_to_login(client, org_a, bravo):
    anonymous = client.get(url(org_a))
    client.force_login(Membership.objects.get(user__email="rep@bravo.test").user)
    other = client.get(url(org_a))
    own = client.get(url(bravo), Q1)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert other.status_code == 404
    # B's member sees B's counts only: no name of A
    html = own.content.decode()
    assert own.status_code == 200 and "rep@bravo.test" in html
    assert OWNER not in html and SAM not in html


def test_member_names_are_escaped(client_a, org_a, owner_a):
    user = make_user("x@acme.test", first_name="<script>alert(1)</script>")
    rogue = member_add(organization=org_a, user=user)
    log(new_lead(org_a, "X", at(2023, 12, 1)), "call_attempt", at(2024, 1, 3), rogue)
    html = client_a.get(url(org_a), Q1).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_only_get(client_a, org_a):
    assert client_a.post(url(org_a), Q1).status_code == 405


# --- the CLI -----------------------------------------------------------------------------

cli = typer.Typer()
cli.command("activity")(activity)


@cli.callback()
def main() -> None:
    """A group, so that the command is called by its name as in ``keepscore activity``."""


runner = CliRunner()
Q1_ARGS = ["--from", "2024-01-01", "--to", "2024-03-31", "--org", "acme"]


def invoke(*args: str) -> Result:
    return runner.invoke(cli, ["activity", *args])


def error_line(result: Result) -> str:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_cli_json(story, bravo):
    # when
    result = invoke(*Q1_ARGS, "--format", "json")
    # then
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["period"] == Q1 and body["grain"] == "month" and body["by"] == "member"
    rows = {(r["bucket_start"], r["member_label"]): as_counts(r) for r in body["rows"]}
    assert rows == EXPECTED
    assert {r["bucket_start"]: as_counts(r) for r in body["totals"]} == TOTALS
    assert body["totals"][0]["won_share"] == 0.5 and body["totals"][0]["member_id"] is None
    feb_sam = next(
        r for r in body["rows"] if r["member_label"] == SAM and "02-01" in r["bucket_start"]
    )
    assert feb_sam["won_share"] is None
    for email in BRAVO_EMAILS:
        assert email not in result.stdout


def test_cli_csv(story):
    result = invoke(*Q1_ARGS, "--grain", "quarter", "--by", "all", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    [row] = rows
    assert (row["grain"], row["bucket_start"], row["member_label"], row["member_id"]) == (
        "quarter",
        "2024-01-01",
        "All members",
        "",
    )
    assert tuple(int(row[name]) for name in COUNTS) == (4, 4, 4, 1, 1, 1, 1, 2)
    assert row["won_share"] == "0.5"


def test_cli_table(story):
    result = invoke(*Q1_ARGS, "--grain", "month")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Activity 2024-01-01 to 2024-03-31, per month, per member" in out
    for text in ("Jan 2024", "Feb 2024", "Mar 2024", SAM, OWNER, NONE, "Total", "50%"):
        assert text in out


def test_cli_defaults(story):
    result = invoke("--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    period = activity_default_period()
    assert body["period"] == {"from": str(period.start), "to": str(period.end)}
    assert (body["grain"], body["by"]) == ("month", "member")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-02-30"], "--from: '2024-02-30' is not a date: use YYYY-MM-DD"),
        (["--to", "0001-01-01"], "--to: Enter a date between 1900-01-01 and 2999-12-31."),
        (
            ["--from", "2024-04-01", "--to", "2024-03-01"],
            "--to: The end date (2024-03-01) is before the start date (2024-04-01)",
        ),
        (["--grain", "day"], "--grain: grain is one of week, month, quarter, not 'day'"),
        (["--by", "owner"], "--by: by is one of member, all, not 'owner'"),
        (
            ["--from", "1900-01-01", "--to", "2999-12-31"],
            "--from: 1900-01-01 to 2999-12-31 is 13,200 months; the report shows at most 600",
        ),
    ],
)
def test_cli_bad_options_are_one_line_and_exit_2(org_a, args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in error_line(result)


def test_cli_the_organization_is_needed_when_there_are_several(bravo):
    several = invoke("--format", "json")
    chosen = invoke("--org", "bravo", "--format", "json", "--from", "2024-01-01")
    assert several.exit_code == 2 and "choose one with --org" in error_line(several)
    assert chosen.exit_code == 0, chosen.output
    labels = {r["member_label"] for r in json.loads(chosen.stdout)["rows"]}
    assert labels == {"owner@bravo.test", "rep@bravo.test"}


# --- the API -----------------------------------------------------------------------------

BASE = "/api/v1"


@pytest.fixture
def api(owner_a: Membership, settings: Any) -> Api:
    return api_for(owner_a, base=BASE)


def test_api_counts(api, story, bravo):
    # when
    response = api.get("/activity", **Q1)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == Q1 and (body["grain"], body["by"]) == ("month", "member")
    rows = {(r["bucket_start"], r["member_label"]): as_counts(r) for r in body["rows"]}
    assert rows == EXPECTED
    assert {r["bucket_start"]: as_counts(r) for r in body["totals"]} == TOTALS
    assert [r["won_share"] for r in body["totals"]] == [0.5, 1.0, 0.0]
    for email in BRAVO_EMAILS:
        assert email not in response.content.decode()


def test_api_weeks_all_members(api, story):
    body = api.get("/activity", **Q1, grain="week", by="all").json()
    assert body["by"] == "all" and body["rows"] == body["totals"]
    # Mon 1 Jan 2024 to the week of Mon 25 Mar: 13 weeks
    assert len(body["rows"]) == 13
    assert body["rows"][1]["bucket_start"] == "2024-01-08"
    assert as_counts(body["rows"][1]) == (1, 1, 1, 0, 0, 0, 0, 1)


def test_api_defaults(api, story):
    body = api.get("/activity").json()
    period = activity_default_period()
    assert body["period"] == {"from": str(period.start), "to": str(period.end)}
    assert (body["grain"], body["by"]) == ("month", "member")


def test_api_token_of_b_sees_only_b(settings, story, bravo):
    rep = Membership.objects.get(user__email="rep@bravo.test")
    body = api_for(rep, base=BASE).get("/activity", **Q1).json()
    assert {r["member_label"] for r in body["rows"]} == {"owner@bravo.test", "rep@bravo.test"}
    assert body["totals"][0]["connects"] == 3 and body["totals"][0]["conversations_won"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2024-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"to": "0001-01-01"}, "to"),
        ({"from": "2024-04-01", "to": "2024-03-01"}, "to"),
        ({"from": "2999-01-01"}, "from"),
        ({"grain": "day"}, "grain"),
        ({"by": "owner"}, "by"),
        (LONG_WEEKS, "from"),
        ({**CENTURIES, "grain": "quarter"}, "from"),
    ],
)
def test_api_bad_parameters_are_422_naming_the_field(api, params, field):
    response = api.get("/activity", **params)
    assert response.status_code == 422, response.content
    assert fields_of(response) == [field]
    assert response.json()["detail"].startswith(f"{field}: ")


def test_api_a_token_is_needed(client, settings, org_a):
    assert client.get(f"{BASE}/activity").status_code == 401


def test_api_openapi_document():
    schema = the_api.get_openapi_schema()
    get = schema["paths"]["/api/v1/activity"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"from", "to", "grain", "by"}
    assert {str(code) for code in get["responses"]} >= {"200", "401", "422"}
    components = schema["components"]["schemas"]
    assert set(components["ActivityCountsOut"]["properties"]) == {
        "period",
        "grain",
        "by",
        "rows",
        "totals",
    }
    row = set(components["ActivityCountRowOut"]["properties"])
    assert row == {"bucket_start", "member_id", "member_label", *COUNTS, "won_share"}
