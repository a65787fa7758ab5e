"""Uncaught errors: a database outage answers 503 with Retry-After (pages and API), any other
error a 500; under /api/ both in the API's error format."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import get_resolver, path

from dossiers.api.exceptions import server_error


def _raiser(exc: Exception):
    def view(request):
        raise exc

    return view


def _raised_while_handling(outage: Exception, error: Exception):
    def view(request):
        try:
            raise outage
        except type(outage):
            raise error  # noqa: B904 — the implicit context is the point

    return view


urlpatterns = [
    path(
        "page/rollback/",
        _raised_while_handling(OperationalError("server closed the connection"), RuntimeError()),
    ),
    path("page/db/", _raiser(OperationalError("could not connect to server"))),
    path("page/gone/", _raiser(InterfaceError("connection already closed"))),
    path("page/bug/", _raiser(ZeroDivisionError("bug"))),
    path("api/v1/db/", _raiser(OperationalError("the database system is shutting down"))),
    path("api/v1/bug/", _raiser(KeyError("bug"))),
]
handler500 = "dossiers.api.exceptions.server_error"


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_the_portal_routes_uncaught_errors_to_this_handler():
    assert get_resolver("portal.urls").resolve_error_handler(500) is server_error


@pytest.mark.parametrize("url", ["/page/db/", "/page/gone/", "/page/rollback/"])
def test_a_database_outage_on_a_page_is_503_with_retry_after(client, url):
    response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "5" in response.content.decode()


def test_a_database_outage_in_the_api_is_503_in_the_error_format(client):
    response = client.post("/api/v1/db/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["code"] == "unavailable"


def test_other_errors_stay_500_without_retry_after(client):
    page = client.get("/page/bug/")
    assert page.status_code == 500 and "Retry-After" not in page
    api = client.get("/api/v1/bug/")
    assert api.status_code == 500 and api.json()["code"] == "server_error"
