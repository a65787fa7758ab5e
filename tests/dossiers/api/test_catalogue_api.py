"""Public read endpoints: procedures, fields, provinces, communes, centres."""

from __future__ import annotations

import pytest

from tests.factories import (
    CommuneCenterFactory,
    CommuneFactory,
    FieldFactory,
    ProcedureFactory,
    ProcedureVersionFactory,
    ProvincialCenterFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    births = ProcedureVersionFactory(
        procedure=ProcedureFactory(
            code="9.000001",
            name_vi="Thủ tục đăng ký khai sinh",
            search_name="9.000001 thu tuc dang ky khai sinh birth registration",
        ),
        fee_vnd=0,
    )
    land = ProcedureVersionFactory(
        procedure=ProcedureFactory(
            code="9.000002",
            name_vi="Cấp giấy chứng nhận quyền sử dụng đất",
            search_name="9.000002 cap giay chung nhan quyen su dung dat land",
            level="province",
            field=FieldFactory(code="dat-dai-thu", name="Đất đai (thử)"),
            required_documents=["Đơn đề nghị"],
        ),
        fee_vnd=100_000,
        online_level="partial",
    )
    return births.procedure, land.procedure


def test_procedures_are_public_and_show_current_rules(anon, catalogue):
    response = anon.get("/api/v1/procedures/")
    assert response.status_code == 200
    codes = [p["code"] for p in response.json()["results"]]
    assert codes == ["9.000001", "9.000002"]
    land = response.json()["results"][1]
    assert land["fee_vnd"] == 100_000
    assert land["time_limit"] == {"amount": 3, "unit": "working_days", "online_amount": None}
    assert land["online_level"] == "partial"
    assert land["field"] == {"code": "dat-dai-thu", "name": "Đất đai (thử)"}
    assert land["required_documents"] == ["Đơn đề nghị"]


@pytest.mark.parametrize("query", ["khai sinh", "KHAI SINH", "khai sính", "đăng ký khai sinh"])
def test_search_is_accent_and_case_insensitive(anon, catalogue, query):
    response = anon.get("/api/v1/procedures/", {"q": query})
    assert [p["code"] for p in response.json()["results"]] == ["9.000001"]


def test_filters_by_level_field_and_online_level(anon, catalogue):
    by_level = anon.get("/api/v1/procedures/", {"level": "province"}).json()["results"]
    by_field = anon.get("/api/v1/procedures/", {"field": "dat-dai-thu"}).json()["results"]
    by_online = anon.get("/api/v1/procedures/", {"online_level": "full"}).json()["results"]
    assert [p["code"] for p in by_level] == ["9.000002"]
    assert [p["code"] for p in by_field] == ["9.000002"]
    assert [p["code"] for p in by_online] == ["9.000001"]


def test_bad_filter_value_is_a_400_in_the_error_format(anon, catalogue):
    response = anon.get("/api/v1/procedures/", {"level": "planet"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "level" in body["fields"]


def test_procedure_detail_and_unknown_code(anon, catalogue):
    assert anon.get("/api/v1/procedures/9.000001/").json()["name_vi"] == (
        "Thủ tục đăng ký khai sinh"
    )
    missing = anon.get("/api/v1/procedures/1.999999/")
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "detail": missing.json()["detail"], "fields": {}}


def test_cursor_pagination_walks_every_procedure_once(anon, db):
    for _ in range(7):
        ProcedureVersionFactory()
    seen, url = [], "/api/v1/procedures/?page_size=3"
    while url:
        page = anon.get(url).json()
        assert set(page) == {"next", "previous", "results"}
        seen += [p["code"] for p in page["results"]]
        url = page["next"]
    assert len(seen) == 7 == len(set(seen))


def test_page_size_is_bounded(anon, db):
    for _ in range(3):
        ProcedureVersionFactory()
    response = anon.get("/api/v1/procedures/", {"page_size": 100000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_garbage_cursor_is_a_404_not_a_500(anon, catalogue):
    response = anon.get("/api/v1/procedures/", {"cursor": "!!!not-a-cursor"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_units_and_centres(anon, db):
    commune = CommuneFactory(name="Phường Thành Sen")
    CommuneCenterFactory(commune=commune)
    ProvincialCenterFactory(province=commune.province)
    provinces = anon.get("/api/v1/provinces/").json()["results"]
    assert commune.province.code in [p["code"] for p in provinces]
    communes = anon.get("/api/v1/communes/", {"province": commune.province.code}).json()
    assert communes["results"][0]["centre"] == f"C{commune.code}"
    centres = anon.get(
        "/api/v1/centres/", {"province": commune.province.code, "level": "commune"}
    ).json()["results"]
    assert [c["code"] for c in centres] == [f"C{commune.code}"]
    detail = anon.get(f"/api/v1/centres/P{commune.province.code}/").json()
    assert detail["level"] == "province" and detail["commune"] is None
    assert anon.get("/api/v1/fields/").status_code == 200


def test_reference_data_is_read_only(citizen_api, catalogue):
    response = citizen_api.post("/api/v1/procedures/", {"code": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "url", ["/api/v1/procedures/", "/api/v1/provinces/", "/api/v1/communes/", "/api/v1/centres/"]
)
def test_list_query_count_is_bounded(anon, db, django_assert_max_num_queries, url):
    for _ in range(12):
        ProcedureVersionFactory()
        CommuneCenterFactory()
    with django_assert_max_num_queries(3):
        response = anon.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 1
