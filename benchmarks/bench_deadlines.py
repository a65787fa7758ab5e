"""Deadline engine throughput: due times per second in one process (target ≥ 100,000/s)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from benchmarks.harness import Figure, Measurement, repeat
from dossiers.deadlines import LOCAL_TZ, compute_due_at
from portal.calendar import library_calendar

TARGET_PER_S = 100_000


def acceptance_sample(n: int, seed: int = 7) -> list[tuple[datetime, int, str]]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=LOCAL_TZ)
    units = ["working_days"] * 8 + ["working_hours", "calendar_days"]
    return [
        (
            start + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)),
            rng.randint(1, 30),
            rng.choice(units),
        )
        for _ in range(n)
    ]


def run(size: str, **_) -> list[Figure]:
    calendar = library_calendar()
    sample = acceptance_sample(200_000 if size != "small" else 50_000)

    def compute_all():
        for accepted, amount, unit in sample:
            compute_due_at(accepted_at=accepted, amount=amount, unit=unit, calendar=calendar)

    measured = Measurement("compute_due_at", repeat(compute_all), work=len(sample), unit="due time")
    return [
        Figure(
            path="deadline engine (due times per second, one process)",
            size=size,
            measured=measured,
            target=f"≥ {TARGET_PER_S:,}/s",
            ratio=measured.rate / TARGET_PER_S,
            met=measured.rate >= TARGET_PER_S,
            notes=f"{measured.rate:,.0f} due times/s over a mix of working-day, hour and calendar-day limits",
        )
    ]
