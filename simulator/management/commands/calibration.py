"""``python manage.py calibration --scenario NAME``: run the scenario (or read the run already in
the database), compare its figures with the targets stored beside it, print the table, write
``docs/calibration.md``; exit 1 when a figure is outside its tolerance."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from simulator.backfill import Options, run_backfill
from simulator.calibration import (
    compare,
    facts_for,
    load_targets,
    table,
    targets_path,
    write_doc,
)
from simulator.models import SimulationRun
from simulator.scenario import ScenarioError, load_scenario


class Command(BaseCommand):
    help = "Compare a scenario's simulated figures with its targets (seed article)."

    def add_arguments(self, parser):
        parser.add_argument("--scenario", required=True)
        parser.add_argument("--seed", type=int, default=None, help="default: the targets' seed")
        parser.add_argument("--scale", type=float, default=None, help="default: the targets' scale")
        parser.add_argument(
            "--rerun", action="store_true", help="simulate again even if the run is in the database"
        )
        parser.add_argument(
            "--no-doc", action="store_true", help="do not write docs/calibration.md"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **o):
        try:
            scenario = load_scenario(o["scenario"])
            targets = load_targets(targets_path(scenario))
        except ScenarioError as exc:
            raise CommandError(str(exc), returncode=2) from None
        seed = o["seed"] if o["seed"] is not None else int(targets.get("seed", 1))
        scale = o["scale"] if o["scale"] is not None else float(targets.get("scale", 1.0))
        run = self._existing_run(scenario, seed, scale)
        if run is None or o["rerun"]:
            self.stdout.write(f"Simulating {scenario.name} (seed {seed}, scale {scale:g})...")
            # The report scores windows from daily facts: compute those, not a snapshot per day.
            options = Options(
                scenario=scenario,
                seed=seed,
                scale=scale,
                reset=True,
                index=False,
                progress=not o["no_progress"],
            )
            summary = run_backfill(options)
            for line in summary.lines():
                self.stdout.write(line)
            run = self._existing_run(scenario, seed, scale)
        else:
            self.stdout.write(
                f"Reading the run already in the database: {run} ({run.finished_at:%Y-%m-%d %H:%M})."
            )
        if not run.indexed:
            facts_for(scenario)
        rows = compare(scenario, targets)
        for line in table(rows):
            self.stdout.write(line)
        if not o["no_doc"]:
            write_doc(scenario, targets, rows, f"{run}, {run.counts.get('dossiers', 0):,} dossiers")
        failed = [r for r in rows if not r.ok]
        if failed:
            names = ", ".join(f"{r.group} {r.name}" for r in failed)
            raise CommandError(f"{len(failed)} figure(s) outside tolerance: {names}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"All {len(rows)} figures within tolerance."))

    def _existing_run(self, scenario, seed, scale):
        """The latest run, if it is a complete run of exactly this scenario file, seed, scale
        and period (a later run may have replaced its rows)."""
        from simulator.backfill import _sha

        latest = SimulationRun.objects.first()  # the last run: a later one may have replaced it
        if latest is None or latest.status != SimulationRun.Status.COMPLETE:
            return None
        same = (
            latest.scenario == scenario.name
            and latest.scenario_sha256 == _sha(scenario)
            and latest.seed == seed
            and latest.scale == scale
            and latest.date_from == scenario.start
            and latest.date_to == scenario.end
        )
        return latest if same else None
