"""Floors of the index targets: what the index's inputs cost to read and its outputs cost to
write on this server with no computation at all — plain statements over the rows the product
reads and writes, in transactions rolled back — beside the same conditional aggregate as
``bench_index``, measured in the same run.

- the night's reads: the dossier rows a night's facts are made of (accepted or finished on the
  day, open at its end), fetched by the same indexes and summed per centre;
- the night's writes: the day's published snapshot rows (every unit, standard window and
  methodology) inserted again under another run by one ``INSERT … SELECT`` from a temporary
  copy (the write alone: every index and constraint of the table in place);
- the year's writes: the year's daily facts, year-to-date totals and monthly procedure facts
  inserted again into their emptied tables, and a pass of snapshot dates inserted again,
  multiplied by the passes of the year.

A floor is not a target: when the night's reads and writes alone exceed 0.2× the aggregate, or
the year's writes alone exceed 2×, no computation over these tables meets the target, and the
distance to the floor is what the code can still win.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import connection

from benchmarks.bench_index import (
    NIGHTLY_TARGET,
    REBUILD_TARGET,
    aggregate,
    rolled_back,
    throwaway_run,
)
from benchmarks.data import PERIOD
from benchmarks.harness import Figure, Measurement, repeat


def _timed_rolled_back(prepare, measured) -> float:
    """Seconds of ``measured(cursor, prepared)`` after ``prepared = prepare(cursor)`` (not
    timed), in a transaction rolled back afterwards."""
    with rolled_back(), connection.cursor() as cursor:
        prepared = prepare(cursor)
        start = time.perf_counter()
        measured(cursor, prepared)
        seconds = time.perf_counter() - start
    return seconds


def _floor(*, size, path, measured, limit, target_name, target, notes, extra) -> Figure:
    """A floor beside its target: the ratio to the aggregate and whether it lies below."""
    ratio = measured.median / limit.median
    verdict = f"{'below' if ratio <= target else 'above'} the target's {target}×"
    return Figure(
        path=path,
        size=size,
        measured=measured,
        limit=limit,
        target=f"- (the {target_name} target: ≤ {target}×)",
        ratio=ratio,
        notes=f"{notes}; {verdict}",
        extra=extra,
    )


def night_reads(day) -> int:
    """The dossier rows of the night's facts, read and summed per centre."""
    from scoring.facts import OPEN, day_start

    columns = "center_id, channel, fee_vnd, due_at, finished_at, supplement_count, synced"
    sql = f"""
        SELECT center_id, count(*), sum(fee_vnd), count(*) FILTER (WHERE synced),
               count(*) FILTER (WHERE finished_at > due_at OR supplement_count > 1)
        FROM (
            SELECT {columns} FROM dossiers_dossier WHERE accepted_at >= %(s)s AND accepted_at < %(e)s
            UNION ALL
            SELECT {columns} FROM dossiers_dossier WHERE finished_at >= %(s)s AND finished_at < %(e)s
            UNION ALL
            SELECT {columns} FROM dossiers_dossier
            WHERE state IN ({OPEN}) AND accepted_at < %(e)s
            UNION ALL
            SELECT {columns} FROM dossiers_dossier
            WHERE state NOT IN ({OPEN}) AND finished_at >= %(e)s AND accepted_at < %(e)s
        ) touched GROUP BY center_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"s": day_start(day), "e": day_start(day + timedelta(days=1))})
        return sum(row[1] for row in cursor.fetchall())


def snapshot_writes(dates) -> float:
    """Seconds to insert again the published snapshot rows of ``dates`` under a new run (read
    into a temporary table first, not timed: only the write is)."""
    from scoring.snapshots import SNAPSHOT_COLUMNS

    columns = ", ".join(connection.ops.quote_name(c) for c in SNAPSHOT_COLUMNS if c != "run_id")

    def prepare(cursor):
        cursor.execute(
            f"CREATE TEMP TABLE published ON COMMIT DROP AS SELECT {columns} "
            "FROM scoring_indexsnapshot s WHERE s.date = ANY(%s) AND s.run_id = "
            "(SELECT p.run_id FROM scoring_indexpublication p WHERE p.date = s.date)",
            [list(dates)],
        )
        return throwaway_run(dates).pk

    def measured(cursor, run_id):
        cursor.execute(
            f"INSERT INTO scoring_indexsnapshot (run_id, {columns}) "
            f"SELECT %s, {columns} FROM published",
            [run_id],
        )

    return _timed_rolled_back(prepare, measured)


def fact_writes() -> float:
    """Seconds to insert the year's fact rows again into their emptied tables (ids generated,
    every index and constraint in place, as a rebuild writes them)."""
    from scoring.models import DailyFact, MonthlyProcedureFact, YearToDateFact

    columns = {
        model._meta.db_table: ", ".join(
            connection.ops.quote_name(f.column)
            for f in model._meta.concrete_fields
            if not f.primary_key
        )
        for model in (DailyFact, YearToDateFact, MonthlyProcedureFact)
    }

    def prepare(cursor):
        for table in columns:
            cursor.execute(
                f"CREATE TEMP TABLE copy_{table} ON COMMIT DROP AS SELECT * FROM {table}"
            )
            cursor.execute(f"TRUNCATE {table}")

    def measured(cursor, _):
        for table, names in columns.items():
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM copy_{table}")

    return _timed_rolled_back(prepare, measured)


def run(size: str, **_) -> list[Figure]:
    from scoring.services import DATES_PER_PASS

    day = PERIOD[1]
    year_days = (PERIOD[1] - PERIOD[0]).days + 1
    limit = Measurement("conditional aggregate", repeat(aggregate), unit="statement")
    reads = Measurement("the night's dossier rows read", repeat(lambda: night_reads(day)))
    writes = Measurement(
        "the night's snapshot rows written", [snapshot_writes([day]) for _ in range(5)]
    )
    night = Measurement("the night's reads + writes", [reads.median + writes.median], unit="night")
    month = [day - timedelta(days=n) for n in range(DATES_PER_PASS)]
    pass_writes = Measurement(
        f"snapshot rows of {len(month)} dates written", [snapshot_writes(month) for _ in range(2)]
    )
    facts = Measurement("the year's fact rows written", [fact_writes() for _ in range(2)])
    year = Measurement(
        "the year's writes",
        [facts.median + pass_writes.median / len(month) * year_days],
        unit="year",
    )
    return [
        _floor(
            size=size,
            path="floor of the nightly run: its reads and writes, no computation",
            measured=night,
            limit=limit,
            target_name="nightly",
            target=NIGHTLY_TARGET,
            notes=(
                f"the day's dossier rows read {reads.median:.2f} s, its snapshot rows written "
                f"{writes.median:.2f} s"
            ),
            extra={"reads": reads.summary(), "writes": writes.summary()},
        ),
        _floor(
            size=size,
            path="floor of a full rebuild: the year's rows written, no computation",
            measured=year,
            limit=limit,
            target_name="rebuild",
            target=REBUILD_TARGET,
            notes=(
                f"the year's facts, totals and procedure facts written {facts.median:.1f} s; "
                f"{year_days} dates of snapshot rows {year.median - facts.median:.1f} s "
                f"(a {len(month)}-date pass written in {pass_writes.median:.1f} s)"
            ),
            extra={"facts": facts.summary(), "snapshot_pass": pass_writes.summary()},
        ),
    ]
