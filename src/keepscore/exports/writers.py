"""Streaming writers for tables: CSV, XLSX and JSON lines.

A table is a header and a lazy iterator of rows; the writers never hold more than one row.
Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) get a leading ``'`` in CSV and XLSX; numbers stay numbers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    """A named table: its header, and its rows computed as they are read."""

    name: str
    header: list[str]
    rows: Iterable[Sequence[Any]]
    #: the columns holding amounts of money: an XLSX shows them in the organization's currency
    money: tuple[str, ...] = ()


def escape_formula(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading quote."""
    return "'" + text if text.startswith(FORMULA_START) else text


def escape_reversible(text: str) -> str:
    """:func:`escape_formula`, and a quote before text that starts with one, so that taking
    one leading quote away (:func:`unescape`) gives back every text exactly (``export all``)."""
    return "'" + text if text.startswith(FORMULA_START) or text.startswith("'") else text


def unescape(text: str) -> str:
    """The text :func:`escape_reversible` was given."""
    return text[1:] if text.startswith("'") else text


def _when(value: date | time) -> str:
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.isoformat()


def csv_cell(value: Any, escape: Callable[[str], str] = escape_formula) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)  # a number, never escaped: -5 is minus five
    if isinstance(value, date | time):
        return _when(value)
    return escape(str(value))


class _Line:
    """A file-like object whose ``write`` returns what was written (for csv.writer)."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(
    table: Table, *, header: bool = True, escape: Callable[[str], str] = escape_formula
) -> Iterator[str]:
    """The table as CSV text, one line at a time (for a streaming response or a file)."""
    writer = csv.writer(_Line())
    if header:
        yield writer.writerow(table.header)
    for row in table.rows:
        yield writer.writerow([csv_cell(v, escape) for v in row])


def csv_write(table: Table, out: IO[str], escape: Callable[[str], str] = escape_formula) -> int:
    """Write the table as CSV to a text file opened with ``newline=""``; returns the rows."""
    lines = csv_chunks(table, escape=escape)
    out.write(next(lines))  # the header
    count = 0
    for line in lines:
        out.write(line)
        count += 1
    return count


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return _when(value)
    return value


def jsonl_chunks(table: Table) -> Iterator[str]:
    """The table as JSON lines: one object per row, keyed by the header. Not escaped."""
    for row in table.rows:
        record = {k: _json_value(v) for k, v in zip(table.header, row, strict=True)}
        yield json.dumps(record, ensure_ascii=False) + "\n"


def _xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, date):
        return _when(value)  # Excel has no time zones: ISO 8601 text with its offset
    return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def xlsx_write(table: Table, out: IO[bytes], money_format: str = "") -> int:
    """Write the table as one sheet of a write-only workbook; returns the rows written.

    The table's money columns get ``money_format`` (``keepscore.common.money.
    xlsx_number_format``: the cell stays a number, Excel shows it with the currency)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name[:31])
    sheet.append(table.header)
    money = {i for i, name in enumerate(table.header) if name in table.money}
    count = 0
    for row in table.rows:
        values = [_xlsx_cell(v) for v in row]
        if money and money_format:
            for i in money:
                if isinstance(values[i], int | float | Decimal):
                    cell = WriteOnlyCell(sheet, value=values[i])
                    cell.number_format = money_format
                    values[i] = cell
        sheet.append(values)
        count += 1
    book.save(out)
    return count
