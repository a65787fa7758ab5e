"""Security configuration: the production profile's cookies, HSTS and CSP as a browser receives
them, and citizen IDs masked in logs. (``check --deploy`` itself: tests/portal/test_settings.py.)"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest

from portal.logging import CitizenIdMaskFilter, mask_citizen_ids
from portal.models import mask_citizen_id
from tests.conftest import ROOT

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "y" * 20 + "-production-secret-key-for-tests-0123456789",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "portal.example.vn",
}

# Runs in a production-profile process: one HTTPS request to a page with a form, then the
# cookies and headers the browser would get, as JSON. The login page needs no database.
PROBE = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    from django.test import override_settings
    client = Client(HTTP_HOST="portal.example.vn")
    # The manifest storage needs collectstatic; the headers do not depend on it.
    storages = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=storages):
        plain = client.get("/login/")
        response = client.get("/login/", secure=True)
    cookies = {
        name: {k: str(v) for k, v in morsel.items() if v}
        for name, morsel in response.cookies.items()
    }
    print(json.dumps({
        "plain_status": plain.status_code,
        "plain_location": plain.get("Location", ""),
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": cookies,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "session_secure": settings.SESSION_COOKIE_SECURE,
        "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
        "session_samesite": settings.SESSION_COOKIE_SAMESITE,
        "session_age": settings.SESSION_COOKIE_AGE,
    }))
    """
)


@pytest.fixture(scope="module")
def production_response(tmp_path_factory):
    database = tmp_path_factory.mktemp("prod") / "unused.sqlite3"
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            **PRODUCTION_ENV,
            "DATABASE_URL": f"sqlite:///{database}",
            "REDIS_URL": "",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_plain_http_to_https(production_response):
    assert production_response["plain_status"] == 301
    assert production_response["plain_location"].startswith("https://portal.example.vn/")


def test_production_sends_hsts_for_a_year_with_subdomains(production_response):
    assert production_response["status"] == 200
    hsts = production_response["headers"]["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts


def test_production_cookies_are_secure_httponly_samesite(production_response):
    csrf = production_response["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] == "True" and csrf["httponly"] == "True"
    assert csrf["samesite"] == "Lax" and csrf["path"] == "/" and "domain" not in csrf
    assert production_response["session_cookie"] == "__Host-sessionid"
    assert production_response["session_secure"] and production_response["session_httponly"]
    assert production_response["session_samesite"] == "Lax"
    assert production_response["session_age"] <= 15 * 60


def test_production_headers_forbid_inline_script_framing_and_sniffing(production_response):
    headers = production_response["headers"]
    policy = parse_csp(headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def parse_csp(header: str) -> dict[str, list[str]]:
    policy = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *values = directive.split()
        policy[name] = values
    return policy


# --- Citizen IDs in logs ----------------------------------------------------------------------
def test_the_log_mask_is_the_page_mask():
    assert mask_citizen_ids("042095012345") == mask_citizen_id("042095012345")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("citizen 042095012345 logged in", "citizen ••••••••2345 logged in"),
        ("Key (citizen_id)=(001234567890) already exists.", "Key (citizen_id)=(••••••••7890)"),
        ("a=042095012345,b=079200000001", "a=••••••••2345,b=••••••••0001"),
        # Not citizen IDs: longer or shorter digit runs, dossier codes.
        ("order 20260302090000 paid", "order 20260302090000 paid"),
        ("dossier C18073-260225-0001 fee 12000000", "dossier C18073-260225-0001 fee 12000000"),
        ("12345678901 digits", "12345678901 digits"),
    ],
)
def test_mask_citizen_ids(text, expected):
    assert expected in mask_citizen_ids(text)


def test_every_configured_log_line_is_masked_including_tracebacks():
    """Through the handlers ``settings.LOGGING`` configures (app and Django loggers)."""
    names = ("dossiers.services", "portal", "django.request", "scoring.tasks", "simulator")
    output = io.StringIO()
    handlers = {
        handler
        for name in names
        for logger in _chain(logging.getLogger(name))
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
        and not type(handler).__module__.startswith("_pytest")  # pytest's own capture
    }
    assert handlers, "LOGGING configures stream handlers"
    for handler in handlers:
        assert any(isinstance(f, CitizenIdMaskFilter) for f in handler.filters), handler
    previous = {handler: handler.setStream(output) for handler in handlers}
    try:
        for name in names:
            logger = logging.getLogger(name)
            logger.warning("refused for %s", "042095012345")
            try:
                raise ValueError("duplicate key (citizen_id)=(042095099999)")
            except ValueError:
                logger.exception("failed for citizen %s", "042095012345")
    finally:
        for handler, stream in previous.items():
            handler.setStream(stream)
    text = output.getvalue()
    assert "042095012345" not in text and "042095099999" not in text
    assert text.count("••••••••2345") == 2 * len(names)
    assert text.count("••••••••9999") == 2 * len(names)  # message and source line


def _chain(logger):
    while logger is not None:
        yield logger
        logger = logger.parent if logger.propagate else None


def test_the_filter_masks_a_record_that_any_handler_receives():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "id %s and %d", ("042095012345", 7), None
    )
    assert CitizenIdMaskFilter().filter(record)
    assert record.getMessage() == "id ••••••••2345 and 7"
