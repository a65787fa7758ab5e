"""Index API: /api/v1/rankings/ and /api/v1/units/{id}/scores/ — content from published
snapshots, the same access rule as the pages, bounded pages, errors, schema."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from scoring import methodology as M
from tests.scoring import test_pages as shared
from tests.scoring.test_pages import PUBLISHED, D, snapshot

# The pages' fixtures: a published index for 34 provinces, and a user of each role.
nation = shared.nation
users = shared.users

RANKINGS = "/api/v1/rankings/"


def scores_url(unit):
    return f"/api/v1/units/{unit}/scores/"


def api(client, user, url, **params):
    if user is not None:
        client.force_login(user)
    return client.get(url, params)


# --- Rankings --------------------------------------------------------------------------------
def test_national_ranking(client, nation, users):
    response = api(client, users["national"], RANKINGS, window="month")
    assert response.status_code == 200
    body = response.json()
    assert (body["date"], body["window"], body["window_from"]) == (
        D.isoformat(),
        "month",
        "2025-07-01",
    )
    assert body["scope"] == "nation" and body["count"] == 34 and body["next"] is None
    assert [c["key"] for c in body["columns"]] == [c.key for c in M.METHODOLOGIES["2026"].columns]
    first = body["results"][0]
    stored = snapshot(first["unit"], window="month")
    assert first["rank"] == stored.rank == 1
    assert Decimal(first["total"]) == stored.total
    assert {k: Decimal(v) for k, v in first["groups"].items()} == {
        k: Decimal(str(v)) for k, v in stored.groups.items()
    }
    before = snapshot(first["unit"], on=D - timedelta(days=1), window="month")
    assert Decimal(first["change_day"]["score"]) == stored.total - before.total
    assert first["change_day"]["places"] == before.rank - stored.rank
    ranks = [r["rank"] for r in body["results"]]
    assert ranks == sorted(ranks)


def test_five_column_layout(client, nation, users):
    body = api(client, users["national"], RANKINGS, methodology="2025-07").json()
    assert [c["key"] for c in body["columns"]] == [
        "transparency",
        "progress",
        "online",
        "digitisation",
        "satisfaction",
    ]
    assert Decimal(body["columns"][2]["max"]) == 22
    assert all(len(r["groups"]) == 5 for r in body["results"])


def test_ranking_within_a_province(client, nation, users):
    body = api(client, users["province"], RANKINGS, province="42").json()
    assert body["scope"] == "42" and body["count"] == 70
    assert {r["kind"] for r in body["results"]} == {"provincial_center", "commune"}
    assert all(r["rank_of"] == 70 for r in body["results"])


def test_pages_of_a_ranking_are_bounded(client, nation, users):
    client.force_login(users["national"])
    first = client.get(RANKINGS, {"limit": 10}).json()
    assert len(first["results"]) == 10 and first["count"] == 34 and first["next"]
    second = client.get(first["next"]).json()
    assert [r["rank"] for r in second["results"]][0] >= first["results"][-1]["rank"]
    units = {r["unit"] for r in first["results"]} | {r["unit"] for r in second["results"]}
    assert len(units) == 20
    capped = client.get(RANKINGS, {"province": "42", "limit": 100000}).json()
    assert len(capped["results"]) == 70  # ≤ 200 per page


@pytest.mark.parametrize(
    "role, params, status",
    [
        ("province", {}, 200),
        ("province", {"province": "01"}, 403),
        ("staff", {}, 403),
        ("staff", {"province": "42"}, 403),
        ("citizen", {}, 403),
        ("superuser", {"province": "01"}, 200),
    ],
)
def test_ranking_access(client, nation, users, role, params, status):
    response = api(client, users[role], RANKINGS, **params)
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "permission_denied"
        assert "results" not in response.json()


def test_anonymous_is_refused(client, nation):
    for url in (RANKINGS, scores_url("42")):
        response = client.get(url)
        assert response.status_code == 403
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"window": "week"}, "window"),
        ({"methodology": "2019"}, "methodology"),
        ({"date": "yesterday"}, "date"),
        ({"window": "custom", "from": "2025-07-20", "to": "2025-07-01"}, "to"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client, nation, users, params, field):
    response = api(client, users["national"], RANKINGS, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"]


def test_unpublished_date_is_404(client, nation, users):
    response = api(client, users["national"], RANKINGS, date="2025-03-01")
    assert response.status_code == 404


def test_custom_range_ranking(client, nation, users):
    from scoring.snapshots import scores_for_range

    body = api(
        client,
        users["national"],
        RANKINGS,
        window="custom",
        **{"from": "2025-07-01", "to": "2025-07-10"},
    ).json()
    expected = scores_for_range(date_from=date(2025, 7, 1), date_to=date(2025, 7, 10))
    assert [(r["unit"], Decimal(r["total"])) for r in body["results"]] == [
        (s.key, s.total) for s in expected.provinces()
    ]
    assert body["window_from"] == "2025-07-01" and body["date"] == "2025-07-10"
    assert all(r["change_day"] is None for r in body["results"])


# --- A unit's scores -------------------------------------------------------------------------
def test_unit_series_of_published_days(client, nation, users):
    response = api(
        client, users["staff"], scores_url("C18073"), window="ytd", **{"from": "2025-07-01"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["unit"], body["kind"], body["province"]) == ("C18073", "commune", "42")
    assert [r["date"] for r in body["results"]] == [d.isoformat() for d in sorted(PUBLISHED)]
    latest = body["results"][-1]
    stored = snapshot("C18073")
    assert Decimal(latest["total"]) == stored.total and latest["rank"] == stored.rank
    numerator, denominator, ratio, score = stored.indicators["dossiers_on_time"]
    indicator = latest["indicators"]["dossiers_on_time"]
    assert (indicator["numerator"], indicator["denominator"]) == (numerator, denominator)
    assert Decimal(indicator["ratio"]) == Decimal(str(ratio))
    assert Decimal(indicator["score"]) == Decimal(str(score))
    assert (Decimal(indicator["max"]), indicator["group"]) == (Decimal(20), "progress")
    assert set(latest["indicators"]) == set(M.METHODOLOGIES["2026"].codes)


def test_unit_series_is_cursor_paginated(client, nation, users):
    client.force_login(users["national"])
    first = client.get(scores_url("42"), {"from": "2025-07-01", "page_size": 2}).json()
    assert [r["date"] for r in first["results"]] == ["2025-07-17", "2025-07-21"]
    second = client.get(first["next"]).json()
    assert [r["date"] for r in second["results"]] == ["2025-07-22", "2025-07-23"]


def test_unit_custom_range_is_one_computed_result(client, nation, users):
    from scoring.snapshots import scores_for_range

    body = api(
        client,
        users["province"],
        scores_url("P42"),
        window="custom",
        **{"from": "2025-07-01", "to": "2025-07-15"},
    ).json()
    (result,) = body["results"]
    expected = scores_for_range(
        date_from=date(2025, 7, 1), date_to=date(2025, 7, 15), province="42"
    ).units["P42"]
    assert Decimal(result["total"]) == expected.total
    assert result["window"] == "custom" and result["window_from"] == "2025-07-01"


@pytest.mark.parametrize(
    "role, unit, status",
    [
        ("staff", "C18073", 200),
        ("staff", "C18100", 403),
        ("staff", "42", 403),
        ("province", "C18100", 200),
        ("province", "01", 403),
        ("province", "C00004", 403),
        ("citizen", "42", 403),
        ("national", "C99999", 404),
    ],
)
def test_unit_scores_access(client, nation, users, role, unit, status):
    response = api(client, users[role], scores_url(unit))
    assert response.status_code == status
    if status != 200:
        assert "results" not in response.json()


# --- Query counts and schema -----------------------------------------------------------------
@pytest.mark.parametrize(
    "url, params, limit",
    [
        # session and user (2) + access scope (2) + reads + session save (3)
        (RANKINGS, {}, 11),
        (RANKINGS, {"province": "42", "window": "month"}, 11),
        (scores_url("C18073"), {"from": "2025-07-01"}, 10),
    ],
)
def test_endpoints_run_a_bounded_number_of_queries(
    client, nation, users, url, params, limit, django_assert_max_num_queries
):
    client.force_login(users["national"])
    with django_assert_max_num_queries(limit):
        assert client.get(url, params).status_code == 200


@pytest.mark.django_db
def test_endpoints_are_documented(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    rankings = schema["paths"]["/api/v1/rankings/"]["get"]
    names = {p["name"] for p in rankings["parameters"]}
    assert {"date", "window", "methodology", "from", "to", "province", "limit"} <= names
    scores = schema["paths"]["/api/v1/units/{id}/scores/"]["get"]
    assert {"from", "to", "window", "cursor"} <= {p["name"] for p in scores["parameters"]}
    assert "403" in scores["responses"] and "200" in scores["responses"]


def test_fast_series_rendering_matches_the_documented_serializer(client, nation, users):
    """The series is rendered without DRF fields for speed; it must equal what the
    documented serializer would output for the same data."""
    from scoring.api.serializers import UnitScoresPageSerializer

    body = api(client, users["national"], scores_url("42"), **{"from": "2025-07-01"}).json()
    assert UnitScoresPageSerializer(body).data == body
    custom = api(
        client,
        users["national"],
        scores_url("42"),
        window="custom",
        **{"from": "2025-07-01", "to": "2025-07-03"},
    ).json()
    assert UnitScoresPageSerializer(custom).data == custom
