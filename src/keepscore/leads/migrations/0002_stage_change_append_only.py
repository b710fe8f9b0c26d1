"""History is append-only: the database itself refuses to update a stage change."""

from django.db import migrations

SQLITE_UP = """
CREATE TRIGGER leads_stagechange_no_update BEFORE UPDATE ON leads_stagechange
BEGIN
    SELECT RAISE(ABORT, 'stage changes are append-only: record a correction instead');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS leads_stagechange_no_update;"

PG_UP = """
CREATE OR REPLACE FUNCTION leads_stagechange_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stage changes are append-only: record a correction instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER leads_stagechange_no_update BEFORE UPDATE ON leads_stagechange
    FOR EACH ROW EXECUTE FUNCTION leads_stagechange_refuse_update();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS leads_stagechange_no_update ON leads_stagechange;
DROP FUNCTION IF EXISTS leads_stagechange_refuse_update();
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    elif vendor == "postgresql":
        schema_editor.execute(PG_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)
    elif vendor == "postgresql":
        schema_editor.execute(PG_DOWN)


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
