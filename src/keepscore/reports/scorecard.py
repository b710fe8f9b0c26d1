"""A month's scorecard as files: CSV (raw numbers), XLSX (a formatted sheet) and PDF (A4).

Given a ``keepscore.scorecard.types.Scorecard`` (computed elsewhere), these only lay it out.
Text that a spreadsheet would run as a formula is escaped as ``keepscore.exports.writers``
does; numbers stay numbers. Numbers shown as text go through ``charts.format_value``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from keepscore.common.money import money_override, xlsx_number_format
from keepscore.exports.writers import csv_cell, escape_formula
from keepscore.reports.charts import NO_VALUE, format_value, sparkline
from keepscore.reports.pdf import render_pdf
from keepscore.reports.presenter import (
    PROJECTION_RULE,
    RowText,
    compared_with,
    month_to_date,
    projection_short,
    row_text,
)
from keepscore.scorecard.pace import PACE_LABELS
from keepscore.scorecard.types import MetricRow, ReviewEntry, Scorecard

CSV_HEADER = [
    "group",
    "key",
    "name",
    "unit",
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
    "pace",
    "k",
    "n",
    "ci_low",
    "ci_high",
    "enough",
    "recorded",
    "previous_same_days",
    "same_month_last_year_same_days",
    "run_rate",
    "months_left",
]
GROUP_LABEL = {"SUSPECT": "Suspect", "PROSPECT": "Prospect", "LEAD": "Lead", "CUSTOMER": "Customer"}

# Excel number formats per unit (percent values are fractions: 0.56 shows as 56.0%).
XLSX_FORMAT = {
    "count": "#,##0",
    "money": "#,##0.00",
    "percent": "0.0%",
    "days": '0.0 "d"',
    "number": "#,##0.00",
}
XLSX_CHANGE_FORMAT = {
    "count": "+#,##0;-#,##0;0",
    "money": "+#,##0.00;-#,##0.00;0.00",
    "percent": '+0.0" pp";-0.0" pp";0.0" pp"',
    "days": '+0.0 "d";-0.0 "d";0.0 "d"',
    "number": "+#,##0.00;-#,##0.00;0.00",
}


def month_label(month: date) -> str:
    """``March 2025``."""
    return dateformat.format(month, "F Y")


def scorecard_filename(scorecard: Scorecard, extension: str) -> str:
    """``acme-scorecard-2025-03.pdf``: a download's file name."""
    return f"{scorecard.slug}-scorecard-{scorecard.month:%Y-%m}.{extension.lstrip('.')}"


def _raw(value: float | None) -> float | int | None:
    """A number as written to a file: whole floats without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _metric_record(row: MetricRow) -> list[Any]:
    rate = row.rate
    return [
        row.group,
        row.key,
        row.name,
        row.unit,
        _raw(row.value),
        _raw(row.previous),
        _raw(row.change),
        _raw(row.same_month_last_year),
        _raw(row.target),
        _raw(row.ytd),
        _raw(row.goal),
        _raw(row.projected_year_end),
        _raw(row.projected_low),
        _raw(row.projected_high),
        row.pace,
        rate.k if rate else None,
        rate.n if rate else None,
        _raw(rate.ci_low) if rate else None,
        _raw(rate.ci_high) if rate else None,
        row.enough,
        row.recorded,
        _raw(row.previous_same_days),
        _raw(row.last_year_same_days),
        _raw(row.projection.run_rate) if row.projection else None,
        _raw(row.projection.months_left) if row.projection else None,
    ]


def _ordered_rows(scorecard: Scorecard) -> list[MetricRow]:
    return [row for _, rows in scorecard.grouped() for row in rows]


# ---------------------------------------------------------------- CSV


def scorecard_csv(scorecard: Scorecard) -> str:
    """One line per metric (in group order), raw numbers; text escaped against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in _ordered_rows(scorecard):
        writer.writerow([csv_cell(v) for v in _metric_record(row)])
    return out.getvalue()


# ---------------------------------------------------------------- XLSX


def _xlsx_text(value: object) -> str:
    return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _local(moment: datetime) -> datetime:
    """A naive local time for a spreadsheet (Excel has no time zones)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.replace(tzinfo=None)


XLSX_COLUMNS: list[tuple[str, int]] = [
    ("Metric", 34),
    ("Key", 18),
    ("Unit", 9),
    ("This month", 13),
    ("Last month", 13),
    ("Change", 12),
    ("Same month last year", 13),
    ("Target", 12),
    ("Year to date", 13),
    ("Annual goal", 13),
    ("Pace", 10),
    ("Projected year end", 13),
    ("Projected low", 13),
    ("Projected high", 13),
    ("k", 8),
    ("n", 8),
    ("95% CI low", 10),
    ("95% CI high", 10),
    ("Group", 11),
]
HEADER_ROW = 6


def scorecard_xlsx(scorecard: Scorecard) -> bytes:
    """A workbook: the grouped scorecard (with number formats per unit), then the review."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Scorecard"
    bold = Font(bold=True)
    sheet["A1"] = "Sales & marketing scorecard"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"], sheet["B2"] = "Organization", _xlsx_text(scorecard.organization)
    sheet["A3"], sheet["B3"] = "Month", scorecard.month
    sheet["B3"].number_format = "mmmm yyyy"
    sheet["B3"].alignment = Alignment(horizontal="left")
    generated = scorecard.generated_at or timezone.now()
    sheet["A4"], sheet["B4"] = "Generated", _local(generated)
    sheet["B4"].number_format = "yyyy-mm-dd hh:mm"
    sheet["B4"].alignment = Alignment(horizontal="left")
    for cell in ("A2", "A3", "A4"):
        sheet[cell].font = bold

    rule = Side(style="thin", color="98A2B3")
    for col, (title, width) in enumerate(XLSX_COLUMNS, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=col, value=title)
        cell.font = bold
        cell.border = Border(bottom=rule)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)

    fill = PatternFill("solid", fgColor="EEF1F5")
    # money cells stay numbers, shown in the organization's currency
    money_cells = xlsx_number_format(scorecard.money)
    money_changes = xlsx_number_format(scorecard.money, signed=True)
    r = HEADER_ROW + 1
    for group, rows in scorecard.grouped():
        if not rows:
            continue
        for col in range(1, len(XLSX_COLUMNS) + 1):
            sheet.cell(row=r, column=col).fill = fill
        sheet.cell(row=r, column=1, value=GROUP_LABEL.get(group, group).upper()).font = bold
        r += 1
        for row in rows:
            rate = row.rate
            values: list[Any] = [
                _xlsx_text(row.name),
                _xlsx_text(row.key),
                row.unit,
                row.value,
                row.previous,
                row.change,
                row.same_month_last_year,
                row.target,
                row.ytd,
                row.goal,
                PACE_LABELS.get(row.pace, row.pace) if row.pace else None,
                row.projected_year_end,
                row.projected_low,
                row.projected_high,
                rate.k if rate else None,
                rate.n if rate else None,
                rate.ci_low if rate else None,
                rate.ci_high if rate else None,
                group,
            ]
            unit_format = (
                money_cells if row.unit == "money" else XLSX_FORMAT.get(row.unit, "General")
            )
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=col, value=value)
                if col in (4, 5, 7, 8, 9, 10, 12, 13, 14):
                    cell.number_format = unit_format
                elif col == 6:
                    cell.number_format = (
                        money_changes
                        if row.unit == "money"
                        else XLSX_CHANGE_FORMAT.get(row.unit, "General")
                    )
                elif col in (15, 16):
                    cell.number_format = "#,##0"
                elif col in (17, 18):
                    cell.number_format = "0.0%"
            sheet.cell(row=r, column=4).font = bold
            if rate is not None and not rate.enough:
                sheet.cell(row=r, column=4).font = Font(bold=True, color="98A2B3")
            r += 1
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    review = book.create_sheet("Review")
    review.append(
        ["Monthly review", _xlsx_text(scorecard.organization), month_label(scorecard.month)]
    )
    review["A1"].font = Font(bold=True, size=14)
    review.append([])
    review.append(["Kind", "Note or decision", "By", "When"])
    for cell in review[3]:
        cell.font = bold
        cell.border = Border(bottom=rule)
    for entry in scorecard.reviews:
        review.append([entry.kind, _xlsx_text(entry.text), _xlsx_text(entry.by), _local(entry.at)])
        review.cell(row=review.max_row, column=4).number_format = "yyyy-mm-dd hh:mm"
        review.cell(row=review.max_row, column=2).alignment = Alignment(
            wrap_text=True, vertical="top"
        )
    if not scorecard.reviews:
        review.append(["", "No notes or decisions recorded for this month."])
    for letter, width in zip("ABCD", (10, 80, 24, 17), strict=True):
        review.column_dimensions[letter].width = width

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- PDF


@dataclass
class Cell:
    text: str
    sub: str = ""
    css: str = ""


@dataclass
class PdfRow:
    name: str
    manual: bool
    value: Cell
    previous: Cell
    change: Cell
    target: Cell
    ytd: Cell
    goal: Cell
    pace: Cell
    spark: SafeString


def _cell(value: float | None, unit: str) -> Cell:
    return Cell(format_value(value, unit), css="none" if value is None else "")


def _trend_labels(month: date, count: int) -> list[str]:
    labels = []
    for back in range(count - 1, -1, -1):
        index = month.year * 12 + month.month - 1 - back
        labels.append(dateformat.format(date(index // 12, index % 12 + 1, 1), "M Y"))
    return labels


def _value_cell(text: RowText) -> Cell:
    cell = Cell(text.value, css=text.state)
    cell.sub = " · ".join(part for part in (text.counts, text.interval) if part)
    return cell


def _change_cell(text: RowText) -> Cell:
    if not text.change:
        return Cell(NO_VALUE, css="none")
    return Cell(f"{text.arrow} {text.change}".strip(), css=text.tone)


def _pace_cell(row: MetricRow, text: RowText) -> Cell:
    if row.pace is None:
        return Cell(NO_VALUE, css="none")
    return Cell(text.pace, sub=projection_short(row), css=f"pace-{row.pace}")


def _pdf_row(row: MetricRow, labels: Sequence[str]) -> PdfRow:
    trend = list(row.trend)
    names = labels[-len(trend) :] if trend else []
    text = row_text(row)
    return PdfRow(
        name=row.name,
        manual=row.manual,
        value=_value_cell(text),
        previous=_cell(row.previous, row.unit),
        change=_change_cell(text),
        target=_cell(row.target, row.unit),
        ytd=_cell(row.ytd, row.unit),
        goal=_cell(row.goal, row.unit),
        pace=_pace_cell(row, text),
        spark=sparkline(
            trend, unit=row.unit, labels=names, title=f"{row.name}, last 12 months", hover=False
        ),
    )


def _review_context(entry: ReviewEntry) -> dict[str, Any]:
    at = timezone.localtime(entry.at) if timezone.is_aware(entry.at) else entry.at
    return {"kind": entry.kind, "text": entry.text, "by": entry.by, "at": at}


def scorecard_context(
    scorecard: Scorecard, charts: Mapping[str, str] | None = None, plan: str = ""
) -> dict[str, Any]:
    """What ``reports/scorecard_pdf.html`` shows (numbers already formatted; money in the
    scorecard's organization's currency)."""
    if scorecard.money is not None:
        with money_override(scorecard.money):
            return _scorecard_context(scorecard, charts, plan)
    return _scorecard_context(scorecard, charts, plan)


def _scorecard_context(
    scorecard: Scorecard, charts: Mapping[str, str] | None, plan: str
) -> dict[str, Any]:
    labels = _trend_labels(scorecard.month, 12)
    groups = [
        {
            "key": group,
            "label": GROUP_LABEL.get(group, group),
            "rows": [_pdf_row(row, labels) for row in rows],
        }
        for group, rows in scorecard.grouped()
        if rows
    ]
    # Chart markup is trusted: it comes from keepscore.reports.charts (which escapes labels).
    figures = [{"title": t, "svg": mark_safe(svg)} for t, svg in (charts or {}).items()]
    reviews = sorted(scorecard.reviews, key=lambda e: (e.kind != "decision", e.at))
    return {
        "scorecard": scorecard,
        "organization": scorecard.organization,
        "period": month_label(scorecard.month),
        "month_to_date": month_to_date(scorecard),
        "projection_rule": PROJECTION_RULE
        if any(row.projected_year_end is not None for row in scorecard.rows)
        else "",
        "compared_with": compared_with(scorecard),
        "generated_at": scorecard.generated_at or timezone.now(),
        "groups": groups,
        "plan": plan,
        "charts": figures,
        "decisions": [_review_context(e) for e in reviews if e.kind == "decision"],
        "notes": [_review_context(e) for e in reviews if e.kind != "decision"],
    }


def scorecard_pdf(
    scorecard: Scorecard, charts: Mapping[str, str] | None = None, plan: str = ""
) -> bytes:
    """An A4 report to hand around the table: the grouped scorecard, charts, the review.

    ``charts`` maps a title to SVG markup made by ``keepscore.reports.charts`` (e.g. the
    funnel and conversion by channel); they follow the tables, in the order given. ``plan``
    is the month read against the year's plan (``keepscore.plan.check``), shown above them.
    """
    return render_pdf("reports/scorecard_pdf.html", scorecard_context(scorecard, charts, plan))
