"""Writes of the scoring app: index runs (start, heartbeat, finish, fail), the whole computation
for a date or a range, and the non-dossier inputs of the index (procedure publications, the
online service catalogue, communes offering electronic certified copies).

Only one index run works at a time: a run claims the single "running" slot (a partial unique
index on ``IndexRun``), and on PostgreSQL the claim is serialised by an advisory lock, so an
overlapping run is recorded as skipped and does nothing. A run that stopped giving signs of life
(worker killed) is declared failed by the next start; its snapshots are dropped and the previous
publication stays current.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from dossiers.models import OnlineLevel, Procedure, ProcedureVersion
from portal.models import Commune, Province, ServiceCenter
from scoring.facts import facts_compute, facts_ensure  # noqa: F401 (facts_compute: contracts.md)
from scoring.models import (
    CertifiedCopyService,
    IndexPublication,
    IndexRun,
    IndexSnapshot,
    OnlineService,
    ProcedurePublication,
)
from scoring.snapshots import (
    STANDARD_WINDOWS,
    snapshot_methodologies,
    snapshots_compute,
    snapshots_publish,
    snapshots_rank,
)

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 766_2022  # Decision 766/QĐ-TTg of 2022: one key for the index job
PUBLICATION_GRACE = timedelta(minutes=10)  # readers mid-page keep a superseded run this long
# Dates computed in one pass by ``index_compute``: the arrays of a pass grow with dates ×
# centres (about 60 MB for a month of the 3,355 centres).
DATES_PER_PASS = 31


class ScoringError(ValueError):
    """Bad input to a scoring service (one line, shown to the user)."""


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "SCORING_RUN_STALE_SECONDS", 15 * 60))


# --- Runs ---------------------------------------------------------------------------------------


def _skipped(kind, date_from, date_to, reason: str) -> None:
    now = timezone.now()
    IndexRun.objects.create(
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        status=IndexRun.Status.SKIPPED,
        lane="skipped",
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
        error=reason,
    )
    logger.info("index run %s..%s skipped: %s", date_from, date_to, reason)


def index_run_start(
    *,
    kind: str,
    date_from: date,
    date_to: date,
    stale: timedelta | None = None,
    task_id: str = "",
) -> IndexRun | None:
    """Claim the running slot for a new run; ``None`` (and a SKIPPED row) when a live run holds
    it. A running run silent for longer than ``stale`` is declared failed first."""
    if date_to < date_from:
        raise ScoringError(f"empty range {date_from} .. {date_to}")
    stale = stale_after() if stale is None else stale
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    _skipped(kind, date_from, date_to, "another run is starting")
                    return None
        running = (
            IndexRun.objects.select_for_update().filter(status=IndexRun.Status.RUNNING).first()
        )
        if running is not None:
            if running.heartbeat_at > now - stale:
                _skipped(kind, date_from, date_to, f"run {running.pk} is in progress")
                return None
            _fail(
                running,
                f"abandoned: no sign of life since {running.heartbeat_at:%Y-%m-%d %H:%M:%S}",
            )
        try:
            with transaction.atomic():
                return IndexRun.objects.create(
                    kind=kind,
                    date_from=date_from,
                    date_to=date_to,
                    status=IndexRun.Status.RUNNING,
                    methodologies=list(snapshot_methodologies()),
                    windows=list(STANDARD_WINDOWS),
                    started_at=now,
                    heartbeat_at=now,
                    task_id=task_id or "",
                )
        except IntegrityError:
            # Another process claimed the slot between our read and our insert (SQLite).
            _skipped(kind, date_from, date_to, "another run claimed the slot")
            return None


def index_run_alive(*, run_id: int) -> IndexRun | None:
    """Record a sign of life; ``None`` when the run is no longer running (a redelivered task of a
    failed run must not write anything)."""
    now = timezone.now()
    updated = IndexRun.objects.filter(pk=run_id, status=IndexRun.Status.RUNNING).update(
        heartbeat_at=now
    )
    return IndexRun.objects.get(pk=run_id) if updated else None


def _fail(run: IndexRun, error: str) -> None:
    IndexSnapshot.objects.filter(run=run).delete()
    IndexRun.objects.filter(pk=run.pk).update(
        status=IndexRun.Status.FAILED, finished_at=timezone.now(), error=error[:4000]
    )
    logger.warning("index run %s failed: %s", run.pk, error)


def index_run_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed and drop its unpublished snapshots; the previous ones stay current."""
    with transaction.atomic():
        run = IndexRun.objects.select_for_update().filter(pk=run_id).first()
        if run is not None and run.status == IndexRun.Status.RUNNING:
            _fail(run, error)


def index_run_facts(*, run: IndexRun) -> int:
    """The run's days (recomputed) and any never-computed day its windows need."""
    rows = sum(s.fact_rows for s in facts_ensure(day_from=run.date_from, day_to=run.date_to))
    IndexRun.objects.filter(pk=run.pk).update(fact_rows=rows, heartbeat_at=timezone.now())
    return rows


def index_run_province(*, run_id: int, province: str) -> int:
    """Snapshots of one province for every date of the run (a Celery task of the chord)."""
    run = index_run_alive(run_id=run_id)
    if run is None:
        return 0
    rows = 0
    dates = _dates(run.date_from, run.date_to)
    for n in range(0, len(dates), DATES_PER_PASS):
        # A sign of life per pass: a long backfill is not mistaken for a dead run, and a run
        # declared failed meanwhile stops here instead of writing on.
        if index_run_alive(run_id=run_id) is None:
            return rows
        rows += snapshots_compute(run=run, dates=dates[n : n + DATES_PER_PASS], province=province)
    with transaction.atomic():
        run = IndexRun.objects.select_for_update().get(pk=run_id)
        if run.status == IndexRun.Status.RUNNING and province not in run.provinces_done:
            run.provinces_done = sorted([*run.provinces_done, province])
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["provinces_done", "heartbeat_at"])
    return rows


def index_run_finish(*, run_id: int, rows: int | None = None) -> IndexRun | None:
    """Rank the provinces nation-wide, then publish the run (one transaction). ``rows``: the
    snapshot rows written, when the caller knows them (else they are counted)."""
    run = index_run_alive(run_id=run_id)
    if run is None:
        return None
    snapshots_rank(run=run)
    snapshots_publish(run=run, rows=rows)
    snapshots_cleanup()
    return IndexRun.objects.get(pk=run_id)


def snapshots_cleanup(*, grace: timedelta = PUBLICATION_GRACE) -> int:
    """Delete the snapshots that publications switched more than ``grace`` ago superseded.
    Only the publications switched since the last cleanup are visited (one DELETE on the
    ``snapshot_date_run`` index), so the cost follows the dates recomputed, not the history.
    Snapshots of failed runs are dropped when the run fails."""
    now = timezone.now()
    due = IndexPublication.objects.filter(published_at__lt=now - grace).filter(
        Q(cleaned_at__isnull=True) | Q(cleaned_at__lt=F("published_at"))
    )
    with transaction.atomic():
        dates = list(due.select_for_update().values_list("date", flat=True))
        if not dates:
            return 0
        current = IndexPublication.objects.filter(date=OuterRef("date"), run_id=OuterRef("run_id"))
        deleted = (
            IndexSnapshot.objects.filter(date__in=dates)
            .exclude(Exists(current))
            .exclude(run__status=IndexRun.Status.RUNNING)
            .delete()[0]
        )
        IndexPublication.objects.filter(date__in=dates).update(cleaned_at=now)
    return deleted


def _dates(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def province_codes() -> list[str]:
    return list(Province.objects.order_by("code").values_list("code", flat=True))


@dataclass
class ComputeSummary:
    run: IndexRun | None
    fact_rows: int = 0
    snapshot_rows: int = 0

    def __str__(self):
        if self.run is None:
            return "skipped: another index run is in progress"
        return (
            f"run {self.run.pk} {self.run.get_status_display()}: {self.run.date_from} .. "
            f"{self.run.date_to}, {self.fact_rows} fact rows, {self.snapshot_rows} snapshot rows"
        )


def index_compute(
    *,
    date_from: date,
    date_to: date | None = None,
    kind: str = IndexRun.Kind.RECOMPUTE,
    progress: Callable[[int], None] | None = None,
    stale: timedelta | None = None,
) -> ComputeSummary:
    """Facts and snapshots for a date or a range, in this process (backfill, tests, the demo):
    the same results as the nightly chord, every province in one pass over a month of dates at
    a time (running totals between the dates). ``progress`` is called with 1 after the facts
    and with the (date, province) pairs done after each pass."""
    date_to = date_to or date_from
    run = index_run_start(kind=kind, date_from=date_from, date_to=date_to, stale=stale)
    if run is None:
        return ComputeSummary(None)
    try:
        fact_rows = index_run_facts(run=run)
        if progress:
            progress(1)
        rows = 0
        dates = _dates(date_from, date_to)
        for n in range(0, len(dates), DATES_PER_PASS):
            chunk = dates[n : n + DATES_PER_PASS]
            if index_run_alive(run_id=run.pk) is None:
                raise RuntimeError("the run was declared failed while it worked")
            # Every province at once: the provinces are ranked nation-wide in the same pass.
            rows += snapshots_compute(run=run, dates=chunk)
            if progress:
                progress(len(chunk) * len(province_codes()))
        run = index_run_finish(run_id=run.pk, rows=rows)
    except BaseException as exc:
        index_run_fail(run_id=run.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    return ComputeSummary(run, fact_rows, rows)


def index_recompute(*, date_from: date, date_to: date | None = None, **kwargs) -> ComputeSummary:
    """Backfill or recompute a range (alias kept for the interface agreed in contracts.md)."""
    return index_compute(date_from=date_from, date_to=date_to, **kwargs)


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


# --- Non-dossier inputs ---------------------------------------------------------------------------


def _procedures(codes: Iterable[str] | None) -> dict[str, Procedure]:
    procedures = (
        Procedure.objects.all() if codes is None else Procedure.objects.filter(code__in=list(codes))
    )
    found = {p.code: p for p in procedures}
    missing = sorted(set(codes or ()) - set(found))
    if missing:
        raise ScoringError(f"unknown procedure code {missing[0]!r}")
    return found


@transaction.atomic
def publication_facts_set(
    *,
    province: str,
    rows: Iterable[dict],
) -> int:
    """Create or update a province's procedure publications. Each row: ``procedure`` (code),
    ``decision_date``, ``effective_date``, ``public_date`` (or None), ``components_complete``."""
    rows = list(rows)
    if not Province.objects.filter(code=province).exists():
        raise ScoringError(f"unknown province {province!r}")
    procedures = _procedures({r["procedure"] for r in rows})
    for row in rows:
        if row.get("public_date") and row["public_date"] < row["decision_date"]:
            raise ScoringError(
                f"{row['procedure']}: made public ({row['public_date']}) before its decision "
                f"({row['decision_date']})"
            )
        ProcedurePublication.objects.update_or_create(
            province_id=province,
            procedure=procedures[row["procedure"]],
            decision_date=row["decision_date"],
            defaults={
                "effective_date": row["effective_date"],
                "public_date": row.get("public_date"),
                "components_complete": row.get("components_complete", True),
            },
        )
    return len(rows)


@transaction.atomic
def online_catalogue_set(
    *,
    centers: Iterable[str] | None = None,
    province: str | None = None,
    procedures: Iterable[str] | None = None,
    available_from: date,
    replace: bool = False,
) -> int:
    """Declare the procedures offered online by centres (codes ``"P42"``, ``"C18073"``, or all
    centres of ``province``). ``procedures``: codes, default every procedure of the centre's
    level whose current version is partly or fully online. ``replace`` first removes the
    centres' other online services. Returns the rows created or updated."""
    scope = ServiceCenter.objects.all()
    if centers is not None:
        centers = list(centers)
        scope = scope.filter(code__in=centers)
        missing = sorted(set(centers) - set(scope.values_list("code", flat=True)))
        if missing:
            raise ScoringError(f"unknown centre {missing[0]!r}")
    if province is not None:
        if not Province.objects.filter(code=province).exists():
            raise ScoringError(f"unknown province {province!r}")
        scope = scope.filter(province_id=province)
    chosen = _procedures(None if procedures is None else list(procedures))
    online_level = _current_online_levels()
    rows = []
    for center in scope.only("id", "level"):
        for proc in chosen.values():
            level = online_level.get(proc.id, OnlineLevel.NONE)
            if proc.level != center.level:
                continue
            if procedures is None and level == OnlineLevel.NONE:
                continue
            rows.append(
                OnlineService(
                    center_id=center.id,
                    procedure_id=proc.id,
                    online_level=level if level != OnlineLevel.NONE else OnlineLevel.PARTIAL,
                    available_from=available_from,
                )
            )
    if replace:
        OnlineService.objects.filter(center__in=scope).delete()
    OnlineService.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["center", "procedure"],
        update_fields=["online_level", "available_from"],
    )
    return len(rows)


def _current_online_levels() -> dict[int, str]:
    levels: dict[int, tuple[date, str]] = {}
    for pid, valid_from, level in ProcedureVersion.objects.values_list(
        "procedure_id", "valid_from", "online_level"
    ):
        if pid not in levels or levels[pid][0] < valid_from:
            levels[pid] = (valid_from, level)
    return {pid: level for pid, (_, level) in levels.items()}


@transaction.atomic
def certified_copy_set(
    *, communes: Iterable[str], available_from: date, offered: bool = True
) -> int:
    """Declare communes (5-digit codes) offering electronic certified copies, or withdraw them
    with ``offered=False``."""
    communes = list(communes)
    known = set(Commune.objects.filter(code__in=communes).values_list("code", flat=True))
    missing = sorted(set(communes) - known)
    if missing:
        raise ScoringError(f"unknown commune {missing[0]!r}")
    if not offered:
        return CertifiedCopyService.objects.filter(commune_id__in=communes).delete()[0]
    CertifiedCopyService.objects.bulk_create(
        [CertifiedCopyService(commune_id=c, available_from=available_from) for c in communes],
        update_conflicts=True,
        unique_fields=["commune"],
        update_fields=["available_from"],
    )
    return len(communes)


@dataclass
class DemoInputsSummary:
    publications: int
    online_services: int
    certified_copy_communes: int

    def __str__(self):
        return (
            f"{self.publications} procedure publications, {self.online_services} online "
            f"services, {self.certified_copy_communes} communes with electronic certified copies"
        )


@transaction.atomic
def demo_inputs_load(
    *,
    provinces: Iterable[str] | None = None,
    start: date = date(2025, 7, 1),
    seed: int = 1,
    copy_share: float = 0.6,
) -> DemoInputsSummary:
    """Plausible non-dossier inputs for the demo: every province published its catalogue with
    the July 2025 reform (most on time, a few late or incomplete, deterministic by ``seed``);
    each centre offers online the procedures the catalogue marks online; a share of communes
    offer electronic certified copies."""
    import random

    from portal.calendar import working_calendar
    from scoring.counts import add_working_days

    rng = random.Random(seed)
    calendar = working_calendar()
    codes = list(provinces) if provinces is not None else province_codes()
    procedures = list(Procedure.objects.order_by("code").values_list("code", flat=True))
    publications = 0
    for province in codes:
        rows = []
        for code in procedures:
            decision = start - timedelta(days=rng.randint(8, 20))
            effective = add_working_days(decision, rng.choice([3, 5, 6, 7, 8, 10]), calendar)
            delay = rng.choice([1, 2, 3, 4, 5, 5, 6, 8])
            rows.append(
                {
                    "procedure": code,
                    "decision_date": decision,
                    "effective_date": effective,
                    "public_date": add_working_days(decision, delay, calendar),
                    "components_complete": rng.random() > 0.05,
                }
            )
        publications += publication_facts_set(province=province, rows=rows)
    online = 0
    for province in codes:
        online += online_catalogue_set(province=province, available_from=start, replace=True)
    communes = list(
        Commune.objects.filter(province_id__in=codes)
        .order_by("code")
        .values_list("code", flat=True)
    )
    chosen = [c for c in communes if rng.random() < copy_share]
    CertifiedCopyService.objects.filter(commune__province_id__in=codes).delete()
    certified_copy_set(communes=chosen, available_from=start)
    return DemoInputsSummary(publications, online, len(chosen))
