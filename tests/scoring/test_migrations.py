"""Migration 0011: snapshots written with {code: [numerator, denominator, ratio, score]} keep
their counts (in the methodology's order) and read back the same indicators."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from scoring import methodology as M
from scoring.models import IndexSnapshot

BEFORE = [("scoring", "0010_snapshot_trend_ytd_only")]
AFTER = [("scoring", "0011_snapshot_counts")]


def migrate(targets):
    """Migrate to ``targets``; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_snapshots_keep_their_counts_and_scores():
    counts = {"dossiers_online": (21132, 35530), "dossiers_on_time": (0, 0)}
    expected = M.indicator_values(M.evaluate("2026", counts))
    apps = migrate(BEFORE)
    try:
        Run, Snapshot = (
            apps.get_model("scoring", "IndexRun"),
            apps.get_model("scoring", "IndexSnapshot"),
        )
        on = date(2025, 7, 1)
        run = Run.objects.create(kind="recompute", date_from=on, date_to=on, status="complete",
                                 started_at=timezone.now(), heartbeat_at=timezone.now())  # fmt: skip
        for methodology in ("2026", "unknown"):
            Snapshot.objects.create(run_id=run.pk, date=on, window="month", window_from=on,
                                    methodology=methodology, unit="01", unit_kind="province",
                                    province_id="01", name="Hà Nội", total=1,
                                    indicators=expected)  # fmt: skip
    finally:
        migrate(AFTER)
    stored = IndexSnapshot.objects.get(methodology="2026")
    assert stored.counts == M.stored_counts("2026", counts)
    assert stored.counts[M.get("2026").codes.index("dossiers_online")] == [21132, 35530]
    assert stored.indicators == expected
    assert IndexSnapshot.objects.get(methodology="unknown").counts == []
