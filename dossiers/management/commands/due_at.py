"""python manage.py due_at --accepted "2026-02-13T16:30" --amount 3 --unit working_days"""

import sys
from datetime import datetime

from django.core.management.base import BaseCommand

from dossiers.deadlines import LOCAL_TZ, compute_due_at
from dossiers.models import TimeUnit
from portal.calendar import working_calendar
from portal.models import Province


class Command(BaseCommand):
    help = "Print the due time (ISO 8601, +07:00) of a dossier accepted at a given local time."

    def add_arguments(self, parser):
        parser.add_argument("--accepted", required=True, help="local time, e.g. 2026-02-13T16:30")
        parser.add_argument(
            "--amount", required=True, help="the legal time limit, a positive integer"
        )
        parser.add_argument("--unit", required=True, choices=TimeUnit.values)
        parser.add_argument("--province", help="province code (office hours are national today)")

    def handle(self, *args, accepted, amount, unit, province, **options):
        try:
            accepted_at = datetime.fromisoformat(accepted)
        except ValueError:
            return self.fail(f"--accepted: not an ISO date-time: {accepted!r}")
        if accepted_at.tzinfo is None:
            accepted_at = accepted_at.replace(tzinfo=LOCAL_TZ)
        if not amount.isdigit() or int(amount) == 0:
            return self.fail(f"--amount: expected a positive integer, got {amount!r}")
        if province and not Province.objects.filter(code=province).exists():
            return self.fail(f"--province: unknown province code {province!r}")
        try:
            due = compute_due_at(
                accepted_at=accepted_at, amount=int(amount), unit=unit, calendar=working_calendar()
            )
        except ValueError as exc:
            return self.fail(str(exc))
        self.stdout.write(due.isoformat())

    def fail(self, message: str) -> None:
        self.stderr.write(f"due_at: {message}")
        sys.exit(2)
