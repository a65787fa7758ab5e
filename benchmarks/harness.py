"""Measure a hot path beside its limit, in the same run, and report ratios.

These machines are shared and noisy: every measurement is repeated (after a warm-up) and
reported as median / min / max; targets are judged on the ratio of medians.
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

REPEATS = 5


@dataclass
class Measurement:
    """Repeated timings of one thing (seconds), and how much work each run did."""

    name: str
    runs: list[float]
    work: float = 1.0  # units of work per run (dossiers, requests…)
    unit: str = "op"

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def rate(self) -> float:
        """Work per second at the median."""
        return self.work / self.median if self.median else float("inf")

    def summary(self) -> dict:
        return {
            "name": self.name,
            "median_s": self.median,
            "min_s": min(self.runs),
            "max_s": max(self.runs),
            "runs": self.runs,
            "work": self.work,
            "unit": self.unit,
            "rate_per_s": self.rate,
        }


@dataclass
class Figure:
    """One row of the benchmark table: a path, optionally its limit, the target and verdict."""

    path: str
    size: str
    measured: Measurement
    limit: Measurement | None = None
    target: str = ""
    ratio: float | None = None  # measured vs limit, in the direction the target states
    met: bool | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["measured"] = self.measured.summary()
        data["limit"] = self.limit.summary() if self.limit else None
        return data


def repeat(
    fn: Callable[[], object],
    *,
    repeats: int = REPEATS,
    warmup: int = 1,
    setup: Callable[[], object] | None = None,
) -> list[float]:
    """Run ``fn`` ``warmup`` times unmeasured, then ``repeats`` times measured; ``setup`` (not
    measured) before every run."""
    runs = []
    for n in range(warmup + repeats):
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        if n >= warmup:
            runs.append(time.perf_counter() - start)
    return runs


def machine() -> dict:
    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "unknown"

    import os

    mem_kb = 0
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]),
        "python": platform.python_version(),
        "postgresql": run(["psql", "--version"]),
        "kernel": platform.release(),
    }
