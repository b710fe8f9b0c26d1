"""History is append-only: the database itself refuses to update a stage change or a deal
outcome (the outcome is part of the move that wrote it). Corrections are new stage changes.
"""

from django.db import migrations

TABLES = ("leads_stagechange", "leads_dealoutcome")
MESSAGE = "history is append-only: record a correction instead"


def sqlite_up(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, '{table}: {MESSAGE}');
END;
"""


def pg_up(table: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table}: {MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_update();
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            schema_editor.execute(sqlite_up(table))
        elif vendor == "postgresql":
            schema_editor.execute(pg_up(table))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_update();")


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
