"""Streaming readers for CSV (any of , ; tab; UTF-8, UTF-8 with BOM, Windows-1252, or an
encoding the import is told) and XLSX.

A :class:`Table` is opened once (header, encoding, delimiter detected) and can be read row by
row as many times as the import needs (one pass to check, one to write): rows are never all
in memory. Line numbers are 1-based and count the header as line 1.

A file that cannot be read stops with :class:`FileProblem`, one line that says what is wrong
and what to do: its likely encoding (see :mod:`keepscore.imports.charsets`), a damaged or
empty workbook, or an XLSX past the limits below.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from django.conf import settings

from keepscore.imports.charsets import (
    CP1252_ERRORS,
    Guess,
    encoding_guess,
    encoding_name,
    encoding_problem,
    evidence_of,
    utf8_first_bad_line,
)

log = logging.getLogger(__name__)

#: the longest field accepted, in characters (longer is an error for that line and column)
MAX_FIELD = 100_000
#: the csv module refuses fields longer than this outright (the line is reported)
_CSV_HARD_LIMIT = 32 * 1024 * 1024
_SAMPLE = 256 * 1024
_DELIMITERS = (",", ";", "\t")

#: an XLSX sheet is read up to this row (settings ``IMPORTS_XLSX_MAX_ROWS``)
XLSX_MAX_ROWS = 1_000_000
#: … and this column (``IMPORTS_XLSX_MAX_COLUMNS``; 500 is column SF)
XLSX_MAX_COLUMNS = 500
#: the most XML an XLSX may unpack to, sheets and shared strings together
#: (``IMPORTS_XLSX_MAX_UNPACKED``): about 400,000 rows of 10 columns
XLSX_MAX_UNPACKED = 256 * 1024 * 1024
#: the most cells of an XLSX's used range the import reads (``IMPORTS_XLSX_MAX_CELLS``): each
#: row counts up to its last filled column (1,000,000 rows of 20 columns)
XLSX_MAX_CELLS = 20_000_000
#: the most parts (files in the zip) an XLSX may have
XLSX_MAX_PARTS = 10_000
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


class FileProblem(Exception):
    """The file cannot be imported at all (encoding, empty, no header, …)."""


class OverTimeBudget(FileProblem):
    """A web import that ran past its time budget (``IMPORTS_MAX_SECONDS``)."""


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
    #: the import lets the encoding be chosen (its messages say how)
    offers_encoding: bool = False
    #: the file's name as the person knows it (an upload is stored under another)
    name: str = ""

    @property
    def shown_name(self) -> str:
        return self.name or self.path.name

    def describe(self) -> str:
        if self.kind == "xlsx":
            return "XLSX"
        names = {",": "comma", ";": "semicolon", "\t": "tab"}
        return f"CSV, {self.encoding}, {names.get(self.delimiter, repr(self.delimiter))}"

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, values)`` for every data row (blank lines skipped)."""
        if self.kind == "xlsx":
            return _xlsx_rows(self.path, self.shown_name)
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


def table_open(
    path: Path, *, encoding: str = "", offers_encoding: bool = False, name: str = ""
) -> Table:
    """Open ``path`` and read its header; raises :class:`FileProblem` when it cannot.

    ``encoding``: the CSV's, as the person importing chose it (else detected).
    ``offers_encoding``: the import lets them choose one, so its messages say how.
    ``name``: the file's name in the messages (default: the path's).
    """
    name = name or path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as raw:
            sample = raw.read(_SAMPLE)
    except OSError as error:
        raise FileProblem(f"cannot read {name}: {error.strerror or error}") from None
    if not sample.strip():
        raise FileProblem(f"{name} is empty")
    if sample.startswith(_OLE2):
        raise FileProblem(
            f"{name} is an old Excel (.xls) or other Office binary file: save it as "
            "XLSX or as CSV UTF-8 and import it again"
        )
    if sample.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        header = _xlsx_header(path, name)
        return Table(path=path, kind="xlsx", header=header, size=size, name=name)
    if encoding:
        try:
            encoding = encoding_name(encoding)
        except ValueError as error:
            raise FileProblem(str(error)) from None
    else:
        encoding = _encoding_detect(path, sample, offers_encoding, name)
    text = _decode_sample(sample, encoding, complete=len(sample) == size)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=lambda d: _count_outside_quotes(first, d))
    table = Table(
        path=path,
        kind="csv",
        header=[],
        encoding=encoding,
        delimiter=delimiter,
        size=size,
        offers_encoding=offers_encoding,
        name=name,
    )
    for _line, values in table.rows():
        table.header = [v.strip() for v in values]
        break
    if not any(table.header):
        raise FileProblem(f"{name} has no header line")
    return table


def _encoding_detect(path: Path, sample: bytes, offers_encoding: bool, name: str) -> str:
    """UTF-8 when the whole file is; Windows-1252 when it reads the non-ASCII lines as well
    as any encoding does; else :class:`FileProblem` naming the likely encoding."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
            sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
        )
        if not utf16:
            raise FileProblem(
                f"{name} is not a text file (it has NUL bytes): export the data as CSV "
                "UTF-8 or XLSX and import that"
            )
        how = (
            "choose the encoding utf-16 for the import (--encoding on the command line, "
            "“Text encoding” on the import page), or save"
            if offers_encoding
            else "save"
        )
        raise FileProblem(
            f"{name} is not a text CSV in UTF-8 or Windows-1252 (it looks like UTF-16): "
            f"{how} the file as CSV UTF-8 and import it again"
        )
    bad_line = utf8_first_bad_line(path)
    if bad_line is None:
        return "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
    evidence = evidence_of(path)
    guess = encoding_guess(evidence.text)
    if guess.cp1252_fits and not evidence.mostly_utf8:
        return "cp1252"
    raise FileProblem(
        encoding_problem(
            file=name,
            line=bad_line,
            guess=guess,
            evidence=evidence,
            offers_choice=offers_encoding,
        )
    )


def _errors_of(encoding: str) -> str:
    return CP1252_ERRORS if encoding == "cp1252" else "strict"


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
    errors = _errors_of(encoding)
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
            except UnicodeError:
                # the encoding was chosen (or the file changed since it was checked)
                raise FileProblem(_decoding_problem(table, line)) from None
            except csv.Error as error:
                raise FileProblem(f"{table.shown_name}, line {line}: {error}") from None
    finally:
        csv.field_size_limit(limit)


def _decoding_problem(table: Table, line: int) -> str:
    """The text past ``line`` cannot be read in the table's encoding: which one it likely is."""
    try:
        guess = encoding_guess(evidence_of(table.path).text)
    except OSError:
        guess = Guess(likely=(), cp1252_fits=False)
    bad = utf8_first_bad_line(table.path) if table.encoding.startswith("utf-8") else None
    return encoding_problem(
        file=table.shown_name,
        line=bad or line,
        guess=guess,
        tried=table.encoding,
        offers_choice=table.offers_encoding,
    )


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


def _column_letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(n))


def _xlsx_damaged(name: str, error: BaseException, row: int = 0) -> FileProblem:
    """A clear line for whatever openpyxl, zipfile or the XML parser raised."""
    if isinstance(error, FileProblem):
        return error
    log.info("unreadable XLSX %s: %r", name, error)
    if isinstance(error, zipfile.BadZipFile | zlib.error | EOFError):
        what = "the file is damaged or incomplete"
    elif isinstance(error, ParseError | SyntaxError):
        what = "its XML is damaged"
    elif isinstance(error, KeyError):
        what = "a part of the workbook is missing"
    elif isinstance(error, MemoryError):
        what = "it is too big to read"
    else:
        what = "it is damaged"
    where = f" at row {row:,} of its first sheet" if row else ""
    return FileProblem(
        f"{name} is not a readable XLSX file ({what}{where}): open it in Excel or "
        "LibreOffice and save it again, or save it as CSV UTF-8"
    )


def _xlsx_budget(path: Path, name: str) -> None:
    """Refuse a workbook that would unpack to more than the import reads (a zip bomb, or a
    sheet too big to import in a reasonable time), from the zip's list alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except Exception as error:
        raise _xlsx_damaged(name, error) from None
    if len(parts) > XLSX_MAX_PARTS:
        raise FileProblem(
            f"{name} has {len(parts):,} parts; an XLSX the import reads has at most "
            f"{XLSX_MAX_PARTS:,}: save it again, or save it as CSV UTF-8"
        )
    budget = _limit("IMPORTS_XLSX_MAX_UNPACKED", XLSX_MAX_UNPACKED)
    unpacked = sum(p.file_size for p in parts if p.filename.lower().endswith((".xml", ".rels")))
    if unpacked > budget:
        raise FileProblem(
            f"{name} unpacks to {unpacked / 2**20:,.0f} MB of XML; the import reads "
            f"XLSX files of at most {budget / 2**20:,.0f} MB unpacked (about "
            f"{budget // 650:,} rows of 10 columns): save it as CSV UTF-8, or split it"
        )


def _xlsx_workbook(path: Path, name: str) -> Any:
    from openpyxl import load_workbook

    _xlsx_budget(path, name)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise _xlsx_damaged(name, error) from None
    if not workbook.worksheets:
        workbook.close()
        raise FileProblem(
            f"{name} has no worksheet (only charts, or none): put the data on the first "
            "sheet, or save it as CSV UTF-8"
        )
    return workbook


def _xlsx_cells(path: Path, name: str) -> Iterator[tuple[int, list[str]]]:
    """``(row, values)`` of the first sheet's non-empty rows, within the limits.

    The sheet's cells are read as they are in the file: its declared size (which may say
    A1:XFD1048576) is ignored, so no row is padded to columns nobody filled, and the rows
    between two filled ones cost next to nothing. A cell past the limits stops the read.
    """
    max_rows = _limit("IMPORTS_XLSX_MAX_ROWS", XLSX_MAX_ROWS)
    max_columns = _limit("IMPORTS_XLSX_MAX_COLUMNS", XLSX_MAX_COLUMNS)
    max_cells = _limit("IMPORTS_XLSX_MAX_CELLS", XLSX_MAX_CELLS)
    cells_read = 0
    workbook = _xlsx_workbook(path, name)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        line = 0
        while True:
            try:
                values = next(rows, None)
            except Exception as error:
                raise _xlsx_damaged(name, error, line + 1) from None
            if values is None:
                return
            line += 1
            if line > max_rows:
                raise FileProblem(
                    f"{name}: the sheet “{sheet.title}” has cells below row "
                    f"{max_rows:,}, and the import reads at most {max_rows:,} rows of an "
                    "XLSX: delete the rows below the data, or save it as CSV UTF-8"
                )
            if not values:
                continue
            if len(values) > max_columns:
                raise FileProblem(
                    f"{name}: the sheet “{sheet.title}” has cells at row {line:,} up to "
                    f"column {_column_letter(len(values))}, and the import reads "
                    f"at most {max_columns:,} columns of an XLSX (up to column "
                    f"{_column_letter(max_columns)}): delete the columns after the data, or "
                    "save it as CSV UTF-8"
                )
            cells_read += len(values)
            if cells_read > max_cells:
                raise FileProblem(
                    f"{name}: the sheet “{sheet.title}” has more than {max_cells:,} cells up "
                    f"to row {line:,} (each row counted to its last filled column), and the "
                    f"import reads at most {max_cells:,} cells of an XLSX: delete the rows "
                    "and columns around the data, split the sheet, or save it as CSV UTF-8"
                )
            cells = [_cell(v) for v in values]
            if any(cells):
                yield line, cells
    finally:
        workbook.close()


def _xlsx_header(path: Path, name: str) -> list[str]:
    for _line, cells in _xlsx_cells(path, name):
        header = [c.strip() for c in cells]
        if any(header):
            while header and not header[-1]:
                header.pop()
            return header
    raise FileProblem(f"{name} is empty")


def _xlsx_rows(path: Path, name: str) -> Iterator[tuple[int, list[str]]]:
    cells = _xlsx_cells(path, name)
    next(cells, None)  # the header
    yield from cells


def rows_with_retry(table: Table, consume: Callable[[Iterator[tuple[int, list[str]]]], Any]) -> Any:
    """Run ``consume`` over the table's data rows (the encoding is settled when the table is
    opened, from the whole file, so one pass is always enough)."""
    return consume(_data_rows(table))


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
