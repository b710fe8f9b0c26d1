"""An archive's rows written in batches: through the history's bulk writer, a refusal named.

History rows go through the recorder's bulk writer (``Bulk.create``: whole rows, ids reserved
first); a batch the database refuses is written again row by row to name the row it refuses
(:func:`batch_insert`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Model

from keepscore.imports.archive_files import ArchiveError, Row

#: rows written at a time
BATCH = 2_000


def batch_insert(
    rows: list[tuple[Row, Model]], create: Callable[[list[Any]], list[Any]], what: str
) -> list[Any]:
    """Insert a batch; when the database refuses it, find the row it refuses and name it."""
    objs = [obj for _, obj in rows]
    try:
        with transaction.atomic():
            return create(objs)
    except DatabaseError as refused:
        for row, obj in rows:
            try:
                with transaction.atomic():
                    create([obj])
            except DatabaseError as error:
                raise row.error("", f"the database refuses this {what}: {_first(error)}") from None
        raise ArchiveError(f"the database refuses these rows: {_first(refused)}") from None


def _first(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
