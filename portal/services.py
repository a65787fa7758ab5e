"""Writes for the organisation: loading the reference data (idempotent, one transaction)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from portal.calendar import invalidate_working_calendar
from portal.models import Commune, Province, ServiceCenter

FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNITS_FIXTURE = FIXTURES / "units.json"


class ReferenceDataError(Exception):
    """A fixture is missing or malformed; nothing was written."""


@dataclass
class LoadSummary:
    created: dict[str, int]
    updated: dict[str, int]

    def __str__(self):
        parts = [
            f"{model}: {self.created.get(model, 0)} created, {self.updated.get(model, 0)} updated"
            for model in sorted(set(self.created) | set(self.updated))
        ]
        return "; ".join(parts)


def read_units_fixture(path: Path = UNITS_FIXTURE) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not data["provinces"] or not data["communes"]:
            raise ReferenceDataError(f"{path}: no provinces or communes")
        for p in data["provinces"]:
            p["code"], p["name"], p["short_name"]
        for c in data["communes"]:
            c["code"], c["province"], c["name"], c["short_name"], c["kind"]
        return data
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"fixture not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"fixture is not valid JSON: {path}: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise ReferenceDataError(f"fixture {path} lacks a required key: {exc}") from exc


def sync_rows(model, rows: list[dict], *, key: str, summary: LoadSummary) -> None:
    """Create missing rows and update changed ones, keyed on ``key`` (codes never change,
    names may, so references stay intact)."""
    attnames = {f.name: f.attname for f in model._meta.concrete_fields}
    existing = model.objects.in_bulk(field_name=key)
    to_create, to_update, changed_fields = [], [], set()
    for row in rows:
        values = {attnames[name]: value for name, value in row.items()}
        obj = existing.get(row[key])
        if obj is None:
            to_create.append(model(**values))
            continue
        changed = {a for a, v in values.items() if getattr(obj, a) != v}
        for attname in changed:
            setattr(obj, attname, values[attname])
        if changed:
            changed_fields |= changed
            to_update.append(obj)
    model.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=1000)
    name = str(model._meta.verbose_name_plural)
    summary.created[name] = len(to_create)
    summary.updated[name] = len(to_update)


def units_load(data: dict, summary: LoadSummary) -> None:
    from decimal import Decimal

    provinces = [
        {
            "code": p["code"],
            "name": p["name"],
            "short_name": p["short_name"],
            "population_share": Decimal(str(p.get("population_share", 0))),
            "area_km2": int(p.get("area_km2", 0)),
        }
        for p in data["provinces"]
    ]
    sync_rows(Province, provinces, key="code", summary=summary)
    communes = [
        {
            "code": c["code"],
            "province": c["province"],
            "name": c["name"],
            "short_name": c["short_name"],
            "kind": c["kind"],
            "area_km2": c.get("area_km2"),
        }
        for c in data["communes"]
    ]
    sync_rows(Commune, communes, key="code", summary=summary)
    centers = [
        {
            "code": ServiceCenter.code_for(province_code=p["code"], commune_code=None),
            "level": ServiceCenter.Level.PROVINCIAL,
            "province": p["code"],
            "commune": None,
            "name": f"Trung tâm Phục vụ hành chính công {p['name']}",
        }
        for p in data["provinces"]
    ] + [
        {
            "code": ServiceCenter.code_for(province_code=c["province"], commune_code=c["code"]),
            "level": ServiceCenter.Level.COMMUNE,
            "province": c["province"],
            "commune": c["code"],
            "name": f"Trung tâm Phục vụ hành chính công {c['name']}",
        }
        for c in data["communes"]
    ]
    sync_rows(ServiceCenter, centers, key="code", summary=summary)


@transaction.atomic
def reference_data_load(*, units_path: Path = UNITS_FIXTURE, procedures_path: Path | None = None):
    """Load provinces, communes, service centres and the procedure catalogue. Idempotent:
    a second run changes nothing; a fixture update renames without breaking references."""
    from dossiers.catalogue import PROCEDURES_FIXTURE, procedures_load

    summary = LoadSummary(created={}, updated={})
    units_load(read_units_fixture(units_path), summary)
    procedures_load(procedures_path or PROCEDURES_FIXTURE, summary)
    invalidate_working_calendar()
    return summary
