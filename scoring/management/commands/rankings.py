"""The national ranking of the provinces, as published for a date."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from scoring import methodology as M
from scoring.management.commands._dates import parse_day
from scoring.models import Window
from scoring.selectors import national_ranking


class Command(BaseCommand):
    help = "Print the published ranking of the provinces for a date and a window."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--window", choices=Window.values, default=Window.YTD)
        parser.add_argument("--format", choices=("table", "json"), default="table")
        parser.add_argument(
            "--methodology",
            default=M.DEFAULT_METHODOLOGY,
            help=f"methodology version ({', '.join(M.METHODOLOGIES)})",
        )

    def handle(self, *args, date, window, format, methodology, **options):
        on = parse_day(date, "--date")
        try:
            version = M.get(methodology)
        except M.MethodologyError as exc:
            raise CommandError(str(exc), returncode=2) from None
        rows = list(national_ranking(on=on, window=window, methodology=version.code))
        if not rows:
            raise CommandError(
                f"no index published for {on} ({version.code}); "
                f"run: manage.py recompute_index --date {on}",
                returncode=2,
            )
        if format == "json":
            payload = {
                "date": on.isoformat(),
                "window": window,
                "window_from": rows[0].window_from.isoformat(),
                "methodology": version.code,
                "provinces": [
                    {
                        "rank": s.rank,
                        "of": s.rank_of,
                        "province": s.unit,
                        "name": s.name,
                        "total": float(s.total),
                        "groups": s.groups,
                        "group_ranks": s.group_ranks,
                    }
                    for s in rows
                ],
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        columns = [c.key for c in version.columns]
        name_width = max(len(s.name) for s in rows)
        self.stdout.write(
            f"{version.code} · {window} {rows[0].window_from} .. {on}\n"
            + f"{'#':>3}  {'':<{name_width}}  {'total':>6}  "
            + "  ".join(f"{c[:12]:>12}" for c in columns)
        )
        for s in rows:
            groups = "  ".join(f"{s.groups.get(c, 0):>12.2f}" for c in columns)
            self.stdout.write(f"{s.rank:>3}  {s.name:<{name_width}}  {s.total:>6}  {groups}")
