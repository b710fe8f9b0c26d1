"""The pages ``o/<org>/funnel/jobs/`` and ``o/<org>/funnel/objections/``, the commands
``keepscore jobs`` and ``keepscore objections``, and ``GET /jobs`` and
``GET /objections/report`` — over the stories of ``test_jobs.py`` and
``test_objections_report.py`` (their module docs hold the numbers worked out by hand)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from django.urls import reverse
from typer.testing import CliRunner, Result

from keepscore.accounts.models import Membership, Organization
from keepscore.cli.jobs import JOBS_CSV_COLUMNS, OBJECTIONS_CSV_COLUMNS
from keepscore.cli.main import app
from keepscore.funnel.jobs import jobs_default_period
from keepscore.funnel.objections import objections_default_period
from tests.api.conftest import Api, api_for, fields_of
from tests.conftest import linked_leads, make_org
from tests.funnel import test_jobs, test_objections_report
from tests.funnel.conftest import at, new_lead
from tests.funnel.test_jobs import EXPECTED, MIA, NO_MEMBER, OWNER, SAM

pytestmark = pytest.mark.django_db

Q1 = {"from": "2024-01-01", "to": "2024-03-31"}
Q1_ARGS = ["--from", "2024-01-01", "--to", "2024-03-31", "--org", "acme"]
COLUMNS = test_jobs.FIELDS


@pytest.fixture
def jobs_story(settings: Any, org_a: Organization, owner_a: Membership) -> None:
    settings.TIME_ZONE = "Europe/Brussels"
    members = test_jobs.members_make(org_a, owner_a)
    test_jobs.story_make(org_a, members)


@pytest.fixture
def objection_story(org_a: Organization, owner_a: Membership) -> dict[str, Any]:
    return test_objections_report.story_make(org_a, owner_a)


@pytest.fixture
def bravo(org_a: Organization) -> Organization:
    """Another organization with a member, a lead and an objection in Q1 2024."""
    from keepscore.activities.services import objection_add

    org, owner = make_org("bravo", "owner@bravo.test")
    lead = new_lead(org, "Bo", at(2024, 1, 3), owner=owner)
    objection_add(lead=lead, tag="authority", by=owner, at=at(2024, 1, 4))
    return org


@pytest.fixture
def api_a(owner_a: Membership) -> Api:
    return api_for(owner_a)


def jobs_url(org: Organization) -> str:
    return reverse("jobs_report", kwargs={"org": org.slug})


def objections_url(org: Organization) -> str:
    return reverse("objections_report", kwargs={"org": org.slug})


def number(text: str) -> str:
    """A cell as the tests write it: ``1,000`` -> ``1000.00`` for money, counts as they are."""
    return text.replace(",", "").removeprefix("€")  # the default currency: EUR, en_IE


# --- the marketing & sales page -----------------------------------------------------------------


def test_jobs_page_shows_each_member_per_month(client_a, org_a, jobs_story, bravo):
    # when
    response = client_a.get(jobs_url(org_a), Q1)
    # then
    assert response.status_code == 200
    members = response.context["members"]
    assert [m["label"] for m in members] == [MIA, OWNER, SAM, NO_MEMBER]
    for m in members:
        for row in m["months"]:
            expected = EXPECTED[(m["label"], row["start"])]
            counts = tuple(int(number(v)) for v, _url in row["cells"][:5])
            money = tuple(float(number(v)) for v, _url in row["cells"][5:])
            assert counts == expected[:5], (m["label"], row["label"])
            assert money == tuple(float(v) for v in expected[5:])
    assert [number(v) for v, _url in response.context["grand_total"]] == [
        "4", "3", "4", "2", "2", "1500", "600",
    ]  # fmt: skip
    assert members[0]["split"] == "80% marketing · 20% sales"
    assert members[2]["split"] == "not set (sales)"
    html = response.content.decode()
    assert "Marketing &amp; sales" in html and "Leads sourced" in html and "Won deals" in html
    assert 'data-month="2024-02"' in html and "reached Qualified" in html
    assert "bravo" not in html


def test_jobs_page_one_month(client_a, org_a, jobs_story):
    response = client_a.get(jobs_url(org_a), {**Q1, "month": "2024-02"})
    assert response.status_code == 200
    members = response.context["members"]
    assert all(len(m["months"]) == 1 for m in members)
    sam = next(m for m in members if m["label"] == SAM)
    assert [int(v) for v, _url in sam["shown_total"][:5]] == [0, 1, 1, 0, 0]
    assert [number(v) for v, _url in response.context["grand_total"][:5]] == [
        "2", "2", "2", "1", "0",
    ]  # fmt: skip
    html = response.content.decode()
    assert 'value="2024-02" selected' in html
    # February only: its counts open February's leads
    overview = html.split('id="jobs-overview"')[1].split("</section>")[0]
    assert cells_of(client_a, overview, f'data-member="{sam["id"]}"')[:2] == [None, ["Cy"]]
    assert cells_of(client_a, overview, "data-total")[:2] == [["Ben", "Dee"], ["Ben", "Cy"]]


def cells_of(client: Any, html: str, row: str) -> list[list[str] | None]:
    """The leads behind each count of a table row (``<tr … {row}>``): None where it has no
    link."""
    found = re.search(rf"<tr[^>]* {row}[^>]*>(.*?)</tr>", html, re.S)
    assert found is not None, row
    cells = re.findall(r'<td class="num">(.*?)</td>', found.group(1), re.S)
    return [linked_leads(client, cell) for cell in cells]


def test_jobs_page_counts_of_leads_open_those_leads(client_a, org_a, jobs_story, bravo):
    # by hand (test_jobs' story): Mia sourced Ann (Jan, qualified Jan) and Ben (1 Feb 00:30
    # in Brussels, 31 Jan in UTC; qualified Feb by passing it); Sam sourced Cy (Dec 2023,
    # qualified Feb) and Fay (31 Mar 23:59); Dee (Feb) was sourced by no one
    html = client_a.get(jobs_url(org_a), Q1).content.decode()
    members = {m["label"]: m["id"] for m in client_a.get(jobs_url(org_a), Q1).context["members"]}
    overview = html.split('id="jobs-overview"')[1].split("</section>")[0]

    def per_month(member: str, month: str) -> list[list[str] | None]:
        table = html.split(f'data-member-table="{members[member]}"')[1].split("</section>")[0]
        return cells_of(client_a, table, f'data-month="{month}"')

    mia = cells_of(client_a, overview, f'data-member="{members[MIA]}"')
    assert mia == [["Ann", "Ben"], ["Ann", "Ben"], None, None, None, None, None]
    sam = cells_of(client_a, overview, f'data-member="{members[SAM]}"')
    assert sam[:5] == [["Fay"], ["Cy"], None, None, None]  # conversations and deals: no list
    assert cells_of(client_a, overview, 'data-member=""')[:2] == [None, None]  # (no member)
    assert cells_of(client_a, overview, "data-total")[:2] == [
        ["Ann", "Ben", "Dee", "Fay"],
        ["Ann", "Ben", "Cy"],
    ]
    assert per_month(MIA, "2024-01")[:2] == [["Ann"], ["Ann"]]
    assert per_month(MIA, "2024-02")[:2] == [["Ben"], ["Ben"]]
    assert per_month(MIA, "2024-03")[:2] == [None, None]  # 0: no link
    assert per_month(SAM, "2024-03")[:2] == [["Fay"], None]


def test_jobs_page_defaults(client_a, org_a):
    response = client_a.get(jobs_url(org_a))
    assert response.status_code == 200
    assert response.context["period"] == jobs_default_period()
    assert [m["label"] for m in response.context["members"]] == ["owner@acme.test"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2024-02-30"}, "from_", "Enter a valid date"),
        ({"from": "2024-04-01", "to": "2024-03-01"}, "to", "is before the start date"),
        ({"from": "1900-01-01", "to": "2999-12-31"}, "from_", "at most 120 months"),
        ({**Q1, "month": "2024-13"}, "month", "Give a month as YYYY-MM"),
        ({**Q1, "month": "2024-05"}, "month", "is not in the period"),
    ],
)
def test_jobs_bad_filters_are_a_400_with_a_clear_message(client_a, org_a, params, field, message):
    response = client_a.get(jobs_url(org_a), params)
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field])
    assert message in response.content.decode()


def test_jobs_htmx_gets_200_even_for_bad_filters(client_a, org_a):
    response = client_a.get(jobs_url(org_a), {"from": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "jobs-errors" in response.content.decode()


# --- the objections page ------------------------------------------------------------------------


def test_objections_page(client_a, org_a, objection_story, bravo):
    # when
    response = client_a.get(objections_url(org_a), Q1)
    # then
    assert response.status_code == 200
    ctx = response.context
    assert ctx["total"] == 6
    assert [(r["tag"], r["count"], r["share"]) for r in ctx["ranked"]] == [
        ("price", "4", "67%"),
        ("timing", "1", "17%"),
        ("competitor", "1", "17%"),
    ]
    assert ctx["tag_labels"] == ["Price", "Timing", "Competitor"]
    assert {r["label"]: r["cells"] for r in ctx["months"]} == {
        "Jan 2024": ["2", "1", "0"],
        "Feb 2024": ["1", "0", "0"],
        "Mar 2024": ["1", "0", "1"],
    }
    assert {r["label"]: r["cells"] for r in ctx["stages"]} == {
        "Prospect": ["1", "1", "1"],
        "Lead": ["1", "0", "0"],
        "Qualified": ["1", "0", "0"],
        "Lost": ["1", "0", "0"],
    }
    assert {r["label"]: r["total"] for r in ctx["channels"]} == {"Referral": "3", "Walk-in": "3"}
    # the trend: 12 months to March 2024; price 2 in Jan, 1 in Feb and Mar; trust 1 in Dec
    trends = {t["tag"]: t for t in ctx["trends"]}
    assert trends["price"]["counts"] == [0] * 9 + [2, 1, 1]
    assert trends["trust"]["counts"] == [0] * 8 + [1, 0, 0, 0]
    assert not trends["price"]["enough"] and not trends["price"]["rising"]
    html = response.content.decode()
    for heading in ("Most common", "By month", "By stage at the time", "By channel", "Trend"):
        assert heading in html
    assert "ks-spark" in html and "not enough data" in html
    assert "Authority" not in html.split('id="objections-ranked"')[1]


def test_objections_page_empty_and_defaults(client_a, org_a):
    response = client_a.get(objections_url(org_a))
    assert response.status_code == 200
    assert response.context["period"] == objections_default_period()
    assert "No objection logged in this period." in response.content.decode()


def test_objections_bad_period_is_a_400(client_a, org_a):
    response = client_a.get(objections_url(org_a), {"from": "1900-01-01", "to": "2999-12-31"})
    assert response.status_code == 400
    assert "at most 120 months" in response.content.decode()


def test_other_organizations_are_404_and_anonymous_goes_to_login(client, org_a, bravo):
    client.force_login(Membership.objects.get(organization=bravo).user)
    assert client.get(jobs_url(org_a)).status_code == 404
    assert client.get(objections_url(org_a)).status_code == 404
    client.logout()
    assert client.get(jobs_url(org_a)).status_code == 302


def test_nav_links(client_a, org_a):
    html = client_a.get(objections_url(org_a)).content.decode()
    assert f'href="{jobs_url(org_a)}"' in html and ">Marketing &amp; sales</a>" in html
    assert f'href="{objections_url(org_a)}" aria-current="page">Objections</a>' in html


def test_only_get(client_a, org_a):
    assert client_a.post(jobs_url(org_a), Q1).status_code == 405
    assert client_a.post(objections_url(org_a), Q1).status_code == 405


# --- the CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_cli_jobs_json(jobs_story, bravo):
    result = invoke("jobs", *Q1_ARGS, "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["period"] == Q1
    shown = {
        (m["label"], month["month"]): tuple(month[name] for name in COLUMNS)
        for m in body["members"]
        for month in m["months"]
    }
    assert shown == {(label, start.isoformat()): v for (label, start), v in EXPECTED.items()}
    assert body["totals"]["total"]["won_deals"] == 2


def test_cli_jobs_csv_and_table(jobs_story):
    result = invoke("jobs", *Q1_ARGS, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == JOBS_CSV_COLUMNS
    assert len(rows) == 4 * 3
    sam_mar = next(r for r in rows if r["member_label"] == SAM and r["month"] == "2024-03-01")
    assert (sam_mar["won_deals"], sam_mar["margin"]) == ("2", "600.00")
    mia_mar = next(r for r in rows if r["member_label"] == MIA and r["month"] == "2024-03-01")
    assert (mia_mar["marketing_share"], mia_mar["won_deals"]) == ("80", "0")
    table = invoke("jobs", *Q1_ARGS)
    assert table.exit_code == 0, table.output
    for text in ("Marketing & sales", MIA, SAM, "80/20", "Total", "1,500", "2024-02"):
        assert text in table.stdout


def test_cli_objections(objection_story):
    body = json.loads(invoke("objections", *Q1_ARGS, "--format", "json").stdout)
    assert [(t["tag"], t["count"]) for t in body["tags"]] == [
        ("price", 4),
        ("timing", 1),
        ("competitor", 1),
    ]
    assert body["stages"][0] == {
        "key": "prospect",
        "label": "Prospect",
        "counts": {"price": 1, "timing": 1, "competitor": 1},
        "total": 3,
    }
    result = invoke("objections", *Q1_ARGS, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == OBJECTIONS_CSV_COLUMNS
    assert [(r["tag"], r["count"], r["rising"]) for r in rows] == [
        ("price", "4", "no"),
        ("timing", "1", "no"),
        ("competitor", "1", "no"),
    ]
    table = invoke("objections", *Q1_ARGS)
    assert table.exit_code == 0, table.output
    for text in ("Objections 2024-01-01 to 2024-03-31: 6", "By stage at the time", "Walk-in"):
        assert text in table.stdout


@pytest.mark.parametrize("command", ["jobs", "objections"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-02-30"], "--from: '2024-02-30' is not a date"),
        (["--from", "2024-04-01", "--to", "2024-03-01"], "--to: The end date"),
        (["--from", "1900-01-01", "--to", "2999-12-31"], "--from: Choose a period of at most"),
    ],
)
def test_cli_bad_options_are_one_line_and_exit_2(org_a, command, args, message):
    result = invoke(command, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert message in result.stderr


def test_cli_defaults(org_a):
    body = json.loads(invoke("jobs", "--format", "json").stdout)
    assert body["period"] == jobs_default_period().as_dict()
    body = json.loads(invoke("objections", "--format", "json").stdout)
    assert body["period"] == objections_default_period().as_dict()


# --- the API ------------------------------------------------------------------------------------


def test_api_jobs(api_a: Api, jobs_story, bravo):
    response = api_a.get("/jobs", **Q1)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [m["label"] for m in body["members"]] == [MIA, OWNER, SAM, NO_MEMBER]
    mia = body["members"][0]
    assert mia["marketing_share"] == 80 and mia["total"]["leads_qualified"] == 2
    assert mia["total"]["leads_sourced"] == 2  # Ann and Ben: Mia brought them in
    assert body["members"][2]["months"][2]["margin"] == "600.00"  # Sam sold Ann


def test_api_objections_report(api_a: Api, objection_story, bravo):
    response = api_a.get("/objections/report", **Q1)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 6
    assert {c["label"]: c["counts"] for c in body["channels"]} == {
        "Referral": {"price": 2, "timing": 1, "competitor": 0},
        "Walk-in": {"price": 2, "timing": 0, "competitor": 1},
    }
    assert {t["tag"] for t in body["trends"]} >= {"price", "authority"}
    authority = next(t for t in body["trends"] if t["tag"] == "authority")
    assert authority["total"] == 0  # bravo's objection is not A's


@pytest.mark.parametrize("path", ["/jobs", "/objections/report"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2024-02-30"}, "from"),
        ({"from": "2024-04-01", "to": "2024-03-01"}, "to"),
        ({"from": "1900-01-01", "to": "2999-12-31"}, "from"),
    ],
)
def test_api_bad_periods_name_the_field(api_a: Api, path, params, field):
    response = api_a.get(path, **params)
    assert response.status_code == 422
    assert field in fields_of(response)
