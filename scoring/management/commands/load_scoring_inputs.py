"""Load plausible non-dossier inputs of the index for the demo: procedure publications,
the online service catalogue, communes offering electronic certified copies."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from portal.models import Province
from scoring.management.commands._dates import parse_day
from scoring.services import demo_inputs_load


class Command(BaseCommand):
    help = "Load demo inputs of the index (publications, online catalogue, certified copies)."

    def add_arguments(self, parser):
        parser.add_argument("--province", action="append", help="only these provinces (codes)")
        parser.add_argument("--start", default="2025-07-01", help="reform date (YYYY-MM-DD)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, province, start, seed, **options):
        if not Province.objects.exists():
            raise CommandError(
                "no provinces: run manage.py load_reference_data first", returncode=2
            )
        unknown = sorted(set(province or ()) - set(Province.objects.values_list("code", flat=True)))
        if unknown:
            raise CommandError(f"unknown province {unknown[0]!r}", returncode=2)
        summary = demo_inputs_load(provinces=province, start=parse_day(start, "--start"), seed=seed)
        self.stdout.write(f"loaded {summary}")
