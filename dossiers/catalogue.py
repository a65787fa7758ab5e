"""Loading the procedure catalogue from the project's fixture (facts from shared/data)."""

from __future__ import annotations

import csv
import unicodedata
from datetime import date
from pathlib import Path

from django.utils.text import slugify

from dossiers.models import Field, OnlineLevel, Procedure, ProcedureVersion, TimeUnit

PROCEDURES_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "procedures.csv"
CATALOGUE_VALID_FROM = date(2025, 7, 1)
ONLINE_LEVELS = {
    "toàn trình": OnlineLevel.FULL,
    "một phần": OnlineLevel.PARTIAL,
    "trực tiếp": OnlineLevel.NONE,
}
LEVELS = {"commune": "commune", "provincial": "province", "province": "province"}
# The optional ``required_documents`` column lists the documents a dossier must carry,
# separated by this marker (names themselves contain commas).
DOCUMENT_SEPARATOR = "|"


def fold(text: str) -> str:
    """Accent-insensitive search key: "Khai sinh" and "khai sinh" and "khai sính" meet."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def read_procedures(path: Path) -> list[dict]:
    from portal.services import ReferenceDataError

    try:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"fixture not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"fixture is not UTF-8 CSV: {path}") from exc
    required = {
        "code",
        "name_vi",
        "name_en",
        "level",
        "field",
        "processing_days",
        "processing_hours",
        "fee_vnd",
        "online_level",
    }
    if not rows or not required <= set(rows[0]):
        raise ReferenceDataError(f"{path}: expected columns {', '.join(sorted(required))}")
    for n, row in enumerate(rows, start=2):
        if row["online_level"] not in ONLINE_LEVELS or row["level"] not in LEVELS:
            raise ReferenceDataError(f"{path}:{n}: unknown level or online level")
        if not (row["processing_days"] or row["processing_hours"]):
            raise ReferenceDataError(f"{path}:{n}: procedure {row['code']} has no time limit")
    return rows


def required_documents(row: dict) -> list[str]:
    """The documents listed for a procedure, in fixture order, without blanks or repeats."""
    names = [
        " ".join(n.split()) for n in (row.get("required_documents") or "").split(DOCUMENT_SEPARATOR)
    ]
    return list(dict.fromkeys(n for n in names if n))


def procedures_load(path: Path, summary) -> None:
    from portal.services import sync_rows

    rows = read_procedures(path)
    fields = {slugify(fold(r["field"]))[:60]: r["field"] for r in rows}
    sync_rows(
        Field, [{"code": c, "name": n} for c, n in fields.items()], key="code", summary=summary
    )
    field_ids = dict(Field.objects.values_list("code", "id"))
    sync_rows(
        Procedure,
        [
            {
                "code": r["code"],
                "name_vi": r["name_vi"],
                "name_en": r["name_en"],
                "search_name": fold(f"{r['code']} {r['name_vi']} {r['name_en']}"),
                "level": LEVELS[r["level"]],
                "field": field_ids[slugify(fold(r["field"]))[:60]],
                "agency": r.get("agency", ""),
                "required_documents": required_documents(r),
                "source": r.get("source", ""),
            }
            for r in rows
        ],
        key="code",
        summary=summary,
    )
    procedure_ids = dict(Procedure.objects.values_list("code", "id"))
    existing = set(
        ProcedureVersion.objects.filter(valid_from=CATALOGUE_VALID_FROM).values_list(
            "procedure_id", flat=True
        )
    )
    # Versions are never edited in place: a dossier keeps the version it was filed under.
    new_versions = [
        ProcedureVersion(
            procedure_id=procedure_ids[r["code"]],
            valid_from=CATALOGUE_VALID_FROM,
            limit_amount=int(r["processing_days"] or r["processing_hours"]),
            limit_unit=TimeUnit.WORKING_DAYS if r["processing_days"] else TimeUnit.WORKING_HOURS,
            fee_vnd=int(r["fee_vnd"] or 0),
            online_level=ONLINE_LEVELS[r["online_level"]],
        )
        for r in rows
        if procedure_ids[r["code"]] not in existing
    ]
    ProcedureVersion.objects.bulk_create(new_versions)
    summary.created["procedure versions"] = len(new_versions)
