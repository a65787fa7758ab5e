"""Browser journey of a citizen (Playwright + Chromium): log in with the mock VNeID, find
"đăng ký khai sinh", submit online with a PDF, pay a fee-bearing dossier on the gateway, follow
the dossier while staff accept and finish it, download the result, rate it, and track a dossier
without login. Screenshots of the main pages go to docs/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dossiers import services
from dossiers.models import Dossier, Payment
from dossiers.workflow import State
from portal.models import ServiceCenter, User
from tests.factories import StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CCCD = "042095001234"
BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh (no fee)
COPY = "2.000635"  # Cấp bản sao trích lục hộ tịch (8.000 VND)
CENTRE = "C18073"  # Phường Thành Sen, Hà Tĩnh
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def pdf_file(tmp_path):
    path = tmp_path / "to-khai.pdf"
    path.write_bytes(PDF)
    return path


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, request):
    settings.MEDIA_ROOT = tmp_path / "documents"
    # A cache of this test's own: never clear a Redis cache other test workers share.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


def shot(page, screenshots, name):
    page.screenshot(path=str(screenshots / f"citizen-{name}.png"), full_page=True)


def login(page, base, screenshots):
    page.goto(f"{base}/login/")
    page.fill("input[name=citizen_id]", CCCD)
    shot(page, screenshots, "01-login")
    page.click("main form button.primary")
    code = page.text_content("[data-testid=otp]").strip()
    assert re.fullmatch(r"\d{6}", code)
    page.fill("input[name=code]", code)
    shot(page, screenshots, "02-one-time-code")
    page.click("main form button.primary")
    page.wait_for_url(f"{base}/my/dossiers/")


def submit(page, base, procedure_code, pdf_file, screenshots=None):
    page.goto(f"{base}/procedures/{procedure_code}/")
    page.click(f"a[href='/procedures/{procedure_code}/submit/']")
    page.wait_for_url(f"{base}/procedures/{procedure_code}/submit/")
    page.wait_for_load_state("load")  # the deferred script has attached its listeners
    # Choosing the province reloads the list of its communes (progressive enhancement).
    with page.expect_navigation():
        page.select_option("select[name=province]", "42")
    page.fill("input[name=q]", "thanh sen")  # accents optional
    page.click("form.filters button[type=submit]")
    page.select_option("select[name=centre]", CENTRE)
    for file_input in page.query_selector_all("input[type=file]"):
        file_input.set_input_files(str(pdf_file))
    if screenshots:
        shot(page, screenshots, "05-submit")
    page.click("form[enctype] button.primary")
    page.wait_for_url(re.compile(r".*/my/dossiers/C18073-\d{6}-\d{4}/$"))
    return page.text_content("[data-testid=dossier-code]").strip()


def test_citizen_journey(page, live_server, reference_data, screenshots, pdf_file):
    base = live_server.url
    login(page, base, screenshots)

    # Find "đăng ký khai sinh" in the catalogue (accent-insensitive search).
    page.goto(f"{base}/procedures/")
    page.fill("input[name=q]", "đăng ký khai sinh")
    page.click("form.filters button[type=submit]")
    assert page.is_visible(f"a[href='/procedures/{BIRTH}/']")
    shot(page, screenshots, "03-catalogue")
    page.click(f"a[href='/procedures/{BIRTH}/']")
    assert "Giấy chứng sinh" in page.content()
    shot(page, screenshots, "04-procedure")

    birth_code = submit(page, base, BIRTH, pdf_file, screenshots)
    assert page.is_visible("[data-testid=expected-due]")
    shot(page, screenshots, "06-dossier-submitted")

    # A fee-bearing dossier: pay it on the (mock) national payment platform.
    copy_code = submit(page, base, COPY, pdf_file)
    page.click(f"form[action='/my/dossiers/{copy_code}/pay/'] button")
    page.wait_for_url(re.compile(r".*/payments/gateway/\?order=.*"))
    assert "8.000 VND" in page.text_content("[data-testid=amount]")
    shot(page, screenshots, "07-payment-gateway")
    page.click("button[value=pay]")
    page.wait_for_url(f"{base}/my/dossiers/{copy_code}/")
    assert Payment.objects.filter(dossier__code=copy_code).count() == 1
    assert Dossier.objects.get(code=copy_code).payment_status == "paid"

    page.goto(f"{base}/my/dossiers/")
    assert page.is_visible(f"a[href='/my/dossiers/{birth_code}/']")
    shot(page, screenshots, "08-my-dossiers")

    # Staff of the centre accept and finish the birth registration with an electronic result
    # (through the services the admin buttons call).
    centre = ServiceCenter.objects.get(code=CENTRE)
    staff = StaffFactory(center=centre, roles=["receptionist", "officer"])
    dossier = Dossier.objects.get(code=birth_code)
    services.dossier_accept(dossier=dossier, actor=staff)
    services.dossier_start_processing(dossier=dossier, actor=staff)
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.dossier_finish(
        dossier=dossier,
        actor=staff,
        result_document=("Trích lục khai sinh", SimpleUploadedFile("ket-qua.pdf", PDF)),
    )

    page.goto(f"{base}/my/dossiers/{birth_code}/")
    assert page.text_content("[data-testid=dossier-state]").strip()
    assert page.is_visible("[data-testid=due]")
    with page.expect_download() as download:
        page.click("[data-testid=result-download]")
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes() == PDF
    page.check("input[name=satisfied][value='1']")
    page.fill("textarea[name=comment]", "Nhanh, chu đáo")
    shot(page, screenshots, "09-result-and-rating")
    page.click(f"form[action='/my/dossiers/{birth_code}/rate/'] button")
    page.wait_for_url(f"{base}/my/dossiers/{birth_code}/")
    assert Dossier.objects.get(code=birth_code).rating.satisfied is True

    # Log out, then track without login: the right pair works, a wrong pair is refused.
    page.click("form[action='/logout/'] button")
    page.goto(f"{base}/track/")
    page.fill("input[name=code]", birth_code)
    page.fill("input[name=citizen_id_last4]", CCCD[-4:])
    page.click("main form button.primary")
    assert page.is_visible("[data-testid=track-result]")
    assert birth_code in page.text_content("[data-testid=track-result]")
    shot(page, screenshots, "10-tracking")
    page.fill("input[name=code]", birth_code)
    page.fill("input[name=citizen_id_last4]", "9999")
    page.click("main form button.primary")
    assert page.is_visible("[data-testid=track-not-found]")
    assert not page.is_visible("[data-testid=track-result]")

    assert User.objects.filter(citizen_id=CCCD).count() == 1
    assert Dossier.objects.get(code=birth_code).state == State.PROCESSED


def test_pages_fit_a_phone(browser, live_server, reference_data, screenshots):
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/procedures/?q=khai+sinh")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"horizontal scrolling on a phone: {width}px"
        page.screenshot(path=str(screenshots / "citizen-11-catalogue-phone.png"), full_page=True)
    finally:
        context.close()


def test_api_docs_render_offline_under_the_csp(page, live_server, screenshots):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() >= 20
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requests)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.screenshot(path=str(screenshots / "api-docs.png"))
