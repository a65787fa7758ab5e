"""Documents attached to dossiers: what a service accepts as a document, upload checks
(type sniffed from the bytes, not trusted from the name or the browser) and storage under
MEDIA_ROOT, which the web server never serves directly."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import File
from django.utils.translation import gettext as _

from dossiers.errors import InvalidInput
from dossiers.models import Document

# Magic bytes of the formats a service centre accepts (scans and electronic forms).
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)
MAX_NAME_LENGTH = 150


@dataclass(frozen=True)
class DocumentIn:
    """One document handed to a service: ``name`` is the document as the procedure lists it
    (e.g. "Giấy chứng sinh"); ``file`` the scan or upload, or None when the paper original
    was checked at the desk or the document is reused from the citizen's data store."""

    name: str
    file: File | None = None


def documents_in(documents: Iterable) -> list[DocumentIn]:
    """Accept ``DocumentIn``, a plain name, or a ``(name, file)`` pair; reject anything else."""
    items = []
    for doc in documents or ():
        if isinstance(doc, DocumentIn):
            item = doc
        elif isinstance(doc, str):
            item = DocumentIn(doc)
        elif isinstance(doc, tuple | list) and len(doc) == 2 and isinstance(doc[0], str):
            item = DocumentIn(doc[0], doc[1])
        else:
            raise InvalidInput(
                _("A document must be a name or a (name, file) pair."),
                fields={"documents": [_("Unrecognised document.")]},
            )
        name = " ".join(item.name.split())
        if not name or len(name) > 200:
            raise InvalidInput(
                _("Every document needs a name of at most 200 characters."),
                fields={"documents": [_("Document name missing or too long.")]},
            )
        items.append(DocumentIn(name, item.file))
    return items


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


# What a browser or another reader would find in a file that is also something else (a
# polyglot): markup a browser renders and runs, a ZIP directory (office files, jars).
MARKUP = (
    b"<html",
    b"<script",
    b"<body",
    b"<svg",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<?php",
    b"<!doctype",
)
ZIP_DIRECTORY_END = b"PK\x05\x06"
ZIP_TAIL = 65_557  # a ZIP reader looks for its directory this far from the end
PDF_HEADER = b"%PDF-"
PDF_VERSION = re.compile(rb"%PDF-[12]\.\d")
PDF_EOF_TAIL = 1024  # readers look for %%EOF in the last kilobyte
TRAILING_PADDING = b" \t\r\n\x00\x0c"


def content_problem(content: bytes, content_type: str) -> str | None:
    """Why ``content`` is not only the ``content_type`` its first bytes claim, or None.

    A file that starts like a PDF or an image but also holds an HTML page or a ZIP archive is
    refused: whichever reader opens it decides what it is, and some of those run scripts."""
    lowered = content.lower()
    for marker in MARKUP:
        if marker in lowered:
            return _("it contains an HTML page or a script")
    if ZIP_DIRECTORY_END in content[-ZIP_TAIL:]:
        return _("it also contains a ZIP archive")
    if content_type == "application/pdf":
        return pdf_problem(content)
    if PDF_HEADER in content:  # PDF readers accept a header that is not at offset 0
        return _("it also contains a PDF")
    return None


def pdf_problem(content: bytes) -> str | None:
    """A PDF has its header at offset 0 and ends with ``%%EOF``; bytes after the last
    ``%%EOF`` other than padding are another file appended to it."""
    if not PDF_VERSION.match(content):
        return _("its PDF header is malformed")
    tail = content[-PDF_EOF_TAIL:]
    end = tail.rfind(b"%%EOF")
    if end < 0:
        return _("it does not end like a PDF: it may be truncated")
    if tail[end + len(b"%%EOF") :].strip(TRAILING_PADDING):
        return _("something is appended after the end of the PDF")
    return None


def safe_filename(name: str, extension: str) -> str:
    """Keep letters, digits, dots, dashes; no directories; the extension follows the content."""
    stem = PurePath(str(name).replace("\\", "/")).name
    stem = SAFE_NAME.sub("_", stem).strip(" ._") or "document"
    stem = stem.rsplit(".", 1)[0][:MAX_NAME_LENGTH] or "document"
    return f"{stem}{extension}"


def validate_upload(file: File) -> tuple[str, str]:
    """Check an upload: non-empty, at most ``DOCUMENT_MAX_BYTES``, a PDF, JPEG or PNG by its
    first bytes and nothing else besides (see ``content_problem``). Returns (content type,
    safe file name); raises ``InvalidInput`` naming the reason."""
    size = getattr(file, "size", None)
    if size is None:
        raise InvalidInput(_("The upload has no size."), fields={"file": [_("Unreadable file.")]})
    display = PurePath(str(getattr(file, "name", "") or "")).name or _("the file")
    if size == 0:
        raise InvalidInput(
            _("%(name)s is empty.") % {"name": display}, fields={"file": [_("Empty file.")]}
        )
    if size > settings.DOCUMENT_MAX_BYTES:
        limit = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
        raise InvalidInput(
            _("%(name)s is larger than %(limit)s MB.") % {"name": display, "limit": limit},
            fields={"file": [_("File too large.")]},
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    sniffed = sniff_content_type(head)
    if sniffed is None:
        raise InvalidInput(
            _("%(name)s is not a PDF, JPEG or PNG file.") % {"name": display},
            fields={"file": [_("Only PDF, JPEG and PNG files are accepted.")]},
        )
    content_type, extension = sniffed
    problem = content_problem(file_content(file), content_type)
    if problem:
        raise InvalidInput(
            _("%(name)s is refused: %(reason)s.") % {"name": display, "reason": problem},
            fields={"file": [_("The file is not a plain PDF, JPEG or PNG.")]},
        )
    return content_type, safe_filename(display, extension)


def file_content(file: File) -> bytes:
    """The whole upload (at most ``DOCUMENT_MAX_BYTES``, checked before), file left at 0."""
    file.seek(0)
    content = b"".join(file.chunks()) if hasattr(file, "chunks") else file.read()
    file.seek(0)
    return content


def document_store(*, dossier, kind: str, file: File, actor, at, name: str = "") -> Document:
    """Validate and store one file for ``dossier``. Call inside the service's transaction."""
    content_type, filename = validate_upload(file)
    digest = hashlib.sha256()
    for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
        digest.update(chunk)
    file.seek(0)
    document = Document(
        dossier=dossier,
        kind=kind,
        name=(name or filename)[:200],
        content_type=content_type,
        size=file.size,
        sha256=digest.hexdigest(),
        uploaded_at=at,
        uploaded_by=actor,
    )
    document.file.save(filename, file, save=False)
    document.save()
    return document
