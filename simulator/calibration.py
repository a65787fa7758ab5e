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
                f"±{self.tolerance:g}" if self.tolerance else "exact",
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
    if "index" not in (data or {}):
        raise ScenarioError(f"{path.name}: index: missing")
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
    rows: list[Row] = []
    spec = targets.get("report")
    if spec:
        rows += _report_rows(spec)
    specs = targets["index"] if isinstance(targets["index"], list) else [targets["index"]]
    for spec in specs:
        rows += _index_rows(scenario, spec)
    return rows


def _report_rows(spec: dict) -> list[Row]:
    """The statistics table of the seed article: counts and shares of ``manage.py report``."""
    from scoring.report import province_report

    rows: list[Row] = []
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
    return rows


def _index_rows(scenario: Scenario, spec: dict) -> list[Row]:
    """Rows of one province's index on one date, over the scenario's declared window."""
    from scoring.report import province_report

    rows = []
    day = _as_date(spec["date"])
    window = scenario.index.get("window", "ytd")
    start = window_start(window, day)
    methodology = str(spec.get("methodology", scenario.index.get("methodology", "2025-07")))
    province = str(spec["province"])
    index = province_report(province, start, day, methodology)["index"]
    label = f"index of {province}, {window} {start}..{day}"
    if "total" in spec:
        total = spec["total"]
        rows.append(
            Row(
                label, "total", float(total["target"]), index["total"], total["tolerance"], "points"
            )
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
        rank = spec["rank"]
        target, tolerance = (
            (rank["target"], rank["tolerance"]) if isinstance(rank, dict) else (rank, 0)
        )
        simulated = float(index["rank"] or 0)
        rows.append(
            Row(label, f"rank of {index['of']}", float(target), simulated, tolerance, "rank")
        )
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
    """Write (or replace) the scenario's section of docs/calibration.md."""
    ok = all(r.ok for r in rows)
    seed, scale = targets.get("seed", 1), targets.get("scale", 1.0)
    reproduce = [
        f"Reproduce: `python manage.py calibration --scenario {scenario.name}` (runs "
        f"`simulate --scenario {scenario.name} --seed {seed} --scale {scale:g}` unless the "
        "database holds that run already, then compares)."
    ]
    report = targets.get("report")
    if report:
        reproduce.append(
            f"The statistics are those of `python manage.py report --province {report['province']} "
            f"--from {report['from']} --to {report['to']} "
            f"--methodology {report.get('methodology', '2025-07')}`."
        )
    section = [
        f"## Scenario `{scenario.name}`",
        "",
        f"Targets: `{scenario.name}.targets.yaml` ({targets.get('source', 'see the file')}).",
        "",
        *reproduce,
        "",
        f"Run: {run_info}; Python {platform.python_version()}; written {date.today()}.",
        "",
        f"Result: **{'every figure within tolerance' if ok else 'some figures outside tolerance'}**.",
        "",
        *table(rows),
        "",
    ]
    header = [
        "# Calibration",
        "",
        "Each scenario with targets is compared with them by `python manage.py calibration`.",
        "Counts are judged relatively, shares in percentage points, the index in points, ranks",
        "exactly or within the stated number of places. The index is computed over the window the",
        "scenario file names (`index.window`); the scenario file says why.",
        "",
    ]
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "\n".join(header)
    if not text.startswith("# Calibration"):
        text = "\n".join(header)
    marker = f"## Scenario `{scenario.name}`"
    start = text.find(marker)
    body = "\n".join(section).rstrip("\n")
    if start >= 0:  # replace the scenario's section where it stands
        end = text.find("\n## Scenario `", start + 1)
        rest = text[end:] if end >= 0 else ""
        text = text[:start] + body + ("\n" + rest if rest else "\n")
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
