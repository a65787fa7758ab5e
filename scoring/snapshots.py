"""Index snapshots: every unit's counts, ratios, scores, groups, total and ranks for a date, a
standard window and a methodology version, written under an ``IndexRun`` and published
atomically; custom date ranges scored on request from the daily facts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal.calendar import working_calendar
from scoring import methodology as M
from scoring.counts import WindowFacts, window_facts, windows_facts
from scoring.models import IndexPublication, IndexRun, IndexSnapshot, UnitKind, Window

STANDARD_WINDOWS = (Window.MONTH, Window.QUARTER, Window.YTD)


def snapshot_methodologies() -> tuple[str, ...]:
    """Versions snapshotted every night (setting ``SCORING_METHODOLOGIES``; default: all)."""
    return tuple(getattr(settings, "SCORING_METHODOLOGIES", None) or M.METHODOLOGIES)


def window_start(window: str, on: date) -> date:
    if window == Window.MONTH:
        return on.replace(day=1)
    if window == Window.QUARTER:
        return on.replace(month=(on.month - 1) // 3 * 3 + 1, day=1)
    if window == Window.YTD:
        return on.replace(month=1, day=1)
    raise ValueError(f"unknown window {window!r} (month, quarter, ytd)")


@dataclass
class UnitScore:
    """A scored unit for a window (what a snapshot row stores, and what custom ranges return)."""

    key: str
    kind: str
    province: str
    name: str
    center_id: int | None
    counts: dict[str, tuple[int, int]]
    result: M.Result
    rank: int | None = None
    rank_of: int | None = None
    group_ranks: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.result.total

    @property
    def groups(self) -> dict[str, Decimal]:
        return self.result.groups

    def indicators_json(self) -> dict[str, list]:
        return {
            code: [
                r.numerator,
                r.denominator,
                None if r.ratio is None else float(r.ratio),
                None if r.score is None else float(r.score),
            ]
            for code, r in self.result.indicators.items()
        }


def score_units(
    facts: WindowFacts, methodology: str | M.Methodology, keys: Iterable[str] | None = None
) -> dict[str, UnitScore]:
    version = M.get(methodology)
    calendar = working_calendar()
    scores = {}
    for key in facts.units if keys is None else keys:
        unit = facts.units[key]
        counts = facts.counts(key, version, calendar)
        scores[key] = UnitScore(
            key,
            unit.kind,
            unit.province,
            unit.name,
            unit.center_id,
            counts,
            M.evaluate(version, counts),
        )
    return scores


def rank_units(scores: Iterable[UnitScore]) -> None:
    """Rank provinces among provinces, and each province's centres among themselves, by total
    and by every display column. Ties share a rank."""
    scopes: dict[tuple, list[UnitScore]] = defaultdict(list)
    for s in scores:
        scope = ("nation",) if s.kind == UnitKind.PROVINCE else ("province", s.province)
        scopes[scope].append(s)
    for members in scopes.values():
        by_key = {s.key: s for s in members}
        for key, rank in M.competition_ranks({s.key: s.total for s in members}).items():
            by_key[key].rank, by_key[key].rank_of = rank, len(members)
        columns = members[0].groups.keys()
        for column in columns:
            ranks = M.competition_ranks({s.key: s.groups[column] for s in members})
            for key, rank in ranks.items():
                by_key[key].group_ranks[column] = rank


@dataclass
class RangeScores:
    date_from: date
    date_to: date
    methodology: str
    units: dict[str, UnitScore]
    facts: WindowFacts

    def provinces(self) -> list[UnitScore]:
        return sorted(
            (s for s in self.units.values() if s.kind == UnitKind.PROVINCE),
            key=lambda s: (s.rank or 0, s.key),
        )

    def province_units(self, province: str) -> list[UnitScore]:
        """The provincial centre and communes of a province, by rank."""
        return sorted(
            (
                s
                for s in self.units.values()
                if s.province == province and s.kind != UnitKind.PROVINCE
            ),
            key=lambda s: (s.rank or 0, s.key),
        )


def scores_for_range(
    *,
    date_from: date,
    date_to: date,
    methodology: str = M.DEFAULT_METHODOLOGY,
    province: str | None = None,
    all_units: bool = False,
) -> RangeScores:
    """Score a custom date range on request from the daily facts: the 34 provinces (ranked),
    plus the centres of ``province`` (ranked within it), or every unit with ``all_units``."""
    version = M.get(methodology)
    facts = window_facts(date_from=date_from, date_to=date_to)
    keys = [
        k
        for k, u in facts.units.items()
        if all_units or u.kind == UnitKind.PROVINCE or u.province == province
    ]
    scores = score_units(facts, version, keys)
    rank_units(scores.values())
    return RangeScores(date_from, date_to, version.code, scores, facts)


# --- Snapshots under a run --------------------------------------------------------------------


def _snapshot_row(run: IndexRun, on: date, window: str, start: date, s: UnitScore, version):
    """A snapshot row as a dict of column values (COPY writes them as they are)."""
    return {
        "run_id": run.pk,
        "date": on,
        "window": window,
        "window_from": start,
        "methodology": version,
        "unit": s.key,
        "unit_kind": s.kind,
        "province_id": s.province,
        "center_id": s.center_id,
        "name": s.name,
        "total": s.total,
        "groups": {k: float(v) for k, v in s.groups.items()},
        "indicators": s.indicators_json(),
        "rank": s.rank,
        "rank_of": s.rank_of,
        "group_ranks": s.group_ranks,
    }


SNAPSHOT_COLUMNS = (
    "run_id",
    "date",
    "window",
    "window_from",
    "methodology",
    "unit",
    "unit_kind",
    "province_id",
    "center_id",
    "name",
    "total",
    "groups",
    "indicators",
    "rank",
    "rank_of",
    "group_ranks",
)
JSON_COLUMNS = {"groups", "indicators", "group_ranks"}


def insert_snapshots(rows: list[dict]) -> None:
    """Insert snapshot rows: ``COPY`` on PostgreSQL (20,000 rows with JSON a night; a plain
    multi-row INSERT spends most of its time quoting them), ``bulk_create`` elsewhere."""
    if connection.vendor != "postgresql":
        IndexSnapshot.objects.bulk_create([IndexSnapshot(**r) for r in rows], batch_size=500)
        return
    table = IndexSnapshot._meta.db_table
    columns = ", ".join(connection.ops.quote_name(c) for c in SNAPSHOT_COLUMNS)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [json.dumps(row[c]) if c in JSON_COLUMNS else row[c] for c in SNAPSHOT_COLUMNS]
            )


def snapshots_compute(
    *,
    run: IndexRun,
    dates: Iterable[date],
    province: str | None = None,
    windows: Iterable[str] = STANDARD_WINDOWS,
    methodologies: Iterable[str] | None = None,
) -> int:
    """Write the snapshots of one province (or all with ``province=None``) for ``dates`` under
    ``run``: replaces what the run already wrote for them, so a redelivered task is harmless.
    Centres are ranked within their province here; provinces are ranked by
    ``snapshots_rank`` once every province is done."""
    methodologies = tuple(methodologies or run.methodologies or snapshot_methodologies())
    provinces = None if province is None else [province]
    written = 0
    windows = tuple(windows)
    for on in dates:
        rows = []
        starts = [window_start(window, on) for window in windows]
        all_facts = windows_facts(windows=[(start, on) for start in starts], provinces=provinces)
        for window, start, facts in zip(windows, starts, all_facts):
            for version in methodologies:
                scores = score_units(facts, version)
                rank_units(s for s in scores.values() if s.kind != UnitKind.PROVINCE)
                rows.extend(
                    _snapshot_row(run, on, window, start, s, version) for s in scores.values()
                )
        with transaction.atomic():
            stale = IndexSnapshot.objects.filter(run=run, date=on)
            if province is not None:
                stale = stale.filter(province_id=province)
            stale.delete()
            insert_snapshots(rows)
        written += len(rows)
    return written


def snapshots_rank(*, run: IndexRun) -> int:
    """Rank the provinces of every (date, window, methodology) of the run nation-wide."""
    provinces = list(
        IndexSnapshot.objects.filter(run=run, unit_kind=UnitKind.PROVINCE).only(
            "id", "date", "window", "methodology", "unit", "total", "groups"
        )
    )
    scopes: dict[tuple, list[IndexSnapshot]] = defaultdict(list)
    for snap in provinces:
        scopes[(snap.date, snap.window, snap.methodology)].append(snap)
    for members in scopes.values():
        by_unit = {s.unit: s for s in members}
        for unit, rank in M.competition_ranks({s.unit: s.total for s in members}).items():
            by_unit[unit].rank, by_unit[unit].rank_of = rank, len(members)
        for column in members[0].groups:
            values = {s.unit: Decimal(str(s.groups[column])) for s in members}
            for unit, rank in M.competition_ranks(values).items():
                by_unit[unit].group_ranks[column] = rank
    IndexSnapshot.objects.bulk_update(provinces, ["rank", "rank_of", "group_ranks"], 1000)
    return len(provinces)


def snapshots_publish(*, run: IndexRun) -> list[date]:
    """Make the run's snapshots the current ones for each of its dates, in one transaction:
    readers see the previous complete run or this one, never a mix."""
    dates = sorted(set(IndexSnapshot.objects.filter(run=run).values_list("date", flat=True)))
    now = timezone.now()
    with transaction.atomic():
        for on in dates:
            IndexPublication.objects.update_or_create(
                date=on, defaults={"run": run, "published_at": now}
            )
        IndexRun.objects.filter(pk=run.pk).update(
            status=IndexRun.Status.COMPLETE,
            finished_at=now,
            heartbeat_at=now,
            rows=IndexSnapshot.objects.filter(run=run).count(),
        )
    return dates
