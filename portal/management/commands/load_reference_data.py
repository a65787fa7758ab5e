from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.services import UNITS_FIXTURE, ReferenceDataError, reference_data_load


class Command(BaseCommand):
    help = "Load provinces, communes, service centres and the procedure catalogue (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=Path, default=UNITS_FIXTURE)
        parser.add_argument("--procedures", type=Path, default=None)

    def handle(self, *args, units, procedures, **options):
        try:
            summary = reference_data_load(units_path=units, procedures_path=procedures)
        except ReferenceDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Reference data loaded. {summary}"))
