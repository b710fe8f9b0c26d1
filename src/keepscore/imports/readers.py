"""Streaming readers for CSV (any of , ; tab; UTF-8, UTF-8 with BOM, Windows-1252) and XLSX.

A :class:`Table` is opened once (header, encoding, delimiter detected) and can be read row by
row as many times as the import needs (one pass to check, one to write): rows are never all
in memory. Line numbers are 1-based and count the header as line 1.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

#: the longest field accepted, in characters (longer is an error for that line and column)
MAX_FIELD = 100_000
#: the csv module refuses fields longer than this outright (the line is reported)
_CSV_HARD_LIMIT = 32 * 1024 * 1024
_SAMPLE = 256 * 1024
_DELIMITERS = (",", ";", "\t")


class FileProblem(Exception):
    """The file cannot be imported at all (encoding, empty, no header, …)."""


@dataclass
class Table:
    path: Path
    kind: str  # "csv" or "xlsx"
    header: list[str]
    encoding: str = ""
    delimiter: str = ","
    size: int = 0
    #: bytes read so far by the current pass (for progress)
    position: list[int] = field(default_factory=lambda: [0])

    def describe(self) -> str:
        if self.kind == "xlsx":
            return "XLSX"
        names = {",": "comma", ";": "semicolon", "\t": "tab"}
        return f"CSV, {self.encoding}, {names.get(self.delimiter, repr(self.delimiter))}"

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, values)`` for every data row (blank lines skipped)."""
        if self.kind == "xlsx":
            return _xlsx_rows(self.path)
        return _csv_rows(self)


def path_of(path_or_file: Any) -> tuple[Path, Path | None]:
    """A path to read, and the temporary copy to remove afterwards (for an uploaded or open
    binary file: copied, streamed, to a file with the same suffix)."""
    import shutil
    import tempfile

    if isinstance(path_or_file, str | Path):
        return Path(path_or_file), None
    name = getattr(path_or_file, "name", "") or "upload.csv"
    suffix = Path(str(name)).suffix.lower() or ".csv"
    copy = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
    with copy:
        if hasattr(path_or_file, "seek"):
            path_or_file.seek(0)
        shutil.copyfileobj(path_or_file, copy)
    return Path(copy.name), Path(copy.name)


def table_open(path: Path) -> Table:
    """Open ``path`` and read its header; raises :class:`FileProblem` when it cannot."""
    try:
        size = path.stat().st_size
        with path.open("rb") as raw:
            sample = raw.read(_SAMPLE)
    except OSError as error:
        raise FileProblem(f"cannot read {path.name}: {error.strerror or error}") from None
    if not sample.strip():
        raise FileProblem(f"{path.name} is empty")
    if sample.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        header = _xlsx_header(path)
        return Table(path=path, kind="xlsx", header=header, size=size)
    encoding = _encoding_detect(sample, path.name)
    text = _decode_sample(sample, encoding, complete=len(sample) == size)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=lambda d: _count_outside_quotes(first, d))
    table = Table(
        path=path, kind="csv", header=[], encoding=encoding, delimiter=delimiter, size=size
    )
    for _line, values in table.rows():
        table.header = [v.strip() for v in values]
        break
    if not any(table.header):
        raise FileProblem(f"{path.name} has no header line")
    return table


def _encoding_detect(sample: bytes, name: str) -> str:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        raise FileProblem(
            f"{name} is not a text CSV in UTF-8 or Windows-1252 (it looks like UTF-16 or a "
            "binary file): save it as 'CSV UTF-8' and import it again"
        )
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _decode_sample(sample: bytes, encoding: str, *, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(sample, final=complete)


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read, for the progress bar."""

    def __init__(self, raw: IO[bytes], position: list[int]) -> None:
        self._raw = raw
        self._position = position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._position[0] += n or 0
        return n or 0


def _csv_rows(table: Table, *, data: bool = False) -> Iterator[tuple[int, list[str]]]:
    """The CSV's rows; ``data``: without the header, formula marks dropped (as _data_rows)."""
    table.position[0] = 0
    encoding = table.encoding
    # Windows-1252 leaves five bytes undefined; Latin-1 reads them (as Excel would show them)
    errors = "strict"
    limit = csv.field_size_limit(_CSV_HARD_LIMIT)
    try:
        with table.path.open("rb") as raw:
            counting = io.BufferedReader(_Counting(raw, table.position), 1024 * 1024)
            text = io.TextIOWrapper(counting, encoding=encoding, errors=errors, newline="")
            reader = csv.reader(text, delimiter=table.delimiter)
            line = 1
            header = data
            unescape = formula_unescape
            try:
                for values in reader:
                    if values and (len(values) > 1 or values[0]):
                        if header:
                            header = False
                        # most rows have no cell starting with ' (one C-level search)
                        elif data and "\x00'" in "\x00" + "\x00".join(values):
                            yield line, [unescape(c) if c[:1] == "'" else c for c in values]
                        else:
                            yield line, values
                    line = reader.line_num + 1
            except UnicodeDecodeError as error:
                if encoding == "utf-8":
                    # the sample was UTF-8 but later bytes are not: read it all as Windows-1252
                    table.encoding = "cp1252"
                    raise EncodingChanged from None
                if encoding == "cp1252":
                    table.encoding = "latin-1"
                    raise EncodingChanged from None
                raise FileProblem(f"line {line}: cannot decode the text ({error.reason})") from None
            except csv.Error as error:
                raise FileProblem(f"line {line}: {error}") from None
    finally:
        csv.field_size_limit(limit)


class EncodingChanged(Exception):
    """The encoding guessed from the start of the file was wrong; read it again."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_workbook(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise FileProblem(f"{path.name} is not a readable XLSX file ({error})") from None


def _xlsx_header(path: Path) -> list[str]:
    workbook = _xlsx_workbook(path)
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            header = [_cell(v).strip() for v in values]
            if any(header):
                while header and not header[-1]:
                    header.pop()
                return header
    finally:
        workbook.close()
    raise FileProblem(f"{path.name} is empty")


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    workbook = _xlsx_workbook(path)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        seen_header = False
        for line, values in enumerate(rows, start=1):
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            if not seen_header:
                seen_header = True
                continue
            yield line, cells
    finally:
        workbook.close()


def rows_with_retry(table: Table, consume: Callable[[Iterator[tuple[int, list[str]]]], Any]) -> Any:
    """Run ``consume`` over the table's rows; start again if the encoding had to change."""
    while True:
        try:
            return consume(_data_rows(table))
        except EncodingChanged:
            continue


#: what a spreadsheet would run as a formula; exports put a ' before such text
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_unescape(cell: str) -> str:
    """Drop the apostrophe that marks "this is text, not a formula" ('=1+1 → =1+1).

    Spreadsheets write it, and so does keepscore's export, so an export → import round trip
    gives back the text as it was.
    """
    if cell[:1] == "'" and cell[1:2] and cell[1] in _FORMULA_START:
        return cell[1:]
    return cell


def _data_rows(table: Table) -> Iterator[tuple[int, list[str]]]:
    if table.kind == "csv":
        return _csv_rows(table, data=True)  # one generator less for the usual case
    return _xlsx_data_rows(table)


def _xlsx_data_rows(table: Table) -> Iterator[tuple[int, list[str]]]:
    for line, cells in table.rows():
        # most rows have no cell starting with ' (one C-level search instead of a loop)
        if "\x00'" in "\x00" + "\x00".join(cells):
            cells = [formula_unescape(c) if c[:1] == "'" else c for c in cells]
        yield line, cells
