"""Live mode against a real server (pytest-django's live server on the test database)."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from dossiers.models import Dossier
from simulator.live import LiveOptions, LiveRun, prepare_agents


@pytest.mark.django_db(transaction=True)
def test_agents_submit_process_and_nothing_is_lost(live_server, reference_data):
    opts = LiveOptions(
        base_url=live_server.url, citizens=4, staff=2, rate=2.0, duration=6.0, seed=5
    )
    citizens, staff, procedures = prepare_agents(opts)
    result = LiveRun(
        opts, citizens, staff, procedures, gateway_secret=settings.PAYMENT_GATEWAY_SECRET
    ).run()
    assert result["submissions_accepted"] >= 3
    assert result["lost"] == []
    states = set(Dossier.objects.values_list("state", flat=True))
    assert states & {2, 4, 9, 10}, "the staff agents acted on the submissions"
    for kind in ("submit", "transition", "staff list"):
        assert result["kinds"][kind]["requests"] > 0
        assert result["kinds"][kind]["p95_ms"] >= result["kinds"][kind]["p50_ms"] > 0
    if settings.USING_POSTGRES:  # SQLite refuses concurrent writers ("database is locked")
        assert not any(k["errors"] for k in result["kinds"].values()), result["kinds"]


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["--rate", "0"], "--rate"),
        (["--citizens", "0"], "--citizens"),
        (["--duration", "-1"], "--duration"),
        (["--base-url", "localhost:8000"], "--base-url"),
    ],
)
def test_bad_options_exit_2(args, key):
    base = ["--base-url", "http://127.0.0.1:1"]
    with pytest.raises(CommandError) as error:
        call_command("simulate_live", *base, *args)
    assert error.value.returncode == 2 and str(error.value).startswith(key)


def test_errors_are_counted_and_timed_successes_are_not():
    import time

    from simulator.live import Stats

    stats = Stats()
    before = time.time()
    stats.record("submit", 0.01, 201)
    stats.record("submit", 0.02, 503)
    stats.record("staff list", 0.03, "ConnectionError")
    assert {k: dict(v) for k, v in stats.errors.items()} == {
        "submit": {"503": 1},
        "staff list": {"ConnectionError": 1},
    }
    assert [(kind, status) for _, kind, status in stats.failures] == [
        ("submit", "503"),
        ("staff list", "ConnectionError"),
    ]
    assert all(before <= at <= time.time() for at, _, _ in stats.failures)
