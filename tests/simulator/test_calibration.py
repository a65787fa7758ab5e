"""The seed scenario reproduces the article: the calibration command passes at full scale.

Hà Tĩnh is small (about 300,000 dossiers from January to July 2025); the run takes minutes,
so the test is marked slow, but it runs in CI like every other test."""

import pytest
from django.core.management import call_command

from simulator.calibration import Row, window_start


@pytest.mark.slow
@pytest.mark.django_db
def test_hatinh_scenario_matches_the_seed_article(reference_data, capsys):
    call_command("calibration", "--scenario", "hatinh-2025-07", "--no-doc", "--no-progress")
    out = capsys.readouterr().out
    assert "All " in out and "figures within tolerance" in out


def test_a_row_outside_its_tolerance_fails():
    assert Row("s", "received", 100, 102, 0.02, "count").ok
    assert not Row("s", "received", 100, 102.5, 0.02, "count").ok
    assert Row("s", "online", 59.48, 59.9, 0.5, "%").ok
    assert not Row("i", "total", 78.18, 78.7, 0.5, "points").ok


def test_windows_end_on_the_index_date():
    from datetime import date

    assert window_start("ytd", date(2025, 7, 24)) == date(2025, 1, 1)
    assert window_start("quarter", date(2025, 7, 24)) == date(2025, 7, 1)
    assert window_start("month", date(2025, 8, 3)) == date(2025, 8, 1)
