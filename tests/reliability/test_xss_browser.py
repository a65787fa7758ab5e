"""HTML and script typed into every free-text field come back as text on every page that shows
them (Chromium through Playwright).

Each payload tries three ways out: a same-origin ``<script src>`` (which the CSP would allow,
so only escaping stops it), an ``<img>`` (HTML injection without script) and an attribute
break-out with an event handler. The browser intercepts ``/xss-probe*``: a request there means
markup was injected; ``window.__xss`` set means script ran. Every page must show the payloads'
marker text (proof the payload reached it) with no probe hit, no ``__xss`` and no CSP
violation."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from dossiers import services
from dossiers.models import Procedure
from portal.calendar import working_calendar
from tests.reliability.conftest import DOCUMENTS, build_world, pdf_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def payload(field: str) -> str:
    return (
        f"XSS-{field}<script src=/xss-probe.js?{field}></script>"
        f"<img src=/xss-probe.png?{field}>\"'><svg/onload=window.__xss=1>"
    )


FIELDS = [
    "first-name", "last-name", "procedure-name", "petition-subject", "petition-body",
    "rating-comment", "refuse-reason", "supplement-reason", "document-name", "apology-reason",
    "petition-answer", "withdraw-reason", "search",
]  # fmt: skip

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(
    e.violatedDirective + " " + e.blockedURI));
"""


def later_working_day(dossier):
    day = working_calendar().next_working_day(timezone.localdate(dossier.due_at))
    return datetime.combine(day, time(10, 0), tzinfo=timezone.get_current_timezone())


def hostile_world():
    """The reliability world with a payload in every free-text field (through the services,
    as users would type them)."""
    world = build_world()
    users = world.users
    citizen, receptionist, officer = users["citizen"], users["receptionist"], users["officer"]
    citizen.first_name, citizen.last_name = payload("first-name"), payload("last-name")
    citizen.save()
    Procedure.objects.filter(pk=world.procedure.pk).update(name_vi=payload("procedure-name"))

    refused = services.dossier_submit(
        citizen=citizen, center=world.centres["own"], procedure=world.procedure,
        documents=list(DOCUMENTS),
    )  # fmt: skip
    services.dossier_refuse(dossier=refused, actor=receptionist, reason=payload("refuse-reason"))

    withdrawn = services.dossier_submit(
        citizen=citizen, center=world.centres["own"], procedure=world.procedure,
        documents=list(DOCUMENTS),
    )  # fmt: skip
    services.dossier_withdraw(dossier=withdrawn, actor=citizen, reason=payload("withdraw-reason"))

    dossier = services.dossier_accept(dossier=world.dossiers["own"], actor=receptionist)
    dossier = services.dossier_start_processing(dossier=dossier, actor=officer)
    dossier = services.dossier_issue_apology(
        dossier=dossier, actor=officer, reason=payload("apology-reason"),
        new_due_at=later_working_day(dossier),
    )  # fmt: skip
    dossier = services.dossier_request_supplement(
        dossier=dossier, actor=officer, reason=payload("supplement-reason")
    )
    dossier = services.dossier_supplement(
        dossier=dossier, actor=citizen, documents=[(payload("document-name"), pdf_upload())]
    )
    dossier = services.dossier_finish(dossier=dossier, actor=officer, electronic_result=True)
    dossier = services.dossier_return_result(dossier=dossier, actor=receptionist)
    services.dossier_rate(
        dossier=dossier, citizen=citizen, satisfied=False, comment=payload("rating-comment")
    )
    petition = services.petition_file(
        citizen=citizen, center=world.centres["own"], subject=payload("petition-subject"),
        body=payload("petition-body"), dossier=dossier,
    )  # fmt: skip
    services.petition_answer(petition=petition, actor=officer, answer=payload("petition-answer"))
    return world, dossier, petition, refused, withdrawn


def session_cookie(user, base_url) -> dict:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"name": "sessionid", "value": session.session_key, "url": base_url}


def visit_all(browser, base_url, user, paths) -> tuple[dict, set[str]]:
    """Open each page as ``user``; return problems by path and the markers seen."""
    context = browser.new_context(locale="vi-VN")
    hits: list[str] = []

    def probe(route):
        hits.append(route.request.url)
        body = "window.__xss = 1;" if ".js" in route.request.url else ""
        route.fulfill(status=200, content_type="application/javascript", body=body)

    context.route("**/xss-probe*", probe)
    context.add_init_script(WATCH)
    if user is not None:
        context.add_cookies([session_cookie(user, base_url)])
    page = context.new_page()
    problems, seen = {}, set()
    try:
        for path in paths:
            hits.clear()
            response = page.goto(base_url + path)
            page.wait_for_load_state("load")
            found = []
            if response is None or response.status >= 500:
                found.append(f"status {response and response.status}")
            if page.evaluate("window.__xss") is not None:
                found.append("script ran (window.__xss set)")
            if hits:
                found.append(f"injected markup fetched {hits}")
            violations = page.evaluate("window.__csp")
            if violations:
                found.append(f"CSP violations {violations}")
            values = page.eval_on_selector_all("input, textarea", "els => els.map(e => e.value)")
            text = page.inner_text("body") + "\n".join(values)  # search boxes echo the query
            seen |= {f for f in FIELDS if f"XSS-{f}<script" in text}
            if found:
                problems[path] = found
    finally:
        context.close()
    return problems, seen


def test_payloads_in_every_free_text_field_stay_text(browser, live_server):
    world, dossier, petition, refused, withdrawn = hostile_world()
    search = payload("search")
    from urllib.parse import quote

    citizen_pages = [
        "/",
        "/my/dossiers/",
        f"/my/dossiers/{dossier.code}/",
        f"/my/dossiers/{refused.code}/",
        f"/my/dossiers/{withdrawn.code}/",
        "/my/petitions/",
        f"/my/petitions/{petition.code}/",
        "/procedures/",
        f"/procedures/{world.procedure.code}/",
        f"/procedures/?q={quote(search)}",
    ]
    staff_pages = [
        "/admin/dossiers/dossier/",
        f"/admin/dossiers/dossier/{dossier.pk}/change/",
        f"/admin/dossiers/dossier/{refused.pk}/change/",
        f"/admin/dossiers/dossier/{withdrawn.pk}/change/",
        f"/admin/dossiers/dossier/?q={quote(search)}",
        "/admin/dossiers/petition/",
        f"/admin/dossiers/petition/{petition.pk}/change/",
        "/admin/dossiers/rating/",
        f"/staff/dossiers/{dossier.code}/slip/",
        f"/staff/dossiers/{dossier.code}/apology/",
    ]
    problems, seen = visit_all(browser, live_server.url, world.users["citizen"], citizen_pages)
    staff_problems, staff_seen = visit_all(
        browser, live_server.url, world.users["leader"], staff_pages
    )
    problems |= staff_problems
    assert problems == {}
    # Every payload reached at least one page (the test is not looking at empty pages).
    assert set(FIELDS) - (seen | staff_seen) == set()
