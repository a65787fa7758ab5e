"""Figures the reliability tests measure, written under ``var/reliability/`` and summed up for
docs/reliability.md by ``python -m tests.reliability.figures``."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent.parent / "var" / "reliability"
# One id per pytest run, shared by its xdist workers, so counts of two runs never mix.
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


def save_figures(name: str, figures: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))


def record(name: str, row: dict) -> None:
    """Append one row (e.g. one matrix case) to this run's file for ``name``."""
    OUT.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (OUT / f"{name}.{RUN}.{worker}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def latest_rows(name: str) -> list[dict]:
    files = sorted(OUT.glob(f"{name}.*.jsonl"), key=lambda p: p.stat().st_mtime)
    if not files:
        return []
    run = files[-1].name.split(".")[1]
    return [
        json.loads(line)
        for path in files
        if path.name.split(".")[1] == run
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def load(name: str) -> dict | None:
    path = OUT / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def summary() -> list[str]:
    lines = []
    matrix = latest_rows("matrix")
    if matrix:
        by_kind = defaultdict(lambda: [0, 0, 0])
        for row in matrix:
            entry = by_kind[row["kind"]]
            entry[0] += 1
            entry[1] += row["requests"]
            entry[2] += row["violations"]
        cases = sum(v[0] for v in by_kind.values())
        requests = sum(v[1] for v in by_kind.values())
        leaks = sum(v[2] for v in by_kind.values())
        surfaces = len({row["surface"] for row in matrix})
        lines.append(
            f"authorisation matrix: {surfaces} surfaces x {len({r['role'] for r in matrix})} "
            f"roles = {cases} cases, {requests} requests, {leaks} violations"
        )
        for kind, (n, r, v) in sorted(by_kind.items()):
            lines.append(f"  {kind:<7} {n:>4} cases {r:>5} requests {v:>3} violations")
    csp = latest_rows("csp")
    if csp:
        lines.append(
            f"CSP scan: {sum(r['pages'] for r in csp)} HTML answers ({len(csp)} viewers), "
            f"{sum(r['problems'] for r in csp)} with inline code or a weak policy"
        )
    schemathesis = [load(f"schemathesis-{role}") for role in ROLES]
    schemathesis = [s for s in schemathesis if s]
    if schemathesis:
        total = sum(s["requests"] for s in schemathesis)
        failures = sum(len(s["failures"]) for s in schemathesis)
        lines.append(
            f"schemathesis: {len(schemathesis)} roles x {schemathesis[0]['operations']} "
            f"operations, {total} requests, {failures} failing operations"
        )
    for name in ("outbox", "nightly-kill", "db-restart", "load", "backup-restore"):
        figures = load(name)
        if figures:
            lines.append(f"{name}: {json.dumps(_headline(figures), ensure_ascii=False)}")
    return lines


ROLES = (
    "anonymous",
    "citizen",
    "receptionist",
    "officer",
    "leader",
    "provincial_manager",
    "national_manager",
)


def _headline(figures: dict) -> dict:
    """Counts, lists of what went wrong, and the database and live-mode checks; not the
    per-status, per-kind and latency breakdowns."""
    kept = {k: v for k, v in figures.items() if not isinstance(v, dict) or k == "database"}
    if "live_mode" in figures:
        kept["live_mode"] = {
            k: v for k, v in figures["live_mode"].items() if k not in ("kinds", "options")
        }
    return kept


if __name__ == "__main__":
    sys.stdout.write("\n".join(summary()) + "\n")
