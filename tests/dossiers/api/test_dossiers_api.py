"""Dossiers through the API: submission (JSON and multipart), reading, transitions, documents,
ratings, idempotency and the permission boundaries between citizens and between centres."""

from __future__ import annotations

import pytest

from dossiers.models import Document, Dossier, IdempotencyKey
from dossiers.workflow import State
from tests.dossiers.api.conftest import PDF, pdf, png
from tests.dossiers.conftest import DOCUMENTS

pytestmark = pytest.mark.django_db


def submit(client, procedure, center, **extra):
    return client.post(
        "/api/v1/dossiers/",
        {"procedure": procedure.code, "centre": center.code, "document_names": DOCUMENTS, **extra},
        format="json",
    )


# --- Submission ---------------------------------------------------------------------------
def test_citizen_submits_with_json(citizen_api, procedure, center):
    response = submit(citizen_api, procedure, center)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == State.SUBMITTED
    assert body["payment_status"] == "due"
    assert body["fee_vnd"] == 8000
    assert body["centre"]["code"] == center.code
    assert body["events"][0]["action"] == "submit"
    assert "record_payment" in body["allowed_actions"]
    assert Dossier.objects.filter(code=body["code"]).exists()


def test_citizen_submits_multipart_with_files(citizen_api, procedure, center):
    response = citizen_api.post(
        "/api/v1/dossiers/",
        {
            "procedure": procedure.code,
            "centre": center.code,
            "document_names": DOCUMENTS,
            "documents": [pdf(), png()],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    docs = response.json()["documents"]
    assert [d["content_type"] for d in docs] == ["application/pdf", "image/png"]
    assert [d["name"] for d in docs] == DOCUMENTS


@pytest.mark.parametrize("files", [False, True], ids=["json", "multipart"])
def test_submission_answer_is_the_detail_read_afterwards(citizen_api, procedure, center, files):
    """The 201 body is built from the objects just written, not re-read: it must be exactly
    what GET of the detail returns (events, documents, payments, allowed actions)."""
    if files:
        payload = {"procedure": procedure.code, "centre": center.code}
        payload |= {"document_names": DOCUMENTS, "documents": [pdf(), png()]}
        created = citizen_api.post("/api/v1/dossiers/", payload, format="multipart")
    else:
        created = submit(citizen_api, procedure, center)
    assert created.status_code == 201, created.json()
    detail = citizen_api.get(f"/api/v1/dossiers/{created.json()['code']}/")
    assert created.json() == detail.json()


def test_submission_writes_the_dossier_row_once(
    citizen_api, procedure, center, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(13):
        response = submit(citizen_api, procedure, center)
    assert response.status_code == 201
    table = Dossier._meta.db_table
    writes = [q["sql"] for q in ctx.captured_queries if f'"{table}"' in q["sql"]]
    assert [w.split()[0] for w in writes if w.startswith(("INSERT", "UPDATE"))] == ["INSERT"]
    stored = Dossier.objects.get(code=response.json()["code"])
    assert stored.reused_data is True
    assert stored.presented_documents == DOCUMENTS


@pytest.mark.parametrize(
    "upload, message",
    [
        (lambda: pdf(name="virus.pdf", content=b"MZ\x90\x00 not a pdf"), "virus.pdf"),
        (lambda: pdf(name="empty.pdf", content=b""), "empty.pdf"),
        (lambda: pdf(name="../../../etc/passwd.pdf"), None),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    citizen_api, procedure, center, upload, message, settings
):
    response = citizen_api.post(
        "/api/v1/dossiers/",
        {
            "procedure": procedure.code,
            "centre": center.code,
            "document_names": DOCUMENTS,
            "documents": [upload(), png()],
        },
        format="multipart",
    )
    if message is None:
        # A path in the name is stripped: the document is stored under a safe name.
        assert response.status_code == 201
        stored = Document.objects.get(name=DOCUMENTS[0])
        assert ".." not in stored.file.name and "/etc/" not in stored.file.name
        assert stored.file.path.startswith(str(settings.MEDIA_ROOT))
        return
    assert response.status_code == 422
    body = response.json()
    assert message in body["detail"]  # the message names the file (in the UI language)
    assert "file" in body["fields"]
    assert not Dossier.objects.exists() and not Document.objects.exists()


def test_oversized_upload_is_refused(citizen_api, procedure, center, settings):
    settings.DOCUMENT_MAX_BYTES = 100
    big = pdf(content=PDF + b"0" * 200)
    response = citizen_api.post(
        "/api/v1/dossiers/",
        {
            "procedure": procedure.code,
            "centre": center.code,
            "document_names": DOCUMENTS,
            "documents": [big, png()],
        },
        format="multipart",
    )
    assert response.status_code == 422
    assert "to-khai.pdf" in response.json()["detail"]
    assert "file" in response.json()["fields"]
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"procedure": "0.000000", "centre": "C18073"}, "procedure"),
        ({"centre": "C00000"}, "centre"),
        ({"procedure": ["not", "a", "string"]}, "procedure"),
        ({"document_names": "x" * 300}, "document_names"),
        ({"document_names": ["x" * 201]}, "document_names.0"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(citizen_api, procedure, center, payload, field):
    data = {"procedure": procedure.code, "centre": center.code, "document_names": DOCUMENTS}
    data.update(payload)
    response = citizen_api.post("/api/v1/dossiers/", data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"] or field.split(".")[0] in body["fields"]
    assert not Dossier.objects.exists()


def test_malformed_json_is_a_400(citizen_api):
    response = citizen_api.post(
        "/api/v1/dossiers/", data=b'{"procedure": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_missing_required_document_is_a_422_from_the_service(citizen_api, procedure, center):
    response = submit(citizen_api, procedure, center, document_names=DOCUMENTS[:1])
    assert response.status_code == 422
    assert response.json()["code"] == "missing_documents"
    assert not Dossier.objects.exists()


def test_wrong_level_centre_is_refused(citizen_api, procedure, center, make_center):
    from tests.factories import ProvincialCenterFactory

    provincial = ProvincialCenterFactory(province=center.province)
    response = submit(citizen_api, procedure, provincial)
    assert response.status_code == 422
    assert response.json()["code"] == "wrong_level"


def test_anonymous_cannot_list_or_submit(anon, procedure, center):
    assert anon.get("/api/v1/dossiers/").status_code == 401
    assert submit(anon, procedure, center).status_code == 401
    assert anon.get("/api/v1/dossiers/").json()["code"] == "not_authenticated"


# --- Idempotency --------------------------------------------------------------------------
def test_retried_submission_returns_the_first_result(citizen_api, procedure, center):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    data = {"procedure": procedure.code, "centre": center.code, "document_names": DOCUMENTS}
    first = citizen_api.post("/api/v1/dossiers/", data, format="json", **headers)
    second = citizen_api.post("/api/v1/dossiers/", data, format="json", **headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Dossier.objects.count() == 1
    other = citizen_api.post(
        "/api/v1/dossiers/", data, format="json", HTTP_IDEMPOTENCY_KEY="retry-2"
    )
    assert other.json()["code"] != first.json()["code"]
    assert Dossier.objects.count() == 2


def test_idempotency_key_reused_for_another_request_is_refused(
    citizen_api, procedure, center, free_version
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    citizen_api.post(
        "/api/v1/dossiers/",
        {"procedure": procedure.code, "centre": center.code, "document_names": DOCUMENTS},
        format="json",
        **headers,
    )
    reused = citizen_api.post(
        "/api/v1/dossiers/",
        {
            "procedure": free_version.procedure.code,
            "centre": center.code,
            "document_names": DOCUMENTS,
        },
        format="json",
        **headers,
    )
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert Dossier.objects.count() == 1


def test_refused_request_does_not_burn_the_key(citizen_api, procedure, center):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k2"}
    bad = submit(citizen_api, procedure, center, document_names=[])
    assert bad.status_code == 422
    assert not IdempotencyKey.objects.exists()
    good = citizen_api.post(
        "/api/v1/dossiers/",
        {"procedure": procedure.code, "centre": center.code, "document_names": DOCUMENTS},
        format="json",
        **headers,
    )
    assert good.status_code == 201


def test_invalid_idempotency_key_is_a_400(citizen_api, procedure, center):
    response = citizen_api.post(
        "/api/v1/dossiers/",
        {"procedure": procedure.code, "centre": center.code, "document_names": DOCUMENTS},
        format="json",
        HTTP_IDEMPOTENCY_KEY="spaces are not allowed",
    )
    assert response.status_code == 400
    assert not Dossier.objects.exists()


# --- Reading and permission boundaries -----------------------------------------------------
def test_citizen_sees_only_own_dossiers(citizen_api, citizen_b_api, walker):
    mine = walker.in_state(State.ACCEPTED)
    assert [d["code"] for d in citizen_api.get("/api/v1/dossiers/").json()["results"]] == [
        mine.code
    ]
    assert citizen_b_api.get("/api/v1/dossiers/").json()["results"] == []
    assert citizen_b_api.get(f"/api/v1/dossiers/{mine.code}/").status_code == 404
    detail = citizen_api.get(f"/api/v1/dossiers/{mine.code}/").json()
    assert detail["due_at"] is not None
    assert [e["action"] for e in detail["events"]] == ["submit", "accept"]


def test_citizen_b_cannot_act_on_citizen_a_dossier(citizen_b_api, walker):
    dossier = walker.in_state(State.SUBMITTED)
    for path, payload in [
        ("transitions/", {"action": "withdraw"}),
        ("payments/", {}),
        ("rating/", {"satisfied": True}),
    ]:
        response = citizen_b_api.post(
            f"/api/v1/dossiers/{dossier.code}/{path}", payload, format="json"
        )
        assert response.status_code == 404, path
    assert citizen_b_api.get(f"/api/v1/dossiers/{dossier.code}/documents/").status_code == 404
    dossier.refresh_from_db()
    assert dossier.state == State.SUBMITTED


def test_staff_see_their_centre_only(staff_api, foreign_staff_api, walker):
    dossier = walker.in_state(State.SUBMITTED)
    assert [d["code"] for d in staff_api.get("/api/v1/dossiers/").json()["results"]] == [
        dossier.code
    ]
    assert foreign_staff_api.get("/api/v1/dossiers/").json()["results"] == []
    assert foreign_staff_api.get(f"/api/v1/dossiers/{dossier.code}/").status_code == 404
    refused = foreign_staff_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/", {"action": "accept"}, format="json"
    )
    assert refused.status_code == 404
    dossier.refresh_from_db()
    assert dossier.state == State.SUBMITTED


def test_staff_list_shows_masked_citizen_id(staff_api, walker, citizen):
    walker.in_state(State.SUBMITTED)
    row = staff_api.get("/api/v1/dossiers/").json()["results"][0]
    assert row["applicant"].endswith(citizen.citizen_id[-4:])
    assert citizen.citizen_id not in str(row)


def test_filters(staff_api, walker):
    submitted = walker.in_state(State.SUBMITTED)
    accepted = walker.in_state(State.ACCEPTED)
    rows = staff_api.get("/api/v1/dossiers/", {"state": [2]}).json()["results"]
    assert [r["code"] for r in rows] == [accepted.code]
    rows = staff_api.get("/api/v1/dossiers/", {"state": [1, 2]}).json()["results"]
    assert {r["code"] for r in rows} == {submitted.code, accepted.code}
    assert staff_api.get("/api/v1/dossiers/", {"state": [42]}).status_code == 400


# --- Transitions ---------------------------------------------------------------------------
def test_staff_accepts_then_illegal_action_is_a_409_with_allowed(staff_api, walker):
    dossier = walker.in_state(State.SUBMITTED)
    accepted = staff_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/", {"action": "accept"}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["state"] == State.ACCEPTED
    again = staff_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/", {"action": "accept"}, format="json"
    )
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "transition_not_allowed"
    assert "start_processing" in body["allowed"]
    assert body["detail"]


def test_citizen_cannot_perform_staff_actions(citizen_api, walker):
    dossier = walker.in_state(State.SUBMITTED)
    response = citizen_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/", {"action": "accept"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"


def test_unknown_action_and_wrong_parameters(staff_api, walker):
    dossier = walker.in_state(State.ACCEPTED)
    unknown = staff_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/", {"action": "teleport"}, format="json"
    )
    assert unknown.status_code == 400 and "action" in unknown.json()["fields"]
    wrong = staff_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/",
        {"action": "start_processing", "reason": "x"},
        format="json",
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "bad_parameters"


def test_supplement_cycle_through_the_api(staff_api, citizen_api, walker):
    dossier = walker.in_state(State.IN_PROCESS)
    requested = staff_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/",
        {"action": "request_supplement", "reason": "Thiếu giấy chứng sinh"},
        format="json",
    )
    assert requested.json()["state"] == State.SUPPLEMENT_REQUESTED
    supplemented = citizen_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/",
        {"action": "supplement", "document_names": ["Giấy chứng sinh"], "documents": [pdf()]},
        format="multipart",
    )
    assert supplemented.status_code == 200, supplemented.json()
    assert supplemented.json()["state"] == State.IN_PROCESS
    assert supplemented.json()["documents"][-1]["name"] == "Giấy chứng sinh"


def test_finish_with_result_then_citizen_downloads_and_rates(staff_api, citizen_api, walker):
    dossier = walker.in_state(State.IN_PROCESS, paid=True)
    finished = staff_api.post(
        f"/api/v1/dossiers/{dossier.code}/transitions/",
        {"action": "finish", "result_document": pdf("ket-qua.pdf")},
        format="multipart",
    )
    assert finished.status_code == 200, finished.json()
    assert finished.json()["electronic_result"] is True
    result = [d for d in finished.json()["documents"] if d["kind"] == "result"][0]
    download = citizen_api.get(
        f"/api/v1/dossiers/{dossier.code}/documents/{result['id']}/download/"
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    rated = citizen_api.post(
        f"/api/v1/dossiers/{dossier.code}/rating/",
        {"satisfied": True, "comment": "Nhanh"},
        format="json",
    )
    assert rated.status_code == 201
    assert citizen_api.get(f"/api/v1/dossiers/{dossier.code}/rating/").json()["satisfied"]
    twice = citizen_api.post(
        f"/api/v1/dossiers/{dossier.code}/rating/", {"satisfied": False}, format="json"
    )
    assert twice.status_code == 409
    ratings = staff_api.get("/api/v1/ratings/").json()["results"]
    assert [r["dossier"] for r in ratings] == [dossier.code]


def test_document_of_another_dossier_is_not_served(citizen_api, citizen_b, walker):
    from dossiers import services

    mine = citizen_api.post(
        "/api/v1/dossiers/",
        {
            "procedure": walker.procedure.code,
            "centre": walker.center.code,
            "document_names": DOCUMENTS,
            "documents": [pdf(), png()],
        },
        format="multipart",
    ).json()
    theirs = services.dossier_submit(
        citizen=citizen_b, center=walker.center, procedure=walker.procedure, documents=DOCUMENTS
    )
    doc_id = mine["documents"][0]["id"]
    # The right document id under someone else's dossier code: not found.
    assert (
        citizen_api.get(f"/api/v1/dossiers/{theirs.code}/documents/{doc_id}/download/").status_code
        == 404
    )
    assert (
        citizen_api.get(f"/api/v1/dossiers/{mine['code']}/documents/999999/download/").status_code
        == 404
    )


def test_rating_before_the_result_is_refused(citizen_api, walker):
    dossier = walker.in_state(State.ACCEPTED)
    response = citizen_api.post(
        f"/api/v1/dossiers/{dossier.code}/rating/", {"satisfied": "yes please"}, format="json"
    )
    assert response.status_code == 400
    response = citizen_api.post(
        f"/api/v1/dossiers/{dossier.code}/rating/", {"satisfied": True}, format="json"
    )
    assert response.status_code == 409
    assert citizen_api.get(f"/api/v1/dossiers/{dossier.code}/rating/").status_code == 404


# --- The lean list serializer ----------------------------------------------------------------
@pytest.mark.parametrize("language", ["vi", "en"])
def test_lean_dossier_rows_equal_the_declared_serializer(walker, language):
    """``DossierSerializer.to_representation`` builds its dict directly; it must give what
    the declared fields give through DRF, in every state (times, payment, labels)."""
    from django.utils import translation
    from rest_framework.serializers import ModelSerializer

    from dossiers import services
    from dossiers.api.serializers import DossierDetailSerializer, DossierSerializer
    from dossiers.api.views import dossier_detail

    for state in State:
        walker.in_state(state)
    walker.in_state(State.ACCEPTED, paid=True)
    uploaded = services.dossier_submit(
        citizen=walker.citizen,
        center=walker.center,
        procedure=walker.procedure,
        documents=list(zip(DOCUMENTS, [pdf(), png()], strict=True)),
        at=walker.tick(),
    ).code
    rows = list(
        Dossier.objects.select_related("center", "procedure_version__procedure", "applicant")
    )
    assert len(rows) == len(State) + 2
    with translation.override(language):
        for dossier in rows:
            declared = ModelSerializer.to_representation(DossierSerializer(), dossier)
            assert DossierSerializer(dossier).data == declared
            assert list(DossierSerializer(dossier).data) == list(declared)
        for code in (rows[-1].code, uploaded):  # a payment; two uploaded documents
            detail = dossier_detail(walker.citizen, code)
            declared = ModelSerializer.to_representation(DossierDetailSerializer(), detail)
            assert DossierDetailSerializer(detail).data == declared
            assert declared["payments"] or declared["documents"]


# --- Query counts --------------------------------------------------------------------------
def test_dossier_list_query_count_is_bounded(staff_api, walker, django_assert_max_num_queries):
    for _ in range(15):
        walker.in_state(State.SUBMITTED)
    with django_assert_max_num_queries(6):
        response = staff_api.get("/api/v1/dossiers/")
    assert len(response.json()["results"]) == 15


def test_dossier_detail_query_count_is_bounded(citizen_api, walker, django_assert_max_num_queries):
    dossier = walker.in_state(State.PROCESSED)
    with django_assert_max_num_queries(12):
        response = citizen_api.get(f"/api/v1/dossiers/{dossier.code}/")
    assert response.status_code == 200


def test_ratings_list_query_count_is_bounded(
    staff_api, citizen, walker, django_assert_max_num_queries
):
    from dossiers import services

    for _ in range(5):
        dossier = walker.in_state(State.PROCESSED)
        services.dossier_rate(dossier=dossier, citizen=citizen, satisfied=True, at=walker.tick())
    with django_assert_max_num_queries(6):
        response = staff_api.get("/api/v1/ratings/")
    assert len(response.json()["results"]) == 5


def test_sub_resource_query_counts(citizen_api, walker, django_assert_max_num_queries):
    dossier = walker.in_state(State.PROCESSED)
    for path in ("documents/", "payments/"):
        with django_assert_max_num_queries(5):
            assert citizen_api.get(f"/api/v1/dossiers/{dossier.code}/{path}").status_code == 200
    with django_assert_max_num_queries(3):
        assert citizen_api.get("/api/v1/fields/").status_code == 200
