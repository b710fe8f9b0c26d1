"""An `export all` archive's files read: its manifest checked, its CSV rows as model fields.

:class:`Reader` opens the zip, checks its manifest (the kind and format of export, the files
every archive holds) and that every file reads whole, and gives each CSV file's rows
(:class:`Row`: cells unescaped, read by the model fields' own rules); whatever is wrong is an
:class:`ArchiveError` naming the file inside the zip, the row and the column.
"""

from __future__ import annotations

import csv
import json
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model

from keepscore.exports.services import FORMAT_VERSION, KIND
from keepscore.exports.writers import unescape

#: the longest cell read (notes can be long; a damaged file must not fill the memory)
MAX_CELL = 10 * 1024 * 1024
MANIFEST = "manifest.json"
#: the files every format-2 archive holds
REQUIRED = (
    "members",
    "channels",
    "lost_reasons",
    "stages",
    "qualification_criteria",
    "leads",
    "stage_changes",
    "outcomes",
    "touches",
    "activities",
    "objections",
    "qualification_answers",
)


class ArchiveError(Exception):
    """What is wrong with the archive, and where: the file inside it, the row, the column."""

    def __init__(
        self, message: str, file: str = "", row: int | None = None, column: str = ""
    ) -> None:
        self.file, self.row, self.column, self.message = file, row, column, message
        where = ", ".join(
            part
            for part in (
                file,
                f"row {row}" if row is not None else "",
                f"column {column}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class Row:
    """One row of a CSV file of the archive: its cells by column, read as model fields."""

    __slots__ = ("file", "number", "values")

    def __init__(self, file: str, number: int, values: dict[str, str]) -> None:
        self.file, self.number, self.values = file, number, values

    def error(self, column: str, message: str) -> ArchiveError:
        return ArchiveError(message, self.file, self.number, column)

    def raw(self, column: str) -> str:
        return self.values.get(column, "")

    def has(self, column: str) -> bool:
        return column in self.values

    def value(self, column: str, model: type[Model], name: str) -> Any:
        """The cell as the model field ``name`` holds it, checked by the field's own rules
        (type, length, choices, validators, empty or not)."""
        text = self.raw(column)
        got = model._meta.get_field(name)
        assert isinstance(got, models.Field)
        model_field: models.Field[Any, Any] = got
        try:
            if text == "" and model_field.null:
                return None
            if isinstance(model_field, models.BooleanField):
                if text not in ("true", "false"):
                    raise ValidationError(f"{text!r} is neither true nor false")
                return text == "true"
            if isinstance(model_field, models.JSONField):
                try:
                    parsed = json.loads(text)
                except ValueError as error:
                    raise ValidationError(f"not JSON ({error})") from None
                model_field.run_validators(parsed)
                return parsed
            cleaned = model_field.clean(text, None)
            if isinstance(model_field, models.DateTimeField) and cleaned.tzinfo is None:
                raise ValidationError(f"{text!r} has no offset from UTC")
            return cleaned
        except ValidationError as error:
            raise self.error(column, " ".join(error.messages)) from None

    def values_of(self, model: type[Model], columns: dict[str, str]) -> dict[str, Any]:
        """Cells of ``columns`` (column: field name) as the model's fields."""
        return {name: self.value(column, model, name) for column, name in columns.items()}

    def integer(self, column: str) -> int:
        text = self.raw(column)
        try:
            return int(text)
        except ValueError:
            raise self.error(column, f"{text!r} is not a whole number") from None

    def optional_integer(self, column: str) -> int | None:
        return self.integer(column) if self.raw(column) else None


class Reader:
    """The archive's files, read row by row (cells unescaped), with their problems named."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = path.name
        if not path.is_file():
            raise ArchiveError(f"{path}: no such file")
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ArchiveError(
                f"{self.label} is not an `export all` archive: not a zip, or a damaged one"
            ) from None
        except OSError as error:
            raise ArchiveError(f"cannot read {path}: {error.strerror or error}") from None
        self.names = set(self.zip.namelist())
        self.manifest = self._manifest()

    def close(self) -> None:
        self.zip.close()

    def _manifest(self) -> dict[str, Any]:
        if MANIFEST not in self.names:
            raise ArchiveError(f"{self.label} is not an `export all` archive: no {MANIFEST}")
        try:
            manifest = json.loads(self.zip.read(MANIFEST))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error) as error:
            raise ArchiveError(f"{self.label}: {MANIFEST} does not read ({error})") from None
        if not isinstance(manifest, dict):
            raise ArchiveError(f"{self.label}: {MANIFEST} is not an object")
        kind = manifest.get("kind")
        if kind == "keepscore backup":
            raise ArchiveError(
                f"{self.label} is a backup of a whole installation, not an export: restore it "
                "with `keepscore restore`"
            )
        version = manifest.get("format_version")
        if version == 1 and kind is None:
            raise ArchiveError(
                f"{self.label} is an export of format 1, which lacks what a faithful copy "
                "needs (the leads' keys, override reasons, the outcomes' stage changes, money "
                "and scorecard settings): export the organization again with this keepscore"
            )
        if kind != KIND or not isinstance(version, int):
            raise ArchiveError(f"{self.label} is not an `export all` archive of keepscore")
        if version > FORMAT_VERSION:
            raise ArchiveError(
                f"{self.label} is an export of format {version}; this keepscore reads format "
                f"{FORMAT_VERSION}: import it with a newer keepscore"
            )
        for name in REQUIRED:
            if f"{name}.csv" not in self.names:
                raise ArchiveError(f"{self.label} lacks {name}.csv")
        return manifest

    def check(self) -> None:
        """Every file of the zip reads whole (its CRC)."""
        for info in self.zip.infolist():
            try:
                with self.zip.open(info) as member:
                    while member.read(1024 * 1024):
                        pass
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                raise ArchiveError(
                    f"{self.label} is damaged: {info.filename} does not read ({error})"
                ) from None

    def count(self, name: str) -> int:
        counts = self.manifest.get("counts")
        value = counts.get(name) if isinstance(counts, dict) else None
        return value if isinstance(value, int) else 0

    def rows(self, name: str, required: Sequence[str]) -> Iterator[Row]:
        """The rows of ``name.csv`` (none when an optional file is absent)."""
        file = f"{name}.csv"
        if file not in self.names:
            return
        limit = csv.field_size_limit()
        csv.field_size_limit(max(limit, MAX_CELL))
        number = 1
        try:
            with self.zip.open(file) as raw:
                reader = csv.reader(_decoded(raw, file))
                header = next(reader, None)
                if header is None:
                    raise ArchiveError("empty: no header", file)
                missing = [c for c in required if c not in header]
                if missing:
                    raise ArchiveError(f"no column {', '.join(missing)} in the header", file)
                width = len(header)
                for values in reader:
                    number += 1
                    if len(values) != width:
                        raise ArchiveError(
                            f"{len(values)} values, the header has {width} columns", file, number
                        )
                    yield Row(file, number, dict(zip(header, map(unescape, values), strict=True)))
        except csv.Error as error:
            raise ArchiveError(f"not CSV ({error})", file, number + 1) from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ArchiveError(f"damaged ({error})", file) from None
        finally:
            csv.field_size_limit(limit)


def _decoded(raw: IO[bytes], file: str) -> Iterator[str]:
    """The file's lines as text (each with its line end, as ``newline=""`` reads them)."""
    for line_number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveError(f"not UTF-8 text (line {line_number} of the file)", file) from None
