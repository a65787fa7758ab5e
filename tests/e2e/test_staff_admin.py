"""Browser journey of the staff (Playwright + Chromium) in Django admin: the receptionist
logs in, receives a walk-in dossier at the desk form and gets the printable appointment slip;
the officer starts processing and finishes it; the receptionist returns the result; the
timeline shows every step. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import re

import pytest

from dossiers.models import Dossier
from dossiers.workflow import State
from tests.factories import (
    PASSWORD,
    CommuneCenterFactory,
    ProcedureVersionFactory,
    StaffFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CCCD = "042095077777"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "documents"


def shot(page, screenshots, name):
    page.screenshot(path=str(screenshots / f"staff-{name}.png"), full_page=True)


def log_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/dossiers/dossier/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/dossiers/dossier/")


def act(page, action):
    page.click(f"button[name=_act][value={action}]")
    page.wait_for_selector(f"li.timeline-event[data-action={action}]")


def test_walk_in_dossier_from_desk_to_returned_result(browser, page, live_server, screenshots):
    base = live_server.url
    center = CommuneCenterFactory()
    version = ProcedureVersionFactory(fee_vnd=8000, limit_amount=3)
    receptionist = StaffFactory(
        center=center, roles=["receptionist"], first_name="Bình", last_name="Trần Thị"
    )
    officer = StaffFactory(center=center, roles=["officer"], first_name="Cường", last_name="Lê Văn")
    other = CommuneCenterFactory()
    foreign = StaffFactory(center=other, roles=["receptionist", "officer"])

    # The receptionist receives a walk-in at the desk.
    log_in(page, base, receptionist.username)
    page.click("a[href$='/admin/dossiers/dossier/receive/']")
    page.select_option("select[name=center]", str(center.pk))
    page.select_option("select[name=procedure]", str(version.procedure.pk))
    page.click("input[name=_continue]")
    page.fill("input[name=citizen_id]", CCCD)
    page.fill("input[name=full_name]", "Nguyễn Thị Hoa")
    for checkbox in page.locator("input[name=documents]").all():
        checkbox.check()
    page.check("input[name=paid_cash]")
    shot(page, screenshots, "01-desk-form")
    page.click("input[name=_receive]")

    # The printable appointment slip, with the due time to the minute.
    page.wait_for_selector(".slip-code")
    code = page.text_content(".slip-code").strip()
    dossier = Dossier.objects.get(code=code)
    assert dossier.state == State.ACCEPTED and dossier.payment_status == "paid"
    due = page.text_content(".slip-due")
    assert (
        re.search(r"\d{2}:\d{2}", due) and dossier.due_at.astimezone().strftime("%d/%m/%Y") in due
    )
    shot(page, screenshots, "02-appointment-slip")
    page.click(f"a[href$='/admin/dossiers/dossier/{dossier.pk}/change/']")
    page.wait_for_selector("li.timeline-event[data-action=receive]")
    change_url = page.url

    # The officer, in another browser session, starts processing and finishes.
    officer_context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    officer_page = officer_context.new_page()
    officer_page.set_default_timeout(15_000)
    try:
        log_in(officer_page, base, officer.username)
        officer_page.goto(change_url)
        assert officer_page.locator("button[name=_act][value=return_result]").count() == 0
        act(officer_page, "start_processing")
        officer_page.check("form[data-action=finish] input[name=electronic_result]")
        act(officer_page, "finish")
        assert officer_page.locator(".messagelist .success").count() >= 1
    finally:
        officer_context.close()

    # Back at the desk, the result is handed over.
    page.goto(change_url)
    act(page, "return_result")
    actions = page.locator("li.timeline-event").evaluate_all(
        "items => items.map(li => li.dataset.action)"
    )
    assert actions == ["receive", "record_payment", "start_processing", "finish", "return_result"]
    assert page.locator("button[name=_act]").count() == 0  # returned: nothing left to do
    shot(page, screenshots, "03-timeline")
    dossier.refresh_from_db()
    assert dossier.state == State.RETURNED and dossier.electronic_result

    # Staff of another centre cannot reach it by typing the URL.
    foreign_context = browser.new_context()
    foreign_page = foreign_context.new_page()
    try:
        log_in(foreign_page, base, foreign.username)
        response = foreign_page.goto(change_url)
        assert response.status == 404
    finally:
        foreign_context.close()
