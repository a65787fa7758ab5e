"""Citizen identity: the national identity provider (VNeID) behind an interface, and a mock of it
for development and tests.

A login is two steps: ``start(citizen_id)`` asks the provider to send a one-time code to the
citizen, ``verify(challenge_id, citizen_id, code)`` checks it. The mock keeps a hash of the code
(never the code) with an expiry, logs the code to the console and, in development, lets the page
show it. A real provider plugs in through ``settings.IDENTITY_PROVIDER``.

Verification goes through ``django.contrib.auth.authenticate`` (``IdentityProviderBackend``) so
django-axes counts failures and locks out guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from portal.models import LoginChallenge, User, citizen_id_validator, mask_citizen_id

logger = logging.getLogger("portal.identity")

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS_PER_CODE = 5
# Codes a citizen ID may request in one window: stops a script from spamming the provider.
MAX_CODES_PER_WINDOW = 5
CODE_WINDOW = timedelta(minutes=15)


class IdentityError(Exception):
    """The provider refused the request; the message is safe to show to the citizen."""


@dataclass(frozen=True)
class Challenge:
    id: int
    citizen_id: str
    expires_at: datetime
    # Only a development provider fills this in, so the page can show it.
    display_code: str | None = None


@dataclass(frozen=True)
class Identity:
    citizen_id: str
    full_name: str = ""


class IdentityProvider:
    """What the portal needs from a national identity provider."""

    def start(self, *, citizen_id: str, at: datetime | None = None) -> Challenge:
        raise NotImplementedError

    def verify(
        self, *, challenge_id: int, citizen_id: str, code: str, at: datetime | None = None
    ) -> Identity | None:
        raise NotImplementedError


def _hash_code(challenge_citizen_id: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{challenge_citizen_id}:{code}".encode(), hashlib.sha256).hexdigest()


def validate_citizen_id(citizen_id: str) -> str:
    citizen_id = (citizen_id or "").strip()
    try:
        citizen_id_validator(citizen_id)
    except Exception as exc:
        raise IdentityError(_("A citizen ID (CCCD) has exactly 12 digits.")) from exc
    return citizen_id


class MockVNeIDProvider(IdentityProvider):
    """Development stand-in for VNeID: the "sent" code is logged and may be shown on screen."""

    def start(self, *, citizen_id: str, at: datetime | None = None) -> Challenge:
        at = at or timezone.now()
        citizen_id = validate_citizen_id(citizen_id)
        recent = LoginChallenge.objects.filter(
            citizen_id=citizen_id, created_at__gte=at - CODE_WINDOW
        ).count()
        if recent >= MAX_CODES_PER_WINDOW:
            raise IdentityError(_("Too many codes requested. Please wait 15 minutes."))
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        challenge = LoginChallenge.objects.create(
            citizen_id=citizen_id,
            code_hash=_hash_code(citizen_id, code),
            created_at=at,
            expires_at=at + CODE_LIFETIME,
        )
        logger.info(
            "mock VNeID: one-time code %s for citizen %s", code, mask_citizen_id(citizen_id)
        )
        return Challenge(
            id=challenge.pk,
            citizen_id=citizen_id,
            expires_at=challenge.expires_at,
            display_code=code if settings.IDENTITY_SHOW_CODE else None,
        )

    def verify(
        self, *, challenge_id: int, citizen_id: str, code: str, at: datetime | None = None
    ) -> Identity | None:
        at = at or timezone.now()
        code = (code or "").strip()
        with transaction.atomic():
            challenge = (
                LoginChallenge.objects.select_for_update()
                .filter(pk=challenge_id, citizen_id=citizen_id, used_at__isnull=True)
                .first()
            )
            if (
                challenge is None
                or challenge.expires_at <= at
                or challenge.attempts >= MAX_ATTEMPTS_PER_CODE
            ):
                return None
            if not hmac.compare_digest(challenge.code_hash, _hash_code(citizen_id, code)):
                challenge.attempts += 1
                challenge.save(update_fields=["attempts"])
                return None
            challenge.used_at = at
            challenge.save(update_fields=["used_at"])
        return Identity(citizen_id=citizen_id)


def identity_provider() -> IdentityProvider:
    return import_string(settings.IDENTITY_PROVIDER)()


def citizen_for_identity(identity: Identity) -> User:
    """The portal account of a verified citizen, created at the first login."""
    user = User.objects.filter(citizen_id=identity.citizen_id).first()
    if user is not None:
        return user
    with transaction.atomic():
        # Neither the username nor the displayed name carries the full CCCD (pages show them).
        user, created = User.objects.get_or_create(
            citizen_id=identity.citizen_id,
            defaults={
                "username": f"vneid-{secrets.token_hex(6)}",
                "last_name": identity.full_name
                or f"Công dân {mask_citizen_id(identity.citizen_id)}",
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            citizens = Group.objects.filter(name="Citizens").first()
            if citizens is not None:
                user.groups.add(citizens)
    return user


class IdentityProviderBackend:
    """``authenticate(request, username=<CCCD>, challenge_id=..., otp=...)``.

    The CCCD is passed as ``username`` so django-axes locks out by citizen ID and address."""

    def authenticate(self, request, username=None, challenge_id=None, otp=None, **kwargs):
        if username is None or challenge_id is None or otp is None:
            return None
        identity = identity_provider().verify(
            challenge_id=challenge_id, citizen_id=username, code=otp
        )
        if identity is None:
            return None
        user = citizen_for_identity(identity)
        return user if user.is_active else None

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id).first()
