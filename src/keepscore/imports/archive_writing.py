"""An archive's rows written in batches: through the history's bulk writer, a refusal named.

History rows go through the recorder's bulk writer as whole rows (:func:`history_writer`:
ids reserved first, each field as the database takes it); a batch the database refuses is
written again row by row to name the row it refuses (:func:`batch_insert`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.models import Model

from keepscore.history.bulk import Bulk, datetime_adapter
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


def _adapter(model_field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """A field's value as the database takes it in a whole-row insert (what Django's
    ``get_db_prep_save`` gives, without its per-call cost)."""
    ops = connection.ops
    adapt: Callable[[Any], Any]
    if isinstance(model_field, models.DateTimeField):
        adapt = datetime_adapter()
    elif isinstance(model_field, models.DateField):
        adapt = ops.adapt_datefield_value
    elif isinstance(model_field, models.TimeField):
        adapt = ops.adapt_timefield_value
    elif isinstance(model_field, models.DecimalField):
        digits, places = model_field.max_digits, model_field.decimal_places
        adapt = (
            str
            if connection.vendor == "sqlite"  # what Django's SQLite backend registers
            else (lambda value: ops.adapt_decimalfield_value(value, digits, places))
        )
    elif isinstance(model_field, models.JSONField):
        encoder = model_field.encoder
        return lambda value: ops.adapt_json_value(value, encoder)
    else:
        return lambda value: value
    return lambda value: None if value is None else adapt(value)


def history_writer(block: Bulk, model: type[Model]) -> Callable[[list[Any]], list[Any]]:
    columns = block.columns(model)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    now = block.created  # the block's moment, as the database takes it
    getters: list[Callable[[Any], Any]] = []
    for column in columns[3:]:  # after id, organization and created_at
        model_field = by_column[column]
        if getattr(model_field, "auto_now", False):
            getters.append(lambda obj: now)
        else:
            adapt, attname = _adapter(model_field), model_field.attname
            getters.append(lambda obj, a=attname, f=adapt: f(getattr(obj, a)))  # type: ignore[misc]
    org = block.organization.pk

    def create(objs: list[Any]) -> list[Any]:
        for obj, pk in zip(objs, block.ids(model, len(objs)), strict=True):
            obj.pk = pk
        block.write(model, [(o.pk, org, block.created, *(g(o) for g in getters)) for o in objs])
        return objs

    return create


def _first(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
