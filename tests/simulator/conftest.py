"""A small, busy scenario: one province for a week, with every kind of event made frequent so a
few hundred dossiers exercise the whole lifecycle."""

from __future__ import annotations

import pytest
import yaml

SMALL = {
    "name": "small",
    "period": {"start": "2025-07-01", "end": "2025-07-08"},
    "provinces": ["42"],
    "index": {"methodology": "2025-07", "window": "month", "why": "tests"},
    "behaviour": {
        "demand": {"dossiers_per_working_day": 120, "province_level_share": 0.2},
        "channels": {"online_share": {"province": 0.7, "commune": 0.5}, "postal_share": 0.05},
        "staff": {
            "refuse_share": 0.08,
            "withdraw_before_accept_share": 0.05,
            "supplement_share": 0.3,
            "supplement_abandon_share": 0.3,
            "second_supplement_share": 0.3,
            "late_share": {"province": 0.3, "commune": 0.3},
            "early_share": {"province": 0.4, "commune": 0.4},
            "apology_share": 0.8,
            "stop_share": 0.05,
            "withdraw_share": 0.05,
            "start_processing_share": 0.7,
            "return_delay_days": 0.3,
        },
        "payments": {
            "requested_share": 0.5,
            "online_payment_share": {"province": 0.7, "commune": 0.4},
        },
        "digitisation": {"digitised_share": {"province": 0.8, "commune": 0.6}},
        "ratings": {"rated_share": 0.6, "delay_days": 0.2, "satisfied_share": 0.8},
        "petitions": {
            "per_1000_dossiers": 60,
            "answer_days": 1.5,
            "rated_share": 0.8,
            "repeated_share": 0.3,
        },
        "carried_over": {"warmup_days": 6},
        "citizens": {"dossiers_per_citizen": 1.5},
    },
}


@pytest.fixture
def small_raw():
    return yaml.safe_load(yaml.safe_dump(SMALL))


@pytest.fixture
def small_path(tmp_path, small_raw):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small_raw), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "documents"
