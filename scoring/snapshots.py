"""Index snapshots: every unit's counts, ratios, scores, groups, total and ranks for a date, a
standard window and a methodology version, written under an ``IndexRun`` and published
atomically; custom date ranges scored on request from the daily facts.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal.calendar import working_calendar
from scoring import methodology as M
from scoring.counts import WindowFacts, counts_series, window_facts
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
        return M.indicator_values(self.result)


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
    "counts",
    "rank",
    "rank_of",
    "group_ranks",
)
JSON_COLUMNS = {"groups", "counts", "group_ranks"}


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
    Centres are ranked within their province here; with ``province=None`` the provinces are
    ranked nation-wide too, otherwise by ``snapshots_rank`` once every province is done.

    All dates, windows and versions come from one read of the facts (running totals between
    the dates, ``counts_series``), are scored on whole arrays (``evaluate_arrays``; versions with
    the same parameters share their counts and indicator columns) and written with one COPY."""
    versions = [M.get(m) for m in (methodologies or run.methodologies or snapshot_methodologies())]
    dates = sorted(set(dates))
    if not dates:
        return 0
    units, series = counts_series(
        dates=dates,
        windows=windows,
        params=[v.params for v in versions],
        provinces=None if province is None else [province],
    )
    writer = _SnapshotWriter(run, units, rank_provinces=province is None)
    with transaction.atomic():
        stale = IndexSnapshot.objects.filter(run=run, date__in=dates)
        if province is not None:
            stale = stale.filter(province_id=province)
        stale.delete()
        with writer:
            for point in series:
                shared: dict = {}
                for version in versions:
                    result = M.evaluate_arrays(version, point.counts[version.params])
                    writer.add(point, version, result, shared)
    return writer.rows


def _competition_ranks(values: np.ndarray, scope: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks by value, descending, within each scope (ties share a rank: 1, 2, 2, 4), and the
    scope's size; ``competition_ranks`` on arrays."""
    order = np.lexsort((-values, scope))
    v, s = values[order], scope[order]
    position = np.arange(len(values))
    new_scope = np.r_[True, s[1:] != s[:-1]]
    new_value = new_scope | np.r_[True, v[1:] != v[:-1]]
    scope_start = np.maximum.accumulate(np.where(new_scope, position, 0))
    value_start = np.maximum.accumulate(np.where(new_value, position, 0))
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = value_start - scope_start + 1
    sizes = np.bincount(scope - scope.min())[scope - scope.min()] if len(scope) else scope
    return ranks, sizes


def _copy_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _unescape(match: re.Match) -> str:
    return {"t": "\t", "n": "\n", "r": "\r"}.get(match.group(1), match.group(1))


_CENTS_TEXT = [repr(c / 100) for c in range(20001)]


def _cents_text(cents: int) -> str:
    """Hundredths as the JSON number ``float(Decimal)`` would give (2000 → 20.0)."""
    return _CENTS_TEXT[cents] if 0 <= cents <= 20000 else repr(cents / 100)


def _json_objects(columns: dict[str, list[str]]) -> list[str]:
    """Row by row, the JSON object of the columns' value texts (``{"a": 1, "b": 2}``)."""
    keyed = [[f'"{key}": {text}' for text in texts] for key, texts in columns.items()]
    return ["{" + ", ".join(row) + "}" for row in zip(*keyed)]


class _SnapshotWriter:
    """Snapshot rows of arrays of units, formatted once and streamed: ``COPY`` text on
    PostgreSQL, ``bulk_create`` elsewhere."""

    def __init__(self, run: IndexRun, units, *, rank_provinces: bool):
        self.run, self.units, self.rows = run, units, 0
        n, n_prov = len(units), units.n_provinces
        kinds = units.kinds
        self.scope = np.where(
            np.arange(n) < n_prov, -1 if not rank_provinces else 0, units.province_index + 1
        )
        self.ranked = self.scope >= 0
        self.pg = connection.vendor == "postgresql"
        self.fixed = [
            "\t".join(
                [
                    _copy_text(units.keys[i]),
                    kinds[i],
                    units.provinces[i],
                    "\\N" if units.center_ids[i] is None else str(units.center_ids[i]),
                    _copy_text(units.names[i]),
                ]
            )
            for i in range(n)
        ]
        self.objects: list[IndexSnapshot] = []
        self._texts: dict[tuple[int, int], str] = {}

    def __enter__(self):
        if self.pg:
            table = IndexSnapshot._meta.db_table
            columns = ", ".join(connection.ops.quote_name(c) for c in SNAPSHOT_COLUMNS)
            self._cursor = connection.cursor()
            self._copy_cm = self._cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN")
            self._copy = self._copy_cm.__enter__()
        return self

    def __exit__(self, *exc):
        if self.pg:
            self._copy_cm.__exit__(*exc)
            self._cursor.close()
        elif exc[0] is None:
            IndexSnapshot.objects.bulk_create(self.objects, batch_size=500)
        return False

    def _counts(self, version: M.Methodology, result: M.ArrayResult) -> list[str]:
        """Each unit's stored counts as JSON text: ``[[numerator,denominator],null,...]`` in
        the version's indicator order."""
        parts = []
        for code in version.codes:
            counts = result.counts[code]
            if counts is None:
                parts.append(["null"] * len(self.units))
                continue
            # Many units share a pair (a province's catalogue facts, small communes): format
            # each distinct pair once per run and spread the texts by index. One int64 key per
            # pair: np.unique on rows (axis=0) sorts them as bytes, 5× slower.
            numerators, denominators = counts[0].astype(np.int64), counts[1].astype(np.int64)
            keys = numerators * (int(denominators.max(initial=0)) + 1) + denominators
            _, first, spread = np.unique(keys, return_index=True, return_inverse=True)
            texts = self._texts
            column = np.empty(len(first), dtype=object)
            for k, pair in enumerate(zip(numerators[first].tolist(), denominators[first].tolist())):
                text = texts.get(pair)
                if text is None:
                    text = texts[pair] = f"[{pair[0]},{pair[1]}]"
                column[k] = text
            parts.append(column[spread.reshape(-1)].tolist())
        return ["[" + ",".join(row) + "]" for row in zip(*parts)]

    def add(self, point, version: M.Methodology, result: M.ArrayResult, shared: dict) -> None:
        """The rows of one date, window and version. ``shared`` carries the counts column of
        the point to the next version when both count alike (same parameters and indicators)."""
        key = (version.params, version.codes)
        if key not in shared:
            shared[key] = self._counts(version, result)
        counts = shared[key]
        columns = list(result.columns)
        ranked = self.ranked
        scope = self.scope[ranked]
        rank = np.zeros(len(self.units), dtype=np.int64)
        rank_of = np.zeros(len(self.units), dtype=np.int64)
        rank[ranked], rank_of[ranked] = _competition_ranks(result.total[ranked], scope)
        column_ranks = {}
        for column in columns:
            r = np.zeros(len(self.units), dtype=np.int64)
            r[ranked] = _competition_ranks(result.columns[column][ranked], scope)[0]
            column_ranks[column] = r.tolist()
        # Text column by column (a list comprehension per display column), joined row by row.
        groups = _json_objects(
            {c: [_cents_text(v) for v in result.columns[c].tolist()] for c in columns}
        )
        group_ranks = _json_objects({c: list(map(str, r)) for c, r in column_ranks.items()})
        ranks = [
            f"{r}\t{of}\t{g}" if is_ranked else "\\N\t\\N\t{}"
            for is_ranked, r, of, g in zip(
                ranked.tolist(), rank.tolist(), rank_of.tolist(), group_ranks
            )
        ]
        head = f"{self.run.pk}\t{point.on.isoformat()}\t{point.window}\t"
        head += f"{point.start.isoformat()}\t{version.code}\t"
        lines = [
            f"{head}{fixed}\t{total // 100}.{total % 100:02d}\t{g}\t{c}\t{r}\n"
            for fixed, total, g, c, r in zip(
                self.fixed, result.total.tolist(), groups, counts, ranks
            )
        ]
        self.rows += len(lines)
        if self.pg:
            self._copy.write("".join(lines))
        else:
            self.objects.extend(self._object(line) for line in lines)

    @staticmethod
    def _object(line: str) -> IndexSnapshot:
        values = dict(zip(SNAPSHOT_COLUMNS, line.rstrip("\n").split("\t")))
        for column in JSON_COLUMNS:
            values[column] = json.loads(values[column])
        for column in ("center_id", "rank", "rank_of"):
            values[column] = None if values[column] == "\\N" else int(values[column])
        values["total"] = Decimal(values["total"])
        values["name"] = re.sub(r"\\(.)", _unescape, values["name"])
        return IndexSnapshot(**values)


def snapshots_rank(*, run: IndexRun) -> int:
    """Rank the provinces of every (date, window, methodology) of the run nation-wide (those
    written province by province; ``snapshots_compute`` of all provinces ranks them itself)."""
    provinces = list(
        IndexSnapshot.objects.filter(run=run, unit_kind=UnitKind.PROVINCE, rank__isnull=True).only(
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


def snapshots_publish(*, run: IndexRun, rows: int | None = None) -> list[date]:
    """Make the run's snapshots the current ones for each of its dates, in one transaction:
    readers see the previous complete run or this one, never a mix. ``rows``: how many the
    run wrote, when known (else counted)."""
    days = (run.date_to - run.date_from).days + 1
    dates = [
        on
        for on in (run.date_from + timedelta(days=n) for n in range(days))
        if IndexSnapshot.objects.filter(run=run, date=on).exists()
    ]
    now = timezone.now()
    with transaction.atomic():
        IndexPublication.objects.bulk_create(
            [IndexPublication(date=on, run=run, published_at=now) for on in dates],
            update_conflicts=True,
            unique_fields=["date"],
            update_fields=["run", "published_at"],
        )
        IndexRun.objects.filter(pk=run.pk).update(
            status=IndexRun.Status.COMPLETE,
            finished_at=now,
            heartbeat_at=now,
            rows=IndexSnapshot.objects.filter(run=run).count() if rows is None else rows,
        )
    return dates
