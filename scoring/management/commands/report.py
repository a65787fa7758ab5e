"""The seed article's statistics table and the index for a province and a window."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from scoring import methodology as M
from scoring.management.commands._dates import parse_range
from scoring.report import ReportError, province_report, report_csv, report_table


class Command(BaseCommand):
    help = "Print a province's statistics report and index for a window (table, json or csv)."

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, help="2-digit province code, e.g. 42")
        parser.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
        parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
        parser.add_argument(
            "--methodology",
            default=M.DEFAULT_METHODOLOGY,
            help=f"methodology version ({', '.join(M.METHODOLOGIES)})",
        )

    def handle(self, *args, province, date_from, date_to, format, methodology, **options):
        start, end = parse_range(date_from, date_to)
        try:
            M.get(methodology)
            report = province_report(province, start, end, methodology)
        except (M.MethodologyError, ReportError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        if format == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        elif format == "csv":
            self.stdout.write(report_csv(report), ending="")
        else:
            self.stdout.write(report_table(report))
