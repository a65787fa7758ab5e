"""Tracking without login: code + last 4 CCCD digits → state and due time only."""

from __future__ import annotations

import pytest

from dossiers.workflow import State

pytestmark = pytest.mark.django_db
URL = "/api/v1/tracking/"


def test_right_pair_shows_state_and_due_time_only(anon, walker, citizen):
    dossier = walker.in_state(State.ACCEPTED)
    response = anon.post(
        URL, {"code": dossier.code, "citizen_id_last4": citizen.citizen_id[-4:]}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "state", "state_label", "due_at"}
    assert body["state"] == State.ACCEPTED and body["due_at"]


def test_wrong_code_and_wrong_digits_look_the_same(anon, walker, citizen):
    dossier = walker.in_state(State.ACCEPTED)
    wrong_digits = "0000" if citizen.citizen_id[-4:] != "0000" else "1111"
    a = anon.post(URL, {"code": dossier.code, "citizen_id_last4": wrong_digits}, format="json")
    b = anon.post(
        URL,
        {"code": "C00000-000000-0000", "citizen_id_last4": citizen.citizen_id[-4:]},
        format="json",
    )
    assert a.status_code == b.status_code == 404
    assert a.json() == b.json()


def test_bad_digits_are_a_400(anon):
    response = anon.post(URL, {"code": "x", "citizen_id_last4": "12a4"}, format="json")
    assert response.status_code == 400
    assert "citizen_id_last4" in response.json()["fields"]


def test_tracking_is_throttled(anon, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "tracking": "3/min",
        },
    }
    codes = [
        anon.post(URL, {"code": "x", "citizen_id_last4": "1234"}, format="json").status_code
        for _ in range(5)
    ]
    assert codes == [404, 404, 404, 429, 429]
    throttled = anon.post(URL, {"code": "x", "citizen_id_last4": "1234"}, format="json")
    assert throttled.json()["code"] == "throttled"
    assert "Retry-After" in throttled
