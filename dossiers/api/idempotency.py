"""``Idempotency-Key``: a retried request returns the first answer and creates nothing new.

The handler and the key row are written in one transaction. Two concurrent requests with the
same key both run, but only one can insert the key (unique constraint): the other rolls back
everything it wrote and answers with the winner's stored response."""

from __future__ import annotations

import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response

from dossiers.api.exceptions import error_body
from dossiers.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class _Replay(Exception):
    def __init__(self, response):
        self.response = response


def _fingerprint(request) -> str:
    parts = {}
    for key in sorted(request.data.keys()) if hasattr(request.data, "keys") else []:
        values = (
            request.data.getlist(key) if hasattr(request.data, "getlist") else [request.data[key]]
        )
        parts[key] = [
            f"file:{v.name}:{v.size}" if hasattr(v, "size") and hasattr(v, "read") else v
            for v in values
        ]
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(f"{request.method} {request.path}".encode() + raw).hexdigest()


def _stored(row: IdempotencyKey, fingerprint: str) -> Response:
    if row.response.get("fingerprint") != fingerprint:
        return Response(
            error_body(
                "idempotency_key_reused",
                _("This Idempotency-Key was already used for a different request."),
                {HEADER: [_("Use a new key for a new request.")]},
            ),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(row.response.get("body"), status=row.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotent(request, scope: str, handler) -> Response:
    """Call ``handler()`` at most once per (user, scope, Idempotency-Key)."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not KEY_PATTERN.match(key):
        return Response(
            error_body(
                "invalid",
                _("Idempotency-Key must be 1 to 100 letters, digits or . _ : -"),
                {HEADER: [_("Invalid key.")]},
            ),
            status=status.HTTP_400_BAD_REQUEST,
        )
    fingerprint = _fingerprint(request)
    existing = IdempotencyKey.objects.filter(user=request.user, scope=scope, key=key).first()
    if existing is not None:
        return _stored(existing, fingerprint)
    try:
        with transaction.atomic():
            response = handler()
            if not status.is_success(response.status_code):
                # Nothing was written for a refusal: the client may retry with the same key.
                raise _Replay(response)
            IdempotencyKey.objects.create(
                user=request.user,
                scope=scope,
                key=key,
                status_code=response.status_code,
                response={"fingerprint": fingerprint, "body": response.data},
            )
            return response
    except _Replay as refusal:
        return refusal.response
    except IntegrityError:
        # A concurrent request with the same key won: our writes were rolled back.
        winner = IdempotencyKey.objects.filter(user=request.user, scope=scope, key=key).first()
        if winner is None:
            raise
        return _stored(winner, fingerprint)
