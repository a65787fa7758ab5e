"""One error body for the whole API: ``{"code": ..., "detail": ..., "fields": {...}}``.

DRF's own exceptions (validation, parse, authentication, throttling...) and the domain errors of
``dossiers.errors`` all come out in this shape, so clients parse one format."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from dossiers.errors import DomainError, InvalidInput, NotPermitted, TransitionNotAllowed

DOMAIN_STATUS = (
    (TransitionNotAllowed, status.HTTP_409_CONFLICT),
    (InvalidInput, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (NotPermitted, status.HTTP_403_FORBIDDEN),
)


def error_body(code: str, detail: str, fields: dict | None = None, **extra) -> dict:
    return {"code": code, "detail": str(detail), "fields": fields or {}, **extra}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [msg for value in detail.values() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for value in detail for msg in _flatten(value)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    """Field name → messages; nested serializers are joined with dots (``documents.0``)."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            for index, inner in enumerate(value):
                if inner:
                    walk(f"{prefix}.{index}", inner)
        else:
            out.setdefault(prefix or "non_field_errors", []).extend(_flatten(value))

    walk("", detail)
    return out


def domain_error_response(exc: DomainError) -> Response:
    code = status.HTTP_400_BAD_REQUEST
    for cls, mapped in DOMAIN_STATUS:
        if isinstance(exc, cls):
            code = mapped
            break
    extra = {"allowed": exc.allowed} if isinstance(exc, TransitionNotAllowed) else {}
    fields = getattr(exc, "fields", {}) or {}
    return Response(error_body(exc.code, exc.message, fields, **extra), status=code)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer 500
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        non_field = fields.get("non_field_errors")
        detail = non_field[0] if non_field else _("Some fields are invalid.")
        body = error_body("invalid", detail, fields)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        body = error_body(code, " ".join(_flatten(exc.detail)))
    return Response(body, status=exc.status_code, headers=headers)


def page_not_found(request, exception=None):
    """URLs that match no route: JSON in the API's error format under /api/, Django's page
    elsewhere (``handler404`` in portal/urls.py)."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found as html_page_not_found

    if request.path.startswith("/api/"):
        body = error_body("not_found", _("No API resource at this address."))
        return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
    return html_page_not_found(request, exception)


def bad_request(request, exception=None):
    """Requests Django refuses before any view (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE):
    JSON in the API's error format under /api/ (``handler400`` in portal/urls.py)."""
    from django.http import JsonResponse
    from django.views.defaults import bad_request as html_bad_request

    if request.path.startswith("/api/"):
        body = error_body("bad_request", _("The request is malformed or too large."))
        return JsonResponse(body, status=status.HTTP_400_BAD_REQUEST)
    return html_bad_request(request, exception)


RETRY_AFTER_SECONDS = 5


def is_outage(exc: BaseException | None) -> bool:
    """A lost or refused database connection anywhere in the chain of causes: the error that
    reaches the handler during a restart is sometimes raised *while handling* the connection
    error (a rollback or a session save on the dead connection), and carries it as its context."""
    import psycopg
    from django.db import InterfaceError, OperationalError

    outage = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, outage):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request):
    """Uncaught errors (``handler500``). A database that is restarting or unreachable is a
    temporary outage, not a bug: 503 with Retry-After, so clients and proxies retry; anything
    else stays a 500. JSON in the API's error format under /api/. Renders without touching the
    database (no context processors)."""
    import sys

    from django.http import HttpResponse, JsonResponse
    from django.template import loader
    from django.views.defaults import server_error as html_server_error

    unavailable = is_outage(sys.exc_info()[1])
    api = request.path.startswith("/api/")
    if not unavailable:
        if api:
            body = error_body("server_error", _("An unexpected error occurred; it was logged."))
            return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
        return html_server_error(request)
    if api:
        body = error_body(
            "unavailable", _("The service is briefly unavailable; retry in a few seconds.")
        )
        response = JsonResponse(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    else:
        page = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
