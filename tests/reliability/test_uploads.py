"""Hostile uploads on every way in (API submission, page submission, supplements by page and
API, the electronic result by API): a wrong type behind a faked extension, an oversized file,
an empty file, path-traversal names, polyglots (a PDF or an image that is also an HTML page,
a ZIP archive or another PDF). Each is refused cleanly — a 4xx or a form
error, never a 5xx — and nothing is half-written: no dossier, no document row, no file.
Traversal names may instead be accepted under a sanitised name inside the document store."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from dossiers import services
from dossiers.documents import validate_upload
from dossiers.errors import InvalidInput
from dossiers.models import Document, Dossier
from tests.reliability.conftest import DOCUMENTS, PDF
from tests.reliability.matrix import client_for

# A real 1×1 white PNG: the control files are images a viewer opens.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c63f8ffff3f0005fe02fe0def46b80000000049454e44ae426082"
)
SMALL_LIMIT = 4096  # DOCUMENT_MAX_BYTES in these tests: an oversized file stays small

HOSTILE = {
    "exe-named-pdf": ("scan.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "application/pdf"),
    "html-named-png": ("anh.png", b"<html><script>alert(1)</script></html>", "image/png"),
    "svg-named-jpg": ("anh.jpg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/jpeg"),
    "empty": ("trong.pdf", b"", "application/pdf"),
    "oversized": ("lon.pdf", PDF + b"0" * SMALL_LIMIT, "application/pdf"),
}  # fmt: skip


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<p>hello</p>")
    return buffer.getvalue()


# Files that start like an accepted type but are another one too: each reader (browser, PDF
# viewer, ZIP tool) decides what they are, so they are refused whatever their name.
SCRIPT = b"<html><body><script>alert(document.domain)</script></body></html>"
POLYGLOTS = {
    "pdf-html": ("bao-cao.pdf", b"%PDF-1.4\n" + SCRIPT + b"\n%%EOF\n", "application/pdf"),
    "pdf-svg": ("bao-cao.pdf", b"%PDF-1.7\n%<svg onload=alert(1)>\n" + PDF[9:], "application/pdf"),
    "pdf-zip-inside": ("bao-cao.pdf", b"%PDF-1.4\n" + zip_archive() + b"\n%%EOF\n", "application/pdf"),
    "pdf-zip-appended": ("bao-cao.pdf", PDF + zip_archive(), "application/pdf"),
    "pdf-appended-data": ("bao-cao.pdf", PDF + b"MZ\x90\x00 and more", "application/pdf"),
    "pdf-truncated": ("bao-cao.pdf", PDF[: PDF.index(b"trailer")], "application/pdf"),
    "pdf-bad-header": ("bao-cao.pdf", b"%PDF-x" + PDF[8:], "application/pdf"),
    "html-pdf": ("bao-cao.pdf", SCRIPT + PDF, "application/pdf"),
    "png-html": ("anh.png", PNG + SCRIPT, "image/png"),
    "png-pdf": ("anh.png", PNG + PDF, "image/png"),
    "jpeg-php": ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<?php system($_GET[1]); ?>\xff\xd9", "image/jpeg"),
    "jpeg-zip": ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff\xd9" + zip_archive(), "image/jpeg"),
}  # fmt: skip
TRAVERSAL = [
    "../../../../tmp/evil.pdf",
    "..\\..\\..\\evil.pdf",
    "/etc/passwd.pdf",
    "....//....//evil.pdf",
    "%2e%2e%2fevil.pdf",
    "a\x00b.pdf",
]


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.DOCUMENT_MAX_BYTES = SMALL_LIMIT


def upload(spec) -> SimpleUploadedFile:
    name, content, content_type = spec
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(world) -> list[Path]:
    root = Path(world.media_root)
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- The ways in: (prepare the dossier, then send the upload) ----------------------------------
def no_setup(world):
    return None


def supplement_requested(world):
    users = world.users
    dossier = services.dossier_accept(dossier=world.dossiers["own"], actor=users["receptionist"])
    dossier = services.dossier_start_processing(dossier=dossier, actor=users["officer"])
    return services.dossier_request_supplement(
        dossier=dossier, actor=users["officer"], reason="Bổ sung giấy chứng sinh"
    )


def in_process(world):
    users = world.users
    dossier = services.dossier_accept(dossier=world.dossiers["own"], actor=users["receptionist"])
    return services.dossier_start_processing(dossier=dossier, actor=users["officer"])


def api_submission(world, spec, dossier):
    return client_for(world, "citizen").post(
        reverse("api:dossier-list"),
        {
            "procedure": world.procedure.code,
            "centre": "C91001",
            "document_names": list(DOCUMENTS),
            "documents": [upload(spec), SimpleUploadedFile("b.png", PNG, "image/png")],
        },
    )


def page_submission(world, spec, dossier):
    url = reverse("dossiers:submit", kwargs={"code": world.procedure.code}) + "?province=91"
    return client_for(world, "citizen").post(
        url,
        {
            "centre": "C91001",
            "document_0": upload(spec),
            "document_1": SimpleUploadedFile("b.png", PNG, "image/png"),
        },
    )


def page_supplement(world, spec, dossier):
    return client_for(world, "citizen").post(
        reverse("dossiers:supplement", kwargs={"code": dossier.code}),
        {"name": DOCUMENTS[1], "file": upload(spec)},
    )


def api_supplement(world, spec, dossier):
    return client_for(world, "citizen").post(
        reverse("api:dossier-transitions", kwargs={"code": dossier.code}),
        {"action": "supplement", "document_names": [DOCUMENTS[1]], "documents": [upload(spec)]},
    )


def api_result(world, spec, dossier):
    return client_for(world, "officer").post(
        reverse("api:dossier-transitions", kwargs={"code": dossier.code}),
        {"action": "finish", "result_document": upload(spec)},
    )


WAYS = {
    "api-submit": (no_setup, api_submission),
    "page-submit": (no_setup, page_submission),
    "page-supplement": (supplement_requested, page_supplement),
    "api-supplement": (supplement_requested, api_supplement),
    "api-result": (in_process, api_result),
}


def send(world, way, spec):
    """Prepare, take the state, upload: returns (response, state before the upload)."""
    prepare, post = WAYS[way]
    dossier = prepare(world)
    before = state_of(world)
    return post(world, spec, dossier), before


def state_of(world):
    return (
        Dossier.objects.count(),
        Document.objects.count(),
        sorted(Dossier.objects.values_list("code", "state")),
        stored_files(world),
    )


def assert_refused(response, before, world):
    assert response.status_code < 500
    assert state_of(world) == before, "the refused upload wrote something"
    if response.status_code in (301, 302):  # a page action: back to the dossier with a message
        messages = [str(m) for m in response.wsgi_request._messages]
        assert messages, "a refusal the citizen is not told about"
    else:
        assert 400 <= response.status_code < 500, response.status_code


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("way", sorted(WAYS))
def test_hostile_uploads_are_refused_cleanly(way, case, shared_world):
    response, before = send(shared_world, way, HOSTILE[case])
    assert_refused(response, before, shared_world)


@pytest.mark.parametrize("name", TRAVERSAL)
@pytest.mark.parametrize("way", ["api-submit", "page-submit"])
def test_traversal_names_never_leave_the_document_store(way, name, shared_world):
    world = shared_world
    root = Path(world.media_root).resolve()
    response, before = send(world, way, (name, PDF, "application/pdf"))
    assert response.status_code < 500
    new = Document.objects.exclude(dossier__code__in=[code for code, _ in before[2]])
    if response.status_code >= 400:
        assert state_of(world) == before
        return
    for document in new:
        path = Path(document.file.path).resolve()
        assert path.is_relative_to(root), path
        stored_name = Path(document.file.name).name
        assert "/" not in stored_name and "\\" not in stored_name and ".." not in stored_name
        assert "\x00" not in document.file.name
    # Nothing appeared outside the store (the names aim at /tmp and the store's parents).
    assert not Path("/tmp/evil.pdf").exists() and not (root.parent / "evil.pdf").exists()


@pytest.mark.parametrize("case", sorted(POLYGLOTS))
@pytest.mark.parametrize("way", sorted(WAYS))
def test_polyglots_are_refused_cleanly(way, case, shared_world):
    response, before = send(shared_world, way, POLYGLOTS[case])
    assert_refused(response, before, shared_world)


# Why each polyglot is refused: the message names the file and the reason.
REASONS = {
    "pdf-html": "an HTML page or a script",
    "pdf-svg": "an HTML page or a script",
    "pdf-zip-inside": "a ZIP archive",
    "pdf-zip-appended": "a ZIP archive",
    "pdf-appended-data": "appended after the end of the PDF",
    "pdf-truncated": "may be truncated",
    "pdf-bad-header": "PDF header is malformed",
    "html-pdf": "is not a PDF, JPEG or PNG file",
    "png-html": "an HTML page or a script",
    "png-pdf": "also contains a PDF",
    "jpeg-php": "an HTML page or a script",
    "jpeg-zip": "a ZIP archive",
}


@pytest.mark.parametrize("case", sorted(POLYGLOTS))
def test_the_refusal_names_the_file_and_the_reason(case):
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        validate_upload(upload(POLYGLOTS[case]))
    name = POLYGLOTS[case][0]
    assert str(refused.value).startswith(name) and REASONS[case] in str(refused.value)


@pytest.mark.parametrize(
    "url_name",
    ["api:dossier-download", "dossiers:document_download", "dossiers_staff:document_download"],
)
def test_downloads_cannot_be_rendered_by_the_browser(url_name, shared_world):
    """Whatever a stored file contains, it comes back as an attachment of its sniffed type,
    never rendered inline: nosniff, a CSP, Content-Disposition attachment."""
    world = shared_world
    dossier = world.dossiers["own"]
    document = dossier.documents.first()
    role = "receptionist" if url_name.startswith("dossiers_staff") else "citizen"
    client = client_for(world, role)
    response = client.get(
        reverse(url_name, kwargs={"code": dossier.code, "document_id": document.pk})
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response


@pytest.mark.parametrize("way", sorted(WAYS))
def test_the_same_ways_accept_a_good_file(way, shared_world):
    """Control: each way in takes a real PDF, so the refusals above are about the files."""
    response, before = send(shared_world, way, ("to-khai.pdf", PDF, "application/pdf"))
    assert response.status_code in (200, 201, 302), response.content[:300]
    assert Document.objects.count() == before[1] + (2 if way.endswith("submit") else 1)
