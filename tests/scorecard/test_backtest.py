"""The pace's projection backtested on four whole years of the demo's history: its median
error and its interval's coverage held to stated limits, and its points checked against the
same projection worked out with pandas from the stored outcomes."""

from __future__ import annotations

import calendar
import json
import math
import statistics
from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
import pytest
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.demo.generator import demo_create, demo_delete
from keepscore.leads.models import DealOutcome, Lead
from keepscore.scorecard import pace
from keepscore.scorecard.backtest import backtest

pytestmark = pytest.mark.django_db
TODAY = date(2026, 1, 20)
#: limits, with their reason (docs/numbers.md, "Pace"): a 95% interval that held the
#: outcome in fewer than 4 years of 5 would overstate its certainty; one month before the
#: year's end, an owner needs the year end within a tenth to act on it
MIN_COVERAGE = 0.80
MAX_LATE_ERROR = 0.10


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        made = demo_create(seed=7, slug="demo-backtest", months=48, today=TODAY)
    yield made.organization
    with django_db_blocker.unblock():
        demo_delete(slug=made.organization)


def test_the_demo_backtest_holds_its_limits(demo: str) -> None:
    org = Organization.objects.get(slug=demo)
    report = backtest(org, today=TODAY)
    assert report.years == (2022, 2023, 2024, 2025)
    for result in report.results:
        assert len(result.points) >= 3 * 11, result.metric  # every month end of 3+ years
        assert result.coverage is not None and result.coverage >= MIN_COVERAGE, result.as_dict()
        late = result.median_error_late
        assert late is not None and late <= MAX_LATE_ERROR, result.as_dict()


def _customers_by_month(org: Organization) -> pd.Series:
    """Customers a month as the scorecard counts them, by pandas from the outcome rows:
    each lead with an outcome in the month once, by its last one, when that is a win."""
    rows = pd.DataFrame(
        DealOutcome.objects.for_org(org).values("id", "lead_id", "result", "at").order_by()
    )
    zone = timezone.get_default_timezone()
    rows["month"] = rows["at"].dt.tz_convert(zone).dt.tz_localize(None).dt.to_period("M")
    last = rows.sort_values(["at", "id"]).groupby(["lead_id", "month"]).tail(1)
    return last[last["result"] == "won"].groupby("month").size()


def test_points_equal_the_run_rate_worked_out_with_pandas(demo: str) -> None:
    org = Organization.objects.get(slug=demo)
    customers = _customers_by_month(org)
    touches = pd.Series(Lead.objects.for_org(org).values_list("first_touch_at", flat=True))
    zone = timezone.get_default_timezone()
    start = touches.dt.tz_convert(zone).dt.tz_localize(None).dt.to_period("M").min()
    (result,) = backtest(org, keys=["customers"], today=TODAY).results
    checked = 0
    for point in result.points:
        if point.month not in (3, 7, 11):
            continue
        end = pd.Period(f"{point.year}-{point.month:02d}", "M")
        value = lambda p: float(customers.get(p, 0))  # noqa: E731
        # the months since the history's start only
        run = [value(end - i) for i in range(pace.RUN_MONTHS) if end - i >= start]
        spread = [value(end - i) for i in range(pace.SPREAD_MONTHS) if end - i >= start]
        ytd = sum(value(pd.Period(f"{point.year}-{m:02d}", "M")) for m in range(1, point.month + 1))
        left = 12 - point.month
        rate = sum(run) / len(run)
        variance = max(statistics.variance(spread), rate)
        half = pace.Z95 * math.sqrt(variance * left + variance * left * left / len(run))
        actual = sum(value(pd.Period(f"{point.year}-{m:02d}", "M")) for m in range(1, 13))
        assert point.ytd == ytd and point.actual == actual
        assert point.projected == pytest.approx(ytd + rate * left)
        assert point.high == pytest.approx(ytd + rate * left + half)
        assert point.low == pytest.approx(max(ytd, ytd + rate * left - half))
        checked += 1
    assert checked >= 9


@pytest.mark.parametrize(
    ("goal", "expected"),
    [(90, "ahead"), (100, "on_track"), (110, "at_risk"), (130, "behind")],
)
def test_verdicts(goal: float, expected: str) -> None:
    """Projection 105, interval 95-120: the goal against it."""
    assert pace.verdict(goal, 105, 95, 120) == expected
    # lower is better: the mirror (a goal of at most 130 is met by the whole interval)
    mirrored = {"ahead": 130, "on_track": 110, "at_risk": 100, "behind": 90}
    assert pace.verdict(mirrored[expected], 105, 95, 120, higher_is_better=False) == expected


def test_as_of_and_months_left() -> None:
    assert pace.as_of(date(2025, 3, 1), date(2025, 4, 15)) == date(2025, 3, 31)
    assert pace.as_of(date(2025, 3, 1), date(2025, 3, 2)) == date(2025, 3, 2)
    assert pace.months_left(date(2025, 12, 2)) == pytest.approx(29 / 31)
    assert pace.months_left(date(2025, 11, 30)) == pytest.approx(1.0)
    assert pace.whole_months_before(date(2025, 12, 2)) == date(2025, 11, 1)
    assert pace.whole_months_before(date(2025, 11, 30)) == date(2025, 11, 1)
    assert calendar.isleap(2024) and pace.as_of(date(2024, 2, 1), date(2024, 3, 1)).day == 29


def test_the_command_prints_the_same_figures(demo: str, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from keepscore.cli.main import app

    org = Organization.objects.get(slug=demo)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    result = CliRunner().invoke(app, ["backtest", "--org", demo, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = backtest(org, today=TODAY).as_dict()
    assert data == json.loads(json.dumps(expected))
    table = CliRunner().invoke(app, ["backtest", "--org", demo])
    assert table.exit_code == 0 and "customers" in table.stdout and "95% coverage" in table.stdout
