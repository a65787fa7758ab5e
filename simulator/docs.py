"""docs/simulator.md: how to run the simulator and the reference of every scenario parameter
(the second half is generated from ``simulator.schema``; ``simulate --describe --write-docs``
rewrites the file, a test checks it is current)."""

from __future__ import annotations

from pathlib import Path

from simulator.schema import describe

DOC = Path(__file__).resolve().parent.parent / "docs" / "simulator.md"

GUIDE = """\
# Simulator

The simulator produces citizens, dossiers and their whole history, payments, ratings and
petitions, through the rules of the real system, from one commune for a day to the whole
country for a year. Scenarios are YAML files in `simulator/scenarios/`.

## Commands

```sh
python manage.py simulate --scenario hatinh-2025-07 --seed 1            # backfill + index
python manage.py simulate --scenario national-2025-07 --seed 1 --scale 0.05 --reset --yes
python manage.py simulate --scenario demo --seed 1 --from 2025-07-07 --to 2025-07-10 --no-index
python manage.py simulate --describe                                    # this parameter table
python manage.py calibration --scenario hatinh-2025-07                  # vs the seed article
python manage.py simulate_live --base-url http://127.0.0.1:8000 --citizens 20 --staff 3 \\
    --rate 2 --duration 60                                              # agents on the REST API
```

- `--seed N` (required): the same scenario file, seed and scale give the same rows (codes,
  times, states, events, people); every province-day has its own random streams, so the order
  of work does not matter.
- `--scale F` multiplies the demand (and the citizens); `--from/--to` narrow the period.
- `--reset` deletes the dossiers (with history, payments, ratings, documents), petitions, day
  counters and simulated citizens of the scenario's provinces first; it asks for confirmation
  unless `--yes`. Without it, a run into provinces that already hold dossiers is refused.
- `--no-index` skips the index; otherwise daily facts are computed for the whole period (and
  the day before it) and snapshots for the scenario's `index.snapshot_days` last days
  (`--index-days N` overrides), by `scoring.services.index_recompute`.
- Bad input — unknown scenario, an invalid parameter (a share above 1, a negative rate, an
  unknown province or procedure code), an end before the start — prints one line naming the
  key and exits with status 2; nothing is written.

## What a backfill writes, and how

For every day of the period (after a warm-up of `carried_over.warmup_days`, so the stock
carried into the period is realistic) and every province, the generator draws the day's
dossiers per centre, then lives each one to the end of the period: submission or reception,
acceptance (due time from the deadline engine, on integer minutes: `simulator/clock.py`, tested
equal to `dossiers/deadlines.py`), processing, supplements (the clock pauses), the fee request
and payment, apology slips, the result, its return and the citizen's rating. Every step is a
method of `simulator.lifecycle.SimDossier` with exactly the effect of the matching service in
`dossiers/services.py`; `tests/simulator/test_replay.py` replays generated dossiers through the
services and compares every field and history row.

Rows are written in batches of 5,000 dossiers, one transaction each: PostgreSQL `COPY`
(psycopg 3) while a child process generates and encodes the next batch (Python on one core,
PostgreSQL on the other; two batches in flight at most, so memory stays flat), bulk inserts on
SQLite. Day counters
(`DossierCounter`) are written too, so the desks number their next dossiers after the
simulated ones. Staff are one receptionist and one officer per centre (`sim-desk-<centre>`,
`sim-officer-<centre>`); citizens are `sim-<CCCD>` with unique 12-digit citizen IDs beginning
with 0 + the province code.

Not produced: document files (dossiers carry the documents' names and the digitisation flags;
no `Document` rows) and e-mails (simulated citizens have no address, so the services would
queue none either). The integration facts of the national systems (`population_data`,
`personal_storage`, `synced`) are drawn by share and passed as the submitting services take
them. The catalogue's procedure versions start with the July 2025 reform; a history that
begins earlier gets a version with the same rules valid from its first day.

## At national scale (measured)

A national year — `benchmarks/scenarios/national-year.yaml` (34,000 dossiers per working day,
default behaviour) at scale 1, 2024-08-01 .. 2025-07-31, on the 2-core development machine with
other jobs running: 9,532,219 dossiers, 51,255,183 events, 6,077,336 payments, 2,750,442 ratings
and 3,869,482 citizens generated and written in 3,108 s (3,280 dossiers/s; staff and citizens
182 s, dossiers 2,906 s), database ≈ 26 GB; the year's daily facts then took 185 s
(`python -m benchmarks.run --size large` prepares and measures it; figures in
`docs/benchmarks.md`). The backfill runs at 0.95× a plain `COPY` of the same rows with a
worker's peak RSS of 322 MiB.

The calibrated `national-2025-07` scenario over a whole year, generated and scored on the same
2-core machine, idle, on 2026-11-26:

    /usr/bin/time -v python manage.py simulate --scenario national-2025-07 --seed 1 \
        --scale 0.8 --from 2024-07-25 --to 2025-07-24 --index-days 1

| | |
|---|---|
| rows | 18,476,051 dossiers, 92,573,679 events, 11,689,652 payments, 5,346,890 ratings, 147,858 petitions, 7,400,480 citizens, 6,710 staff |
| wall time | 53 min 52 s (3,230 s): staff and citizens 223 s, dossiers 2,781 s (6,643 dossiers/s), index inputs 6 s, index 220 s (the year's daily facts, then the snapshots of 24 July) |
| disk | 39 GB (`pg_database_size`, 41,691,536,743 bytes), ≈ 2.1 GB per million dossiers |
| memory | peak RSS 996 MiB (the command; the generating child process is separate) |
| rate | 6,643 dossiers/s sustained over 18.5 M dossiers: 0.82× the plain `COPY` rate the backfill benchmark measures (8,077 dossiers/s on a 10-day window, not in the same run) |
| index on 24 July 2025 | `rankings --date 2025-07-24 --window ytd --methodology 2025-07`: Hà Tĩnh 1st of 34 (78.40), Đồng Nai 19th (70.90), Bắc Ninh 23rd (68.68), Lai Châu last (62.08) |

Scale 0.8 over a year is ≈ 18.5 M dossiers (about the 20 M of a national year); scale 1 is
≈ 23 M. Since this run the command refreshes the planner's statistics right after the
dossiers are written (`ANALYZE`, phase "statistics"): in the measured run the index phase ran
on tables autovacuum had not analysed yet, and on the national year the nightly index went
from 13.0 s to 5.4 s with fresh statistics, the day's facts planned without JIT and the
procedure masks read as one event per monthly row (`docs/benchmarks.md`).

## Scenarios shipped

| scenario | what | size |
|---|---|---|
| `hatinh-2025-07` | Hà Tĩnh, 1 January – 24 July 2025, calibrated to the seed article (`docs/calibration.md`) | ≈ 295,000 dossiers |
| `national-2025-07` | the 34 provinces, January – July 2025; Hà Tĩnh as calibrated, the others degraded by a quality per province (Hà Tĩnh first on 24 July, Đồng Nai ≈ 71, Bắc Ninh ≈ 23rd) | ≈ 12 million at scale 1 |
| `demo` | the 34 provinces, 1–24 July 2025, low volume (`make demo`) | ≈ 20,000 |

"""


def document() -> str:
    reference = describe().split("\n", 2)[2].lstrip("\n").replace("\n## `", "\n### `")
    return GUIDE + "## Parameters\n\n" + reference


def write() -> Path:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(document(), encoding="utf-8")
    return DOC
