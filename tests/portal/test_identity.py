"""Citizen login through the mock identity provider: one-time codes stored hashed with an
expiry, wrong codes counted, lockout by django-axes, the account created at first login."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.identity import (
    MAX_CODES_PER_WINDOW,
    IdentityError,
    MockVNeIDProvider,
)
from portal.models import LoginChallenge, User

pytestmark = pytest.mark.django_db
CCCD = "042095009876"


@pytest.fixture(autouse=True)
def _clean(settings, request):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A cache of this test's own: never clear a Redis cache other test workers share.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


def start(client, citizen_id=CCCD):
    response = client.post("/login/", {"citizen_id": citizen_id, "next": "/my/dossiers/"})
    match = re.search(rb'data-testid="otp">(\d{6})<', response.content)
    return response, match.group(1).decode() if match else None


def test_code_is_shown_in_development_logged_and_stored_only_hashed(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.identity"):
        response, code = start(client)
    assert response.status_code == 200 and code
    challenge = LoginChallenge.objects.get()
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=5)
    assert code in caplog.text
    assert CCCD not in caplog.text  # the log masks the citizen ID


def test_login_creates_the_citizen_and_redirects(client):
    _, code = start(client)
    response = client.post("/login/code/", {"code": code, "next": "/my/dossiers/"})
    assert response.status_code == 302 and response.url == "/my/dossiers/"
    user = User.objects.get(citizen_id=CCCD)
    assert user.groups.filter(name="Citizens").exists()
    assert not user.has_usable_password()
    assert CCCD not in user.username and CCCD not in user.get_full_name()
    assert CCCD not in client.get("/my/dossiers/").content.decode()
    assert client.get("/my/dossiers/").status_code == 200


def test_existing_citizen_logs_into_their_account(client):
    existing = User.objects.create(username="an", citizen_id=CCCD)
    _, code = start(client)
    client.post("/login/code/", {"code": code})
    assert int(client.session["_auth_user_id"]) == existing.pk
    assert User.objects.count() == 1


def test_code_is_single_use():
    provider = MockVNeIDProvider()
    challenge = provider.start(citizen_id=CCCD)
    args = {"challenge_id": challenge.id, "citizen_id": CCCD, "code": challenge.display_code}
    assert provider.verify(**args) is not None
    assert provider.verify(**args) is None


def test_too_many_wrong_codes_burn_the_challenge():
    provider = MockVNeIDProvider()
    challenge = provider.start(citizen_id=CCCD)
    for _ in range(5):
        assert provider.verify(challenge_id=challenge.id, citizen_id=CCCD, code="999999") is None
    right = {"challenge_id": challenge.id, "citizen_id": CCCD, "code": challenge.display_code}
    assert provider.verify(**right) is None


def test_expired_code_is_refused():
    provider = MockVNeIDProvider()
    now = timezone.now()
    challenge = provider.start(citizen_id=CCCD, at=now)
    assert (
        provider.verify(
            challenge_id=challenge.id,
            citizen_id=CCCD,
            code=challenge.display_code,
            at=now + timedelta(minutes=6),
        )
        is None
    )
    assert provider.verify(
        challenge_id=challenge.id, citizen_id=CCCD, code=challenge.display_code, at=now
    )


def test_code_for_another_citizen_id_is_refused():
    provider = MockVNeIDProvider()
    challenge = provider.start(citizen_id=CCCD)
    other = "042095000001"
    assert (
        provider.verify(challenge_id=challenge.id, citizen_id=other, code=challenge.display_code)
        is None
    )


@pytest.mark.parametrize("bad", ["12345", "0420950098761", "04209500987a", ""])
def test_malformed_citizen_id_is_a_form_error(client, bad):
    response, code = start(client, bad)
    assert response.status_code == 200 and code is None
    assert not LoginChallenge.objects.exists()
    with pytest.raises(IdentityError):
        MockVNeIDProvider().start(citizen_id=bad)


def test_requesting_codes_is_limited():
    provider = MockVNeIDProvider()
    for _ in range(MAX_CODES_PER_WINDOW):
        provider.start(citizen_id=CCCD)
    with pytest.raises(IdentityError):
        provider.start(citizen_id=CCCD)


def test_wrong_codes_lock_the_citizen_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    _, code = start(client)
    statuses = [client.post("/login/code/", {"code": "000000"}).status_code for _ in range(3)]
    assert statuses[:2] == [400, 400]
    assert statuses[2] in (403, 429)
    # Locked out: even the right code does not log in now.
    locked = client.post("/login/code/", {"code": code})
    assert locked.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_code_is_hidden_outside_development(client, settings):
    settings.IDENTITY_SHOW_CODE = False
    response, code = start(client)
    assert response.status_code == 200 and code is None
    assert LoginChallenge.objects.count() == 1


def test_open_redirect_is_refused(client):
    _, code = start(client)
    response = client.post("/login/code/", {"code": code, "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/my/dossiers/"


def test_session_expires_after_15_idle_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_logout_is_visible_and_works(client):
    _, code = start(client)
    client.post("/login/code/", {"code": code})
    page = client.get("/procedures/").content.decode()
    assert 'action="/logout/"' in page
    client.post("/logout/")
    assert "_auth_user_id" not in client.session


def test_issue_api_token_command(db):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError
    from rest_framework.authtoken.models import Token

    user = User.objects.create(username="staff-x")
    out = StringIO()
    call_command("issue_api_token", "--username", "staff-x", stdout=out)
    assert out.getvalue().strip() == Token.objects.get(user=user).key
    out2 = StringIO()
    call_command("issue_api_token", "--username", "staff-x", stdout=out2)
    assert out2.getvalue() == out.getvalue()
    with pytest.raises(CommandError) as missing:
        call_command("issue_api_token", "--username", "nobody")
    assert missing.value.returncode == 2
