"""The monthly review is append-only: the database itself refuses to update an entry."""

from django.db import migrations

TABLE = "scorecard_reviewentry"
MESSAGE = "the review is append-only: add a new note instead"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE}: {MESSAGE}'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            f"""
CREATE OR REPLACE FUNCTION {TABLE}_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{TABLE}: {MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_update();
"""
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update;")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update ON {TABLE};")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_refuse_update();")


class Migration(migrations.Migration):
    dependencies = [("scorecard", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
