"""``python manage.py simulate --scenario NAME|PATH --seed N [--scale F] [--from D --to D]
[--reset [--yes]] [--no-index]``: generate a scenario's history, then compute its index."""

from __future__ import annotations

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from simulator.backfill import Options, preflight, run_backfill
from simulator.scenario import ScenarioError, load_scenario
from simulator.schema import describe


def _date(option: str):
    def parse(value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None

    return parse


class Command(BaseCommand):
    help = "Generate a scenario's citizens, dossiers and their history, then compute the index."

    def add_arguments(self, parser):
        parser.add_argument("--scenario", help="scenario name (simulator/scenarios) or .yaml path")
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed (same seed, same rows)"
        )
        parser.add_argument(
            "--scale", type=float, default=1.0, help="demand multiplier (default 1)"
        )
        parser.add_argument("--from", dest="date_from", help="start date (default: the scenario's)")
        parser.add_argument("--to", dest="date_to", help="end date (default: the scenario's)")
        parser.add_argument(
            "--reset", action="store_true", help="delete the provinces' dossiers first"
        )
        parser.add_argument("--yes", action="store_true", help="do not ask before --reset deletes")
        parser.add_argument("--no-index", action="store_true", help="do not compute the index")
        parser.add_argument(
            "--index-days",
            type=int,
            default=None,
            help="index snapshots for the last N days only (default: the scenario's "
            "index.snapshot_days, else every day; daily facts always cover the whole period)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--describe", action="store_true", help="print the parameter reference")
        parser.add_argument(
            "--write-docs", action="store_true", help="with --describe: rewrite docs/simulator.md"
        )

    def handle(self, *args, **o):
        if o["describe"]:
            if o["write_docs"]:
                from simulator.docs import write

                self.stdout.write(f"Wrote {write()}")
            else:
                self.stdout.write(describe())
            return
        try:
            options = self._options(o)
            existing = preflight(options.scenario, reset=options.reset)
        except ScenarioError as exc:
            raise CommandError(str(exc), returncode=2) from None
        confirmed = o["yes"] or not (options.reset and existing)
        if not confirmed and not self._confirm(existing, options.scenario.provinces):
            raise CommandError("Nothing deleted: reset not confirmed.", returncode=1)
        try:
            summary = run_backfill(options, write=self.stdout.write)
        except ScenarioError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for line in summary.lines():
            self.stdout.write(line)

    def _options(self, o) -> Options:
        if not o["scenario"]:
            raise ScenarioError("--scenario: required (a name in simulator/scenarios or a path)")
        if o["seed"] is None:
            raise ScenarioError("--seed: required (an integer)")
        if o["seed"] < 0:
            raise ScenarioError(f"--seed: {o['seed']} is negative")
        if not o["scale"] > 0:
            raise ScenarioError(f"--scale: {o['scale']} must be above 0")
        if o["index_days"] is not None and o["index_days"] < 1:
            raise ScenarioError(f"--index-days: {o['index_days']} must be at least 1")
        date_from = _date("--from")(o["date_from"]) if o["date_from"] else None
        date_to = _date("--to")(o["date_to"]) if o["date_to"] else None
        if date_from and date_to and date_to < date_from:
            raise ScenarioError(f"--to: {date_to} is before --from {date_from}")
        scenario = load_scenario(o["scenario"]).with_period(date_from, date_to)
        return Options(
            scenario=scenario,
            seed=o["seed"],
            scale=o["scale"],
            reset=o["reset"],
            index=not o["no_index"],
            index_days=o["index_days"],
            progress=not o["no_progress"],
        )

    def _confirm(self, existing: int, provinces: list[str]) -> bool:
        where = "every province" if len(provinces) == 34 else "province(s) " + ", ".join(provinces)
        self.stdout.write(
            f"--reset deletes {existing:,} dossiers with their history, petitions and simulated "
            f"citizens in {where}."
        )
        if not sys.stdin.isatty():
            self.stderr.write("Not a terminal: pass --yes to confirm.")
            return False
        return input("Type 'yes' to continue: ").strip().lower() == "yes"
