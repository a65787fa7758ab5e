"""The committed schema (docs/openapi.yaml) is what the code generates; the docs work offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "openapi.yaml"


@pytest.mark.django_db
def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command(
        "spectacular", "--lang", "en", "--validate", "--fail-on-warn", "--file", str(generated)
    )
    assert generated.read_text() == COMMITTED.read_text(), (
        "docs/openapi.yaml is stale: run `make schema` and commit it"
    )


@pytest.mark.django_db
def test_schema_documents_errors_idempotency_and_transitions(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    create = paths["/api/v1/dossiers/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    transitions = paths["/api/v1/dossiers/{code}/transitions/"]["post"]
    assert transitions["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "code",
        "detail",
        "fields",
    }


@pytest.mark.django_db
def test_swagger_ui_is_served_without_any_cdn(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []
    assert "<script>" not in html.replace(" ", "")  # no inline script: CSP is script-src 'self'
    assert "<style" not in html  # nor inline style: style-src 'self'
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    for src in scripts:
        if src.startswith("/static/"):
            # Static files come from the installed sidecar package (whitenoise serves them).
            assert finders.find(src.removeprefix("/static/")), src
        else:
            asset = client.get(src)  # the init script, a view of its own
            assert asset.status_code == 200, src
            assert "/api/schema/" in asset.content.decode()
