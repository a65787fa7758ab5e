"""Recompute the index for a date or a range (backfill): facts, snapshots, ranks, publication —
the same code as the nightly job, here in this process with a progress bar, or with ``--async``
as a Celery chord on the workers."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from scoring import services, tasks
from scoring.management.commands._dates import parse_day, parse_range
from scoring.models import IndexRun


class Command(BaseCommand):
    help = "Recompute daily facts and index snapshots for a date (default: yesterday) or a range."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="one date (YYYY-MM-DD); default yesterday")
        parser.add_argument("--from", dest="date_from", help="first date of a range")
        parser.add_argument("--to", dest="date_to", help="last date of a range")
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="queue it for the workers"
        )

    def handle(self, *args, date, date_from, date_to, run_async, **options):
        if date and (date_from or date_to):
            raise CommandError("give --date or --from/--to, not both", returncode=2)
        if date_from or date_to:
            start, end = parse_range(date_from, date_to)
        else:
            start = end = parse_day(date, "--date") if date else services.yesterday()
        if run_async:
            result = tasks.recompute_index.delay(start.isoformat(), end.isoformat())
            self.stdout.write(f"queued recompute {start} .. {end} (task {result.id})")
            return
        provinces = len(services.province_codes())
        steps = 1 + ((end - start).days + 1) * provinces
        began = time.monotonic()
        with tqdm(total=steps, desc="index", unit="step", disable=None) as bar:
            summary = services.index_compute(
                date_from=start, date_to=end, kind=IndexRun.Kind.RECOMPUTE, progress=bar.update
            )
        if summary.run is None:
            raise CommandError("another index run is in progress; nothing was done")
        self.stdout.write(f"{summary} in {time.monotonic() - began:.1f} s")
