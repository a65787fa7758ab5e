"""Celery tasks of the index (thin: each calls a service).

Nightly at 00:30 Asia/Ho_Chi_Minh (``BEAT_SCHEDULE``, stored in django-celery-beat by
``manage.py setup_beat``): ``nightly_index`` claims the run slot, computes yesterday's facts,
then fans out one ``province_snapshots`` task per province in a chord whose body
``finish_run`` ranks the provinces and publishes. A failure anywhere marks the run failed
(``fail_run``); a killed worker leaves a silent run that the next start declares failed. In
both cases the previous snapshots stay published and the next beat computes again.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import chord, group, shared_task
from celery.schedules import crontab
from django.conf import settings

from scoring import services
from scoring.models import IndexRun

logger = logging.getLogger(__name__)

BEAT_SCHEDULE = {
    "scoring-nightly-index": {
        "task": "scoring.nightly_index",
        "schedule": crontab(minute=30, hour=0),
        "description": "Citizen-service index: yesterday's facts, snapshots, rankings",
    },
}


def _stale(stale_seconds: int | None) -> timedelta | None:
    return None if stale_seconds is None else timedelta(seconds=stale_seconds)


def dispatch(
    *, kind: str, date_from: date, date_to: date, stale_seconds=None, task_id=""
) -> int | None:
    """Start a run: facts here, then the chord of province tasks. Returns the run id, or None
    when another run is in progress (the overlap is recorded as skipped)."""
    run = services.index_run_start(
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        stale=_stale(stale_seconds),
        task_id=task_id,
    )
    if run is None:
        return None
    try:
        services.index_run_facts(run=run)
        header = group(province_snapshots.si(run.pk, code) for code in services.province_codes())
        body = finish_run.si(run.pk).on_error(fail_run.s(run_id=run.pk))
        chord(header)(body)
    except Exception as exc:
        services.index_run_fail(run_id=run.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    return run.pk


@shared_task(bind=True, name="scoring.nightly_index", ignore_result=True)
def nightly_index(self, day: str | None = None, stale_seconds: int | None = None) -> int | None:
    """Yesterday's index (or ``day``'s, ISO date)."""
    on = date.fromisoformat(day) if day else services.yesterday()
    return dispatch(
        kind=IndexRun.Kind.NIGHTLY,
        date_from=on,
        date_to=on,
        stale_seconds=stale_seconds,
        task_id=self.request.id or "",
    )


@shared_task(bind=True, name="scoring.recompute_index")
def recompute_index(
    self, date_from: str, date_to: str | None = None, stale_seconds: int | None = None
) -> int | None:
    start = date.fromisoformat(date_from)
    return dispatch(
        kind=IndexRun.Kind.RECOMPUTE,
        date_from=start,
        date_to=date.fromisoformat(date_to) if date_to else start,
        stale_seconds=stale_seconds,
        task_id=self.request.id or "",
    )


@shared_task(name="scoring.province_snapshots", acks_late=True)
def province_snapshots(run_id: int, province: str) -> int:
    return services.index_run_province(run_id=run_id, province=province)


@shared_task(name="scoring.finish_run", acks_late=True)
def finish_run(run_id: int) -> int:
    run = services.index_run_finish(run_id=run_id)
    return 0 if run is None else run.rows


@shared_task(name="scoring.fail_run")
def fail_run(request, exc, traceback, run_id: int) -> None:
    services.index_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")


def beat_schedules() -> dict[str, dict]:
    """Every ``BEAT_SCHEDULE`` defined in code by the project's apps (``<app>.tasks``)."""
    from importlib import import_module

    schedules: dict[str, dict] = {}
    for app in ("portal", "dossiers", "scoring", "simulator"):
        if app not in settings.INSTALLED_APPS:
            continue
        try:
            module = import_module(f"{app}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.tasks":
                raise
            continue
        schedules.update(getattr(module, "BEAT_SCHEDULE", {}) or {})
    return schedules
