"""Generate ``portal/fixtures/units.json`` from the official list of administrative units.

Source: the MIT-licensed PyPI package ``vietnamadminunits`` ships the statistics office's list
after the 1 July 2025 reform in ``data/dataset.db`` (table ``admin_units``). We read that SQLite
file directly (``find_spec`` does not run the package's heavy ``__init__``; its converter
geocodes over the network and is never used). Run once after a package update:

    pip install vietnamadminunits && python scripts/generate_units_fixture.py
"""

import csv
import importlib.metadata
import importlib.util
import json
import sqlite3
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "portal" / "fixtures" / "units.json"
PROVINCES_CSV = ROOT / "portal" / "fixtures" / "provinces.csv"
KINDS = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def main() -> int:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        print("vietnamadminunits is not installed: pip install vietnamadminunits", file=sys.stderr)
        return 2
    db = Path(spec.submodule_search_locations[0]) / "data" / "dataset.db"
    rows = sqlite3.connect(db).execute(
        "select provinceCode, province, provinceShort, wardCode, ward, wardShort, wardType,"
        " wardAreaKm2 from admin_units order by provinceCode, wardCode"
    )
    shares = {r["code"]: r for r in csv.DictReader(PROVINCES_CSV.open(encoding="utf-8"))}
    provinces, communes = {}, []
    for pcode, pname, pshort, wcode, wname, wshort, wtype, area in rows:
        provinces.setdefault(
            pcode,
            {
                "code": pcode,
                "name": nfc(pname),
                "short_name": nfc(pshort),
                "population_share": shares[pcode]["population_share_pct"],
                "area_km2": int(shares[pcode]["area_km2"]),
            },
        )
        communes.append(
            {
                "code": wcode,
                "province": pcode,
                "name": nfc(wname),
                "short_name": nfc(wshort),
                "kind": KINDS[nfc(wtype)],
                "area_km2": area,
            }
        )
    fixture = {
        "version": importlib.metadata.version("vietnamadminunits"),
        "source": "vietnamadminunits (MIT), data/dataset.db, table admin_units",
        "provinces": list(provinces.values()),
        "communes": communes,
    }
    OUT.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(provinces)} provinces, {len(communes)} communes → {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
