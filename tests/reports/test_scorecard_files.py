"""A month's scorecard as CSV and XLSX: the same numbers back, formulas made inert."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from keepscore.reports.scorecard import (
    CSV_HEADER,
    HEADER_ROW,
    XLSX_COLUMNS,
    month_label,
    scorecard_csv,
    scorecard_filename,
    scorecard_xlsx,
)
from keepscore.scorecard.types import MetricRow, Scorecard

from .samples import EVIL, build_scorecard

NUMERIC = [
    "value",
    "previous",
    "change",
    "same_month_last_year",
    "target",
    "ytd",
    "goal",
    "projected_year_end",
    "projected_low",
    "projected_high",
]


def number(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.fixture
def card() -> Scorecard:
    return build_scorecard()


def rows_by_key(card: Scorecard) -> dict[str, MetricRow]:
    return {r.key: r for r in card.rows}


def test_names() -> None:
    card = build_scorecard()
    assert month_label(card.month) == "March 2025"
    assert scorecard_filename(card, "pdf") == "acme-scorecard-2025-03.pdf"


def test_csv_parses_back_to_the_same_numbers(card: Scorecard) -> None:
    text = scorecard_csv(card)
    records = list(csv.DictReader(io.StringIO(text)))
    assert list(records[0].keys()) == CSV_HEADER
    assert len(records) == len(card.rows)
    # in group order: SUSPECT, PROSPECT, LEAD, CUSTOMER
    groups = [r["group"] for r in records]
    assert groups == sorted(groups, key=["SUSPECT", "PROSPECT", "LEAD", "CUSTOMER"].index)
    source = rows_by_key(card)
    for record in records:
        row = source[record["key"]]
        assert record["name"] == (row.name if record["key"] != "evil" else "'" + EVIL)
        assert record["unit"] == row.unit
        for column in NUMERIC:
            assert number(record[column]) == pytest.approx(getattr(row, column)), column
        assert record["pace"] == (row.pace or "")
        if row.rate is not None:
            assert int(record["k"]) == row.rate.k and int(record["n"]) == row.rate.n
            assert float(record["ci_low"]) == pytest.approx(row.rate.ci_low)
            assert float(record["ci_high"]) == pytest.approx(row.rate.ci_high)
        else:
            assert record["k"] == record["n"] == record["ci_low"] == record["ci_high"] == ""


def test_csv_raw_numbers_and_escaping(card: Scorecard) -> None:
    records = {r["key"]: r for r in csv.DictReader(io.StringIO(scorecard_csv(card)))}
    assert records["revenue"]["value"] == "118400"  # raw, no separators or currency
    assert records["revenue"]["previous"] == "102250.5"
    assert records["cost_per_lead"]["change"] == "-4.75"  # a negative number is not escaped
    assert records["lead_to_qualified"]["value"] == "0.56"  # a fraction, not "56%"
    assert records["evil"]["name"].startswith("'=cmd|")
    assert records["evil"]["value"] == ""


def test_csv_of_an_empty_scorecard() -> None:
    card = Scorecard(organization="Empty", slug="empty", month=build_scorecard().month, rows=())
    assert scorecard_csv(card).strip() == ",".join(CSV_HEADER)


def test_xlsx_values_formats_and_review(card: Scorecard) -> None:
    book = load_workbook(io.BytesIO(scorecard_xlsx(card)))
    assert book.sheetnames == ["Scorecard", "Review"]
    sheet = book["Scorecard"]
    assert sheet["B2"].value == card.organization
    assert isinstance(sheet["B3"].value, datetime)
    assert sheet["B3"].value.date() == card.month
    assert sheet["B3"].number_format == "mmmm yyyy"
    header = [c.value for c in sheet[HEADER_ROW]]
    assert header == [title for title, _ in XLSX_COLUMNS]
    col = {title: i for i, title in enumerate(header)}

    found: dict[str, tuple] = {}
    group_rows = []
    for cells in sheet.iter_rows(min_row=HEADER_ROW + 1):
        if cells[col["Key"]].value is None:
            group_rows.append(cells[0].value)
            continue
        found[cells[col["Key"]].value] = cells
    assert group_rows == ["SUSPECT", "PROSPECT", "LEAD", "CUSTOMER"]
    assert "'evil" not in found and "evil" in found

    source = rows_by_key(card)
    for key, cells in found.items():
        row = source[key]
        assert cells[col["This month"]].value == row.value
        assert cells[col["Last month"]].value == row.previous
        assert cells[col["Change"]].value == pytest.approx(row.change)
        assert cells[col["Annual goal"]].value == row.goal
        assert cells[col["Group"]].value == row.group

    # a sample made without an organization: the default currency (EUR, en_IE)
    assert found["revenue"][col["This month"]].number_format == '"€"#,##0.00;-"€"#,##0.00'
    assert found["revenue"][col["Change"]].number_format.startswith('+"€"#,##0.00;')
    assert found["new_leads"][col["This month"]].number_format == "#,##0"
    assert found["lead_to_qualified"][col["This month"]].number_format == "0.0%"
    assert found["lead_to_qualified"][col["Change"]].number_format.startswith("+0.0")
    assert found["sales_cycle"][col["Year to date"]].number_format == '0.0 "d"'
    assert found["lead_to_qualified"][col["k"]].value == 28
    assert found["lead_to_qualified"][col["95% CI high"]].value == pytest.approx(0.6886)
    assert found["new_customers"][col["Pace"]].value == "Behind"
    assert found["evil"][col["Metric"]].value == "'" + EVIL

    review = book["Review"]
    lines = [[c.value for c in r] for r in review.iter_rows(min_row=4)]
    assert [line[0] for line in lines] == ["note", "decision", "note"]
    assert lines[0][1].startswith("Referral leads close twice")
    assert lines[0][2] == "Maria Lopez"
    assert isinstance(lines[0][3], datetime)
    assert lines[2][1] == "'" + EVIL
    assert lines[2][2].startswith("'=HYPERLINK")
