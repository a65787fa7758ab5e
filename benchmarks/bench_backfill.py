"""Backfill throughput: the simulator's backfill (generate + encode + COPY of dossiers and their
whole history) beside a plain ``COPY`` of the very same rows from memory (target ≥ 0.5×).

Runs in a subprocess on its own scratch database ``bench_backfill`` (migrated, reference data),
so the prepared benchmark data is never touched. Order in the worker:

1. one untimed backfill whose encoded flushes are recorded in memory (the rows of the limit);
2. the limit: the dossier tables are emptied and the recorded rows written back with one plain
   ``COPY ... FROM STDIN`` per table and flush, in one transaction per flush (warm-up + repeats);
3. the measured path: the backfill of ``simulate --reset --no-index`` for the same scenario,
   seed and scale (``simulator.backfill``: reset, staff and citizens untimed, then generation,
   encoding and the threaded COPY writer of dossiers, events, payments, ratings and petitions,
   timed by the backfill's own ``generate_seconds``), repeated (the recording run of step 1 is
   its warm-up). The index inputs and the index, which ``simulate`` runs afterwards, are not
   part of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from benchmarks.harness import REPEATS, Figure, Measurement

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = Path(__file__).resolve().parent / "scenarios" / "national-year.yaml"
# Ten days of the whole country (after the scenario's 45 warm-up days that make the carried-over
# stock): scale per size so one run writes about 25 k / 60 k / 120 k dossiers.
PERIOD = (date(2025, 7, 1), date(2025, 7, 10))
SCALES = {"small": 0.02, "medium": 0.05, "3m": 0.075, "large": 0.1}
DB = "bench_backfill"
TARGET = 0.5


def run(size: str, **_) -> list[Figure]:
    base = os.environ["DATABASE_URL"].rpartition("/")[0]
    env = dict(os.environ, DATABASE_URL=f"{base}/{DB}")
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_backfill", str(SCALES[size])],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    dossiers = result["dossiers"]
    measured = Measurement("run_backfill", result["backfill"], work=dossiers, unit="dossier")
    limit = Measurement("plain COPY", result["copy"], work=dossiers, unit="dossier")
    ratio = limit.median / measured.median
    return [
        Figure(
            path="backfill (dossiers + events per second)",
            size=size,
            measured=measured,
            limit=limit,
            target=f"≥ {TARGET}× the limit",
            ratio=ratio,
            met=ratio >= TARGET,
            notes=(
                f"{dossiers:,} dossiers and {result['events']:,} events per run (national-year, "
                f"{PERIOD[0]} .. {PERIOD[1]} + 45 warm-up days, scale {SCALES[size]}); backfill "
                f"{measured.rate:,.0f} dossiers/s ({result['events'] / measured.median:,.0f} "
                f"events/s), plain COPY {limit.rate:,.0f} dossiers/s; peak RSS of the worker "
                f"{result['max_rss_mib']:.0f} MiB"
            ),
            extra=result,
        )
    ]


# --- the worker (``python -m benchmarks.bench_backfill SCALE`` with DATABASE_URL set) ----------


def _ensure_database() -> None:
    from benchmarks.run import ensure_database

    ensure_database(os.environ["DATABASE_URL"])


def _truncate_dossiers() -> None:
    from django.db import connection

    from dossiers.models import (
        Document,
        Dossier,
        DossierCounter,
        DossierEvent,
        OutboxMessage,
        Payment,
        Petition,
        PetitionEvent,
        Rating,
        service_writes,
    )
    from portal.history import history_purge

    models = (PetitionEvent, Petition, OutboxMessage, Rating, Payment, Document, DossierEvent,
              Dossier, DossierCounter)  # fmt: skip
    with history_purge(), service_writes(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{m._meta.db_table}"' for m in models))


def _plain_copy(flushes, specs) -> None:
    """Each recorded flush in one transaction, one COPY per table: the physical limit."""
    from django.db import connection, transaction

    for rows in flushes:
        with transaction.atomic(), connection.cursor() as cursor:
            for key, (table, columns) in specs.items():
                data = rows.tables.get(key)
                if not data:
                    continue
                cols = ", ".join(f'"{c}"' for c in columns)
                with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    copy.write("".join(data))


def worker(scale: float) -> dict:
    import resource
    import time

    import django

    django.setup()
    from django.core.management import call_command

    from portal.services import reference_data_load
    from simulator import backfill
    from simulator.scenario import load_scenario

    call_command("migrate", verbosity=0)
    reference_data_load()
    scenario = load_scenario(str(SCENARIO)).with_period(*PERIOD)

    opts = backfill.Options(
        scenario=scenario, seed=1, scale=scale, reset=True, index=False, progress=False
    )
    begin = backfill.first_day(scenario)
    backfill.ensure_rules_in_force(begin)

    def backfill_once():
        """What ``simulate --reset --no-index`` does before the index inputs: reset, staff,
        citizens, then the timed generation and writing (``Summary.generate_seconds``)."""
        summary = backfill.Summary(
            scenario.name, 1, scale, scenario.start, scenario.end, len(scenario.provinces)
        )
        backfill.reset_scope(scenario.provinces)
        backfill._generate(opts, summary, begin, lambda *a: None)
        return summary

    # 1. Record the flushes of one run (they are written too, as usual).
    recorded = []
    original = backfill.Pipeline

    class Recording(original):
        def put(self, rows):
            recorded.append(rows)
            super().put(rows)

    backfill.Pipeline = Recording
    try:
        summary = backfill_once()
    finally:
        backfill.Pipeline = original
    specs = backfill.table_specs(backfill.check_dossier_fields())

    # 2. The limit: the same rows, plain COPY from memory.
    copy_runs = []
    for n in range(REPEATS + 1):
        _truncate_dossiers()
        start = time.perf_counter()
        _plain_copy(recorded, specs)
        if n:  # the first is the warm-up
            copy_runs.append(time.perf_counter() - start)
    recorded.clear()

    # 3. The backfill itself.
    backfill_runs = []
    for _ in range(REPEATS):  # the recording run above was the warm-up
        s = backfill_once()
        if s.counts["dossiers"] != summary.counts["dossiers"]:
            raise RuntimeError("the backfill is not deterministic: row counts differ")
        backfill_runs.append(s.generate_seconds)
    return {
        "dossiers": summary.counts["dossiers"],
        "events": summary.counts["events"],
        "payments": summary.counts["payments"],
        "ratings": summary.counts["ratings"],
        "backfill": backfill_runs,
        "copy": copy_runs,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    _ensure_database()
    print(json.dumps(worker(float(sys.argv[1]))))
