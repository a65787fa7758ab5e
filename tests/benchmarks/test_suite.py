"""The benchmark suite's own pieces (the suite itself runs in CI as `make bench SIZE=small`)."""

import pytest
from django.urls import Resolver404, resolve

from benchmarks.bench_pages import p95
from benchmarks.data import SCALES, SCENARIO
from benchmarks.harness import repeat
from simulator.scenario import load_scenario


def test_p95_is_the_95th_percentile_of_the_runs():
    runs = [i / 1000 for i in range(1, 101)]  # 1 … 100 ms
    assert p95(runs) == pytest.approx(0.095)
    assert p95([0.2]) == 0.2


def test_repeat_runs_setup_before_every_run_outside_the_measurement(monkeypatch):
    """Warm-up runs are not measured; ``setup`` precedes each run and is not timed."""
    now = [0.0]
    monkeypatch.setattr("benchmarks.harness.time.perf_counter", lambda: now[0])
    calls = []

    def step(name: str, seconds: float):
        def run():
            calls.append(name)
            now[0] += seconds

        return run

    runs = repeat(step("run", 1.0), repeats=3, warmup=1, setup=step("setup", 100.0))
    assert calls == ["setup", "run"] * 4
    assert runs == [1.0, 1.0, 1.0]


def test_bare_view_exists_only_in_the_benchmark_urlconf():
    with pytest.raises(Resolver404):
        resolve("/bench/bare/")  # the product's URLs
    assert resolve("/bench/bare/", urlconf="benchmarks.http.urls").func.__name__ == "bare"


def test_benchmark_scenario_is_national_and_valid():
    scenario = load_scenario(str(SCENARIO))
    assert len(scenario.provinces) == 34
    assert (scenario.end - scenario.start).days + 1 == 365
    assert SCALES == {"small": 0.01, "medium": 0.1, "3m": 0.3, "large": 1.0}
