"""Calibration: compare a scenario's simulated figures with its targets.

The targets live beside the scenario (``simulator/scenarios/<name>.targets.yaml``) and only
this module reads them: calibration changes the scenario's parameters, never code. The
simulated figures come from the same places a manager reads them: ``scoring.report.
province_report`` for the statistics table (what ``manage.py report`` prints) and for the index
of the scenario's declared window.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from simulator.scenario import SCENARIOS_DIR, Scenario, ScenarioError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "calibration.md"


@dataclass
class Row:
    group: str
    name: str
    target: float
    simulated: float
    tolerance: float
    unit: str  # "count" (relative tolerance), "%" (percentage points), "points", "rank"
    detail: str = ""

    @property
    def difference(self) -> float:
        return self.simulated - self.target

    @property
    def ok(self) -> bool:
        if self.unit == "count":
            return abs(self.difference) <= self.tolerance * abs(self.target)
        return abs(self.difference) <= self.tolerance + 1e-9

    def cells(self) -> tuple[str, str, str, str, str]:
        if self.unit == "count":
            diff = f"{self.difference:+,.0f} ({100 * self.difference / self.target:+.2f} %)"
            tol = f"±{100 * self.tolerance:g} %"
            return f"{self.target:,.0f}", f"{self.simulated:,.0f}", diff, tol, self._ok()
        if self.unit == "%":
            return (
                f"{self.target:.2f} %",
                f"{self.simulated:.2f} %",
                f"{self.difference:+.2f} pp",
                f"±{self.tolerance:g} pp",
                self._ok(),
            )
        if self.unit == "rank":
            return (
                f"{self.target:.0f}",
                f"{self.simulated:.0f}",
                f"{self.difference:+.0f}",
                "0",
                self._ok(),
            )
        return (
            f"{self.target:.2f}",
            f"{self.simulated:.2f}",
            f"{self.difference:+.2f}",
            f"±{self.tolerance:g}",
            self._ok(),
        )

    def _ok(self) -> str:
        return "yes" if self.ok else "NO"


def targets_path(scenario: Scenario) -> Path:
    base = scenario.path.parent if scenario.path else SCENARIOS_DIR
    path = base / f"{scenario.name}.targets.yaml"
    if not path.exists():
        raise ScenarioError(f"--scenario: {scenario.name} has no targets file ({path.name})")
    return path


def load_targets(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise ScenarioError(f"{path.name}: not valid YAML") from None
    for key in ("report", "index"):
        if key not in (data or {}):
            raise ScenarioError(f"{path.name}: {key}: missing")
    return data


def _dig(report: dict, dotted: str):
    value = report
    for part in dotted.split("."):
        value = value[part]
    return value


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def window_start(window: str, day: date) -> date:
    if window == "ytd":
        return date(day.year, 1, 1)
    if window == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if window == "month":
        return day.replace(day=1)
    raise ScenarioError(f"index.window: unknown window {window!r} (ytd, quarter, month)")


def facts_for(scenario: Scenario) -> None:
    """Daily facts of the period (and of the day before it: the stocks a window starting on
    the first day carries over), for a run simulated without its index."""
    from datetime import timedelta

    from scoring.facts import facts_compute

    facts_compute(day_from=scenario.start - timedelta(days=1), day_to=scenario.end)


def compare(scenario: Scenario, targets: dict) -> list[Row]:
    from scoring.report import province_report

    rows: list[Row] = []
    spec = targets["report"]
    report = province_report(
        str(spec["province"]),
        _as_date(spec["from"]),
        _as_date(spec["to"]),
        str(spec.get("methodology", "2025-07")),
    )
    counts = spec.get("counts", {})
    for name, target in (counts.get("rows") or {}).items():
        rows.append(
            Row(
                "statistics",
                name,
                float(target),
                float(_dig(report, name)),
                counts["tolerance"],
                "count",
            )
        )
    shares = spec.get("shares", {})
    for name, target in (shares.get("rows") or {}).items():
        numerator, denominator = target if isinstance(target, list) else (target, 100)
        sim_num, sim_den = _dig(report, name)
        simulated = 100 * sim_num / sim_den if sim_den else 0.0
        rows.append(
            Row(
                "statistics",
                name,
                100 * numerator / denominator,
                simulated,
                shares["tolerance"],
                "%",
                f"{sim_num:,}/{sim_den:,}",
            )
        )

    spec = targets["index"]
    day = _as_date(spec["date"])
    window = scenario.index.get("window", "ytd")
    start = window_start(window, day)
    methodology = str(spec.get("methodology", scenario.index.get("methodology", "2025-07")))
    index = province_report(str(spec["province"]), start, day, methodology)["index"]
    label = f"index {window} {start}..{day}"
    total = spec["total"]
    rows.append(
        Row(label, "total", float(total["target"]), index["total"], total["tolerance"], "points")
    )
    groups = spec.get("groups", {})
    for name, target in (groups.get("rows") or {}).items():
        rows.append(
            Row(
                label,
                name,
                float(target),
                float(index["groups"][name]),
                groups["tolerance"],
                "points",
            )
        )
    if "rank" in spec:
        rows.append(Row(label, "rank", float(spec["rank"]), float(index["rank"] or 0), 0, "rank"))
    return rows


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| figure | target | simulated | difference | tolerance | within |",
        "|---|---|---|---|---|---|",
    ]
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            lines.append(f"| **{group}** | | | | | |")
        target, simulated, diff, tol, ok = row.cells()
        if row.detail:
            simulated = f"{simulated} ({row.detail})"
        lines.append(f"| {row.name} | {target} | {simulated} | {diff} | {tol} | {ok} |")
    return lines


def write_doc(scenario: Scenario, targets: dict, rows: list[Row], run_info: str) -> None:
    ok = all(r.ok for r in rows)
    lines = [
        "# Calibration",
        "",
        f"Scenario `{scenario.name}` against `{scenario.name}.targets.yaml` "
        f"({targets.get('source', 'targets')}).",
        "",
        f"Reproduce: `python manage.py calibration --scenario {scenario.name}` "
        f"(runs `simulate --scenario {scenario.name} --seed {targets.get('seed', 1)} --reset --yes` "
        "unless the database already holds that run), or read the figures with "
        f"`python manage.py report --province {targets['report']['province']} "
        f"--from {targets['report']['from']} --to {targets['report']['to']} "
        f"--methodology {targets['report'].get('methodology', '2025-07')}`.",
        "",
        f"Run: {run_info}. Python {platform.python_version()}.",
        "",
        f"Result: **{'every figure within tolerance' if ok else 'some figures outside tolerance'}**.",
        "",
        *table(rows),
        "",
        "Counts are judged relatively (±2 % of the target), shares in percentage points of the "
        "article's own numerator/denominator, the index in points. The index window is the "
        "scenario's `index.window`; the scenario file says why.",
        "",
    ]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines), encoding="utf-8")
