"""``python manage.py simulate_live --base-url http://127.0.0.1:8000 --citizens N --staff M
--rate R --duration S``: agents using a running server's REST API, then a report."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from simulator.live import LiveOptions, LiveRun, prepare_agents, report_lines


class Command(BaseCommand):
    help = "Drive a running server through its REST API with citizen and staff agents."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
        parser.add_argument("--citizens", type=int, default=20)
        parser.add_argument("--staff", type=int, default=3, help="staff agents, one per centre")
        parser.add_argument("--rate", type=float, default=2.0, help="submissions per second")
        parser.add_argument("--duration", type=float, default=30.0, help="seconds")
        parser.add_argument("--province", default="42")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **o):
        for key in ("citizens", "staff"):
            if o[key] < 1:
                raise CommandError(f"--{key}: {o[key]} must be at least 1", returncode=2)
        if o["rate"] <= 0:
            raise CommandError(f"--rate: {o['rate']} must be above 0", returncode=2)
        if o["duration"] <= 0:
            raise CommandError(f"--duration: {o['duration']} must be above 0", returncode=2)
        if not o["base_url"].startswith(("http://", "https://")):
            raise CommandError(f"--base-url: {o['base_url']!r} is not an http(s) URL", returncode=2)
        opts = LiveOptions(
            base_url=o["base_url"],
            citizens=o["citizens"],
            staff=o["staff"],
            rate=o["rate"],
            duration=o["duration"],
            province=str(o["province"]).zfill(2),
            seed=o["seed"],
        )
        try:
            citizens, staff, procedures = prepare_agents(opts)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        run = LiveRun(
            opts, citizens, staff, procedures, gateway_secret=settings.PAYMENT_GATEWAY_SECRET
        )
        result = run.run()
        if o["json"]:
            self.stdout.write(json.dumps(result, indent=1))
        else:
            for line in report_lines(result):
                self.stdout.write(line)
        if result["lost"]:
            raise CommandError(
                f"{len(result['lost'])} accepted submissions were lost", returncode=1
            )
