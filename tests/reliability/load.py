"""A small load generator acting through the REST API like the simulator's live mode: citizens
submit (with an Idempotency-Key, retried on a lost answer) and sometimes withdraw; desk staff
accept, process, finish and return their centre's dossiers. Every request is recorded; the
checks afterwards read the database.

Used by test_load.py (64 clients, 2 minutes) and test_database_restart.py until
``manage.py simulate_live`` exists."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

# Answers that mean "try again with the same key": the server or its database is away.
RETRY_STATUSES = {502, 503, 504}


@dataclass
class Record:
    agent: str
    action: str
    status: int  # 0: no answer (connection refused, reset, timeout)
    started: float
    seconds: float
    error: str = ""


@dataclass
class Desk:
    token: str
    centre: str


@dataclass
class LoadResult:
    records: list[Record] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> dossier code
    abandoned: list[str] = field(default_factory=list)  # keys never answered with a verdict
    started: float = 0.0
    seconds: float = 0.0

    def add(self, record: Record) -> None:
        self.records.append(record)

    @property
    def server_errors(self) -> list[Record]:
        return [r for r in self.records if r.status >= 500]

    @property
    def no_answer(self) -> list[Record]:
        return [r for r in self.records if r.status == 0]

    def summary(self) -> dict:
        latencies = sorted(r.seconds for r in self.records if r.status)
        statuses = Counter(r.status for r in self.records)

        def pct(p):
            return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

        return {
            "requests": len(self.records),
            "seconds": round(self.seconds, 1),
            "requests_per_second": round(len(self.records) / self.seconds, 1)
            if self.seconds
            else 0,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "server_errors": len(self.server_errors),
            "no_answer": len(self.no_answer),
            "submissions_accepted": len(self.accepted),
            "submissions_abandoned": len(self.abandoned),
            "latency_ms": {
                "p50": pct(0.50),
                "p95": pct(0.95),
                "p99": pct(0.99),
                "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0,
            },
        }


class Load:
    """``run(seconds)`` drives ``len(citizens) + len(desks)`` concurrent clients."""

    def __init__(self, base_url: str, *, citizens: list[str], desks: list[Desk], procedure: str,
                 documents: list[str], centres: list[str], seed: int = 1,
                 retry_for: float = 60.0):  # fmt: skip
        self.base_url = base_url
        self.citizens, self.desks = citizens, desks
        self.procedure, self.documents, self.centres = procedure, documents, centres
        self.seed, self.retry_for = seed, retry_for
        self.result = LoadResult()
        self._lock = threading.Lock()

    # -- HTTP
    def _call(self, session, agent, action, method, path, **kwargs) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = session.request(method, self.base_url + path, timeout=30, **kwargs)
            status, error = response.status_code, ""
        except requests.RequestException as exc:
            response, status, error = None, 0, f"{type(exc).__name__}: {exc}"[:300]
        record = Record(agent, action, status, started, time.monotonic() - started, error)
        with self._lock:
            self.result.add(record)
        return response

    @staticmethod
    def _session(token: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        return session

    # -- citizens
    def _citizen(self, index: int, token: str, deadline: float) -> None:
        rng = random.Random(self.seed * 1000 + index)
        session = self._session(token)
        mine: list[str] = []
        while time.monotonic() < deadline:
            if mine and rng.random() < 0.1:
                code = mine.pop(rng.randrange(len(mine)))
                self._call(
                    session, "citizen", "withdraw", "POST",
                    f"/api/v1/dossiers/{code}/transitions/",
                    json={"action": "withdraw", "reason": "Không cần nữa"},
                )  # fmt: skip
                continue
            code = self._submit(session, rng)
            if code:
                mine.append(code)

    def _submit(self, session, rng) -> str | None:
        """One submission; a lost or 5xx answer is retried with the same key until the server
        gives a verdict, so a retry never creates a second dossier."""
        key = uuid.uuid4().hex
        body = {
            "procedure": self.procedure,
            "centre": rng.choice(self.centres),
            "document_names": self.documents,
        }
        give_up = time.monotonic() + self.retry_for
        while True:
            response = self._call(
                session, "citizen", "submit", "POST", "/api/v1/dossiers/",
                json=body, headers={"Idempotency-Key": key},
            )  # fmt: skip
            if response is not None and response.status_code in (200, 201):
                code = response.json()["code"]
                with self._lock:
                    previous = self.result.accepted.setdefault(key, code)
                assert previous == code, f"key {key} answered {previous} then {code}"
                return code
            retry = response is None or response.status_code >= 500
            if not retry or time.monotonic() > give_up:
                if retry:
                    with self._lock:
                        self.result.abandoned.append(key)
                return None
            time.sleep(0.2)  # the server or its database is restarting: wait, same key

    # -- desk staff
    NEXT = {1: "accept", 2: "start_processing", 4: "finish", 9: "return_result"}

    def _desk(self, index: int, desk: Desk, deadline: float) -> None:
        rng = random.Random(self.seed * 7000 + index)
        session = self._session(desk.token)
        while time.monotonic() < deadline:
            response = self._call(
                session, "desk", "list", "GET", "/api/v1/dossiers/",
                params={"state": list(self.NEXT), "centre": desk.centre, "page_size": 20},
            )  # fmt: skip
            if response is None or response.status_code != 200:
                time.sleep(0.2)
                continue
            work = response.json()["results"]
            if not work:
                time.sleep(0.05)
                continue
            dossier = rng.choice(work)
            action = self.NEXT[dossier["state"]]
            if action == "accept" and rng.random() < 0.1:
                action, extra = "refuse", {"reason": "Hồ sơ chưa hợp lệ"}
            else:
                extra = {"electronic_result": True} if action == "finish" else {}
            self._call(
                session, "desk", action, "POST",
                f"/api/v1/dossiers/{dossier['code']}/transitions/",
                json={"action": action, **extra},
            )  # fmt: skip

    def run(self, seconds: float) -> LoadResult:
        self.result.started = time.monotonic()
        deadline = self.result.started + seconds
        threads = [
            threading.Thread(target=self._citizen, args=(i, token, deadline), daemon=True)
            for i, token in enumerate(self.citizens)
        ] + [
            threading.Thread(target=self._desk, args=(i, desk, deadline), daemon=True)
            for i, desk in enumerate(self.desks)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + self.retry_for + 60)
        self.result.seconds = time.monotonic() - self.result.started
        return self.result


def check_database(result: LoadResult, citizen_ids: list[int]) -> dict:
    """What the database holds for the load's citizens, against what the clients were told:
    every accepted submission exactly once, unique codes, every history a legal path."""
    return stored_report(list(result.accepted.values()), citizen_ids)


def stored_report(accepted: list[str], citizen_ids: list[int]) -> dict:
    """``accepted``: the codes the server acknowledged (one per Idempotency-Key)."""
    from dossiers.models import Dossier

    stored = Counter(
        Dossier.objects.filter(applicant_id__in=citizen_ids).values_list("code", flat=True)
    )
    accepted_codes = Counter(accepted)
    return {
        "stored": sum(stored.values()),
        "accepted": len(accepted),
        "lost": sorted(set(accepted_codes) - set(stored)),  # told "accepted", not stored
        "duplicate_codes": sorted(c for c, n in accepted_codes.items() if n > 1),
        "stored_not_acknowledged": sorted(set(stored) - set(accepted_codes)),
        **history_report(Dossier.objects.filter(applicant_id__in=citizen_ids)),
    }


def history_report(dossiers) -> dict:
    """Every history of ``dossiers`` (a queryset) starts with a submission or a reception,
    chains each event's state to the next one's, and follows the transition table."""
    from dossiers.models import DossierEvent
    from dossiers.workflow import State, is_legal_path

    histories: dict[int, list] = {}
    for dossier_id, action, from_state, to_state in (
        DossierEvent.objects.filter(dossier__in=dossiers.values("pk"))
        .order_by("dossier_id", "at", "id")
        .values_list("dossier_id", "action", "from_state", "to_state")
    ):
        histories.setdefault(dossier_id, []).append((action, from_state, to_state))
    illegal = []
    for dossier_id, events in histories.items():
        states = [State(events[0][2])]
        for _action, _from, to in events[1:]:
            if to != states[-1]:
                states.append(State(to))
        chained = all(a[2] == b[1] for a, b in zip(events, events[1:]))
        first = events[0][:2] in (("submit", None), ("receive", None))
        if not first or not chained or not is_legal_path(states):
            illegal.append((dossier_id, events))
    return {
        "histories": len(histories),
        "events": sum(len(e) for e in histories.values()),
        "illegal_histories": illegal[:10],
        "illegal_count": len(illegal),
    }
