"""Dossier submission over HTTP: the REST API's online submission (token auth, validation,
numbering, history, outbox) served by gunicorn, loaded by 32 concurrent Locust users on the same
machine, beside a bare Django view that inserts one row through the ORM, served by the same
gunicorn settings (``benchmarks.http.settings``: the product's settings + that view).

Targets: throughput ≥ 0.6× the bare view's, p95 ≤ 50 ms, zero errors, and every accepted
submission (HTTP 201) found in the database afterwards. Latency is measured at the client
(Locust), so it includes the load generator and the socket: stricter than server time.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks.harness import REPEATS, Figure, Measurement

ROOT = Path(__file__).resolve().parent.parent
USERS = 32
WORKERS = 3
THREADS = 4
SECONDS = {"small": 10, "medium": 15, "3m": 15, "large": 15}
THROUGHPUT_TARGET = 0.6
P95_TARGET_MS = 50
CITIZENS = 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _citizens() -> list[str]:
    """Tokens of 32 benchmark citizens (created once, kept)."""
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from portal.models import User

    group = Group.objects.filter(name="Citizens").first()
    tokens = []
    for n in range(CITIZENS):
        user, created = User.objects.get_or_create(
            username=f"bench-citizen-{n:02d}",
            defaults={"citizen_id": f"0990{n:08d}", "first_name": "Bench", "last_name": f"{n}"},
        )
        if created and group:
            user.groups.add(group)
        tokens.append(Token.objects.get_or_create(user=user)[0].key)
    return tokens


def _submission_target() -> tuple[str, list[str], list[str]]:
    """A commune procedure with an online service, its required documents, commune centres."""
    from dossiers.models import OnlineLevel, Procedure, ProcedureVersion
    from portal.models import ServiceCenter

    online = ProcedureVersion.objects.exclude(online_level=OnlineLevel.NONE).values("procedure")
    procedure = Procedure.objects.filter(level="commune", pk__in=online).order_by("code").first()
    centres = list(
        ServiceCenter.objects.filter(level="commune").order_by("id").values_list("code", flat=True)
    )[::17]
    return procedure.code, list(procedure.required_documents), centres


class Server:
    """gunicorn on a free port with the benchmark settings; stopped by its own pid."""

    def __init__(self):
        self.port = _free_port()
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="benchmarks.http.settings")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS),
             "--threads", str(THREADS), "--worker-class", "gthread", "--backlog", "2048",
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        # Ready when a worker answers (the master accepts connections before workers boot).
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/bench/bare/", timeout=5)
            except urllib.error.HTTPError:
                return  # 405: GET on the POST-only view, served by Django
            except OSError:
                time.sleep(0.5)
            else:
                return
        self.stop()
        raise RuntimeError("gunicorn did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def locust(url: str, target: str, seconds: int, env_extra: dict) -> dict:
    """One headless Locust run; returns requests, failures, rps, p50/p95/p99 (ms)."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "stats")
        env = dict(os.environ, BENCH_TARGET=target, **env_extra)
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks/http/locustfile.py"),
             "--headless", "-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s",
             "--host", url, "--csv", prefix, "--only-summary", "--loglevel", "WARNING",
             "--stop-timeout", "30", "--exit-code-on-error", "0"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        with open(prefix + "_stats.csv", newline="") as fh:
            row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    if not int(row["Request Count"]):
        raise RuntimeError(f"{target}: no request completed in {seconds} s")
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
    }


def _series(target: str, url: str, seconds: int, env_extra: dict) -> tuple[dict, list[dict]]:
    """A short warm-up run, then the measured runs."""
    warmup = locust(url, target, max(5, seconds // 2), env_extra)
    return warmup, [locust(url, target, seconds, env_extra) for _ in range(REPEATS)]


def run(size: str, **_) -> list[Figure]:
    from django.db import connection

    from benchmarks.http.models import CREATE_TABLE
    from dossiers.models import Dossier

    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    tokens = _citizens()
    procedure, documents, centres = _submission_target()
    env_extra = {
        "BENCH_TOKENS": json.dumps(tokens),
        "BENCH_CENTRES": json.dumps(centres),
        "BENCH_PROCEDURE": procedure,
        "BENCH_DOCUMENTS": json.dumps(documents, ensure_ascii=False),
    }
    seconds = SECONDS[size]
    mine = Dossier.objects.filter(applicant__username__startswith="bench-citizen-")
    connection.close()  # the server has the database to itself while it is loaded
    server = Server()
    try:
        _, bare = _series("bare", server.url, seconds, env_extra)
        before = mine.count()
        connection.close()
        warmup, submit = _series("submit", server.url, seconds, env_extra)
    finally:
        server.stop()
    stored = mine.count() - before
    accepted = sum(r["requests"] - r["failures"] for r in [warmup, *submit])
    # Throughput as a time per request (so the harness's median/rate read naturally).
    measured = Measurement(
        "POST /api/v1/dossiers/", [1 / r["rps"] for r in submit], work=1, unit="request"
    )
    limit = Measurement("POST bare view", [1 / r["rps"] for r in bare], work=1, unit="request")
    ratio = limit.median / measured.median
    p95 = sorted(r["p95_ms"] for r in submit)[len(submit) // 2]
    errors = sum(r["failures"] for r in submit)
    # Nothing lost: every 201 is in the database. A few more rows than 201s are the requests
    # still in flight when Locust stopped (committed by the server, answer never counted).
    all_stored = stored >= accepted
    return [
        Figure(
            path="dossier submission over HTTP (gunicorn, 32 concurrent clients)",
            size=size,
            measured=measured,
            limit=limit,
            target=f"≥ {THROUGHPUT_TARGET}× the limit's throughput, p95 ≤ {P95_TARGET_MS} ms, "
            "zero errors, all stored",
            ratio=ratio,
            met=ratio >= THROUGHPUT_TARGET and p95 <= P95_TARGET_MS and not errors and all_stored,
            notes=(
                f"{measured.rate:,.0f} submissions/s vs {limit.rate:,.0f} bare inserts/s; "
                f"p95 {p95:.0f} ms (bare p95 "
                f"{sorted(r['p95_ms'] for r in bare)[len(bare) // 2]:.0f} ms); {errors} errors; "
                f"{accepted:,} accepted (201), {stored:,} new dossiers in the database; "
                f"gunicorn {WORKERS} workers × {THREADS} threads, {USERS} Locust users, "
                f"{seconds} s per run, latency measured at the client"
            ),
            extra={"submit": submit, "bare": bare, "accepted": accepted, "stored": stored},
        )
    ]
