"""The targets grid's services: a year of every metric saved at once (all or nothing), and
the same grid as a CSV file out and back in, errors by row and column."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from keepscore.audit.models import AuditEvent
from keepscore.imports.targets import CSV_HEADER, targets_csv, targets_csv_read
from keepscore.scorecard.catalogue import metric_catalogue
from keepscore.scorecard.grids import targets_grid_set
from keepscore.scorecard.models import Goal, Target
from keepscore.scorecard.services import goal_set, target_set

pytestmark = pytest.mark.django_db


def stored(org: Any) -> list[tuple[Any, ...]]:
    targets = Target.objects.filter(organization=org).values_list("metric_key", "month", "value")
    goals = Goal.objects.filter(organization=org).values_list("metric_key", "year", "value")
    return sorted(targets) + sorted(goals)


def test_the_grid_is_saved_at_once_and_an_empty_cell_clears(org_a):
    target_set(organization=org_a, metric_key="revenue", month="2027-01", value=900)
    target_set(organization=org_a, metric_key="revenue", month="2027-02", value=950)
    goal_set(organization=org_a, metric_key="customers", year=2027, value=40)
    saved = targets_grid_set(
        organization=org_a,
        year=2027,
        rows={
            "new_leads": {"m01": "30", "m02": " 1,200 ", "goal": "400"},
            "close_rate": {"m12": "27.5%"},
            "revenue": {"m01": "", "m02": "950"},  # cleared, unchanged
            "customers": {"goal": None},  # cleared
        },
    )
    assert (saved.set, saved.cleared, saved.unchanged) == (4, 2, 1)
    assert stored(org_a) == [
        ("close_rate", date(2027, 12, 1), Decimal("27.5")),
        ("new_leads", date(2027, 1, 1), Decimal(30)),
        ("new_leads", date(2027, 2, 1), Decimal(1200)),
        ("revenue", date(2027, 2, 1), Decimal(950)),
        ("new_leads", 2027, Decimal(400)),
    ]
    # the change is in the audit log, without the values
    event = AuditEvent.objects.filter(organization=org_a, action="changed").last()
    assert event.summary == "targets and goals of 2027: 4 set, 2 cleared, 1 unchanged"


def test_one_bad_cell_saves_nothing_and_every_bad_cell_is_named(org_a):
    target_set(organization=org_a, metric_key="revenue", month="2027-01", value=900)
    before = stored(org_a)
    with pytest.raises(ValidationError) as caught:
        targets_grid_set(
            organization=org_a,
            year=2027,
            rows={
                "new_leads": {"m01": "30", "m03": "abc"},
                "customers": {"m04": "-2", "goal": "2.5"},
                "close_rate": {"m02": "150"},
                "revenue": {"m01": ""},
            },
        )
    assert caught.value.message_dict == {
        "new_leads-m03": ["New leads, Mar 2027: 'abc' is not a number."],
        "customers-m04": ["Customers, Apr 2027: Customers cannot be negative."],
        "customers-goal": ["Customers, annual goal: Customers is a count: use a whole number."],
        "close_rate-m02": ["Close rate, Feb 2027: Close rate is a percentage: -100 to 100."],
    }
    assert stored(org_a) == before


def test_a_metric_of_another_organization_is_no_metric_here(org_a, org_b, visitors_b):
    with pytest.raises(ValidationError) as caught:
        targets_grid_set(organization=org_a, year=2027, rows={visitors_b.key: {"m01": "5"}})
    assert "There is no metric “bravo_visitors” in this organization." in str(caught.value)
    assert stored(org_a) == stored(org_b) == []


def read(org: Any, text: str, year: int = 2027, **kw: Any) -> Any:
    return targets_csv_read(org, year, io.BytesIO(text.encode("utf-8")), name="t.csv", **kw)


def test_the_csv_round_trips(org_a, visitors_a):
    target_set(organization=org_a, metric_key="new_leads", month="2027-03", value=30)
    target_set(organization=org_a, metric_key="close_rate", month="2027-01", value="27.5")
    target_set(organization=org_a, metric_key="revenue", month="2027-12", value="1234.56")
    target_set(organization=org_a, metric_key=visitors_a.key, month="2027-06", value=800)
    goal_set(organization=org_a, metric_key="revenue", year=2027, value=250_000)
    target_set(organization=org_a, metric_key="new_leads", month="2026-03", value=99)  # not 2027
    body, rows = targets_csv(org_a, 2027)
    # read back independently: the header, one row per metric, the values where they belong
    table = list(csv.DictReader(io.StringIO(body)))
    assert tuple(table[0].keys()) == CSV_HEADER
    assert rows == len(table) == len(metric_catalogue(org_a))
    by_key = {r["key"]: r for r in table}
    assert by_key["new_leads"]["metric"] == "New leads" and by_key["new_leads"]["Mar"] == "30"
    assert by_key["close_rate"]["Jan"] == "27.5" and by_key["revenue"]["Dec"] == "1234.56"
    assert by_key["revenue"]["goal"] == "250000" and by_key["website_visitors"]["Jun"] == "800"
    assert by_key["new_leads"]["Feb"] == ""
    # the grid's order: the suspect group first (the manual metric in it), the customer last
    keys = [r["key"] for r in table]
    assert keys[0] == "new_leads" and keys[-1] == "sales_cycle_p80"
    assert keys.index("website_visitors") < keys.index("call_attempts")
    before = stored(org_a)
    Target.objects.filter(organization=org_a, month__year=2027).delete()
    Goal.objects.filter(organization=org_a).delete()
    result = read(org_a, body)
    assert not result.failed, result.lines()
    assert result.rows == rows and result.saved.set == 5
    assert stored(org_a) == before
    # again: nothing changes
    again = read(org_a, body)
    assert (again.saved.set, again.saved.cleared, again.saved.unchanged) == (0, 0, 5)


def test_csv_errors_are_reported_by_row_and_column_and_nothing_is_written(org_a):
    target_set(organization=org_a, metric_key="revenue", month="2027-01", value=900)
    before = stored(org_a)
    text = (
        "metric,key,Jan,Feb,Mar,goal\n"
        "New leads,,10,20,abc,\n"  # row 2
        "Close rate,close_rate,150,,,\n"  # row 3
        "Nonsense,,1,,,\n"  # row 4
        "Revenue,revenue,,,,\n"  # row 5: would clear January
        ",no_such_key,1,,,\n"  # row 6
        "new leads,,1,,,\n"  # row 7: the same metric again (by name, any case)
        "Customers,customers,1.5,,,-3\n"  # row 8
    )
    result = read(org_a, text)
    assert result.failed and result.saved is None
    assert result.lines() == [
        "row 2, column Mar: 'abc' is not a number.",
        "row 3, column Jan: Close rate is a percentage: -100 to 100.",
        "row 4, column metric: 'Nonsense' is not a metric of this organization",
        "row 6, column key: 'no_such_key' is not a metric of this organization",
        "row 7: New leads is already on row 2",
        "row 8, column Jan: Customers is a count: use a whole number.",
        "row 8, column goal: Customers cannot be negative.",
    ]
    assert stored(org_a) == before


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "The file is empty"),
        ("metric,Jan,Total\nNew leads,1,1\n", "Column 3 “Total” is not one of metric, key"),
        ("Jan,Feb\n1,2\n", "The header needs a key or a metric column."),
        ("metric,Jan,jan\nNew leads,1,2\n", "The column jan is in the header twice."),
    ],
)
def test_a_file_without_the_right_header_is_refused(org_a, text, problem):
    result = read(org_a, text)
    assert result.failed and result.lines()[0].startswith(problem), result.lines()
    assert stored(org_a) == []


def test_a_file_that_is_not_utf8_is_refused(org_a):
    data = "metric,Jan\nMarge café,1\n".encode("latin-1")
    result = targets_csv_read(org_a, 2027, io.BytesIO(data), name="t.csv")
    assert result.lines() == ["The file is not UTF-8 text: save it as “CSV UTF-8”."]


def test_a_spreadsheet_with_semicolons_and_decimal_commas_is_read(org_a):
    text = "\ufeffMetric;Key;Jan;February;goal\nNew leads;;1 200;;\nClose rate;;27,5;30;\n"
    result = read(org_a, text)
    assert not result.failed, result.lines()
    assert stored(org_a) == [
        ("close_rate", date(2027, 1, 1), Decimal("27.5")),
        ("close_rate", date(2027, 2, 1), Decimal(30)),
        ("new_leads", date(2027, 1, 1), Decimal(1200)),
    ]
    # a month left out of the file stays as it is; a dry run writes nothing
    target_set(organization=org_a, metric_key="new_leads", month="2027-05", value=7)
    dry = read(org_a, "metric,Jan\nNew leads,5\n", dry_run=True)
    assert not dry.failed and dry.saved is None
    assert read(org_a, "metric,Jan\nNew leads,5\n").saved.set == 1
    assert (
        Target.objects.get(organization=org_a, metric_key="new_leads", month=date(2027, 5, 1)).value
        == 7
    )
