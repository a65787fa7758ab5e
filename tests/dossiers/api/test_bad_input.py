"""No input makes the API answer 500: malformed, oversized, wrongly typed or unknown input is
a 4xx in the one error format, and nothing is stored."""

from __future__ import annotations

import pytest

from dossiers.models import Dossier, Payment

pytestmark = pytest.mark.django_db
HUGE = b'{"procedure": "' + b"x" * (13 * 1024 * 1024) + b'"}'


@pytest.mark.parametrize(
    "body, content_type, status, code",
    [
        (HUGE, "application/json", 400, "bad_request"),
        (b"\xff\xfe{", "application/json", 400, "parse_error"),
        (b"[1, 2]", "application/json", 400, "invalid"),
        (b"null", "application/json", 400, "invalid"),
        (b'{"procedure": 5, "centre": {"a": 1}}', "application/json", 400, "invalid"),
        (b"a=b", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_dossier_creation_refuses_bad_bodies(citizen_api, body, content_type, status, code):
    response = citizen_api.post("/api/v1/dossiers/", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert set(response.json()) >= {"code", "detail", "fields"}
    assert not Dossier.objects.exists()


def test_oversized_callback_is_a_json_400(anon):
    response = anon.post(
        "/api/v1/payments/callback/",
        data=HUGE,
        content_type="application/json",
        HTTP_X_GATEWAY_SIGNATURE="00",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert not Payment.objects.exists()


def test_unknown_api_address_is_a_json_404(anon):
    response = anon.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_types_in_transitions(staff_api, walker):
    from dossiers.workflow import State

    dossier = walker.in_state(State.ACCEPTED)
    for payload in (
        {"action": 12},
        {"action": "issue_apology", "new_due_at": "tomorrow"},
        {"action": "record_payment", "amount_vnd": "eight thousand"},
        {"action": "record_payment", "amount_vnd": 10**15},
        {"action": "stop", "reason": "x" * 5000},
    ):
        response = staff_api.post(
            f"/api/v1/dossiers/{dossier.code}/transitions/", payload, format="json"
        )
        assert response.status_code == 400, payload
        assert response.json()["fields"], payload
    dossier.refresh_from_db()
    assert dossier.state == State.ACCEPTED


@pytest.mark.parametrize(
    "value", ["7294-02-23T21:24:18+23:43", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"]
)
def test_extreme_instants_in_filters_are_not_a_500(staff_api, walker, value):
    from dossiers.workflow import State

    walker.in_state(State.SUBMITTED)
    response = staff_api.get("/api/v1/dossiers/", {"submitted_after": value})
    assert response.status_code in (200, 400)
    # The database connection is still usable afterwards (no aborted transaction).
    assert staff_api.get("/api/v1/dossiers/").status_code == 200


def test_extreme_new_due_time_is_refused(staff_api, walker):
    from dossiers.workflow import State

    dossier = walker.in_state(State.IN_PROCESS)
    for value in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"):
        response = staff_api.post(
            f"/api/v1/dossiers/{dossier.code}/transitions/",
            {"action": "issue_apology", "reason": "x", "new_due_at": value},
            format="json",
        )
        assert 400 <= response.status_code < 500, value
