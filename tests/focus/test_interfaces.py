"""The focus in the app (page, dashboard card, the review), the CLI and the API: the same
diagnosis everywhere, bad dates refused with the field named."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from keepscore.cli.main import app
from keepscore.focus.models import KeptDiagnosis
from keepscore.focus.selectors import diagnose, diagnosis_json
from keepscore.leads.models import DealOutcome, Lead
from keepscore.scorecard.services import review_add
from tests.api.conftest import api_for
from tests.conftest import linked_leads
from tests.focus import builder as b

pytestmark = pytest.mark.django_db
runner = CliRunner()
KEYS = {
    "cash_runway",
    "sales_conversations",
    "best_channels",
    "margin_health",
    "pipeline_coverage",
    "conversion_trend",
    "qualified_vs_revenue",
    "objections_rising",
    "late_stage_stall",
    "lead_volume",
}


@pytest.fixture
def data(org_a: Any) -> Any:
    """A year of leads up to last month, and this month's cash: runway 0.5 months."""
    first = b.month_add(timezone.localdate().replace(day=1), -12)
    b.build(
        org_a,
        b.monthly(
            first,
            12,
            20,
            lambda j: 1 + j % 28,
            lambda i, j, t: b.won(t, 30) if j < 8 else b.lost(t, 20),
        ),
    )
    b.cash(org_a, timezone.localdate().replace(day=1), "5000", "10000")
    return org_a


def test_page_lists_every_indicator_with_its_numbers(client_a: Any, data: Any) -> None:
    response = client_a.get("/o/acme/focus/")
    assert response.status_code == 200
    html = response.content.decode()
    expected = diagnose(data)
    assert expected.recommendation == "cash"
    assert 'data-recommendation="cash"' in html
    for key in KEYS:
        assert f'data-indicator="{key}"' in html
    for indicator in expected.indicators:
        explanation = indicator.explanation.replace("'", "&#x27;").replace("&", "&amp;")
        assert explanation.replace("&amp;#x27;", "&#x27;") in html, indicator.key
    assert "Referral" in html  # the channel table


def test_page_for_a_past_date_and_bad_dates(client_a: Any, data: Any) -> None:
    day = timezone.localdate() - timedelta(days=40)
    response = client_a.get("/o/acme/focus/", {"date": day.isoformat()})
    assert response.status_code == 200
    assert f"As of {day.day} {day:%B %Y}" in response.content.decode()
    for bad, message in (
        ("2999-01-01", "cannot be made for a day in the future"),
        ("1999-12-31", "Choose a date from"),
        ("yesterday", "Enter a valid date"),
    ):
        response = client_a.get("/o/acme/focus/", {"date": bad})
        assert response.status_code == 400, bad
        assert message in response.content.decode()


def test_dashboard_loads_the_card(client_a: Any, data: Any) -> None:
    dashboard = client_a.get("/o/acme/").content.decode()
    assert 'hx-get="/o/acme/focus/card/"' in dashboard
    card = client_a.get("/o/acme/focus/card/")
    assert card.status_code == 200
    assert diagnose(data).sentence in card.content.decode().replace("&#x27;", "'")


def test_a_review_keeps_the_diagnosis_of_its_month(client_a: Any, data: Any, owner_a: Any) -> None:
    month = b.month_add(timezone.localdate().replace(day=1), -2)
    review_add(organization=data, month=month, kind="decision", text="Chase cash", by=owner_a)
    (kept,) = KeptDiagnosis.objects.filter(organization=data)
    end = b.month_add(month, 1) - timedelta(days=1)
    assert kept.month == month and kept.as_of == end
    assert kept.payload == json.loads(json.dumps(diagnosis_json(diagnosis=diagnose(data, end))))
    page = client_a.get(f"/o/acme/scorecard/{month:%Y-%m}/").content.decode()
    assert 'id="kept-focus"' in page and kept.label in page
    # a second entry keeps a second diagnosis; the first stays as it was
    review_add(organization=data, month=month, kind="note", text="Again", by=owner_a)
    assert KeptDiagnosis.objects.filter(organization=data).count() == 2


def test_cli_text_and_json(data: Any) -> None:
    result = runner.invoke(app, ["focus", "--org", "acme"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert (
        "Mind the cash" in result.output and "Q1 Sales cycle against cash runway" in result.output
    )
    result = runner.invoke(app, ["focus", "--org", "acme", "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body == json.loads(json.dumps(diagnosis_json(diagnosis=diagnose(data))))
    assert {i["key"] for i in body["indicators"]} == KEYS
    for i in body["indicators"]:
        assert {"key", "status", "value", "evidence", "explanation"} <= set(i)


def test_cli_bad_date(data: Any) -> None:
    result = runner.invoke(app, ["focus", "--org", "acme", "--date", "2024-02-30"])
    assert result.exit_code == 2
    assert "--date" in result.output and "not a date" in result.output


def test_api_get_focus(data: Any, owner_a: Any) -> None:
    api = api_for(owner_a)
    response = api.get("/focus")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(diagnosis_json(diagnosis=diagnose(data))))
    day = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert api.get("/focus", date=day).json()["as_of"] == day
    bad = api.get("/focus", date="2999-01-01")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "date"
    assert api.get("/focus", date=str(date(2024, 2, 1))).status_code == 200


def test_the_customers_of_each_channel_open_those_leads(client_a: Any, org_a: Any) -> None:
    """Where the customers come from: each channel's customers (and the total) link to the
    leads first won in the diagnosis's months, checked against the outcomes in plain Python."""
    first = b.month_add(timezone.localdate().replace(day=1), -14)

    def make(i: int, j: int, t: Any) -> b.Spec:
        channel = "referral" if j % 2 else "walk-in"
        return b.won(t, 40, channel=channel) if j < 5 else b.lost(t, 20, channel=channel)

    b.build(org_a, b.monthly(first, 14, 8, lambda j: 1 + 3 * j, make))
    best = diagnose(org_a).indicator("best_channels")
    won = best.evidence["customers_won"]
    start, end = date.fromisoformat(won["from"]), date.fromisoformat(won["to"])
    expected: dict[str, list[str]] = {}
    first_won: dict[int, date] = {}
    for lead_id, at in DealOutcome.objects.filter(organization=org_a, result="won").values_list(
        "lead_id", "at"
    ):
        day = timezone.localtime(at).date()
        first_won[lead_id] = min(day, first_won.get(lead_id, day))
    for lead in Lead.objects.filter(organization=org_a).select_related("channel"):
        if lead.pk in first_won and start <= first_won[lead.pk] <= end:
            expected.setdefault(lead.channel.name, []).append(lead.name)
    html = client_a.get("/o/acme/focus/").content.decode()
    section = html.split('data-indicator="best_channels"')[1].split("</section>")[0]
    shown = {}
    for row in best.evidence["by_customers"]:
        cells = re.search(rf'<tr data-channel="{row["channel"]}">(.*?)</tr>', section, re.S)
        assert cells is not None, row["channel"]
        customers = re.findall(r'<td class="num">(.*?)</td>', cells.group(1), re.S)[0]
        shown[row["channel"]] = linked_leads(client_a, customers)
        assert len(shown[row["channel"]] or []) == row["customers"], row["channel"]
    assert shown == {name: sorted(names) for name, names in expected.items()}
    assert len(expected) == 2 and best.evidence["customers"] > 20  # not a year of zeros
    total = re.search(r'<dt>Customers</dt><dd><a href="([^"]+)">', section)
    assert total is not None  # every channel's: more than a page, so counted
    listed = client_a.get(total.group(1).replace("&amp;", "&")).context["page_obj"].paginator
    assert listed.count == sum(len(names) for names in expected.values())
    # a past date's counts open no list (the list shows the leads as they are now)
    past = (timezone.localdate() - timedelta(days=40)).isoformat()
    earlier = client_a.get(f"/o/acme/focus/?date={past}").content.decode()
    earlier = earlier.split('data-indicator="best_channels"')[1].split("</section>")[0]
    assert "won_from" not in earlier and "channel=" in earlier  # each channel's leads still
