"""Date arguments shared by the scoring commands (one-line errors, exit status 2)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CommandError(f"{option}: not a date (YYYY-MM-DD): {value!r}", returncode=2) from None


def parse_range(date_from: str | None, date_to: str | None) -> tuple[date, date]:
    if not date_from or not date_to:
        raise CommandError("give both --from and --to", returncode=2)
    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    if end < start:
        raise CommandError(f"--to {end} is before --from {start}", returncode=2)
    return start, end
