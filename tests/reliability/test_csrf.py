"""CSRF is enforced on every form and every session-authenticated API write: a POST without
the token is refused (403) and changes nothing — also for the role that could legitimately
make the change. Controls: the same POSTs with a valid token get past the CSRF check.

API clients authenticating with a token (no cookie) are not exposed to CSRF and are exempt, as
DRF intends."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.reliability.conftest import login
from tests.reliability.matrix import fingerprint, send
from tests.reliability.surfaces import ACTION, SURFACES, Surface

ACTIONS = [s for s in SURFACES if s.kind == ACTION and s.method == "POST"]

# Forms that are not about one dossier: (id, url name, role, data)
FORMS = [
    ("login", "portal:login", "anonymous", {"citizen_id": "042095000001"}),
    ("login-code", "portal:login_code", "anonymous", {"code": "123456"}),
    ("logout", "portal:logout", "citizen", {}),
    ("language", "set_language", "anonymous", {"language": "en", "next": "/"}),
    ("track", "dossiers:track", "anonymous", {"code": "X", "citizen_id_last4": "0001"}),
    ("gateway", "dossiers:payment_gateway", "citizen", {"order": "x", "decision": "pay"}),
    ("admin-login", "admin:login", "anonymous", {"username": "x", "password": "y"}),
    ("admin-desk", "admin:dossiers_dossier_receive", "receptionist", {"centre": "C91001"}),
    ("api-submit", "api:dossier-list", "citizen", {"procedure": "x", "centre": "C91001"}),
    ("api-tracking", "api:tracking", "anonymous", {"code": "X", "citizen_id_last4": "0001"}),
]


def acting_role(surface: Surface) -> str:
    """The role that could really make the change (CSRF must stop even them)."""
    for role in ("citizen", "receptionist", "officer", "leader"):
        if role in surface.acts:
            return role
    return "citizen"


def csrf_client(world, role) -> Client:
    client = Client(enforce_csrf_checks=True)
    login(client, world.users[role])
    return client


def with_token(client: Client, world, role) -> str:
    """A real CSRF token, as a browser gets it from a page with a form."""
    page = client.get(reverse("dossiers:track"))
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match, "the tracking page carries a CSRF token"
    return match.group(1)


@pytest.mark.parametrize("surface", ACTIONS, ids=[s.id for s in ACTIONS])
def test_actions_without_a_csrf_token_are_refused(surface, shared_world):
    world = shared_world
    role = acting_role(surface)
    client = csrf_client(world, role)
    before = fingerprint(world)
    response = send(client, surface, world, "own")
    assert response.status_code == 403, (surface.id, role, response.status_code)
    assert b"CSRF" in response.content  # refused for the token, not for the role
    assert fingerprint(world) == before


@pytest.mark.parametrize(("name", "url", "role", "data"), FORMS, ids=[f[0] for f in FORMS])
def test_forms_without_a_csrf_token_are_refused(name, url, role, data, shared_world):
    client = csrf_client(shared_world, role)
    response = client.post(reverse(url), data)
    if name == "api-tracking":
        # Anonymous and cookie-less by design: nothing a forged request could abuse.
        assert response.status_code != 403
        return
    assert response.status_code == 403, (name, response.status_code)
    assert b"CSRF" in response.content


@pytest.mark.parametrize("surface", ACTIONS, ids=[s.id for s in ACTIONS])
def test_control_the_same_actions_with_a_token_pass_the_check(surface, shared_world):
    world = shared_world
    role = acting_role(surface)
    client = csrf_client(world, role)
    token = with_token(client, world, role)
    client.defaults["HTTP_X_CSRFTOKEN"] = token
    response = send(client, surface, world, "own")
    assert response.status_code != 403, (surface.id, response.content[:300])


def test_token_authenticated_api_calls_are_exempt(shared_world):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=shared_world.users["citizen"])
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")
    code = shared_world.dossiers["own"].code
    response = client.post(
        reverse("api:dossier-transitions", kwargs={"code": code}),
        {"action": "withdraw"},
        content_type="application/json",
    )
    assert response.status_code == 200
