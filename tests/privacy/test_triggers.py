"""The database keeps the history append-only, erasure aside (migration leads 0008).

Raw SQL, past the recorder's guard, on the real tables: an update that only blanks free
text passes; changing any other column (read from the database itself, so a column added
later is tried too), or writing other text into a note, is refused. The triggers' own text
names every real column of their table.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from keepscore.leads.models import ERASED_TEXT, DealOutcome, StageChange, StageCorrection
from tests.privacy.conftest import Person

pytestmark = pytest.mark.django_db

#: per table, the free text an erasure may blank (and a JSON column with its one key)
FREE = {
    StageChange: {"note", "override_reason"},
    DealOutcome: {"lost_note"},
    StageCorrection: {"change_note", "reason", "outcome"},
}
TABLES = list(FREE)


def columns(model: type[models.Model]) -> list[str]:
    """The table's columns as the database has them."""
    with connection.cursor() as cursor:
        return [
            c.name
            for c in connection.introspection.get_table_description(cursor, model._meta.db_table)
        ]


def field_of(model: type[models.Model], column: str) -> models.Field[Any, Any]:
    found = [f for f in model._meta.concrete_fields if f.column == column]
    assert found, f"{model._meta.db_table}.{column} is no field of {model.__name__}"
    return found[0]


def update(model: type[models.Model], pk: int, **values: Any) -> None:
    """UPDATE one row with raw SQL (values as the column stores them)."""
    sets = ", ".join(f'"{column}" = %s' for column in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{model._meta.db_table}" SET {sets} WHERE "id" = %s', [*values.values(), pk]
        )


def refused(model: type[models.Model], pk: int, **values: Any) -> str:
    """The database's refusal of the update (the row is left as it was)."""
    with pytest.raises(DatabaseError) as error, transaction.atomic():
        update(model, pk, **values)
    return str(error.value)


def row(model: type[models.Model], pk: int) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{model._meta.db_table}" WHERE "id" = %s', [pk])
        names = [d[0] for d in cursor.description]
        found = cursor.fetchone()
    assert found is not None
    return dict(zip(names, found, strict=True))


def other_value(field: models.Field[Any, Any], value: Any) -> Any:
    """A different value of the field's kind, as the column stores it."""
    kind = field.get_internal_type()
    if kind in ("ForeignKey", "OneToOneField", "BigAutoField", "AutoField", "BigIntegerField"):
        new: Any = (value or 0) + 1000  # foreign keys are checked at commit: the trigger first
    elif kind == "DateTimeField":
        new = field.to_python(value)
        if timezone.is_naive(new):  # SQLite's text, in UTC
            new = timezone.make_aware(new, UTC)
        new += timedelta(days=1)
    elif kind == "DecimalField":
        new = (Decimal(str(value)) if value is not None else Decimal(0)) + 1
    elif kind == "BooleanField":
        new = not bool(value)
    elif kind == "CharField" and field.choices:
        new = next(key for key, _label in field.choices if key != value)
    elif kind in ("CharField", "TextField"):
        new = f"{value}-changed"
    else:
        pytest.fail(f"teach other_value a {kind} ({field.column})")
    return field.get_db_prep_save(new, connection)


@pytest.fixture
def rows(ada: Person) -> dict[type[models.Model], int]:
    """One row of each table with every free text filled in (Ada's history)."""
    change = StageChange.objects.get(lead=ada.leads[0], qualification_override=True)
    outcome = DealOutcome.objects.exclude(lost_note="").get(lead=ada.leads[1])
    correction = StageCorrection.objects.get(lead=ada.leads[0])
    assert change.note and change.override_reason and outcome.lost_note
    assert correction.change_note and correction.reason and correction.outcome["lost_note"]
    return {StageChange: change.pk, DealOutcome: outcome.pk, StageCorrection: correction.pk}


def test_an_erasure_blanks_the_free_text_and_nothing_else(rows):
    before = {model: row(model, pk) for model, pk in rows.items()}
    # when
    update(StageChange, rows[StageChange], note="", override_reason=ERASED_TEXT)
    update(DealOutcome, rows[DealOutcome], lost_note="")
    correction = StageCorrection.objects.get(pk=rows[StageCorrection])
    outcome = {**correction.outcome, "lost_note": ""}
    update(
        StageCorrection,
        rows[StageCorrection],
        change_note="",
        reason="",
        outcome=json.dumps(outcome),
    )
    # then
    change = StageChange.objects.get(pk=rows[StageChange])
    assert (change.note, change.override_reason) == ("", ERASED_TEXT)
    assert DealOutcome.objects.get(pk=rows[DealOutcome]).lost_note == ""
    correction.refresh_from_db()
    assert (correction.change_note, correction.reason) == ("", "")
    assert correction.outcome == outcome and correction.outcome["result"] == "lost"
    for model, pk in rows.items():
        after = row(model, pk)
        kept = [c for c in after if c not in FREE[model]]
        assert {c: after[c] for c in kept} == {c: before[model][c] for c in kept}
    # a stage change without an override may lose its reason only to "" (it has none)
    plain = StageChange.objects.filter(qualification_override=False).exclude(note="").first()
    assert plain is not None
    update(StageChange, plain.pk, note="", override_reason="")
    assert "append-only" in refused(StageChange, plain.pk, override_reason=ERASED_TEXT)


@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_every_other_column_is_refused(rows, model):
    """Each column the database has (a later one too), changed alone: refused."""
    pk = rows[model]
    before = row(model, pk)
    others = [c for c in columns(model) if c not in FREE[model]]
    assert len(others) >= 8, others
    for column in others:
        new = other_value(field_of(model, column), before[column])
        assert new != before[column], column
        assert "append-only" in refused(model, pk, **{column: new}), column
        # also together with an erasure of the text
        blank = {c: "" for c in FREE[model] if c != "outcome"}
        assert "append-only" in refused(model, pk, **blank, **{column: new}), column
    assert row(model, pk) == before


@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_other_text_in_a_note_is_refused(rows, model):
    pk = rows[model]
    before = row(model, pk)
    for column in FREE[model] - {"outcome"}:
        for text in ("rewritten", " ", ERASED_TEXT if column != "override_reason" else "x"):
            assert "append-only" in refused(model, pk, **{column: text}), (column, text)
    assert row(model, pk) == before


def test_a_corrections_outcome_may_only_lose_its_lost_note(rows):
    pk = rows[StageCorrection]
    kept = StageCorrection.objects.get(pk=pk).outcome
    tries = {
        "another note": {**kept, "lost_note": "rewritten"},
        "the note removed": {k: v for k, v in kept.items() if k != "lost_note"},
        "the note blanked and the reason changed": {
            **kept,
            "lost_note": "",
            "lost_reason": "Chose a competitor",
        },
        "the note blanked and a key added": {**kept, "lost_note": "", "extra": 1},
        "the note as a number": {**kept, "lost_note": 0},
        "no outcome at all": None,
    }
    for what, outcome in tries.items():
        value = None if outcome is None else json.dumps(outcome)
        assert "append-only" in refused(StageCorrection, pk, outcome=value), what
    assert StageCorrection.objects.get(pk=pk).outcome == kept


def trigger_text(table: str) -> str:
    """The source of the update trigger of ``table`` (of its function, on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        else:
            cursor.execute(
                "SELECT pg_get_functiondef(t.tgfoid) FROM pg_trigger t "
                "WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
                [table],
            )
        found = [r[0] for r in cursor.fetchall()]
    assert len(found) == 1, (table, found)
    return str(found[0])


@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_the_triggers_name_every_real_column(model):
    """A column added to one of these tables must be named by its trigger (or it could be
    rewritten): the columns the database has against the ones the trigger compares."""
    text = trigger_text(model._meta.db_table)
    named = {c for c in columns(model) if f'OLD."{c}"' in text}
    assert sorted(set(columns(model)) - named) == []
    # the free text is the only thing it lets become ""
    blanked = {c for c in columns(model) if f"NEW.\"{c}\" = ''" in text}
    assert blanked == FREE[model] - {"outcome"}
