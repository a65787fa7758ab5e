"""Manager pages: national ranking, province page, unit page — content read from published
snapshots, access by role, bad input, query-count bounds, and the scoring engine end to end."""

from __future__ import annotations

import re
import zlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from portal.models import ManagerScope, ServiceCenter
from scoring import methodology as M
from scoring.models import IndexSnapshot
from scoring.pages import UnitScope, units_visible_to
from scoring.selectors import current_snapshots
from tests.factories import (
    CitizenFactory,
    StaffFactory,
    UserFactory,
    index_counts,
    index_publish,
    reference_subset,
)

D = date(2025, 7, 24)
PUBLISHED = [D - timedelta(days=n) for n in (0, 1, 2, 3, 7)]


def unit_keys() -> list[str]:
    return list(ServiceCenter.objects.values_list("code", flat=True).order_by("code")) + list(
        ServiceCenter.objects.values_list("province_id", flat=True).distinct()
    )


def drifted(key: str, days_before: int) -> dict[str, tuple[int, int]]:
    """A unit's counts ``days_before`` the latest date: each share drifts by up to ±2 % of its
    denominator a day, so scores and ranks move a little from day to day."""
    seed = zlib.crc32(key.encode()) % 997
    counts = {}
    for i, (code, (numerator, denominator)) in enumerate(sorted(index_counts(seed).items())):
        step = ((seed + i) % 5 - 2) * denominator // 100
        counts[code] = (min(denominator, max(0, numerator - step * days_before)), denominator)
    return counts


@pytest.fixture
def nation(db):
    """34 provinces (+ their provincial centres), all 69 communes of Hà Tĩnh (42) and three of
    Hà Nội (01), with an index published on five days up to 2025-07-24."""
    reference_subset(communes={"42": None, "01": 3})
    keys = sorted(set(unit_keys()))
    for on in PUBLISHED:
        shift = (D - on).days
        index_publish(
            on=on,
            units={key: drifted(key, shift) for key in keys},
            # Both layouts on the latest date; the six-group version only before it.
            methodologies=("2026", "2025-07") if on == D else ("2026",),
        )
    return keys


@pytest.fixture
def users(db):
    # No password: the tests log in with force_login, and hashing is slow.
    national = UserFactory(username="national", is_staff=True, password=None)
    ManagerScope.objects.create(user=national, province=None)
    hatinh = UserFactory(username="manager42", is_staff=True, password=None)
    ManagerScope.objects.create(user=hatinh, province_id="42")
    staff = StaffFactory(
        username="staff18073", center=ServiceCenter.objects.get(code="C18073"), password=None
    )
    return {
        "national": national,
        "province": hatinh,
        "staff": staff,
        "citizen": CitizenFactory(password=None),
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True, password=None),
    }


def get(client, user, url, **params):
    if user is not None:
        client.force_login(user)
    return client.get(url, params, HTTP_ACCEPT_LANGUAGE="vi")


def snapshot(unit, on=D, window="ytd", methodology="2026") -> IndexSnapshot:
    return current_snapshots().get(unit=unit, date=on, window=window, methodology=methodology)


RANKING = reverse("scoring:ranking")


def province_url(code):
    return reverse("scoring:province", args=[code])


def unit_url(key):
    return reverse("scoring:unit", args=[key])


# --- Access ----------------------------------------------------------------------------------
def test_scope_of_each_role(nation, users):
    assert units_visible_to(users["superuser"]) == UnitScope(nation=True)
    assert units_visible_to(users["national"]).nation
    province = units_visible_to(users["province"])
    assert province.provinces == {"42"} and province.sees_ranking and not province.nation
    assert province.sees_unit("C18073", "42") and not province.sees_unit("C00004", "01")
    staff = units_visible_to(users["staff"])
    assert staff.centers == {"C18073"} and not staff.sees_ranking
    assert not staff.sees_province("42") and staff.sees_unit("C18073", "42")
    assert not units_visible_to(users["citizen"]).sees_anything


ALLOWED = {
    # role: (ranking, province 42, province 01, unit C18073, unit C18100, unit 42, unit C00004)
    "superuser": (200, 200, 200, 200, 200, 200, 200),
    "national": (200, 200, 200, 200, 200, 200, 200),
    "province": (200, 200, 403, 200, 200, 200, 403),
    "staff": (302, 403, 403, 200, 403, 403, 403),
    "citizen": (403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_access_by_role(client, nation, users, role):
    urls = [
        RANKING,
        province_url("42"),
        province_url("01"),
        unit_url("C18073"),
        unit_url("C18100"),
        unit_url("42"),
        unit_url("C00004"),
    ]
    statuses = tuple(get(client, users[role], url).status_code for url in urls)
    assert statuses == ALLOWED[role]


def test_refusal_reveals_no_data(client, nation, users):
    response = get(client, users["province"], province_url("01"))
    assert response.status_code == 403
    other = snapshot("01")
    body = response.content.decode()
    assert f"{other.total}".replace(".", ",") not in body
    assert "Hà Nội" not in body


def test_staff_ranking_redirects_to_their_centre(client, nation, users):
    response = get(client, users["staff"], RANKING)
    assert response.status_code == 302
    assert response["Location"] == unit_url("C18073")


@pytest.mark.parametrize("url", [RANKING, "/rankings/provinces/42/", "/rankings/units/C18073/"])
def test_anonymous_is_sent_to_login(client, nation, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_provincial_manager_sees_names_but_links_only_their_province(client, nation, users):
    body = get(client, users["province"], RANKING).content.decode()
    assert 'href="/rankings/provinces/42/?' in body
    assert 'href="/rankings/provinces/01/' not in body
    assert "Hà Nội" in body  # the national ranking itself is visible


# --- National ranking ------------------------------------------------------------------------
def ranking_rows(body: str) -> list[str]:
    table = body.split('id="ranking"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[^>]*>\s*<td class=\"num\">(.*?)</tr>", table, re.S)


def test_ranking_lists_34_provinces_in_rank_order_with_latest_date_by_default(
    client, nation, users
):
    response = get(client, users["national"], RANKING)
    assert response.status_code == 200
    context = response.context
    assert context["selection"].date == D and context["selection"].window == "ytd"
    rows = context["ranking"].rows
    assert len(rows) == 34 == len(ranking_rows(response.content.decode()))
    expected = list(
        current_snapshots()
        .filter(date=D, window="ytd", methodology="2026", unit_kind="province")
        .order_by("rank", "unit")
        .values_list("unit", "total", "rank")
    )
    assert [(r.unit, r.score.total, r.score.rank) for r in rows] == expected
    assert [r.score.rank for r in rows] == sorted(r.score.rank for r in rows)


def test_ranking_columns_follow_the_methodology_layout(client, nation, users):
    six = get(client, users["national"], RANKING, methodology="2026").context["ranking"]
    five = get(client, users["national"], RANKING, methodology="2025-07").context["ranking"]
    assert [c.key for c in six.columns] == [
        "transparency",
        "progress",
        "online",
        "payment",
        "digitisation",
        "satisfaction",
    ]
    assert [c.key for c in five.columns] == [
        "transparency",
        "progress",
        "online",
        "digitisation",
        "satisfaction",
    ]
    assert five.columns[2].maximum == Decimal("22")
    row = next(r for r in five.rows if r.unit == "42")
    stored = snapshot("42", methodology="2025-07")
    assert [c.value for c in row.groups] == [
        Decimal(str(stored.groups[c.key])) for c in five.columns
    ]
    assert len(row.groups) == 5


def test_changes_since_previous_day_and_week(client, nation, users):
    rows = get(client, users["national"], RANKING, window="month").context["ranking"].rows
    row = next(r for r in rows if r.unit == "42")
    now = snapshot("42", window="month")
    day = snapshot("42", on=D - timedelta(days=1), window="month")
    week = snapshot("42", on=D - timedelta(days=7), window="month")
    assert row.change_day.score == now.total - day.total
    assert row.change_day.places == day.rank - now.rank
    assert row.change_week.score == now.total - week.total
    assert row.change_week.places == week.rank - now.rank


def test_no_change_shown_without_an_earlier_publication(client, nation, users):
    earliest = PUBLISHED[-1]
    rows = (
        get(client, users["national"], RANKING, date=earliest.isoformat()).context["ranking"].rows
    )
    assert rows and all(r.change_day is None and r.change_week is None for r in rows)


def test_colour_bands_by_share_of_the_maximum(client, nation, users):
    response = get(client, users["national"], RANKING)
    for row in response.context["ranking"].rows:
        share = row.score.total / 100
        expected = (
            "band-high"
            if share >= Decimal("0.9")
            else "band-good"
            if share >= Decimal("0.8")
            else "band-mid"
            if share >= Decimal("0.65")
            else "band-low"
        )
        assert row.total.band == expected
    assert 'class="num score band-' in response.content.decode()


def test_vietnamese_by_default_english_available(client, nation, users):
    client.force_login(users["national"])
    vi = client.get(RANKING).content.decode()
    assert "Công khai, minh bạch" in vi
    assert 'lang="vi"' in vi
    client.cookies["django_language"] = "en"
    en = client.get(RANKING).content.decode()
    assert "Transparency" in en and 'lang="en"' in en


@pytest.mark.parametrize(
    "params, message",
    [
        ({"window": "decade"}, "decade"),
        ({"methodology": "1999"}, "1999"),
        ({"date": "24/07/2025"}, "YYYY-MM-DD"),
        ({"window": "custom", "from": "2025-07-10"}, "from"),
        ({"window": "custom", "from": "2025-07-10", "to": "2025-07-01"}, "ends before"),
        ({"window": "custom", "from": "2024-01-01", "to": "2025-07-01"}, "366"),
        ({"window": "custom", "from": "2025-07-01", "to": "2999-01-01"}, "future"),
    ],
)
def test_bad_input_is_a_400_with_a_message(client, nation, users, params, message):
    client.cookies["django_language"] = "en"  # the messages' source text
    client.force_login(users["national"])
    response = client.get(RANKING, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_unpublished_date_is_a_404_with_the_selector(client, nation, users):
    response = get(client, users["national"], RANKING, date="2025-01-05")
    assert response.status_code == 404
    assert 'name="window"' in response.content.decode()


def test_custom_range_is_computed_from_daily_facts(client, nation, users):
    from scoring.snapshots import scores_for_range

    response = get(
        client,
        users["national"],
        RANKING,
        window="custom",
        **{"from": "2025-07-01", "to": "2025-07-20"},
    )
    assert response.status_code == 200
    rows = response.context["ranking"].rows
    expected = scores_for_range(date_from=date(2025, 7, 1), date_to=date(2025, 7, 20)).provinces()
    assert [(r.unit, r.score.total, r.score.rank) for r in rows] == [
        (s.key, s.total, s.rank) for s in expected
    ]
    assert len(rows) == 34
    assert all(r.change_day is None for r in rows)


# --- Province page ---------------------------------------------------------------------------
def test_province_page_ranks_its_units_and_charts_its_communes(client, nation, users):
    response = get(client, users["province"], province_url("42"), window="quarter")
    assert response.status_code == 200
    detail = response.context["detail"]
    assert detail.score.score.total == snapshot("42", window="quarter").total
    assert len(detail.units) == 70  # the provincial centre + 69 communes
    assert [r.score.rank for r in detail.units] == sorted(r.score.rank for r in detail.units)
    assert {r.unit for r in detail.units} == {k for k in nation if k.startswith("C18")} | {"P42"}
    body = response.content.decode()
    chart = body.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect ") == 69
    assert 'role="img"' in body and "<script" not in body and "style=" not in body


def test_province_page_shows_the_statistics_report(client, nation, users):
    response = get(client, users["national"], province_url("42"), window="month")
    report = response.context["report"]
    assert report["province"] == "42"
    assert (report["from"], report["to"]) == ("2025-07-01", "2025-07-24")
    from scoring.report import province_report

    assert report == province_report("42", date(2025, 7, 1), D, "2026")
    lines = response.context["report_lines"]
    assert len(lines) == 13
    assert lines[0].total == report["received"]["province"] + report["received"]["commune"]
    assert lines[-1].total.numerator == report["paid_online"]["total"][0]
    assert "report-caption" in response.content.decode()


# --- Unit page -------------------------------------------------------------------------------
def test_unit_page_lists_every_indicator_grouped(client, nation, users):
    response = get(client, users["staff"], unit_url("C18073"))
    assert response.status_code == 200
    stored = snapshot("C18073")
    groups = response.context["groups"]
    assert [g.column.key for g in groups] == [c.key for c in M.METHODOLOGIES["2026"].columns]
    lines = {line.code: line for g in groups for line in g.lines}
    assert set(lines) == set(M.METHODOLOGIES["2026"].codes)
    for code, (numerator, denominator, ratio, score) in stored.indicators.items():
        line = lines[code]
        assert (line.numerator, line.denominator) == (numerator, denominator)
        assert line.ratio == Decimal(str(ratio)) and line.score == Decimal(str(score))
        assert line.maximum == M.METHODOLOGIES["2026"].indicator(code).max
    body = response.content.decode()
    numerator, denominator, ratio, _ = stored.indicators["dossiers_online"]
    assert f"{Decimal(str(ratio)):.2f}".replace(".", ",") in body  # Vietnamese decimal comma


def test_unit_page_trend_covers_the_published_days(client, nation, users):
    response = get(client, users["national"], unit_url("42"), window="month")
    trend = response.context["trend"]
    assert trend.dates == sorted(PUBLISHED)
    assert trend.totals == [snapshot("42", on=d, window="month").total for d in trend.dates]
    body = response.content.decode()
    assert body.count("<polyline") == 1 + 6  # the total, and the six groups


def test_unit_page_of_an_unknown_unit_is_404(client, nation, users):
    assert get(client, users["national"], unit_url("C99999")).status_code == 404


# --- Query counts ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url, limit",
    [
        # session and user (2) + access scope (2) + the page's reads + session save (3)
        (RANKING, 11),
        ("/rankings/provinces/42/?window=month", 12),
        ("/rankings/units/C18073/", 11),
        ("/rankings/units/42/?window=quarter", 11),
    ],
)
def test_pages_run_a_bounded_number_of_queries(
    client, nation, users, url, limit, django_assert_max_num_queries
):
    client.force_login(users["national"])
    client.get(url)  # warm the cached statistics report
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


def test_cached_page_parts_follow_a_new_publication(client, nation, users):
    """The province's units and the unit's trend are cached until the next publication: a
    recompute that republishes the date shows at once, in both pages."""
    client.force_login(users["national"])
    params = {"window": "month"}
    before_unit = client.get(unit_url("C18073"), params).context["trend"].totals[-1]
    before_row = next(
        r
        for r in client.get(province_url("42"), params).context["detail"].units
        if r.unit == "C18073"
    )
    assert before_unit == before_row.score.total
    # Republish the latest date with every share of C18073 at its best: a higher total.
    units = {key: drifted(key, 0) for key in nation}
    units["C18073"] = {code: (d, d) for code, (_, d) in units["C18073"].items()}
    index_publish(on=D, units=units)
    after = snapshot("C18073", window="month").total
    assert after > before_unit
    assert client.get(unit_url("C18073"), params).context["trend"].totals[-1] == after
    rows = client.get(province_url("42"), params).context["detail"].units
    assert next(r for r in rows if r.unit == "C18073").score.total == after


# --- The scoring engine end to end -----------------------------------------------------------
def test_pages_show_what_the_scoring_services_computed(client, org, make_dossier):
    """Dossiers → daily facts → snapshots (scoring.services.index_recompute) → pages."""
    from scoring.services import index_recompute

    commune = org.p91.communes["91001"]
    for n in range(4):
        make_dossier(commune, accepted="2025-07-02", channel=2 if n < 3 else 1, digitised=True)
    make_dossier(org.p91.provincial, org.provincial, accepted="2025-07-03", channel=1)
    index_recompute(date_from=date(2025, 7, 2), date_to=date(2025, 7, 4))
    manager = UserFactory(username="m91", is_staff=True, password=None)
    ManagerScope.objects.create(user=manager, province_id="91")
    client.force_login(manager)

    response = client.get(unit_url("C91001"), {"window": "month", "date": "2025-07-04"})
    lines = {line.code: line for g in response.context["groups"] for line in g.lines}
    assert (lines["dossiers_online"].numerator, lines["dossiers_online"].denominator) == (3, 4)
    assert lines["dossiers_online"].ratio == Decimal("75.00")

    province = client.get(province_url("91"), {"window": "month", "date": "2025-07-04"})
    report = province.context["report"]
    assert report["received"]["province"] == 1 and report["received"]["commune"] == 4
    assert report["online"]["commune"] == [3, 4]
    assert {r.unit for r in province.context["detail"].units} == {
        "P91",
        "C91001",
        "C91002",
        "C91003",
    }
    ranking = client.get(RANKING, {"window": "month", "date": "2025-07-04"})
    assert [r.unit for r in ranking.context["ranking"].rows] == sorted(
        ["91", "92"], key=lambda u: (snapshot(u, on=date(2025, 7, 4), window="month").rank, u)
    )


# --- Charts ----------------------------------------------------------------------------------
def test_bar_chart_escapes_labels_and_draws_one_bar_per_unit():
    from scoring.charts import Bar, bar_chart

    svg = str(
        bar_chart(
            [Bar("<script>alert(1)</script>", Decimal("80.5"), "/u/?a=1&b=2", "band-good")]
            + [Bar(f"Xã {n}", n, band="band-mid") for n in range(70, 40, -1)]
            + [Bar("none", None)],
            chart_id="c",
            title='T "1"',
            description="D",
        )
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'href="/u/?a=1&amp;b=2"' in svg and "&quot;1&quot;" in svg
    assert svg.count("<rect ") == 32 and "style=" not in svg
    assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg


def test_line_chart_places_days_by_date_and_breaks_on_gaps():
    from scoring.charts import Series, line_chart

    days = [date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3), date(2025, 7, 31)]
    svg = str(
        line_chart(
            days,
            [Series("total", "Total", [Decimal("80"), None, Decimal("82"), Decimal("90")])],
            chart_id="t",
            title="T",
            description="D",
            y_max=100,
        )
    )
    # 1 July alone (a gap follows), then 3 July → 31 July as one line.
    assert svg.count("<polyline") == 1 and svg.count('<circle cx="44.0"') == 1
    xs = [float(x) for x in re.findall(r'<text class="tick" x="([\d.]+)" y="2\d\d"', svg)]
    assert xs[0] == 44.0 and xs[-1] == 948.0  # first and last day at the plot's edges
    one_day = str(
        line_chart(
            days[:1], [Series("t", "T", [1])], chart_id="o", title="", description="", y_max=1
        )
    )
    assert "<circle" in one_day and "<polyline" not in one_day


# --- Admin "Rankings" page -------------------------------------------------------------------
def test_admin_rankings_page_links_to_the_pages_a_user_may_open(client, nation, users):
    client.force_login(users["province"])
    body = client.get("/admin/scoring/rankings/").content.decode()
    assert 'href="/rankings/"' in body and 'href="/rankings/provinces/42/"' in body
    assert 'href="/rankings/provinces/01/"' not in body
    client.force_login(users["national"])
    body = client.get("/admin/scoring/rankings/").content.decode()
    assert body.count('href="/rankings/provinces/') == 34
    assert "24/07/2025" in body  # the latest published date


def test_admin_rankings_page_needs_a_staff_login(client, nation, users):
    assert client.get("/admin/scoring/rankings/").status_code == 302
    client.force_login(users["citizen"])
    assert client.get("/admin/scoring/rankings/").status_code == 302


def test_scoring_admin_index_links_the_rankings_page(client, nation, users):
    client.force_login(users["superuser"])
    response = client.get("/admin/scoring/")
    assert response.status_code == 200
    assert 'href="/admin/scoring/rankings/"' in response.content.decode()


def test_snapshot_filter_matches_the_unit_rule(nation, users):
    latest = current_snapshots().filter(date=D, window="ytd", methodology="2026")
    for role in ("national", "province", "staff", "citizen"):
        scope = units_visible_to(users[role])
        visible = set(latest.filter(scope.snapshot_filter()).values_list("unit", "province_id"))
        expected = {
            (unit, province)
            for unit, province in latest.values_list("unit", "province_id")
            if scope.sees_unit(unit, province)
        }
        assert visible == expected
    assert {u for u, _ in visible} == set()  # the citizen sees nothing
