"""Scenarios: reading a YAML file, validating every key against ``simulator.schema``, and
answering "what is this parameter for this province on this day".

Validation is strict and names the bad key (``behaviour.channels.online_share.commune: 1.3 is
above 1``): a typo must not silently fall back to a default. It needs no database: province
codes and population shares come from ``portal/fixtures/provinces.csv``, procedure codes and
levels from ``dossiers/fixtures/procedures.csv`` (the same files ``load_reference_data`` reads).
"""

from __future__ import annotations

import bisect
import copy
import csv
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from simulator.schema import SCHEMA, TOP_LEVEL, Param

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
PROVINCES_CSV = ROOT / "portal" / "fixtures" / "provinces.csv"
PROCEDURES_CSV = ROOT / "dossiers" / "fixtures" / "procedures.csv"
LEVELS = ("province", "commune")
PROCEDURE_LEVELS = {"commune": "commune", "provincial": "province", "province": "province"}


# methodology, window and why: which published index the scenario reproduces and why that
# window; snapshot_days: the index snapshots are computed for the last N days of the period
# (daily facts always for all of it); absent: every day.
INDEX_KEYS = ("methodology", "window", "why", "snapshot_days")


class ScenarioError(ValueError):
    """A scenario or an option is invalid; the message names the key. Nothing was written."""


@cache
def province_shares() -> dict[str, float]:
    """Population share (%) by province code, in code order."""
    with PROVINCES_CSV.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: float(r["population_share_pct"]) for r in csv.DictReader(fh)}


@cache
def procedure_levels() -> dict[str, str]:
    with PROCEDURES_CSV.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: PROCEDURE_LEVELS[r["level"]] for r in csv.DictReader(fh)}


def known_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml") if not p.stem.endswith(".targets"))


def scenario_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = SCENARIOS_DIR / f"{name_or_path}.yaml"
    if candidate.exists() and "/" not in name_or_path:
        return candidate
    raise ScenarioError(
        f"--scenario: unknown scenario {name_or_path!r} (known: {', '.join(known_scenarios())}; "
        "or give the path of a .yaml file)"
    )


# --- values --------------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_date(value, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(f"{key}: {value!r} is not a date (YYYY-MM-DD)") from None


def _scalar(param: Param, value, key: str):
    kind = param.kind
    if value is None and param.optional:
        return None
    if kind in ("share", "nonneg"):
        if not _is_number(value):
            raise ScenarioError(f"{key}: {value!r} is not a number ({param.unit})")
        if value < 0:
            raise ScenarioError(f"{key}: {value} is negative ({param.unit})")
        if kind == "share" and value > 1:
            raise ScenarioError(f"{key}: {value} is above 1 (a share, {param.unit})")
        return float(value)
    if kind == "date":
        return _as_date(value, key)
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ScenarioError(f"{key}: {value!r} is not a whole number ≥ 0 ({param.unit})")
        return value
    if kind in ("weights6", "factors12"):
        size = 6 if kind == "weights6" else 12
        if not isinstance(value, list) or len(value) != size:
            raise ScenarioError(f"{key}: expected a list of {size} numbers ({param.unit})")
        for n, item in enumerate(value):
            if not _is_number(item) or item < 0:
                raise ScenarioError(f"{key}[{n}]: {item!r} is not a number ≥ 0")
        return [float(v) for v in value]
    if kind == "mix":
        return _mix(value, key)
    raise AssertionError(kind)


def _mix(value, key: str) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise ScenarioError(f"{key}: expected a mapping of procedure code to weight")
    level = key.rsplit(".", 1)[-1]
    levels = procedure_levels()
    mix = {}
    for code, weight in value.items():
        code = str(code)
        if code not in levels:
            raise ScenarioError(f"{key}.{code}: unknown procedure code")
        if levels[code] != level:
            raise ScenarioError(f"{key}.{code}: a {levels[code]}-level procedure, not {level}")
        if not _is_number(weight) or weight < 0:
            raise ScenarioError(f"{key}.{code}: weight {weight!r} is not a number ≥ 0")
        mix[code] = float(weight)
    if sum(mix.values()) <= 0:
        raise ScenarioError(f"{key}: every weight is zero")
    return mix


def _schedule(param: Param, value, key: str) -> list[tuple[date, Any]]:
    """A schedule as sorted (from, value) steps; a plain value is one step from the start."""
    if isinstance(value, dict) and param.kind != "mix" and _looks_like_schedule(value):
        steps = sorted(
            (_as_date(d, f"{key}.{d}"), _scalar(param, v, f"{key}.{d}")) for d, v in value.items()
        )
        return steps
    return [(date.min, _scalar(param, value, key))]


def _looks_like_schedule(value: dict) -> bool:
    return all(isinstance(k, date) or (isinstance(k, str) and k[:2] in ("19", "20")) for k in value)


def _leaf(param: Param, value, key: str):
    """Normalise a leaf: by level → {"province": v, "commune": v}; schedule → steps."""
    convert = _schedule if param.schedule else _scalar
    if param.by_level:
        if isinstance(value, dict) and set(value) & set(LEVELS):
            unknown = set(value) - set(LEVELS)
            if unknown:
                raise ScenarioError(
                    f"{key}.{sorted(unknown)[0]}: unknown level (province, commune)"
                )
            missing = set(LEVELS) - set(value)
            if missing:
                raise ScenarioError(f"{key}.{sorted(missing)[0]}: missing")
            return {lv: convert(param, value[lv], f"{key}.{lv}") for lv in LEVELS}
        return {lv: convert(param, value, key) for lv in LEVELS}
    return convert(param, value, key)


def _section_values(raw: dict, prefix: str) -> dict:
    """Validate a ``behaviour``-shaped mapping (all keys optional)."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{prefix}: expected a mapping of sections")
    out = {}
    for section_name, section_raw in raw.items():
        key = f"{prefix}.{section_name}"
        section = SCHEMA.get(section_name)
        if section is None:
            raise ScenarioError(f"{key}: unknown section (known: {', '.join(SCHEMA)})")
        if not isinstance(section_raw, dict):
            raise ScenarioError(f"{key}: expected a mapping of parameters")
        out[section_name] = {}
        for name, value in section_raw.items():
            param = section.params.get(name)
            if param is None:
                raise ScenarioError(f"{key}.{name}: unknown parameter")
            out[section_name][name] = _leaf(param, value, f"{key}.{name}")
    return out


def _defaults() -> dict:
    return {
        s: {
            k: _leaf(p, copy.deepcopy(p.default), f"default.{s}.{k}") for k, p in sec.params.items()
        }
        for s, sec in SCHEMA.items()
    }


def _merge(base: dict, changes: dict) -> dict:
    merged = copy.deepcopy(base)
    for section, values in changes.items():
        merged[section].update(copy.deepcopy(values))
    return merged


# --- the scenario --------------------------------------------------------------------------


@dataclass
class Behaviour:
    """One province's parameters, resolved (``on(day)`` gives a flat view for one day)."""

    values: dict
    _days: dict = field(default_factory=dict, repr=False)

    def get(self, section: str, name: str):
        return self.values[section][name]

    def on(self, day: date) -> dict[str, Any]:
        """``{"section.name": value}`` for ``day`` (by-level values as {level: value})."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        flat = {}
        for section, params in SCHEMA.items():
            for name, param in params.params.items():
                value = self.values[section][name]
                if param.schedule:
                    if param.by_level:
                        value = {lv: _at(steps, day) for lv, steps in value.items()}
                    else:
                        value = _at(value, day)
                flat[f"{section}.{name}"] = value
        self._days[day] = flat
        return flat


def _at(steps: list[tuple[date, Any]], day: date):
    index = bisect.bisect_right([d for d, _ in steps], day) - 1
    return steps[max(index, 0)][1]


@dataclass
class Scenario:
    name: str
    description: str
    path: Path | None
    start: date
    end: date
    provinces: list[str]
    national_per_day: float | None
    index: dict
    behaviour: dict[str, Behaviour]

    def with_period(self, start: date | None, end: date | None) -> Scenario:
        new_start, new_end = start or self.start, end or self.end
        if new_end < new_start:
            which = "--to" if end else "period.end"
            raise ScenarioError(f"{which}: {new_end} is before the start {new_start}")
        clone = copy.copy(self)
        clone.start, clone.end = new_start, new_end
        return clone

    def demand_per_day(self, province: str, day: date) -> float:
        """Dossiers on an ordinary working day at scale 1 (before weekday/season shaping)."""
        p = self.behaviour[province].on(day)
        absolute = p["demand.dossiers_per_working_day"]
        if absolute is not None:
            return absolute * p["demand.factor"]
        share = province_shares()[province] / 100
        return (self.national_per_day or 0.0) * share * p["demand.factor"]


def load_scenario(name_or_path: str) -> Scenario:
    path = scenario_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ScenarioError(f"{path.name}:{where} not valid YAML") from None
    return parse_scenario(raw, path=path)


def parse_scenario(raw: Any, *, path: Path | None = None) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("scenario: expected a mapping at the top level")
    for key in raw:
        if key not in TOP_LEVEL:
            raise ScenarioError(f"{key}: unknown top-level key (known: {', '.join(TOP_LEVEL)})")
    name = raw.get("name") or (path.stem if path else "")
    if not isinstance(name, str) or not name:
        raise ScenarioError("name: missing")

    period = raw.get("period")
    if not isinstance(period, dict) or "start" not in period or "end" not in period:
        raise ScenarioError("period: expected {start: YYYY-MM-DD, end: YYYY-MM-DD}")
    for key in period:
        if key not in ("start", "end"):
            raise ScenarioError(f"period.{key}: unknown key (start, end)")
    start = _as_date(period["start"], "period.start")
    end = _as_date(period["end"], "period.end")
    if end < start:
        raise ScenarioError(f"period.end: {end} is before period.start {start}")

    shares = province_shares()
    selected = raw.get("provinces", "all")
    if selected == "all":
        provinces = list(shares)
    elif isinstance(selected, list) and selected:
        provinces = []
        for code in selected:
            code = str(code).zfill(2)
            if code not in shares:
                raise ScenarioError(f"provinces: unknown province code {code!r}")
            provinces.append(code)
        provinces = sorted(set(provinces))
    else:
        raise ScenarioError("provinces: expected 'all' or a list of province codes")

    national = raw.get("national") or {}
    if not isinstance(national, dict):
        raise ScenarioError("national: expected {dossiers_per_working_day: N}")
    for key in national:
        if key != "dossiers_per_working_day":
            raise ScenarioError(f"national.{key}: unknown key")
    national_per_day = national.get("dossiers_per_working_day")
    if national_per_day is not None and (not _is_number(national_per_day) or national_per_day < 0):
        raise ScenarioError(
            f"national.dossiers_per_working_day: {national_per_day!r} is not a number ≥ 0"
        )

    index = raw.get("index") or {}
    if not isinstance(index, dict):
        raise ScenarioError("index: expected {methodology, window, why, snapshot_days}")
    for key in index:
        if key not in INDEX_KEYS:
            raise ScenarioError(f"index.{key}: unknown key ({', '.join(INDEX_KEYS)})")
    if index.get("window", "ytd") not in ("ytd", "quarter", "month"):
        raise ScenarioError(f"index.window: {index['window']!r} is not ytd, quarter or month")
    days = index.get("snapshot_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
        raise ScenarioError(f"index.snapshot_days: {days!r} is not a whole number ≥ 1")

    base = _merge(_defaults(), _section_values(raw.get("behaviour") or {}, "behaviour"))
    overrides = raw.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ScenarioError("overrides: expected a mapping of province code to sections")
    parsed_overrides = {}
    for code, changes in overrides.items():
        code_str = str(code).zfill(2)
        if code_str not in shares:
            raise ScenarioError(f"overrides.{code}: unknown province code")
        parsed_overrides[code_str] = _section_values(changes or {}, f"overrides.{code_str}")

    behaviour = {}
    for code in provinces:
        values = _merge(base, parsed_overrides.get(code, {}))
        prefix = f"overrides.{code}" if code in parsed_overrides else "behaviour"
        _check_consistency(values, prefix)
        if values["demand"]["dossiers_per_working_day"][0][1] is None and national_per_day is None:
            raise ScenarioError(
                f"national.dossiers_per_working_day: required (province {code} has no "
                "demand.dossiers_per_working_day)"
            )
        behaviour[code] = Behaviour(values)

    return Scenario(
        name=name,
        description=str(raw.get("description", "")),
        path=path,
        start=start,
        end=end,
        provinces=provinces,
        national_per_day=float(national_per_day) if national_per_day is not None else None,
        index=index,
        behaviour=behaviour,
    )


def _check_consistency(values: dict, prefix: str) -> None:
    """Shares that split one population must not add up to more than all of it."""
    staff = values["staff"]
    for level in LEVELS:
        early, late = staff["early_share"][level], staff["late_share"][level]
        for day in sorted({d for d, _ in early} | {d for d, _ in late}):
            if _at(early, day) + _at(late, day) > 1 + 1e-9:
                raise ScenarioError(
                    f"{prefix}.staff.late_share.{level}: early_share + late_share exceed 1 "
                    f"(from {day if day != date.min else 'the start'})"
                )
    for _day, refuse in values["staff"]["refuse_share"]:
        if refuse + values["staff"]["withdraw_before_accept_share"] > 1:
            raise ScenarioError(
                f"{prefix}.staff.refuse_share: refuse + withdraw_before_accept exceed 1"
            )
    if staff["stop_share"] + staff["withdraw_share"] > 1:
        raise ScenarioError(f"{prefix}.staff.stop_share: stop_share + withdraw_share exceed 1")
