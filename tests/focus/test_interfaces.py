"""The focus in the app (page, dashboard card, the review), the CLI and the API: the same
diagnosis everywhere, bad dates refused with the field named."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from keepscore.cli.main import app
from keepscore.focus.models import KeptDiagnosis
from keepscore.focus.selectors import diagnose, diagnosis_json
from keepscore.scorecard.services import review_add
from tests.api.conftest import api_for
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
