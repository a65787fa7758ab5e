"""Snapshots keep each indicator's (numerator, denominator) in the methodology's order instead of
{code: [numerator, denominator, ratio, score]}: ratios and scores are computed on read.

Existing rows are converted: on PostgreSQL one UPDATE per methodology version (a rewrite of the
table: minutes for a national year of snapshots), elsewhere row by row. Rows of a version this
code does not know keep no counts (their indicators read as not counted)."""

from django.db import migrations

import scoring.models
from scoring import methodology as M

TO_COUNTS = """
UPDATE scoring_indexsnapshot s SET counts = (
    SELECT '[' || string_agg(
        CASE WHEN v ->> 0 IS NULL THEN 'null' ELSE '[' || (v ->> 0) || ',' || (v ->> 1) || ']' END,
        ',' ORDER BY c.n) || ']'
    FROM unnest(%s::text[]) WITH ORDINALITY AS c(code, n),
         LATERAL (SELECT s.indicators::json -> c.code AS v) x)
WHERE methodology = %s
"""


def _pairs(indicators: dict) -> dict:
    return {
        code: (value[0], value[1])
        for code, value in indicators.items()
        if value and value[0] is not None
    }


def to_counts(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for code, version in M.METHODOLOGIES.items():
                cursor.execute(TO_COUNTS, [list(version.codes), code])
        return
    Snapshot = apps.get_model("scoring", "IndexSnapshot")
    rows = Snapshot.objects.filter(methodology__in=list(M.METHODOLOGIES))
    batch = []
    for snap in rows.only("id", "methodology", "indicators").iterator(chunk_size=2000):
        indicators = snap.indicators if isinstance(snap.indicators, dict) else {}
        snap.counts = M.stored_counts(snap.methodology, _pairs(indicators))
        batch.append(snap)
        if len(batch) == 2000:
            Snapshot.objects.bulk_update(batch, ["counts"])
            batch = []
    Snapshot.objects.bulk_update(batch, ["counts"])


def to_indicators(apps, schema_editor):
    Snapshot = apps.get_model("scoring", "IndexSnapshot")
    for snap in Snapshot.objects.only("id", "methodology", "counts").iterator(chunk_size=2000):
        try:
            snap.indicators = M.evaluate_stored(snap.methodology, snap.counts)
        except M.MethodologyError:
            snap.indicators = {}
        snap.save(update_fields=["indicators"])


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0010_snapshot_trend_ytd_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="indexsnapshot",
            name="counts",
            field=scoring.models.JSONText(default=list, verbose_name="counts"),
        ),
        migrations.RunPython(to_counts, to_indicators),
        migrations.RemoveField(model_name="indexsnapshot", name="indicators"),
    ]
