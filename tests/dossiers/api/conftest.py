"""API fixtures: clients authenticated by token (as the simulator's live mode does), tiny
valid files of each accepted type (throttle counters are per test: tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import CitizenFactory, CommuneCenterFactory, StaffFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def citizen_api(citizen):
    return client_for(citizen)


@pytest.fixture
def citizen_b(db):
    return CitizenFactory()


@pytest.fixture
def citizen_b_api(citizen_b):
    return client_for(citizen_b)


@pytest.fixture
def staff(center):
    return StaffFactory(center=center, roles=["receptionist", "officer"])


@pytest.fixture
def staff_api(staff):
    return client_for(staff)


@pytest.fixture
def foreign_staff(other_center):
    """Staff of another centre: must see nothing of ``center``'s dossiers."""
    return StaffFactory(center=other_center, roles=["receptionist", "officer", "leader"])


@pytest.fixture
def foreign_staff_api(foreign_staff):
    return client_for(foreign_staff)


def pdf(name="to-khai.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png(name="giay-chung-sinh.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def make_center(db):
    return CommuneCenterFactory
