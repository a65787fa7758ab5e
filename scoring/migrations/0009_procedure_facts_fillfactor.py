"""Room on every page of the monthly procedure facts and sets for the nightly upserts: a row
updated in place (its day bits ORed in, night after night of its month) stays on its page as a
heap-only tuple, so its three indexes are not written again. PostgreSQL only; existing pages
keep their layout until rewritten."""

from django.db import migrations

TABLES = ("scoring_monthlyprocedurefact", "scoring_monthlyprocedureset")


def set_fillfactor(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")

    return run


class Migration(migrations.Migration):
    dependencies = [("scoring", "0008_monthly_procedure_sets")]

    operations = [migrations.RunPython(set_fillfactor(70), set_fillfactor(100))]
