"""Browser walk of a national manager (Playwright + Chromium): log in, read the national
ranking, switch window and methodology, open Hà Tĩnh's province page (units, commune chart,
statistics), open a commune's unit page (indicators, trend charts), download a CSV. No console
error (CSP violations included). Screenshots: docs/screenshots/ranking.png, province.png,
unit.png."""

from __future__ import annotations

import re
import zlib
from datetime import date

import pytest

from portal.models import ManagerScope, ServiceCenter
from scoring.models import DailyFact
from tests.factories import PASSWORD, UserFactory
from tests.scoring import test_pages as shared
from tests.scoring.test_pages import D, snapshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

nation = shared.nation


@pytest.fixture(autouse=True)
def _isolated(settings, request):
    # A cache of this test's own: never share cached reports with other test workers.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


@pytest.fixture
def facts(nation):
    """Daily facts of Hà Tĩnh's centres for 1–24 July 2025, at about the seed article's scale
    (≈ 1,480 dossiers received a day, 11,900 carried over), so the statistics table shows
    realistic figures. Written directly: the facts engine itself is tested by scoring."""
    rows = []
    for center in ServiceCenter.objects.filter(province_id="42"):
        seed = zlib.crc32(center.code.encode())
        provincial = center.level == ServiceCenter.Level.PROVINCIAL
        open_stock = 800 if provincial else 160 + seed % 40
        rows.append(
            DailyFact(day=date(2025, 6, 30), center=center, province_id="42", open_total=open_stock)
        )
        for n in range(24):
            received = (85 if provincial else 16) + (seed >> n) % 9
            finished = received * 82 // 100
            fee = received * (30 if provincial else 22) // 100
            rows.append(
                DailyFact(
                    day=date(2025, 7, 1 + n),
                    center=center,
                    province_id="42",
                    received=received,
                    received_online=received * (95 if provincial else 57) // 100,
                    received_digitised=received,
                    received_synced=received,
                    fee_bearing=fee,
                    paid_online=fee - (n % (3 if provincial else 2) == 0),
                    finished=finished,
                    finished_early=finished * 73 // 100,
                    finished_on_time=finished - finished * 73 // 100 - (n % 5 == 0),
                    finished_late=int(n % 5 == 0),
                    finished_with_result=finished,
                    electronic_results=finished - (n % 7 == 0),
                    open_total=open_stock + (received - finished) * (n + 1),
                )
            )
    DailyFact.objects.bulk_create(rows)


@pytest.fixture
def manager(db):
    user = UserFactory(
        username="quanly-quocgia", is_staff=True, first_name="Em", last_name="Hoàng Văn"
    )
    ManagerScope.objects.create(user=user, province=None)
    return user


def test_manager_reads_ranking_province_and_unit(
    page, live_server, nation, facts, manager, screenshots
):
    problems = []
    # Console errors (CSP violations among them), except the browser's own favicon probe.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "favicon" not in (m.location or {}).get("url", "")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )

    page.goto(f"{live_server.url}/rankings/")
    assert "/admin/login/" in page.url  # anonymous → login
    page.fill("#id_username", manager.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/rankings/$"))

    # National ranking: 34 provinces, six groups, Vietnamese by default.
    rows = page.locator("#ranking tbody tr")
    assert rows.count() == 34
    assert page.locator("html").get_attribute("lang") == "vi"
    first = rows.nth(0)
    leader = snapshot(first.locator("th a").get_attribute("href").split("/")[3])
    assert first.locator("td.score").first.inner_text() == f"{leader.total:.2f}".replace(".", ",")
    assert page.locator("#ranking thead th").count() == 3 + 6 + 2
    page.screenshot(path=str(screenshots / "ranking.png"), full_page=True)

    # Five-column layout of mid-2025, then month to date in the 2026 layout.
    page.select_option("#sel-methodology", "2025-07")
    page.click("form.selector button[type=submit]")
    page.wait_for_url(re.compile(r"methodology=2025-07"))
    assert page.locator("#ranking thead th").count() == 3 + 5 + 2
    assert "/22" in page.locator("#ranking thead").inner_text()
    page.select_option("#sel-methodology", "2026")
    page.select_option("#sel-window", "month")
    page.click("form.selector button[type=submit]")
    page.wait_for_url(re.compile(r"window=month"))

    # Hà Tĩnh: its units ranked, a bar per commune, the statistics table.
    page.click("#ranking a:has-text('Hà Tĩnh')")
    page.wait_for_url(re.compile(r"/rankings/provinces/42/\?"))
    assert page.locator("#units tbody tr").count() == 70
    assert page.locator("svg.chart rect.bar").count() == 69
    assert page.locator("table.report tbody tr").count() == 13
    received = page.locator("table.report tbody tr").first.locator("td").last.inner_text()
    expected = sum(DailyFact.objects.filter(province_id="42").values_list("received", flat=True))
    assert received == f"{expected:,}".replace(",", ".")  # Vietnamese thousands separator
    page.screenshot(path=str(screenshots / "province.png"), full_page=True)

    # A commune's unit page: every indicator, and the trend charts.
    page.click("#units a:has-text('Thành Sen')")
    page.wait_for_url(re.compile(r"/rankings/units/C18073/\?"))
    assert page.locator("table.indicators tbody tr").count() == 21 + 6 * 2  # + group rows
    assert page.locator("svg.chart polyline").count() == 1 + 6
    page.screenshot(path=str(screenshots / "unit.png"), full_page=True)

    with page.expect_download() as download:
        page.click(".exports a:has-text('CSV')")
    assert download.value.suggested_filename == f"unit-c18073-month-{D.isoformat()}-indicators.csv"

    # On a phone the page does not overflow sideways: wide tables scroll in their own region.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/rankings/", "/rankings/provinces/42/", "/rankings/units/C18073/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    assert page.locator(".table-scroll[role=region][tabindex='0']").count() >= 1

    assert problems == []
