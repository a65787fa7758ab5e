"""Throttles and lockouts hold under repeated tries: tracking without login (API and page share
a budget per client address, which a forged X-Forwarded-For does not reset), the citizen login
(one-time codes per citizen, attempts per code, then a lockout), the staff login (django-axes),
and anonymous API reads."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.reliability.conftest import PASSWORD

TRACKING_BUDGET = 10  # THROTTLE_TRACKING default: 10/min


def track_api(client, code, last4, **headers):
    return client.post(
        reverse("api:tracking"),
        {"code": code, "citizen_id_last4": last4},
        content_type="application/json",
        **headers,
    )


def track_page(client, code, last4, **headers):
    return client.post(
        reverse("dossiers:track"), {"code": code, "citizen_id_last4": last4}, **headers
    )


def test_tracking_guesses_are_throttled_and_the_right_answer_then_too(shared_world):
    dossier = shared_world.dossiers["own"]
    right = dossier.applicant.citizen_id[-4:]
    client = Client()
    guesses = [f"{n:04d}" for n in range(5000, 5000 + TRACKING_BUDGET)]  # all wrong
    answers = [track_api(client, dossier.code, guess).status_code for guess in guesses]
    assert set(answers) == {404}  # wrong digits and unknown codes look the same
    assert track_api(client, dossier.code, right).status_code == 429
    assert track_page(client, dossier.code, right).status_code == 429  # one budget for both


def test_the_page_and_the_api_share_one_budget(shared_world):
    dossier = shared_world.dossiers["own"]
    client = Client()
    for n in range(5000, 5000 + TRACKING_BUDGET // 2):
        assert track_page(client, dossier.code, f"{n:04d}").status_code == 404
        assert track_api(client, dossier.code, f"{n:04d}").status_code == 404
    assert track_api(client, dossier.code, "9999").status_code == 429


def test_a_forged_forwarded_for_header_does_not_reset_the_budget(shared_world):
    dossier = shared_world.dossiers["own"]
    client = Client()
    answers = [
        track_api(
            client, dossier.code, f"{5000 + n}", HTTP_X_FORWARDED_FOR=f"10.0.{n}.1"
        ).status_code
        for n in range(3 * TRACKING_BUDGET)
    ]
    assert answers.count(429) == 2 * TRACKING_BUDGET, answers


def test_tracking_budgets_are_per_client_address(shared_world):
    dossier = shared_world.dossiers["own"]
    first, second = Client(REMOTE_ADDR="10.1.1.1"), Client(REMOTE_ADDR="10.1.1.2")
    for n in range(5000, 5000 + TRACKING_BUDGET):
        track_api(first, dossier.code, f"{n:04d}")
    assert track_api(first, dossier.code, "4999").status_code == 429
    assert track_api(second, dossier.code, "4999").status_code == 404


def test_anonymous_api_reads_are_throttled(db):
    client = Client()
    statuses = [client.get(reverse("api:province-list")).status_code for _ in range(125)]
    assert statuses[:120] == [200] * 120
    assert set(statuses[120:]) == {429}


# --- Logins -------------------------------------------------------------------------------------
def start_login(client, citizen_id):
    return client.post(reverse("portal:login"), {"citizen_id": citizen_id})


def code_from(response) -> str:
    import re

    match = re.search(r"\b(\d{6})\b", response.content.decode())
    assert match, "the mock identity provider shows the code in development"
    return match.group(1)


def test_a_citizen_login_code_cannot_be_guessed(shared_world):
    citizen = shared_world.users["citizen"]
    client = Client()
    code = code_from(start_login(client, citizen.citizen_id))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = client.post(reverse("portal:login_code"), {"code": wrong})
        assert response.status_code in (400, 403, 429)
    # Five wrong guesses: the right code no longer opens the session.
    response = client.post(reverse("portal:login_code"), {"code": code})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (400, 403, 429)


def test_citizen_login_codes_are_rationed(shared_world):
    citizen_id = shared_world.users["citizen"].citizen_id
    statuses = []
    for _ in range(7):
        client = Client()
        response = start_login(client, citizen_id)
        statuses.append("code" if b"login/code" in response.content else response.status_code)
    assert statuses[:5] == ["code"] * 5
    assert "code" not in statuses[5:]


def test_a_citizen_login_with_the_right_code_works(shared_world):
    """Control for the two tests above."""
    client = Client()
    code = code_from(start_login(client, shared_world.users["citizen"].citizen_id))
    response = client.post(reverse("portal:login_code"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(shared_world.users["citizen"].pk)


def test_staff_login_locks_out_after_five_failures(shared_world):
    staff = shared_world.users["receptionist"]
    client = Client()
    for _ in range(5):
        response = client.post(
            reverse("admin:login"), {"username": staff.username, "password": "wrong-password"}
        )
        assert "_auth_user_id" not in client.session
    response = client.post(
        reverse("admin:login"), {"username": staff.username, "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session, "locked out even with the right password"
    assert response.status_code in (403, 429)


def test_staff_login_works_before_the_lockout(shared_world):
    """Control."""
    staff = shared_world.users["receptionist"]
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": staff.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(staff.pk)


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True
