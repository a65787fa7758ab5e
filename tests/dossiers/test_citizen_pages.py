"""Citizen pages: catalogue, submission, my dossiers, actions, petitions, tracking, downloads.
Pages only call services and selectors; here we check what a citizen sees and can do."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers import services
from dossiers.models import Document, Dossier, Petition
from dossiers.workflow import State
from tests.dossiers.conftest import DOCUMENTS
from tests.factories import CitizenFactory, StaffFactory

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def logged_in(client, citizen):
    client.force_login(citizen)
    return client


def pdf(name="to-khai.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- Catalogue -----------------------------------------------------------------------------
def test_catalogue_search_is_accent_insensitive(client, procedure):
    page = client.get("/procedures/", {"q": "dang ky khai sinh"})
    assert page.status_code == 200
    assert procedure.code in page.content.decode()
    assert procedure.code not in client.get("/procedures/", {"q": "kết hôn"}).content.decode()


def test_catalogue_filters_and_bad_filter(client, procedure):
    assert procedure.code in client.get("/procedures/", {"level": "commune"}).content.decode()
    assert procedure.code not in client.get("/procedures/", {"level": "province"}).content.decode()
    assert client.get("/procedures/", {"level": "galaxy"}).status_code == 200


def test_procedure_detail_shows_rules(client, procedure):
    page = client.get(f"/procedures/{procedure.code}/").content.decode()
    for text in DOCUMENTS + ["8.000 VND", f"/procedures/{procedure.code}/submit/"]:
        assert text in page
    assert client.get("/procedures/0.000000/").status_code == 404


def test_pages_are_vietnamese_by_default_and_english_on_request(client, procedure):
    assert '<html lang="vi">' in client.get("/procedures/").content.decode()
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in client.get("/procedures/").content.decode()


def test_catalogue_query_count_is_bounded(client, django_assert_max_num_queries):
    from tests.factories import ProcedureVersionFactory

    for _ in range(25):
        ProcedureVersionFactory()
    with django_assert_max_num_queries(6):
        response = client.get("/procedures/")
    assert response.status_code == 200


# --- Submitting ----------------------------------------------------------------------------
def test_submit_requires_login(client, procedure):
    response = client.get(f"/procedures/{procedure.code}/submit/")
    assert response.status_code == 302 and response.url.startswith("/login/?next=")


def test_submit_choose_province_search_commune_and_upload(logged_in, procedure, center):
    url = f"/procedures/{procedure.code}/submit/"
    first = logged_in.get(url)
    assert 'name="province"' in first.content.decode()
    query = {"province": center.province.code, "q": center.commune.name.split()[-1]}
    second = logged_in.get(url, query).content.decode()
    assert center.code in second
    response = logged_in.post(
        f"{url}?province={center.province.code}",
        {"centre": center.code, "document_0": pdf(), "document_1": pdf("giay-chung-sinh.pdf")},
    )
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response.url == f"/my/dossiers/{dossier.code}/"
    detail = logged_in.get(response.url).content.decode()
    assert dossier.code in detail
    assert 'data-testid="expected-due"' in detail  # the due time the desk would set
    assert "8.000 VND" in detail and "/pay/" in detail


def test_submit_with_a_fake_pdf_is_a_form_error_and_stores_nothing(logged_in, procedure, center):
    response = logged_in.post(
        f"/procedures/{procedure.code}/submit/?province={center.province.code}",
        {
            "centre": center.code,
            "document_0": pdf(content=b"GIF89a not a pdf"),
            "document_1": pdf("../../etc/passwd"),
        },
    )
    assert response.status_code == 400
    assert "to-khai.pdf" in response.content.decode()  # the form error names the bad file
    assert not Dossier.objects.exists() and not Document.objects.exists()


def test_submit_to_an_unknown_centre_is_a_form_error(logged_in, procedure, center):
    response = logged_in.post(
        f"/procedures/{procedure.code}/submit/?province={center.province.code}",
        {"centre": "C00000", "document_0": pdf(), "document_1": pdf()},
    )
    assert response.status_code == 400
    assert not Dossier.objects.exists()


# --- My dossiers ---------------------------------------------------------------------------
def test_my_dossiers_lists_only_mine(logged_in, walker, citizen_b=None):
    mine = walker.in_state(State.ACCEPTED)
    other = CitizenFactory()
    theirs = services.dossier_submit(
        citizen=other, center=walker.center, procedure=walker.procedure, documents=DOCUMENTS
    )
    page = logged_in.get("/my/dossiers/").content.decode()
    assert mine.code in page and theirs.code not in page
    assert logged_in.get(f"/my/dossiers/{theirs.code}/").status_code == 404


def test_my_dossiers_query_count_is_bounded(logged_in, walker, django_assert_max_num_queries):
    for _ in range(12):
        walker.in_state(State.SUBMITTED)
    with django_assert_max_num_queries(8):
        response = logged_in.get("/my/dossiers/")
    assert response.status_code == 200


def test_dossier_detail_query_count_is_bounded(logged_in, walker, django_assert_max_num_queries):
    dossier = walker.in_state(State.PROCESSED)
    with django_assert_max_num_queries(16):
        response = logged_in.get(f"/my/dossiers/{dossier.code}/")
    assert response.status_code == 200


def test_timeline_apology_and_result_download(logged_in, walker, citizen, officer):
    from datetime import timedelta

    dossier = walker.in_state(State.IN_PROCESS, paid=True)
    services.dossier_issue_apology(
        dossier=dossier,
        actor=officer,
        reason="Chờ xác minh",
        new_due_at=dossier.due_at + timedelta(days=7),
        at=walker.tick(),
    )
    services.dossier_finish(
        dossier=dossier, actor=officer, result_document=pdf("ket-qua.pdf"), at=walker.tick()
    )
    page = logged_in.get(f"/my/dossiers/{dossier.code}/").content.decode()
    assert "Chờ xác minh" in page
    assert 'data-testid="result-download"' in page
    result = Document.objects.get(dossier=dossier, kind="result")
    download = logged_in.get(f"/my/dossiers/{dossier.code}/documents/{result.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    # Another citizen, and anonymous visitors, get nothing.
    logged_in.force_login(CitizenFactory())
    assert logged_in.get(f"/my/dossiers/{dossier.code}/documents/{result.pk}/").status_code == 404


def test_staff_of_the_centre_may_download_but_not_other_centres(client, walker, other_center):
    dossier = walker.in_state(State.SUBMITTED)
    services.dossier_supplement  # noqa: B018 - documents arrive at submission here
    doc = Document.objects.create(
        dossier=dossier,
        kind="input",
        name="x",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        file=SimpleUploadedFile("x.pdf", PDF),
        uploaded_at=dossier.submitted_at,
    )
    client.force_login(walker.receptionist)
    assert client.get(f"/my/dossiers/{dossier.code}/documents/{doc.pk}/").status_code == 200
    client.force_login(StaffFactory(center=other_center, roles=["receptionist"]))
    assert client.get(f"/my/dossiers/{dossier.code}/documents/{doc.pk}/").status_code == 404


def test_withdraw_rate_and_refused_action_messages(logged_in, walker):
    submitted = walker.in_state(State.SUBMITTED)
    response = logged_in.post(f"/my/dossiers/{submitted.code}/withdraw/", {"reason": "Nhầm"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == State.WITHDRAWN
    # Rating a withdrawn dossier is refused with a message, not an error page.
    refused = logged_in.post(
        f"/my/dossiers/{submitted.code}/rate/", {"satisfied": "1"}, follow=True
    )
    assert refused.status_code == 200
    assert [m.level_tag for m in refused.context["messages"]][-1] == "error"
    done = walker.in_state(State.RETURNED)
    logged_in.post(f"/my/dossiers/{done.code}/rate/", {"satisfied": "0", "comment": "Chậm"})
    assert done.rating.satisfied is False and done.rating.comment == "Chậm"


def test_supplement_from_the_page(logged_in, walker):
    dossier = walker.in_state(State.SUPPLEMENT_REQUESTED)
    page = logged_in.get(f"/my/dossiers/{dossier.code}/").content.decode()
    assert f"/my/dossiers/{dossier.code}/supplement/" in page
    logged_in.post(
        f"/my/dossiers/{dossier.code}/supplement/",
        {"name": "Giấy chứng sinh", "file": pdf()},
    )
    dossier.refresh_from_db()
    assert dossier.state == State.IN_PROCESS


def test_actions_of_another_citizen_are_not_found(client, walker):
    dossier = walker.in_state(State.SUBMITTED)
    client.force_login(CitizenFactory())
    for action in ("withdraw", "pay", "rate", "supplement"):
        assert client.post(f"/my/dossiers/{dossier.code}/{action}/").status_code == 404
    dossier.refresh_from_db()
    assert dossier.state == State.SUBMITTED


# --- Petitions -----------------------------------------------------------------------------
def test_petition_about_a_dossier_then_answer_and_rating(logged_in, walker, receptionist):
    dossier = walker.in_state(State.ACCEPTED)
    url = f"/my/petitions/new/?dossier={dossier.code}"
    response = logged_in.post(url, {"subject": "Hẹn nhiều lần", "body": "Tôi đã đến ba lần."})
    petition = Petition.objects.get()
    assert response.status_code == 302 and response.url == f"/my/petitions/{petition.code}/"
    assert petition.code in logged_in.get("/my/petitions/").content.decode()
    services.petition_answer(petition=petition, actor=receptionist, answer="Đã chấn chỉnh.")
    page = logged_in.get(f"/my/petitions/{petition.code}/").content.decode()
    assert "Đã chấn chỉnh." in page
    logged_in.post(f"/my/petitions/{petition.code}/rate/", {"satisfied": "1"})
    petition.refresh_from_db()
    assert petition.satisfied is True
    assert 'data-testid="petition-repeat"' in page
    repeated = logged_in.post(f"/my/petitions/{petition.code}/repeat/")
    assert repeated.status_code == 302
    petition.refresh_from_db()
    assert petition.repeated is True
    page = logged_in.get(f"/my/petitions/{petition.code}/").content.decode()
    assert 'data-testid="petition-repeat"' not in page
    events = petition.events.count()
    logged_in.post(f"/my/petitions/{petition.code}/repeat/")  # a second time: refused
    assert petition.events.count() == events


def test_general_petition_chooses_a_centre(logged_in, center):
    url = f"/my/petitions/new/?province={center.province.code}"
    assert center.code in logged_in.get(url).content.decode()
    logged_in.post(url, {"centre": center.code, "subject": "Thái độ", "body": "Chưa tốt."})
    assert Petition.objects.get().center == center


def test_petition_pages_query_count(logged_in, center, citizen, django_assert_max_num_queries):
    for _ in range(6):
        services.petition_file(citizen=citizen, center=center, subject="S", body="B")
    with django_assert_max_num_queries(8):
        assert logged_in.get("/my/petitions/").status_code == 200


def test_other_citizens_petition_is_not_found(client, center, citizen):
    petition = services.petition_file(citizen=citizen, center=center, subject="S", body="B")
    client.force_login(CitizenFactory())
    assert client.get(f"/my/petitions/{petition.code}/").status_code == 404


# --- Tracking ------------------------------------------------------------------------------
def test_tracking_shows_state_and_due_only(client, walker, citizen):
    dossier = walker.in_state(State.ACCEPTED)
    response = client.post(
        "/track/", {"code": dossier.code, "citizen_id_last4": citizen.citizen_id[-4:]}
    )
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="track-result"' in page
    assert citizen.last_name not in page and walker.procedure.name_vi not in page


def test_tracking_wrong_pairs_look_identical(client, walker, citizen):
    dossier = walker.in_state(State.ACCEPTED)
    wrong = "0000" if citizen.citizen_id[-4:] != "0000" else "1111"
    a = client.post("/track/", {"code": dossier.code, "citizen_id_last4": wrong})
    b = client.post("/track/", {"code": "C0-0", "citizen_id_last4": citizen.citizen_id[-4:]})
    assert a.status_code == b.status_code == 404
    assert 'data-testid="track-not-found"' in a.content.decode()

    def visible(response):
        # The page without what the visitor typed and the per-request CSRF token.
        html = response.content.decode()
        html = re.sub(r'value="[^"]*"', 'value=""', html)
        return html

    assert visible(a) == visible(b)


def test_tracking_page_is_throttled(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "tracking": "2/min",
        },
    }
    codes = [
        client.post("/track/", {"code": "x", "citizen_id_last4": "1234"}).status_code
        for _ in range(4)
    ]
    assert codes == [404, 404, 429, 429]


# --- Query counts of the remaining pages ----------------------------------------------------
def test_page_query_counts(logged_in, walker, center, citizen, django_assert_max_num_queries):
    from tests.factories import CommuneCenterFactory, CommuneFactory

    for _ in range(20):  # a province with many communes: the centre list is one query
        CommuneCenterFactory(commune=CommuneFactory(province=center.province))
    dossier = walker.in_state(State.ACCEPTED)
    petition = services.petition_file(citizen=citizen, center=center, subject="S", body="B")
    pages = [
        f"/procedures/{walker.procedure.code}/",
        f"/procedures/{walker.procedure.code}/submit/?province={center.province.code}",
        f"/my/petitions/{petition.code}/",
        f"/my/petitions/new/?province={center.province.code}",
        f"/my/petitions/new/?dossier={dossier.code}",
        "/track/",
    ]
    for url in pages:
        with django_assert_max_num_queries(10):
            assert logged_in.get(url).status_code == 200, url
