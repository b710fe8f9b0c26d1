"""The writers: formula escaping for text, numbers left as numbers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from openpyxl import load_workbook

from keepscore.exports.writers import Table, csv_chunks, escape_formula, jsonl_chunks, xlsx_write

ROW = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", Decimal("-5"), -5, None, True]
HEAD = [f"c{i}" for i in range(len(ROW))]


def test_escape_formula():
    assert escape_formula("=1+1") == "'=1+1"
    assert escape_formula("a=b") == "a=b"
    assert escape_formula("") == ""


def test_csv_escapes_text_but_not_numbers():
    text = "".join(csv_chunks(Table("t", HEAD, [ROW])))
    head, row = list(csv.reader(io.StringIO(text)))
    assert head == HEAD
    escaped = ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "plain"]
    assert row == [*escaped, "-5", "-5", "", "true"]  # numbers are not escaped


def test_xlsx_escapes_text_and_keeps_numbers_numeric():
    out = io.BytesIO()
    assert xlsx_write(Table("t", HEAD, [ROW]), out) == 1
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    values = [c.value for c in next(sheet.iter_rows(min_row=2))]
    assert values[:4] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)"]
    assert values[7] == -5 and values[8] == -5
    assert all(c.data_type == "n" for c in next(sheet.iter_rows(min_row=2))[7:9])
    assert values[10] is True


def test_jsonl_is_not_escaped():
    (line,) = list(jsonl_chunks(Table("t", HEAD, [ROW])))
    record = json.loads(line)
    assert record["c0"] == "=1+1"
    assert record["c7"] == -5 and record["c9"] is None
