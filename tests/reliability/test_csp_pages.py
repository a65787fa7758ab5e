"""Every page anyone can reach carries the Content-Security-Policy header (script-src 'self',
no 'unsafe-inline') and contains no inline script, no event-handler attribute, no
``javascript:`` URL: the policy is enforceable without breaking the page.

Pages come from the surfaces table (every role, every place it may see) and from Django admin
(every registered model's list, add and change pages, as a superuser who sees them all)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.reliability.conftest import PLACES, ROLES
from tests.reliability.figures import record
from tests.reliability.matrix import client_for, send, text_of
from tests.reliability.surfaces import (
    ACTION,
    SURFACES,
    csp_problems,
    inline_code,
)

# Third-party admin pages whose inline script the CSP blocks, and what that costs.
KNOWN_INLINE = {
    "/admin/django_celery_beat/periodictask/": (
        "django-celery-beat's periodic task form previews a crontab in words with an inline "
        "script; under the CSP the preview is missing, the form still works (superusers only)"
    ),
}

PAGE_SURFACES = [s for s in SURFACES if s.kind != ACTION and s.method == "GET"]


def html_problems(response) -> list[str]:
    if not response.headers.get("Content-Type", "").startswith("text/html"):
        return []
    return csp_problems(response) + [
        p for p in inline_code(text_of(response)) if "inline style" not in p
    ]


@pytest.mark.parametrize("role", ROLES)
def test_pages_of_every_role_carry_csp_and_no_inline_code(role, shared_world):
    problems, pages = {}, 0
    client = client_for(shared_world, role)
    for surface in PAGE_SURFACES:
        for place in PLACES:
            response = send(client, surface, shared_world, place)
            found = html_problems(response)
            pages += response.headers.get("Content-Type", "").startswith("text/html")
            if found:
                problems[f"{surface.id} on {place} ({response.status_code})"] = found
    assert pages > 0
    record("csp", {"who": role, "pages": int(pages), "problems": len(problems)})
    assert problems == {}


def test_admin_pages_carry_csp_and_no_inline_code(shared_world, django_user_model):
    from django.test import Client

    root = django_user_model.objects.create_superuser("root", "root@example.vn", "x")
    client = Client()
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")
    urls = ["/admin/", "/admin/password_change/"]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
        if model_admin.has_add_permission(_request(root)):
            urls.append(reverse(f"admin:{info[0]}_{info[1]}_add"))
        obj = model_admin.get_queryset(_request(root)).first()
        if obj is not None:
            urls.append(reverse(f"admin:{info[0]}_{info[1]}_change", args=[obj.pk]))
    urls += [reverse("admin:dossiers_dossier_receive"), reverse("admin_scoring_rankings")]
    problems = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        found = html_problems(response)
        if found and not any(url.startswith(prefix) for prefix in KNOWN_INLINE):
            problems[url] = found
    assert len(urls) > 30
    record("csp", {"who": "superuser (admin)", "pages": len(urls), "problems": len(problems)})
    assert problems == {}


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_the_scanner_finds_inline_code():
    page = (
        '<html><body><script>alert(1)</script><a href="javascript:x()">x</a>'
        '<button onclick="go()">go</button><script type="application/json">{"a": 1}</script>'
        '<script src="/static/x.js"></script><div style="color: red"></div></body></html>'
    )
    problems = inline_code(page)
    assert len([p for p in problems if "inline style" not in p]) == 3
    assert any("inline style" in p for p in problems)
