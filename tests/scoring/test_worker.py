"""The nightly job on real Celery workers against Redis and PostgreSQL: a beat-triggered run,
two runs started at once, a worker killed mid-run.

Run with e.g. ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_scoring
REDIS_URL=redis://127.0.0.1:6379/2 pytest -m worker tests/scoring/test_worker.py``."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from dossiers.models import Dossier, ProcedureVersion
from portal.models import ServiceCenter
from scoring import services
from scoring.models import IndexRun, IndexSnapshot
from scoring.selectors import current_snapshots
from tests.conftest import (
    ROOT,
    _test_database_url,
    _wait_for_worker,
    stop_process,
    worker_command,
)
from tests.factories import CitizenFactory
from tests.scoring.conftest import at

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.slow]

DAY = date(2025, 7, 11)
_names = itertools.count(2)


def spawn_worker() -> subprocess.Popen:
    """Another worker like the ``celery_worker_process`` fixture (solo pool: killing the process
    kills the task it runs)."""
    proc = subprocess.Popen(
        worker_command(f"scoring{next(_names)}@%h"),
        cwd=ROOT,
        env=dict(os.environ, DATABASE_URL=_test_database_url()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_worker()
    return proc


def wait_until(predicate, timeout: float = 120, what: str = "condition"):
    """Poll the database for what the workers did (they run in other processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def snapshot_content(run) -> list[tuple]:
    return sorted(
        IndexSnapshot.objects.filter(run=run).values_list(
            "date",
            "window",
            "methodology",
            "unit",
            "total",
            "rank",
            "rank_of",
            "counts",
            "groups",
            "group_ranks",
        ),
        key=lambda row: row[:4],
    )


@pytest.fixture
def nation(postgres, reference_data, transactional_db, monkeypatch, settings):
    """A few dossiers in three real provinces (Hà Tĩnh, Hà Nội, Cà Mau). One methodology
    version, here and in the workers started after this fixture, halves every national run."""
    monkeypatch.setenv("SCORING_METHODOLOGIES", "2026")
    settings.SCORING_METHODOLOGIES = ["2026"]
    citizen = CitizenFactory()
    versions = list(ProcedureVersion.objects.select_related("procedure").order_by("id"))
    by_level = {
        lvl: [v for v in versions if v.procedure.level == lvl] for lvl in ("commune", "province")
    }
    centers = list(
        ServiceCenter.objects.filter(
            code__in=["P42", "C18073", "C18532", "P01", "C00004", "C32011"]
        )
    )
    n = 0
    for center in centers:
        pool = by_level["commune" if center.level == "commune" else "province"]
        for k in range(4):
            version = pool[(n + k) % len(pool)]
            accepted = at(DAY - timedelta(days=k + 1), 8 + k)
            finished = k % 2 == 0
            Dossier.objects.create(
                code=f"W-{n:05d}",
                center=center,
                procedure_version=version,
                applicant=citizen,
                channel=2 if k % 3 else 1,
                state=9 if finished else 4,
                submitted_at=accepted,
                accepted_at=accepted,
                due_at=accepted + timedelta(days=2 + k),
                finished_at=accepted + timedelta(days=k + 1) if finished else None,
                fee_vnd=version.fee_vnd,
                digitised=bool(k % 2),
            )
            n += 1
    services.demo_inputs_load(provinces=["42", "01"])
    return centers


def test_a_beat_triggered_nightly_run_on_a_real_worker(nation, celery_worker_process):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.create(
        name="scoring-nightly-index (test)",
        task="scoring.nightly_index",
        interval=every_second,
        kwargs=f'{{"day": "{DAY.isoformat()}"}}',
        one_off=True,
    )
    env = dict(os.environ, DATABASE_URL=_test_database_url())
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "beat",
            "--loglevel=WARNING",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run = wait_until(
            lambda: IndexRun.objects.filter(status="complete").first(), what="a complete run"
        )
    finally:
        stop_process(beat)
    assert (run.kind, run.date_from, run.date_to) == ("nightly", DAY, DAY)
    assert len(run.provinces_done) == 34
    assert (
        current_snapshots()
        .filter(date=DAY, unit_kind="province", window="ytd", methodology="2026")
        .count()
        == 34
    )


def test_two_runs_started_at_once_make_one_effective_run(nation, celery_worker_process):
    from scoring.tasks import nightly_index

    second_worker = spawn_worker()
    try:
        nightly_index.delay(DAY.isoformat())
        nightly_index.delay(DAY.isoformat())
        wait_until(
            lambda: (
                IndexRun.objects.filter(status="complete").exists()
                and IndexRun.objects.filter(status="skipped").exists()
            ),
            what="one complete and one skipped run",
        )
    finally:
        stop_process(second_worker)
    runs = IndexRun.objects.exclude(status="skipped")
    assert [r.status for r in runs] == ["complete"]
    effective = runs.get()
    assert IndexRun.objects.filter(status="skipped").count() == 1
    # Identical to an undisturbed run computed here, in one process.
    reference = services.index_compute(date_from=DAY).run
    assert snapshot_content(effective) != []
    assert [r[:4] + r[4:] for r in snapshot_content(effective)] == snapshot_content(reference)


def test_a_killed_worker_leaves_the_previous_snapshots_served(nation, celery_worker_process):
    from scoring.tasks import nightly_index

    previous = services.index_compute(date_from=DAY).run
    served = sorted(current_snapshots().values_list("id", flat=True))
    # New activity the next run would take into account.
    center = nation[0]
    Dossier.objects.create(
        code="W-late",
        center=center,
        procedure_version=ProcedureVersion.objects.filter(
            procedure__level="province" if center.level == "province" else "commune"
        ).first(),
        applicant=CitizenFactory(),
        channel=1,
        state=4,
        submitted_at=at(DAY, 8),
        accepted_at=at(DAY, 8),
        due_at=at(DAY, 9),
    )
    nightly_index.delay(DAY.isoformat())
    run = wait_until(
        lambda: (
            IndexRun.objects.filter(status="running", kind="nightly")
            .exclude(provinces_done=[])
            .first()
        ),
        what="a run in the middle of its province tasks",
    )
    celery_worker_process.send_signal(signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == "running" and 0 < len(run.provinces_done) < 34
    # Readers still get exactly the previous run's snapshots.
    assert sorted(current_snapshots().values_list("id", flat=True)) == served
    assert IndexRun.objects.get(pk=previous.pk).status == "complete"

    # The next beat (after the silence limit) finds the dead run, fails it, computes afresh.
    worker = spawn_worker()
    try:
        nightly_index.delay(DAY.isoformat(), stale_seconds=0)
        retried = wait_until(
            lambda: IndexRun.objects.filter(status="complete", kind="nightly").first(),
            what="the retried run",
        )
    finally:
        stop_process(worker)
    run.refresh_from_db()
    assert run.status == "failed" and run.error.startswith("abandoned")
    assert not IndexSnapshot.objects.filter(run=run).exists()
    undisturbed = services.index_compute(date_from=DAY).run
    assert snapshot_content(retried) == snapshot_content(undisturbed)
    assert snapshot_content(retried) != snapshot_content(previous)
