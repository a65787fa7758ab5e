"""Petitions through the API: filing, visibility, answer by the centre's staff, rating."""

from __future__ import annotations

import pytest

from dossiers.models import Petition
from dossiers.workflow import State

pytestmark = pytest.mark.django_db


def file_petition(client, **data):
    payload = {"subject": "Cán bộ hẹn lại nhiều lần", "body": "Tôi đã đến ba lần."}
    payload.update(data)
    return client.post("/api/v1/petitions/", payload, format="json")


def test_citizen_files_about_a_dossier_staff_answer_citizen_rates(
    citizen_api, staff_api, foreign_staff_api, citizen_b_api, walker
):
    dossier = walker.in_state(State.ACCEPTED)
    filed = file_petition(citizen_api, dossier=dossier.code)
    assert filed.status_code == 201, filed.json()
    code = filed.json()["code"]
    assert filed.json()["centre"] == dossier.center.code
    assert filed.json()["status"] == "received"
    # Visibility: the citizen and the centre's staff; not another citizen or another centre.
    assert [p["code"] for p in staff_api.get("/api/v1/petitions/").json()["results"]] == [code]
    assert foreign_staff_api.get(f"/api/v1/petitions/{code}/").status_code == 404
    assert citizen_b_api.get(f"/api/v1/petitions/{code}/").status_code == 404
    assert (
        foreign_staff_api.post(
            f"/api/v1/petitions/{code}/answer/", {"answer": "x"}, format="json"
        ).status_code
        == 404
    )
    # The citizen cannot answer their own petition.
    assert (
        citizen_api.post(
            f"/api/v1/petitions/{code}/answer/", {"answer": "Tự trả lời"}, format="json"
        ).status_code
        == 403
    )
    answered = staff_api.post(
        f"/api/v1/petitions/{code}/answer/", {"answer": "Xin lỗi, đã chấn chỉnh."}, format="json"
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == "answered"
    rated = citizen_api.post(
        f"/api/v1/petitions/{code}/rating/", {"satisfied": True}, format="json"
    )
    assert rated.status_code == 200, rated.json()
    assert rated.json()["satisfied"] is True
    # Raised again: once, by the petitioner only.
    assert citizen_b_api.post(f"/api/v1/petitions/{code}/repeat/").status_code == 404
    assert staff_api.post(f"/api/v1/petitions/{code}/repeat/").status_code == 403
    repeated = citizen_api.post(f"/api/v1/petitions/{code}/repeat/")
    assert repeated.status_code == 200, repeated.json()
    assert repeated.json()["repeated"] is True
    again = citizen_api.post(f"/api/v1/petitions/{code}/repeat/")
    assert again.status_code == 409 and again.json()["code"] == "already_repeated", again.json()


def test_petition_about_a_centre(citizen_api, center):
    filed = file_petition(citizen_api, centre=center.code)
    assert filed.status_code == 201
    assert filed.json()["dossier"] is None


def test_petition_needs_a_centre_or_a_dossier(citizen_api):
    response = file_petition(citizen_api)
    assert response.status_code == 400
    assert response.json()["fields"]
    assert not Petition.objects.exists()


def test_petition_about_someone_elses_dossier_is_not_found(citizen_b_api, walker):
    dossier = walker.in_state(State.ACCEPTED)
    assert file_petition(citizen_b_api, dossier=dossier.code).status_code == 404
    assert not Petition.objects.exists()


def test_oversized_petition_is_refused(citizen_api, center):
    response = file_petition(citizen_api, centre=center.code, body="x" * 5001)
    assert response.status_code == 400
    assert "body" in response.json()["fields"]


def test_petition_list_query_count_is_bounded(citizen_api, center, django_assert_max_num_queries):
    for _ in range(8):
        file_petition(citizen_api, centre=center.code)
    with django_assert_max_num_queries(6):
        response = citizen_api.get("/api/v1/petitions/")
    assert len(response.json()["results"]) == 8
