"""Live mode: agents that use a running server through its REST API, as people would.

Citizens submit dossiers (``POST /api/v1/dossiers/``), pay their fee through the payment
gateway (a payment order, then the gateway's signed callback), bring supplements and rate the
result; staff accept, start processing, ask for supplements, finish and return the result of
the dossiers of their centre (``POST /api/v1/dossiers/{code}/transitions/``). Submissions arrive
as a Poisson process at ``rate`` per second for ``duration`` seconds; everything stops by
itself at the end. The report gives throughput, latency percentiles and errors per kind of
request, and checks that every submission the server accepted (201) is in the database.

Agents authenticate with API tokens; the people and their tokens are prepared in the database
the server uses (this command runs with the same settings), under the simulator's ``sim-``
usernames.
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import requests

from simulator.backfill import CCCD_SPACE, SIM_PREFIX, cccd
from simulator.generate import derived_seed


@dataclass
class LiveOptions:
    base_url: str
    citizens: int
    staff: int
    rate: float  # submissions per second
    duration: float  # seconds
    province: str = "42"
    seed: int = 1
    timeout: float = 10.0
    supplement_share: float = 0.1
    rated_share: float = 0.5


@dataclass
class Agent:
    username: str
    token: str
    centre: str = ""  # staff: the centre they work at


MAX_FAILURES_KEPT = 10_000


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    accepted: list[str] = field(default_factory=list)  # codes of dossiers the server created
    # (wall-clock time of the answer, kind, status): when each error happened, the first ones.
    failures: list[tuple[float, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, status: int | str) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if not (isinstance(status, int) and status < 400):
                self.errors[kind][str(status)] += 1
                if len(self.failures) < MAX_FAILURES_KEPT:
                    self.failures.append((time.time(), kind, str(status)))


# --- people and tokens ---------------------------------------------------------------------


def prepare_agents(opts: LiveOptions) -> tuple[list[Agent], list[Agent], list[dict]]:
    """Citizens, staff (desk and handling roles at one centre each) and the procedures they
    may file online at those centres; tokens created where missing."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from dossiers.models import Procedure, ProcedureVersion
    from portal.models import ServiceCenter, StaffMembership, StaffRole, User

    centres = list(
        ServiceCenter.objects.filter(province_id=opts.province).order_by("-level", "code")[
            : opts.staff
        ]
    )
    if not centres:
        raise ValueError(f"--province: no service centres in province {opts.province!r}")
    with transaction.atomic():
        staff = []
        groups = {g.name: g for g in Group.objects.filter(name__in=["Receptionists", "Officers"])}
        for centre in centres:
            user, created = User.objects.get_or_create(
                username=f"{SIM_PREFIX}live-staff-{centre.code}",
                defaults={"last_name": "Cán bộ", "first_name": centre.code, "is_staff": True},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            for role in (StaffRole.RECEPTIONIST, StaffRole.OFFICER):
                StaffMembership.objects.get_or_create(user=user, center=centre, role=role)
            user.groups.add(*groups.values())
            staff.append(
                Agent(user.username, Token.objects.get_or_create(user=user)[0].key, centre.code)
            )

        existing = list(
            User.objects.filter(username__startswith=f"{SIM_PREFIX}0{opts.province}")
            .order_by("id")
            .values_list("id", flat=True)[: opts.citizens]
        )
        rng = random.Random(derived_seed(opts.seed, opts.province, "live"))
        offset = rng.randrange(CCCD_SPACE)
        index = 0
        group = Group.objects.filter(name="Citizens").first()
        while len(existing) < opts.citizens:
            number = cccd(opts.province, index, offset)
            index += 1
            if User.objects.filter(citizen_id=number).exists():
                continue
            user = User(username=f"{SIM_PREFIX}{number}", citizen_id=number, last_name="Công dân")
            user.set_unusable_password()
            user.save()
            if group:
                user.groups.add(group)
            existing.append(user.id)
        citizens = [
            Agent(u.username, Token.objects.get_or_create(user=u)[0].key)
            for u in User.objects.filter(id__in=existing).order_by("id")
        ]

    today = {}
    for v in ProcedureVersion.objects.select_related("procedure").order_by("valid_from"):
        today[v.procedure_id] = v
    procedures = [
        {
            "code": v.procedure.code,
            "level": v.procedure.level,
            "fee": v.fee_vnd,
            "documents": list(v.procedure.required_documents or ["Tờ khai"]),
        }
        for v in today.values()
        if v.online_level != "none"
    ]
    levels = {c.code: c.level for c in centres}
    procedures = [p for p in procedures if p["level"] in levels.values()]
    for p in procedures:
        p["centres"] = [code for code, level in levels.items() if level == p["level"]]
    if not procedures:
        raise ValueError("no procedure with an online service at the staff's centres")
    _ = Procedure  # the catalogue is read through its versions
    return citizens, staff, procedures


# --- the run -------------------------------------------------------------------------------


class LiveRun:
    def __init__(self, opts: LiveOptions, citizens, staff, procedures, *, gateway_secret: str):
        self.opts = opts
        self.citizens = citizens
        self.staff = staff
        self.procedures = procedures
        self.secret = gateway_secret.encode()
        self.stats = Stats()
        self.stop_at = 0.0
        self.rng = random.Random(opts.seed)
        self.rng_lock = threading.Lock()
        self.owner: dict[str, Agent] = {}  # dossier code → citizen who filed it
        self.handled: set[str] = set()  # dossiers whose citizen step (pay/supplement/rate) ran
        self.local = threading.local()

    # -- HTTP ---------------------------------------------------------------------------------
    def session(self) -> requests.Session:
        s = getattr(self.local, "session", None)
        if s is None:
            s = self.local.session = requests.Session()
        return s

    def call(self, kind: str, method: str, path: str, agent: Agent | None, **kwargs):
        headers = kwargs.pop("headers", {})
        if agent is not None:
            headers["Authorization"] = f"Token {agent.token}"
        url = self.opts.base_url.rstrip("/") + path
        start = time.perf_counter()
        try:
            response = self.session().request(
                method, url, headers=headers, timeout=self.opts.timeout, **kwargs
            )
        except requests.RequestException as exc:
            self.stats.record(kind, time.perf_counter() - start, type(exc).__name__)
            return None
        self.stats.record(kind, time.perf_counter() - start, response.status_code)
        return response

    def random(self):
        with self.rng_lock:
            return self.rng.random()

    def choice(self, items):
        with self.rng_lock:
            return self.rng.choice(items)

    # -- citizens -------------------------------------------------------------------------------
    def submit(self) -> None:
        citizen = self.choice(self.citizens)
        procedure = self.choice(self.procedures)
        body = {
            "procedure": procedure["code"],
            "centre": self.choice(procedure["centres"]),
            "document_names": procedure["documents"],
        }
        response = self.call(
            "submit",
            "POST",
            "/api/v1/dossiers/",
            citizen,
            json=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if response is not None and response.status_code == 201:
            code = response.json()["code"]
            with self.stats.lock:
                self.stats.accepted.append(code)
                self.owner[code] = citizen
            if procedure["fee"]:
                self.pay(citizen, code)

    def pay(self, citizen: Agent, code: str) -> None:
        """The citizen opens a payment order; the gateway confirms it with a signed callback."""
        response = self.call(
            "payment order",
            "POST",
            f"/api/v1/dossiers/{code}/payments/",
            citizen,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if response is None or response.status_code != 201:
            return
        order = response.json()
        body = json.dumps(
            {
                "amount_vnd": order["amount_vnd"],
                "dossier": order["dossier"],
                "paid_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                "reference": order["reference"],
                "status": "paid",
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        import hmac

        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        self.call(
            "payment callback",
            "POST",
            "/api/v1/payments/callback/",
            None,
            data=body,
            headers={"Content-Type": "application/json", "X-Gateway-Signature": signature},
        )

    def citizen_steps(self) -> None:
        """Citizens whose dossier waits for them: supplement, or rate a returned result."""
        with self.stats.lock:
            codes = list(self.owner.items())
        for code, citizen in codes:
            if time.monotonic() > self.stop_at:
                return
            if code in self.handled:
                continue
            response = self.call("citizen read", "GET", f"/api/v1/dossiers/{code}/", citizen)
            if response is None or response.status_code != 200:
                continue
            state = response.json().get("state")
            if state == 5:
                self.call(
                    "transition",
                    "POST",
                    f"/api/v1/dossiers/{code}/transitions/",
                    citizen,
                    json={
                        "action": "supplement",
                        "document_names": ["Giấy tờ bổ sung theo yêu cầu"],
                    },
                )
            elif state == 10:
                self.handled.add(code)
                if self.random() < self.opts.rated_share:
                    self.call(
                        "rate",
                        "POST",
                        f"/api/v1/dossiers/{code}/rating/",
                        citizen,
                        json={"satisfied": self.random() < 0.9, "comment": ""},
                    )

    # -- staff ----------------------------------------------------------------------------------
    def staff_round(self, agent: Agent) -> int:
        """One pass over the centre's actionable dossiers; returns how many were acted on."""
        response = self.call(
            "staff list",
            "GET",
            f"/api/v1/dossiers/?centre={agent.centre}&state=1&state=2&state=4&state=9",
            agent,
        )
        if response is None or response.status_code != 200:
            return 0
        acted = 0
        for dossier in response.json().get("results", []):
            if time.monotonic() > self.stop_at:
                break
            code, state = dossier["code"], dossier["state"]
            if state == 1:
                body = {"action": "accept"}
            elif state == 2:
                body = {"action": "start_processing"}
            elif state == 4:
                if dossier.get("payment_status") == "due":
                    continue  # the citizen has not paid yet
                if self.random() < self.opts.supplement_share and code not in self.handled:
                    self.handled.add(code)
                    body = {"action": "request_supplement", "reason": "Đề nghị bổ sung giấy tờ"}
                else:
                    body = {"action": "finish", "electronic_result": True}
            elif state == 9:
                body = {"action": "return_result"}
            else:
                continue
            self.call(
                "transition", "POST", f"/api/v1/dossiers/{code}/transitions/", agent, json=body
            )
            acted += 1
        return acted

    # -- loops ------------------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.monotonic()
        self.stop_at = started + self.opts.duration
        threads = [threading.Thread(target=self._submissions, name="submissions")]
        threads += [
            threading.Thread(target=self._staff_loop, args=(a,), name=f"staff-{a.centre}")
            for a in self.staff
        ]
        threads.append(threading.Thread(target=self._citizen_loop, name="citizens"))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        return self.report(elapsed)

    def _submissions(self) -> None:
        """Poisson arrivals; each submission (with its payment) on a short-lived thread so a
        slow answer does not delay the next arrival."""
        workers = []
        next_at = time.monotonic()
        while True:
            with self.rng_lock:
                next_at += self.rng.expovariate(self.opts.rate)
            if next_at > self.stop_at:
                break
            time.sleep(max(0.0, next_at - time.monotonic()))
            worker = threading.Thread(target=self.submit)
            worker.start()
            workers.append(worker)
            workers = [w for w in workers if w.is_alive()]
        for w in workers:
            w.join()

    def _staff_loop(self, agent: Agent) -> None:
        while time.monotonic() < self.stop_at:
            if not self.staff_round(agent):
                time.sleep(0.2)

    def _citizen_loop(self) -> None:
        while time.monotonic() < self.stop_at:
            self.citizen_steps()
            time.sleep(0.2)

    # -- report -------------------------------------------------------------------------------------
    def report(self, elapsed: float) -> dict:
        from django.db import connection

        from dossiers.models import Dossier

        # The connection opened before the run may be dead by now (a database restart during
        # the run): check what was accepted on a fresh one.
        connection.close()
        accepted = list(self.stats.accepted)
        found = set(Dossier.objects.filter(code__in=accepted).values_list("code", flat=True))
        kinds = {}
        total = 0
        for kind, values in sorted(self.stats.latencies.items()):
            total += len(values)
            ordered = sorted(values)
            kinds[kind] = {
                "requests": len(values),
                "errors": dict(self.stats.errors.get(kind, {})),
                "p50_ms": 1000 * _percentile(ordered, 50),
                "p95_ms": 1000 * _percentile(ordered, 95),
                "p99_ms": 1000 * _percentile(ordered, 99),
                "mean_ms": 1000 * statistics.fmean(ordered),
            }
        return {
            "seconds": elapsed,
            "requests": total,
            "requests_per_second": total / elapsed if elapsed else 0.0,
            "submissions_accepted": len(accepted),
            "submissions_per_second": len(accepted) / elapsed if elapsed else 0.0,
            "lost": sorted(set(accepted) - found),
            "kinds": kinds,
            "failures": [
                {"at": round(at, 3), "kind": kind, "status": status}
                for at, kind, status in self.stats.failures
            ],
        }


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def report_lines(result: dict) -> list[str]:
    lines = [
        f"{result['requests']:,} requests in {result['seconds']:.1f} s "
        f"({result['requests_per_second']:,.1f}/s); {result['submissions_accepted']:,} dossiers "
        f"submitted ({result['submissions_per_second']:,.2f}/s).",
        f"{'request':<18} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  errors",
    ]
    for kind, k in result["kinds"].items():
        errors = ", ".join(f"{s}×{n}" for s, n in k["errors"].items()) or "-"
        lines.append(
            f"{kind:<18} {k['requests']:>7,} {k['p50_ms']:>8.1f} {k['p95_ms']:>8.1f} "
            f"{k['p99_ms']:>8.1f}  {errors}"
        )
    lost = result["lost"]
    lines.append(
        f"Nothing lost: all {result['submissions_accepted']:,} accepted submissions are in the database."
        if not lost
        else f"LOST: {len(lost)} accepted submissions are not in the database: {', '.join(lost[:10])}"
    )
    return lines
