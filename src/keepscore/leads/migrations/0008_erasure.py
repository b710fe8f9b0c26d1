"""A person's data can be erased (``keepscore.privacy``): the lead becomes a tombstone
(``erased_at``) and the free text of its history is blanked, while the history itself
(stages, moments, authors, money, reasons) stays and still counts.

The database went on refusing every update of the append-only history (0002, 0004, 0007).
Its triggers are replaced here by ones that let through only an erasure: an update that sets
free-text columns to '' while every other column stays as it was. Two exceptions, both as
narrow: a stage change's ``override_reason`` may become '(erased)' when the override is
recorded (the check constraint wants a reason there), and a correction's ``outcome`` (JSON)
may only have its "lost_note" set to "", the rest equal. Any other update is refused as
before.

The column lists are this migration's, frozen as migrations are: a migration that adds a
column to one of these tables must make the triggers again, naming it
(``tests/privacy/test_triggers.py`` compares them with the tables' real columns). SQLite
drops a table's triggers when a migration rebuilds the table (see 0004): the same test
catches that.
"""

from django.db import migrations, models

MESSAGE = "history is append-only: record a correction instead (an erasure only blanks text)"
#: per table: the columns that must never change, the free text an erasure may blank, and
#: a JSON column of which one key may be blanked
TABLES = {
    "leads_stagechange": {
        "fixed": [
            "id",
            "created_at",
            "at",
            "qualification_override",
            "by_id",
            "from_stage_id",
            "lead_id",
            "organization_id",
            "to_stage_id",
        ],
        "free": ["note", "override_reason"],
        "json": None,
    },
    "leads_dealoutcome": {
        "fixed": [
            "id",
            "created_at",
            "result",
            "at",
            "revenue",
            "cost",
            "lead_id",
            "lost_reason_id",
            "stage_change_id",
            "organization_id",
        ],
        "free": ["lost_note"],
        "json": None,
    },
    "leads_stagecorrection": {
        "fixed": [
            "id",
            "created_at",
            "change_id",
            "change_at",
            "at",
            "by_id",
            "change_by_id",
            "change_from_id",
            "change_to_id",
            "lead_id",
            "organization_id",
        ],
        "free": ["change_note", "reason"],
        "json": ("outcome", "lost_note"),
    },
}
ERASED_TEXT = "(erased)"
#: the messages of the triggers this migration replaces (0002 and 0007), to put them back
OLD_MESSAGES = {
    "leads_stagechange": "history is append-only: record a correction instead",
    "leads_dealoutcome": "history is append-only: record a correction instead",
    "leads_stagecorrection": "history is append-only: a correction is never edited",
}


def _allowed(table, same, json_sql):
    """The condition under which an update of ``table`` is an erasure (or changes nothing).
    ``same(c)``: column c unchanged; ``json_sql(column, key)``: the JSON rule."""
    spec = TABLES[table]
    parts = [same(c) for c in spec["fixed"]]
    for c in spec["free"]:
        blank = f"""NEW."{c}" = ''"""
        if c == "override_reason":
            blank += f""" OR (NEW."{c}" = '{ERASED_TEXT}' AND NEW."qualification_override")"""
        parts.append(f"({same(c)} OR {blank})")
    if spec["json"]:
        parts.append(json_sql(*spec["json"]))
    return "\n        AND ".join(parts)


def sqlite_allowed(table):
    def same(c):
        return f'NEW."{c}" IS OLD."{c}"'

    def json_rule(column, key):
        new, old = f'NEW."{column}"', f'OLD."{column}"'
        return (
            f"({new} IS {old} OR (json_type({old}) = 'object' AND json_type({new}) = 'object'"
            f" AND json_remove({old}, '$.{key}') = json_remove({new}, '$.{key}')"
            f" AND json_type({new}, '$.{key}') = 'text'"
            f" AND json_extract({new}, '$.{key}') = ''))"
        )

    return _allowed(table, same, json_rule)


def pg_allowed(table):
    def same(c):
        return f'NEW."{c}" IS NOT DISTINCT FROM OLD."{c}"'

    def json_rule(column, key):
        new, old = f'NEW."{column}"', f'OLD."{column}"'
        return (
            f"({new} IS NOT DISTINCT FROM {old} OR (jsonb_typeof({old}) = 'object'"
            f" AND jsonb_typeof({new}) = 'object'"
            f" AND ({old} - '{key}') = ({new} - '{key}')"
            f" AND jsonb_typeof({new} -> '{key}') = 'string'"
            f" AND {new} ->> '{key}' = ''))"
        )

    return _allowed(table, same, json_rule)


def _sqlite_trigger(table, message, when=""):
    # COALESCE: a comparison with NULL is NULL, and a trigger WHEN NULL would not fire
    condition = f"\n    WHEN NOT COALESCE((\n        {when}\n    ), 0)" if when else ""
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW{condition}\n"
        f"BEGIN SELECT RAISE(ABORT, '{table}: {message}'); END;"
    )


def _pg_function(table, message, when=""):
    allow = f"IF COALESCE(({when}), FALSE) THEN\n        RETURN NEW;\n    END IF;\n    " if when else ""
    return (
        f"CREATE OR REPLACE FUNCTION {table}_refuse_update() RETURNS trigger AS $$\n"
        f"BEGIN\n    {allow}RAISE EXCEPTION '{table}: {message}';\nEND;\n$$ LANGUAGE plpgsql;"
    )


def _replace(schema_editor, erasable):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        message = MESSAGE if erasable else OLD_MESSAGES[table]
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
            when = sqlite_allowed(table) if erasable else ""
            schema_editor.execute(_sqlite_trigger(table, message, when))
        elif vendor == "postgresql":
            when = pg_allowed(table) if erasable else ""
            schema_editor.execute(_pg_function(table, message, when))
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_update();"
            )


def erasable(apps, schema_editor):
    _replace(schema_editor, erasable=True)


def strict(apps, schema_editor):
    _replace(schema_editor, erasable=False)


class Migration(migrations.Migration):
    dependencies = [("leads", "0007_stage_correction")]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="erased_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(erasable, strict),
    ]
