"""Score raw counts under a methodology version (no database needed).

Input (a file, or ``-`` for standard input)::

    {"units": [{"id": "42", "indicators": {"dossiers_online": {"numerator": 21132,
                                                                "denominator": 35526}, ...}}]}

Output::

    {"methodology": "2026", "units": [{"id": "42",
        "indicators": {"dossiers_online": {"ratio": 59.48, "score": 6.0}, ...},
        "groups": {"transparency": 0.0, ...}, "total": 6.0}]}

Ratios are percentages with 2 decimals, scores have 2 decimals (rounded half up from the raw
counts); every indicator of the version is listed, ``null`` when absent from the input.
Malformed input exits with status 2 and a one-line message naming the problem.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from scoring import methodology as M


def _number(value: Decimal | None):
    return None if value is None else float(value)


def _fail(message: str):
    raise CommandError(message, returncode=2)


def parse_units(data) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        _fail('input must be a JSON object with a "units" list')
    units = []
    for n, unit in enumerate(data["units"]):
        where = f"units[{n}]"
        if not isinstance(unit, dict):
            _fail(f"{where} is not an object")
        if (
            "id" not in unit
            or not isinstance(unit["id"], str | int)
            or isinstance(unit["id"], bool)
        ):
            _fail(f'{where} has no "id" (a string)')
        where = f"unit {unit['id']!r}"
        indicators = unit.get("indicators")
        if not isinstance(indicators, dict):
            _fail(f'{where}: "indicators" must be an object')
        counts = {}
        for code, pair in indicators.items():
            if not isinstance(pair, dict) or not {"numerator", "denominator"} <= set(pair):
                _fail(f'{where}: {code}: expected {{"numerator": N, "denominator": D}}')
            counts[code] = (pair["numerator"], pair["denominator"])
        units.append((str(unit["id"]), counts))
    return units


class Command(BaseCommand):
    help = "Score raw counts (JSON) under a methodology version and print the scores as JSON."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file with the counts, or - for standard input")
        parser.add_argument(
            "--methodology",
            default=M.DEFAULT_METHODOLOGY,
            help=f"methodology version ({', '.join(M.METHODOLOGIES)})",
        )

    def handle(self, *args, file, methodology, **options):
        try:
            version = M.get(methodology)
        except M.MethodologyError as exc:
            _fail(str(exc))
        try:
            if file == "-":
                text = sys.stdin.read()
            else:
                with open(file, encoding="utf-8") as fh:
                    text = fh.read()
        except OSError as exc:
            _fail(f"cannot read {file}: {exc.strerror or exc}")
        except UnicodeDecodeError:
            _fail(f"{file} is not UTF-8 text")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            _fail(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        out = []
        for unit_id, counts in parse_units(data):
            try:
                result = M.evaluate(version, counts)
            except M.MethodologyError as exc:
                _fail(f"unit {unit_id!r}: {exc}")
            out.append(
                {
                    "id": unit_id,
                    "indicators": {
                        code: {"ratio": _number(r.ratio), "score": _number(r.score)}
                        for code, r in result.indicators.items()
                    },
                    "groups": {k: _number(v) for k, v in result.groups.items()},
                    "total": _number(result.total),
                }
            )
        self.stdout.write(
            json.dumps({"methodology": version.code, "units": out}, ensure_ascii=False, indent=2)
        )
