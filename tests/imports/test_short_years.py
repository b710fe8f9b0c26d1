"""Two-digit years (``20-10-16``): detected from the column like the others, read by the
documented pivot (00 to 69 → 20xx, 70 to 99 → 19xx), readings after today left out; an
unreadable column names the formats that were tried."""

from __future__ import annotations

import csv
import zoneinfo
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from typer.testing import CliRunner

from keepscore.accounts.models import Organization, User
from keepscore.cli.main import app
from keepscore.imports.dates import (
    CANDIDATES,
    PIVOT,
    ColumnDates,
    date_format_parse,
    date_read,
)
from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from tests.imports.conftest import write_csv
from tests.imports.test_views import form_data

ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def settle(values: list[str]) -> object:
    watcher = ColumnDates(column="Engage date")
    for value in values:
        watcher.observe(value)
    return watcher.settle()


@pytest.mark.parametrize(
    ("label", "value", "expected"),
    [
        ("DD-MM-YY", "20-10-16", date(2016, 10, 20)),
        ("MM/DD/YY", "10/20/16", date(2016, 10, 20)),
        ("YY-MM-DD", "16-10-20", date(2016, 10, 20)),
        ("DD.MM.YY", "05.01.99", date(1999, 1, 5)),
        ("YY/MM/DD", "70/01/02", date(1970, 1, 2)),
        ("DD-MM-YY", "01-02-69", date(2069, 2, 1)),  # the pivot: 69 is 2069
        ("DD-MM-YY", "01-02-70", date(1970, 2, 1)),  # and 70 is 1970
    ],
)
def test_a_two_digit_year_reads_by_the_pivot(label: str, value: str, expected: date) -> None:
    at = date_read(date_format_parse(label), value, ZONE)
    assert at is not None and at.date() == expected
    assert PIVOT == 70


def test_the_column_settles_on_the_reading_every_value_allows() -> None:
    # 20-10-16 reads as DD-MM-YY and YY-MM-DD; 31-01-17 only as DD-MM-YY
    fmt = settle(["20-10-16", "31-01-17", "03-11-16"])
    assert getattr(fmt, "label", fmt) == "DD-MM-YY"
    fmt = settle(["10/20/16", "12/31/17"])
    assert getattr(fmt, "label", fmt) == "MM/DD/YY"


def test_a_reading_after_today_does_not_count() -> None:
    # "28-02-17" as YY-MM-DD would be 17 February 2028: in the future, so not a reading
    future = date.today() + timedelta(days=400)
    value = f"{future:%y}-02-17"
    watcher = ColumnDates(column="x")
    assert watcher.observe(value)
    assert "YY-MM-DD" not in watcher.viable and "DD-MM-YY" in watcher.viable


def test_an_ambiguous_column_says_both_readings() -> None:
    problem = settle(["10-11-12", "03-04-05"])
    assert isinstance(problem, str)
    assert "ambiguous" in problem and "--date-format" in problem


def test_four_digit_years_are_not_read_as_two(org_a: Organization, tmp_path: Path) -> None:
    assert settle(["2016-10-20"]).label == "YYYY-MM-DD"  # type: ignore[union-attr]
    assert date_read(date_format_parse("DD-MM-YY"), "20-10-2016", ZONE) is None


def _expected(path: Path, fmt: str) -> dict[str, datetime]:
    """Each row's first touch, read with Python's own strptime (``%y`` pivots at 69, which
    agrees with ours for the years in these files)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            row["name"]: datetime.strptime(row["created"], fmt).replace(tzinfo=ZONE)
            for row in csv.DictReader(handle)
        }


def test_a_file_with_two_digit_years_imports(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "created"]] + [
        [f"Lead {i}", "Referral", f"{1 + i % 28:02d}-{1 + i % 12:02d}-{16 + i % 9:02d}"]
        for i in range(60)
    ]
    path = write_csv(tmp_path / "short.csv", rows)
    result = import_leads(organization=org_a, path=path)
    assert not result.failed, (result.problems, result.errors[:3])
    assert result.date_formats == {"created": "DD-MM-YY"}
    touches = dict(Lead.objects.for_org(org_a).values_list("name", "first_touch_at"))
    assert touches == _expected(path, "%d-%m-%y")


def test_the_cli_takes_a_two_digit_format(org_a: Organization, tmp_path: Path) -> None:
    # 03/04/05 could be any of three days: the file says which with --date-format
    rows = [["name", "source", "created"], ["Ann", "Referral", "03/04/05"]]
    path = write_csv(tmp_path / "amb.csv", rows)
    runner = CliRunner()
    refused = runner.invoke(app, ["import", "leads", str(path), "--org", "acme"])
    assert refused.exit_code != 0 and "ambiguous" in refused.output
    done = runner.invoke(
        app, ["import", "leads", str(path), "--org", "acme", "--date-format", "MM/DD/YY"]
    )
    assert done.exit_code == 0, done.output
    lead = Lead.objects.for_org(org_a).get()
    assert lead.first_touch_at == datetime(2005, 3, 4, tzinfo=ZONE)


def test_an_unreadable_column_names_the_formats_tried(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "created"], ["Ann", "Referral", "20161020"]]
    path = write_csv(tmp_path / "bad.csv", rows)
    result = import_leads(organization=org_a, path=path)
    assert result.failed and not Lead.objects.for_org(org_a).exists()
    [error] = result.errors
    assert error.line == 2 and error.column == "created"
    assert "is not a date in any format tried" in error.reason
    for fmt in CANDIDATES:
        assert fmt.label in error.reason


def test_the_app_reads_two_digit_years_and_offers_them_when_ambiguous(
    org_a: Organization, client: Client
) -> None:
    client.force_login(User.objects.get(email="owner@acme.test"))
    body = "name,source,created\nAnn,Referral,31-01-17\nBob,Referral,03-11-16\n"
    file = SimpleUploadedFile("short.csv", body.encode(), content_type="text/csv")
    url = client.post("/o/acme/import/", {"file": file, "kind": "leads", "preset": "plain"})[
        "Location"
    ]
    page = client.get(url).content.decode()
    # the date format select offers the two-digit forms (for a column read two ways)
    assert '<option value="DD-MM-YY"' in page and '<option value="MM/DD/YY"' in page
    response = client.post(url, form_data(page, action="import", date_format=""))
    assert response.status_code == 302
    touches = dict(Lead.objects.for_org(org_a).values_list("name", "first_touch_at"))
    assert touches == {
        "Ann": datetime(2017, 1, 31, tzinfo=ZONE),
        "Bob": datetime(2016, 11, 3, tzinfo=ZONE),
    }
    # an ambiguous column: the page says so and the choice of format decides
    body = "name,source,created\nCid,Referral,03/04/05\n"
    file = SimpleUploadedFile("amb.csv", body.encode(), content_type="text/csv")
    url = client.post("/o/acme/import/", {"file": file, "kind": "leads", "preset": "plain"})[
        "Location"
    ]
    page = client.get(url).content.decode()
    assert "ambiguous" in page
    client.post(url, form_data(page, action="import", date_format="YY/MM/DD"))
    cid = Lead.objects.for_org(org_a).get(name="Cid")
    assert cid.first_touch_at == datetime(2003, 4, 5, tzinfo=ZONE)
