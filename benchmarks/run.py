"""Run the benchmark suite: ``python -m benchmarks.run --size small|medium|large``.

Each module in ``MODULES`` exposes ``run(size, **context) -> list[Figure]``. Results go to
``docs/benchmarks/results-<size>.json``; ``docs/benchmarks.md`` is regenerated from every results
file present, with charts of cost against size.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks"
SIZES = {"small": 100_000, "medium": 1_000_000, "large": 10_000_000}
MODULES = [
    "benchmarks.bench_deadlines",
    "benchmarks.bench_backfill",
    "benchmarks.bench_index",
    "benchmarks.bench_http",
    "benchmarks.bench_pages",
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--only", nargs="*", help="module names to run (default: all)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from portal.services import reference_data_load

    call_command("migrate", verbosity=0)
    reference_data_load()
    from benchmarks.harness import machine

    figures, errors = [], []
    for name in MODULES:
        if args.only and name.rsplit(".", 1)[-1] not in args.only and name not in args.only:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                errors.append({"module": name, "error": "not written yet"})
                continue
            raise
        started = time.perf_counter()
        print(f"== {name} ({args.size})", flush=True)
        try:
            figures += module.run(args.size, dossiers=SIZES[args.size])
        except Exception as exc:  # a failing benchmark is reported, the others still run
            traceback.print_exc()
            errors.append({"module": name, "error": f"{type(exc).__name__}: {exc}"})
        print(f"   {time.perf_counter() - started:.1f} s", flush=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"results-{args.size}.json"
    out.write_text(
        json.dumps(
            {
                "size": args.size,
                "dossiers": SIZES[args.size],
                "machine": machine(),
                "figures": [f.as_dict() for f in figures],
                "errors": errors,
                "at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            },
            indent=1,
            ensure_ascii=False,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    from benchmarks.report import write_report

    write_report(RESULTS, ROOT / "docs" / "benchmarks.md")
    for f in figures:
        verdict = {True: "met", False: "MISSED", None: "-"}[f.met]
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        print(f"{f.path:<70} ratio {ratio:>6}  {verdict}")
    for e in errors:
        print(f"{e['module']}: {e['error']}")
    return 0


def ensure_database(url: str) -> None:
    """Create the benchmark database on first use (PostgreSQL only)."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(f'create database "{name}"')


if __name__ == "__main__":
    sys.exit(main())
