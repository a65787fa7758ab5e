"""Backfill: generate a scenario's history into the database, then compute its index.

Order of work: validate everything (scenario, options, reference data, existing rows) before
the first write; then staff and citizens; then day after day, province after province, the
dossiers with their whole history, written in batches (COPY on PostgreSQL, bulk inserts on
SQLite); then the index inputs that do not come from dossiers, set from the scenario through
``scoring.services``; then the index for the period (``scoring.services.index_recompute``).
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from array import array
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from portal.calendar import working_calendar
from simulator.clock import Clock, local_minute
from simulator.generate import DayBatch, Generator, derived_seed
from simulator.inputs import index_inputs_apply
from simulator.scenario import Scenario, ScenarioError
from simulator.world import World, load_world
from simulator.writer import (
    CopyEncoder,
    Pipeline,
    Rows,
    SqliteEncoder,
    analyze_written,
    check_dossier_fields,
    encode_batches,
    reserve_ids,
    table_specs,
    write_rows,
)

FLUSH_DOSSIERS = 5_000  # dossiers per write transaction: small, so generating and copying overlap
SIM_PREFIX = "sim-"  # usernames of simulated people: sim-<CCCD>, sim-desk-<centre>, ...

FAMILY = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
    "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
)  # fmt: skip
FAMILY_WEIGHTS = (38, 11, 9.5, 7, 5, 5, 4.5, 4, 4, 2, 2, 1.5, 1.5, 1.3, 1, 0.5)
MIDDLE = {
    0: ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công"),
    1: ("Thị", "Ngọc", "Thu", "Thanh", "Hồng"),
}
GIVEN = {
    0: ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn", "Tuấn", "Việt"),
    1: ("Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Phương", "Thảo", "Trang"),
}  # fmt: skip
# CCCD digits 4–6: (gender/century digit, 2-digit birth year) of adults born 1940–2007.
BIRTH_CODES = [(g, yy) for g in (0, 1) for yy in range(40, 100)] + [
    (g, yy) for g in (2, 3) for yy in range(0, 8)
]
SERIALS = 900_000  # serials 100000–999999: a short serial never collides with a real test ID
CCCD_SPACE = len(BIRTH_CODES) * SERIALS
CCCD_STRIDE = 1_000_003  # prime, so index → CCCD is a permutation of the space


@dataclass
class Options:
    scenario: Scenario
    seed: int
    scale: float = 1.0
    reset: bool = False
    index: bool = True
    index_days: int | None = None  # snapshots for the last N days only (default: the scenario's)
    progress: bool = True


@dataclass
class Summary:
    scenario: str
    seed: int
    scale: float
    date_from: date
    date_to: date
    provinces: int
    counts: Counter = field(default_factory=Counter)
    states: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    generate_seconds: float = 0.0
    index_seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds by phase
    notes: list[str] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - start

    @property
    def dossiers_per_second(self) -> float:
        return self.counts["dossiers"] / self.generate_seconds if self.generate_seconds else 0.0

    def lines(self) -> list[str]:
        c = self.counts
        names = {1: "submitted", 2: "accepted", 3: "refused", 4: "in process",
                 5: "supplement requested", 6: "payment requested", 7: "withdrawn",
                 8: "stopped", 9: "processed", 10: "returned"}  # fmt: skip
        states = ", ".join(f"{names[s]} {n:,}" for s, n in sorted(self.states.items()))
        out = [
            f"Scenario {self.scenario} (seed {self.seed}, scale {self.scale:g}), "
            f"{self.date_from} .. {self.date_to}, {self.provinces} province(s).",
            f"  {c['dossiers']:,} dossiers, {c['events']:,} events, {c['payments']:,} payments, "
            f"{c['ratings']:,} ratings, {c['petitions']:,} petitions, {c['citizens']:,} citizens, "
            f"{c['staff']:,} staff.",
            f"  States at the end: {states}.",
            f"  Generated and written in {self.generate_seconds:.1f} s "
            f"({self.dossiers_per_second:,.0f} dossiers/s); index in {self.index_seconds:.1f} s; "
            f"total {self.seconds:.1f} s.",
        ]
        if self.phases:
            out.append(
                "  Time by phase: "
                + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items())
                + "."
            )
        return out + [f"  {n}" for n in self.notes]


# --- before anything is written --------------------------------------------------------------


def preflight(scenario: Scenario, *, reset: bool) -> int:
    """Check the database can take the run; return how many dossiers a reset would delete."""
    from dossiers.models import Dossier, Procedure
    from portal.models import Province

    missing = sorted(set(scenario.provinces) - set(Province.objects.values_list("code", flat=True)))
    if missing:
        raise ScenarioError(
            f"provinces: province {missing[0]} is not in the database (run load_reference_data)"
        )
    known = set(Procedure.objects.values_list("code", flat=True))
    for code in scenario.provinces:
        for level in ("province", "commune"):
            for proc in scenario.behaviour[code].get("procedures", level):
                if proc not in known:
                    raise ScenarioError(
                        f"behaviour.procedures.{level}.{proc}: procedure not in the database "
                        "(run load_reference_data)"
                    )
    check_dossier_fields()
    existing = Dossier.objects.filter(center__province_id__in=scenario.provinces).count()
    if existing and not reset:
        raise ScenarioError(
            f"--reset: the database already holds {existing:,} dossiers in the scenario's "
            "provinces; pass --reset to replace them"
        )
    return existing


def first_day(scenario: Scenario) -> date:
    warmup = max(b.get("carried_over", "warmup_days") for b in scenario.behaviour.values())
    return scenario.start - timedelta(days=warmup)


# --- reset -----------------------------------------------------------------------------------


def reset_scope(provinces: list[str]) -> dict[str, int]:
    """Delete the provinces' dossiers (with history, payments, ratings, documents), petitions,
    day counters, simulated citizens, and the index inputs the simulator set for them."""
    from dossiers.models import (
        Document,
        Dossier,
        DossierCounter,
        DossierEvent,
        OutboxMessage,
        Payment,
        Petition,
        PetitionEvent,
        Rating,
        service_writes,
    )
    from portal.models import ServiceCenter, User

    centres = list(
        ServiceCenter.objects.filter(province_id__in=provinces).values_list("id", flat=True)
    )
    deleted: dict[str, int] = {}
    q = connection.ops.quote_name
    # Nothing outside the scope (the usual case: one scenario at a time): TRUNCATE is
    # immediate where DELETE scans and checks every row.
    everything = not Dossier.objects.exclude(center__province_id__in=provinces).exists() and (
        not Petition.objects.exclude(center__province_id__in=provinces).exists()
    )
    # (Not inside a caller's transaction: rows it wrote still have deferred key checks pending.)
    all_provinces = (
        everything and connection.vendor == "postgresql" and not connection.in_atomic_block
    )
    from portal.history import history_purge

    with history_purge(), service_writes(), connection.cursor() as cursor:
        if all_provinces:
            tables = [
                m._meta.db_table
                for m in (PetitionEvent, Petition, OutboxMessage, Rating, Payment, Document,
                          DossierEvent, Dossier, DossierCounter)
            ]  # fmt: skip
            cursor.execute("SELECT count(*) FROM " + q(Dossier._meta.db_table))
            deleted["dossiers"] = cursor.fetchone()[0]
            cursor.execute("TRUNCATE " + ", ".join(q(t) for t in tables))
        elif centres:
            marks = ", ".join(["%s"] * len(centres))
            dossier_ids = f"SELECT id FROM {q(Dossier._meta.db_table)} WHERE center_id IN ({marks})"
            petition_ids = (
                f"SELECT id FROM {q(Petition._meta.db_table)} WHERE center_id IN ({marks})"
            )
            steps = [
                (PetitionEvent, f"petition_id IN ({petition_ids})"),
                (
                    OutboxMessage,
                    f"petition_id IN ({petition_ids}) OR dossier_id IN ({dossier_ids})",
                ),
                (Petition, f"center_id IN ({marks})"),
                (Rating, f"dossier_id IN ({dossier_ids})"),
                (Payment, f"dossier_id IN ({dossier_ids})"),
                (Document, f"dossier_id IN ({dossier_ids})"),
                (DossierEvent, f"dossier_id IN ({dossier_ids})"),
                (Dossier, f"center_id IN ({marks})"),
                (DossierCounter, f"center_id IN ({marks})"),
            ]
            for model, where in steps:
                params = centres * where.count(marks)
                cursor.execute(f"DELETE FROM {q(model._meta.db_table)} WHERE {where}", params)
                deleted[model._meta.model_name] = cursor.rowcount
        # Simulated citizens of these provinces (CCCDs start with 0 + province code), and what
        # hangs on them (group rows, API tokens, idempotency keys...), found from the models.
        users = User._meta.db_table
        for code in provinces:
            sim_users = f"SELECT id FROM {q(users)} WHERE username LIKE %s"
            pattern = [f"{SIM_PREFIX}0{code}%"]
            for statement in _user_reference_statements():
                cursor.execute(statement.format(users=sim_users), pattern)
            cursor.execute(f"DELETE FROM {q(users)} WHERE username LIKE %s", pattern)
            deleted["citizens"] = deleted.get("citizens", 0) + cursor.rowcount
    _reset_index_inputs(provinces)
    return deleted


def _user_reference_statements() -> list[str]:
    """SQL that clears every row pointing at the users selected by ``{users}``: rows of
    many-to-many tables and of models whose foreign key cascades are deleted, nullable
    ``SET_NULL`` keys are emptied. (Protected references — dossiers, history — are gone
    already: the province's dossiers were deleted first.)"""
    from django.db import models

    from portal.models import User

    q = connection.ops.quote_name
    statements = []
    for m2m in User._meta.many_to_many:
        through = m2m.remote_field.through._meta
        column = through.get_field(m2m.m2m_field_name()).column
        statements.append(f"DELETE FROM {q(through.db_table)} WHERE {q(column)} IN ({{users}})")
    # Hidden relations too: keys declared with related_name="+" (history actors, idempotency).
    relations = [
        f
        for f in User._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one or f.many_to_many)
    ]
    for rel in relations:
        if rel.many_to_many:
            through = rel.through._meta
            column = through.get_field(rel.field.m2m_reverse_field_name()).column
            statements.append(f"DELETE FROM {q(through.db_table)} WHERE {q(column)} IN ({{users}})")
            continue
        table, column = q(rel.related_model._meta.db_table), q(rel.field.column)
        if rel.on_delete is models.CASCADE:
            statements.append(f"DELETE FROM {table} WHERE {column} IN ({{users}})")
        elif rel.on_delete is models.SET_NULL:
            statements.append(f"UPDATE {table} SET {column} = NULL WHERE {column} IN ({{users}})")
    return list(dict.fromkeys(statements))


def _reset_index_inputs(provinces: list[str]) -> None:
    try:
        from scoring.models import ProcedurePublication
    except ImportError:  # scoring not installed yet
        return
    # Publications are keyed by decision date: a run with another seed would add a second set.
    ProcedurePublication.objects.filter(province_id__in=provinces).delete()


# --- people ------------------------------------------------------------------------------------


def cccd(province: str, index: int, offset: int) -> str:
    """The ``index``-th simulated citizen of a province: 0 + province code, gender/century,
    birth year, a serial ≥ 100000; a permutation of the space, so never twice the same."""
    n = (index * CCCD_STRIDE + offset) % CCCD_SPACE
    combo, serial = divmod(n, SERIALS)
    g, yy = BIRTH_CODES[combo]
    return f"0{province}{g}{yy:02d}{100000 + serial}"


def ensure_staff(world: World) -> int:
    """A receptionist and an officer for every centre of the run (created once, kept)."""
    from portal.models import ServiceCenter, StaffMembership, StaffRole, User

    wanted = {}
    codes = {c.id: c.code for cs in world.centres.values() for c in cs}
    for cid, code in codes.items():
        wanted[f"{SIM_PREFIX}desk-{code}"] = (cid, StaffRole.RECEPTIONIST)
        wanted[f"{SIM_PREFIX}officer-{code}"] = (cid, StaffRole.OFFICER)
    existing = dict(User.objects.filter(username__in=list(wanted)).values_list("username", "id"))
    missing = [u for u in wanted if u not in existing]
    if missing:
        password = make_password(None)
        centres = ServiceCenter.objects.in_bulk(list(codes))
        users = []
        for username in missing:
            cid, role = wanted[username]
            kind = "Cán bộ một cửa" if role == StaffRole.RECEPTIONIST else "Chuyên viên"
            users.append(
                User(
                    username=username,
                    password=password,
                    last_name=kind,
                    first_name=centres[cid].code,
                    is_staff=True,
                )
            )
        with transaction.atomic():
            User.objects.bulk_create(users, batch_size=2000)
            existing = dict(
                User.objects.filter(username__in=list(wanted)).values_list("username", "id")
            )
            StaffMembership.objects.bulk_create(
                [
                    StaffMembership(user_id=existing[u], center_id=wanted[u][0], role=wanted[u][1])
                    for u in missing
                ],
                batch_size=2000,
                ignore_conflicts=True,
            )
            groups = {
                g.name: g.id for g in Group.objects.filter(name__in=["Receptionists", "Officers"])
            }
            through = User.groups.through
            through.objects.bulk_create(
                [
                    through(
                        user_id=existing[u],
                        group_id=groups[
                            "Receptionists"
                            if wanted[u][1] == StaffRole.RECEPTIONIST
                            else "Officers"
                        ],
                    )
                    for u in missing
                    if len(groups) == 2
                ],
                batch_size=2000,
                ignore_conflicts=True,
            )
    for cid in codes:
        code = codes[cid]
        world.staff[cid] = (
            existing[f"{SIM_PREFIX}desk-{code}"],
            existing[f"{SIM_PREFIX}officer-{code}"],
        )
    return len(missing)


def citizens_needed(gen: Generator, province: str, days: list[date]) -> int:
    behaviour = gen.scenario.behaviour[province]
    expected = 0.0
    for day in days:
        total, working = gen.expected(province, day)
        expected += (
            total if working else total * max(behaviour.on(day)["channels.online_share"].values())
        )
    per_citizen = max(behaviour.get("citizens", "dossiers_per_citizen"), 0.01)
    return max(20, math.ceil(expected / per_citizen))


CITIZEN_BATCH = 50_000  # citizens per write: a big province's million stays out of memory


def create_citizens(gen: Generator, days: list[date], joined: date) -> int:
    """Simulated citizens of every province (deterministic by seed), written in bulk. Their
    ids are kept as 8-byte integers (``array``): the generator draws applicants from them."""
    from portal.models import User

    group = Group.objects.filter(name="Citizens").values_list("id", flat=True).first()
    joined_at = local_minute(joined) + 7 * 60  # 07:00 of the first simulated day
    enc = CopyEncoder() if connection.vendor == "postgresql" else SqliteEncoder()
    specs = {
        "user": (
            User._meta.db_table,
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "citizen_id",
                "phone",
            ],
        ),  # fmt: skip
        "user_group": (User.groups.through._meta.db_table, ["user_id", "group_id"]),
    }
    total = 0
    for province in gen.scenario.provinces:
        n = citizens_needed(gen, province, days)
        rng = random.Random(derived_seed(gen.seed, province, "citizens"))
        offset = rng.randrange(CCCD_SPACE)
        ids = array("q")
        for start in range(0, n, CITIZEN_BATCH):
            batch = reserve_ids(User._meta.db_table, min(CITIZEN_BATCH, n - start), _ID_STATE)
            rows = Rows()
            for i, uid in enumerate(batch, start=start):
                number = cccd(province, i, offset)
                sex = int(number[3]) % 2
                family = rng.choices(FAMILY, weights=FAMILY_WEIGHTS)[0]
                last = f"{family} {rng.choice(MIDDLE[sex])}"
                first = rng.choice(GIVEN[sex])
                values = (
                    uid, "!", None, False, f"{SIM_PREFIX}{number}", first, last, "", False, True,
                    joined_at, number, "",
                )  # fmt: skip
                rows.add("user", _encode_user(enc, values))
                if group:
                    rows.add("user_group", _encode_pair(enc, uid, group))
            write_rows(rows, specs)
            ids.extend(batch)
        gen.world.citizens[province] = ids
        total += n
    return total


_ID_STATE: dict[str, int] = {}


def _encode_user(enc, values):
    """A ``portal_user`` row (column order of ``create_citizens``); index 10 is a time."""
    if enc.postgres:
        out = []
        for n, v in enumerate(values):
            if n == 10:
                out.append(enc.time(v))
            elif v is None:
                out.append("\\N")
            elif isinstance(v, bool):
                out.append(enc.bool(v))
            else:
                out.append(enc.text(str(v)))
        return "\t".join(out) + "\n"
    return tuple(
        enc.time(v) if n == 10 else enc.bool(v) if isinstance(v, bool) else v
        for n, v in enumerate(values)
    )


def _encode_pair(enc, a, b):
    return f"{a}\t{b}\n" if enc.postgres else (a, b)


# --- the run -------------------------------------------------------------------------------------


def ensure_rules_in_force(day: date) -> int:
    """The services file a dossier under the procedure version in force on its day. The
    catalogue's versions start with the July 2025 reform; a history that begins earlier needs
    the rules in force then: the simulator adds, for each procedure without one, a version valid
    from ``day`` with the same rules as its first version. Returns how many it added."""
    from dossiers.models import ProcedureVersion

    first: dict[int, ProcedureVersion] = {}
    for v in ProcedureVersion.objects.order_by("valid_from", "id"):
        first.setdefault(v.procedure_id, v)
    added = [
        ProcedureVersion(
            procedure_id=pid,
            valid_from=day,
            limit_amount=v.limit_amount,
            limit_unit=v.limit_unit,
            online_limit_amount=v.online_limit_amount,
            fee_vnd=v.fee_vnd,
            online_level=v.online_level,
        )
        for pid, v in first.items()
        if v.valid_from > day
    ]
    ProcedureVersion.objects.bulk_create(added)
    return len(added)


def run_backfill(opts: Options, *, write=print) -> Summary:
    from simulator.models import SimulationRun

    scenario = opts.scenario
    started = time.perf_counter()
    preflight(scenario, reset=opts.reset)
    summary = Summary(
        scenario.name, opts.seed, opts.scale, scenario.start, scenario.end, len(scenario.provinces)
    )
    run = SimulationRun.objects.create(
        scenario=scenario.name,
        scenario_sha256=_sha(scenario),
        seed=opts.seed,
        scale=opts.scale,
        date_from=scenario.start,
        date_to=scenario.end,
        provinces=scenario.provinces,
        status=SimulationRun.Status.RUNNING,
        started_at=timezone.now(),
    )
    try:
        if opts.reset:
            with summary.phase("reset"):
                deleted = reset_scope(scenario.provinces)
            gone = ", ".join(f"{n:,} {k}" for k, n in deleted.items() if n)
            summary.notes.append(f"Reset: deleted {gone}." if gone else "Reset: nothing to delete.")
        begin = first_day(scenario)
        added = ensure_rules_in_force(begin)
        if added:
            summary.notes.append(
                f"Added {added} procedure versions valid from {begin} (the catalogue had no rules "
                "in force that early; same limits and fees as its first versions)."
            )
        _generate(opts, summary, begin, write)
        with summary.phase("index inputs"):
            summary.notes += index_inputs_apply(
                scenario, seed=opts.seed, scale=opts.scale, available_from=begin
            )
        if opts.index:
            t0 = time.perf_counter()
            days = opts.index_days or scenario.index.get("snapshot_days")
            with summary.phase("index"):
                summary.notes.append(
                    index_compute(scenario.start, scenario.end, days, opts.progress)
                )
            summary.index_seconds = time.perf_counter() - t0
        summary.seconds = time.perf_counter() - started
        run.status = SimulationRun.Status.COMPLETE
        run.indexed = opts.index
        return summary
    except BaseException as exc:
        run.status = SimulationRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        raise
    finally:
        run.counts = dict(summary.counts)
        run.finished_at = timezone.now()
        run.save()


def _sha(scenario: Scenario) -> str:
    if scenario.path is None:
        return ""
    return hashlib.sha256(scenario.path.read_bytes()).hexdigest()


def _generate(opts: Options, summary: Summary, begin: date, write) -> None:
    from tqdm import tqdm

    scenario = opts.scenario
    clock = Clock(working_calendar())
    world = load_world(scenario.provinces, clock)
    gen = Generator(
        scenario=scenario, world=world, seed=opts.seed, scale=opts.scale, end=scenario.end
    )
    days = [begin + timedelta(days=n) for n in range((scenario.end - begin).days + 1)]
    with summary.phase("staff and citizens"):
        summary.counts["staff"] = ensure_staff(world)
        summary.counts["citizens"] = create_citizens(gen, days, begin)

    columns = check_dossier_fields()
    specs = table_specs(columns)
    postgres = connection.vendor == "postgresql"
    encoder = CopyEncoder() if postgres else SqliteEncoder()
    bar = tqdm(
        total=len(days) * len(scenario.provinces),
        unit="province-day",
        disable=not opts.progress,
        desc="simulate",
    )

    def written(rows: Rows) -> None:
        summary.counts["dossiers"] += rows.count("dossier")
        summary.counts["events"] += rows.count("event")
        summary.counts["payments"] += rows.count("payment")
        summary.counts["ratings"] += rows.count("rating")
        summary.counts["petitions"] += rows.count("petition")

    t0 = time.perf_counter()
    # Writers with a connection of their own (a thread, a process) cannot see rows of an
    # enclosing transaction (a test, a caller's atomic block): only in autocommit mode.
    parallel = postgres and not connection.in_atomic_block
    pipeline = Pipeline(specs, on_written=written)
    try:
        if parallel:
            stream = _flushes_in_a_process(gen, days, columns)
        else:
            stream = _flushes(gen, days, encoder, columns)
        for rows, states, steps in stream:
            pipeline.put(rows)
            summary.states.update(states)
            bar.update(steps)
            bar.set_postfix(dossiers=f"{sum(summary.states.values()):,}")
    finally:
        pipeline.close()
        bar.close()
    summary.generate_seconds = time.perf_counter() - t0
    summary.phases["dossiers"] = summary.generate_seconds
    with summary.phase("statistics"):
        from portal.models import User

        analyze_written(specs, User._meta.db_table)


def _flushes(gen: Generator, days: list[date], encoder, columns: list[str]):
    """Encoded batches of about FLUSH_DOSSIERS dossiers, with the end states of their
    dossiers and how many province-days they cover, day after day, province after province."""
    pending: list[DayBatch] = []
    pending_dossiers = steps = 0
    states: Counter = Counter()
    for day in days:
        for province in gen.scenario.provinces:
            batch = gen.province_day(province, day)
            for d in batch.dossiers:
                states[d.state] += 1
            pending.append(batch)
            pending_dossiers += len(batch.dossiers)
            steps += 1
            if pending_dossiers >= FLUSH_DOSSIERS:
                yield _encode(encoder, pending, columns), states, steps
                pending, pending_dossiers, steps, states = [], 0, 0, Counter()
    if pending or steps:
        yield _encode(encoder, pending, columns), states, steps


def _flushes_in_a_process(gen: Generator, days: list[date], columns: list[str]):
    """The same flushes, generated and encoded by a child process while this one copies the
    previous flush into the database: on two cores, Python works on one and PostgreSQL on the
    other (a thread would share the interpreter lock with the copying). The queue holds two
    flushes, so memory stays flat."""
    import multiprocessing
    import queue as queues

    from django.db import connections

    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=2)
    connections.close_all()  # the child opens its own connection (for the id sequences)
    child = context.Process(target=_produce, args=(channel, gen, days, columns), daemon=True)
    child.start()
    try:
        while True:
            try:
                kind, item = channel.get(timeout=5)
            except queues.Empty:
                if not child.is_alive():
                    raise RuntimeError("the generating process died without a word") from None
                continue
            if kind == "rows":
                yield item
            elif kind == "done":
                break
            else:
                raise RuntimeError(f"the generating process failed:\n{item}")
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join()


def _produce(channel, gen: Generator, days: list[date], columns: list[str]) -> None:
    import traceback

    from django.db import connections

    try:
        for item in _flushes(gen, days, CopyEncoder(), columns):
            channel.put(("rows", item))
        channel.put(("done", None))
    except BaseException:
        channel.put(("error", traceback.format_exc()))
    finally:
        connections.close_all()


def _encode(encoder, batches: list[DayBatch], columns: list[str]) -> Rows:
    from dossiers.models import Dossier, Petition

    n_d = sum(len(b.dossiers) for b in batches)
    n_p = sum(len(b.petitions) for b in batches)
    dossier_ids = reserve_ids(Dossier._meta.db_table, n_d, _ID_STATE)
    petition_ids = reserve_ids(Petition._meta.db_table, n_p, _ID_STATE)
    return encode_batches(encoder, batches, dossier_ids, petition_ids, columns)


# --- index inputs and the index ------------------------------------------------------------------


def index_compute(date_from: date, date_to: date, days: int | None, progress: bool) -> str:
    """Daily facts for the whole period, then scoring's own recompute (facts and snapshots,
    ranked and published) for its last ``days`` days (every day when ``days`` is None)."""
    try:
        from scoring.facts import facts_compute
        from scoring.services import index_recompute
    except ImportError:
        return "Index not computed: the scoring app has no services yet."
    from tqdm import tqdm

    from portal.models import Province

    # From the day before the period: the stocks a window starting on its first day carries
    # over. Facts are per day and independent, so one statement covers any range.
    facts_compute(day_from=date_from - timedelta(days=1), day_to=date_to)
    snapshots_from = date_from if days is None else max(date_from, date_to - timedelta(days - 1))
    total = 1 + ((date_to - snapshots_from).days + 1) * Province.objects.count()
    with tqdm(total=total, unit="step", desc="index", disable=not progress) as bar:
        result = index_recompute(date_from=snapshots_from, date_to=date_to, progress=bar.update)
    return f"Index: daily facts {date_from - timedelta(days=1)} .. {date_to}; {result}."
