"""History is append-only in the database itself, not only in the ORM.

On PostgreSQL a trigger refuses every UPDATE and DELETE of a dossier or petition event, whoever
issues it (raw SQL, psql, a buggy migration). A deliberate purge — the simulator's ``--reset`` —
opens ``portal.history.history_purge()``, which sets ``portal.allow_history_purge`` for its
transaction only; updates stay forbidden even then. SQLite (development) has no triggers here:
its guard is ``dossiers.models.AppendOnlyQuerySet``.
"""

from django.db import migrations

TABLES = ("dossiers_dossierevent", "dossiers_petitionevent")

FUNCTION = """
CREATE OR REPLACE FUNCTION portal_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('portal.allow_history_purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'history table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'purge only inside portal.history.history_purge()';
END;
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # "%" is PL/pgSQL here, not a placeholder
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION portal_history_append_only()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS portal_history_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_login_challenge"),
        ("dossiers", "0003_lifecycle"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
