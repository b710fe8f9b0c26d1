"""Importing manual values: metric,month,value from CSV or XLSX, all or nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook

from keepscore.imports.manual_values import metrics_import
from keepscore.scorecard.models import ManualValue
from tests.scorecard.conftest import make_metric

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, name: str = "values.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def values() -> list[tuple[str, date, Decimal]]:
    return sorted(ManualValue.objects.values_list("metric__key", "month", "value"))


GOOD = (
    "metric,month,value\n"
    "website_visitors,2026-01,1200\n"
    "Downloads,2026-01,35\n"
    "website_visitors,2026-02,1 350\n"
)


def test_a_good_file_is_imported_and_importing_it_again_changes_nothing(
    tmp_path, org_a, owner_a, visitors_a
):
    make_metric(org_a, "Downloads", group="PROSPECT")
    path = write(tmp_path, GOOD)
    first = metrics_import(org_a, path, owner_a)
    assert first.imported and (first.rows, first.created, first.updated) == (3, 3, 0)
    expected = [
        ("downloads", date(2026, 1, 1), Decimal(35)),
        ("website_visitors", date(2026, 1, 1), Decimal(1200)),
        ("website_visitors", date(2026, 2, 1), Decimal(1350)),
    ]
    assert values() == expected
    again = metrics_import(org_a, path, owner_a)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert values() == expected


def test_a_changed_value_is_set_not_added(tmp_path, org_a, visitors_a):
    metrics_import(org_a, write(tmp_path, "metric,month,value\nwebsite_visitors,2026-01,10\n"))
    result = metrics_import(
        org_a, write(tmp_path, "Metric , Month,VALUE,comment\nwebsite visitors,2026-01,15,x\n")
    )
    assert result.updated == 1 and result.ignored_columns == ["comment"]
    assert values() == [("website_visitors", date(2026, 1, 1), Decimal(15))]


def test_any_bad_row_imports_nothing_and_each_is_reported_with_line_and_column(
    tmp_path, org_a, org_b, visitors_a
):
    make_metric(org_b, "Bravo only", key="bravo_only")
    text = (
        "metric,month,value\n"
        "website_visitors,2026-01,100\n"  # line 2: fine
        "website_visitors,2026-13,5\n"  # line 3: month
        "bravo_only,2026-01,5\n"  # line 4: another organization's metric
        "website_visitors,2026-02,abc\n"  # line 5: value
        "website_visitors,2026-03,-4\n"  # line 6: a count is not negative
        "website_visitors,2026-01,7\n"  # line 7: again
        "website_visitors,2026-04,\n"  # line 8: no value
    )
    result = metrics_import(org_a, write(tmp_path, text))
    assert not result.imported and result.failed
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "month"),
        (4, "metric"),
        (5, "value"),
        (6, "value"),
        (7, "metric"),
        (8, "value"),
    ]
    reasons = {e.line: e.reason for e in result.errors}
    assert "01 to 12" in reasons[3] and "bravo_only" in reasons[4] and "line 2" in reasons[7]
    assert values() == []


def test_a_file_without_the_columns_is_a_problem(tmp_path, org_a, visitors_a):
    result = metrics_import(org_a, write(tmp_path, "name,when,amount\nx,2026-01,1\n"))
    assert result.problems and "metric" in result.problems[0]
    assert values() == []


def test_an_empty_file_is_a_problem(tmp_path, org_a):
    result = metrics_import(org_a, write(tmp_path, ""))
    assert result.problems


def test_windows_1252_semicolons_and_xlsx_are_read(tmp_path, org_a):
    make_metric(org_a, "Café visits", key="cafe_visits", unit="number")
    text = "metric;month;value\nCafé visits;2026-05;1.234,5\n"
    metrics_import(org_a, write(tmp_path, text, encoding="cp1252"))
    assert values() == [("cafe_visits", date(2026, 5, 1), Decimal("1234.5"))]

    book = Workbook()
    sheet = book.active
    sheet.append(["metric", "month", "value"])
    sheet.append(["cafe_visits", "2026-06", 12])
    buffer = BytesIO()
    book.save(buffer)
    path = tmp_path / "values.xlsx"
    path.write_bytes(buffer.getvalue())
    result = metrics_import(org_a, path)
    assert result.imported and result.file_format == "XLSX"
    assert values()[-1] == ("cafe_visits", date(2026, 6, 1), Decimal(12))


def test_an_uploaded_file_object_is_read(org_a, visitors_a):
    upload = BytesIO(b"metric,month,value\nwebsite_visitors,2026-01,3\n")
    upload.name = "upload.csv"  # type: ignore[attr-defined]
    assert metrics_import(org_a, upload).imported
    assert values() == [("website_visitors", date(2026, 1, 1), Decimal(3))]


def test_a_dry_run_writes_nothing(tmp_path, org_a, visitors_a):
    result = metrics_import(
        org_a,
        write(
            tmp_path,
            GOOD.replace("Downloads", "website_visitors").replace("2026-01,35", "2026-03,35"),
        ),
        dry_run=True,
    )
    assert not result.failed and not result.imported
    assert values() == []
