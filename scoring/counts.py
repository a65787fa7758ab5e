"""Window counts: from daily facts and the non-dossier inputs to each unit's numerators and
denominators, for any date range.

A window [a, b] of a centre = flows summed over a..b + stocks at the end of a−1 (carried over)
+ stocks at the end of b. A province pools its centres by summing counts; procedure-distinct
indicators take the union of procedure sets, so a province counts each procedure once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.db.models import Case, ExpressionWrapper, IntegerField, Q, Sum, Value, When

from dossiers.models import Procedure, ProcedureVersion
from portal.calendar import WorkingCalendar, working_calendar
from portal.models import Province, ServiceCenter
from scoring import methodology as M
from scoring.facts import Dialect, month_bits
from scoring.models import (
    FLOW_FIELDS,
    PROCEDURE_DAY_FIELDS,
    STOCK_FIELDS,
    CertifiedCopyService,
    DailyFact,
    MonthlyProcedureFact,
    OnlineService,
    ProcedurePublication,
    UnitKind,
)


@dataclass
class UnitFacts:
    """Everything a unit's indicators are computed from, for one window."""

    key: str
    kind: str
    province: str
    name: str
    center_id: int | None = None
    flows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLOW_FIELDS, 0))
    start: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STOCK_FIELDS, 0))
    end: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STOCK_FIELDS, 0))
    authority: set[int] = field(default_factory=set)  # procedures under the unit's authority
    offered_online: set[int] = field(default_factory=set)
    used_online: set[int] = field(default_factory=set)  # received an online dossier
    fee_data: set[int] = field(default_factory=set)  # a fee-bearing dossier was received
    paid_online: set[int] = field(default_factory=set)
    population: set[int] = field(default_factory=set)
    communes: int = 0
    communes_with_copies: int = 0

    def absorb(self, other: UnitFacts) -> None:
        """Pool a child's counts into this unit (sums and set unions)."""
        for bucket in ("flows", "start", "end"):
            mine, theirs = getattr(self, bucket), getattr(other, bucket)
            for name, value in theirs.items():
                mine[name] += value
        for name in ("offered_online", "used_online", "fee_data", "paid_online", "population"):
            getattr(self, name).update(getattr(other, name))

    # Quantities of the seed article's statistics table.
    @property
    def carried_over(self) -> int:
        return self.start["open_total"]

    @property
    def handled(self) -> int:
        return self.flows["received"] + self.start["open_total"]

    @property
    def finished_early(self) -> int:
        return self.flows["finished_early"] + self.end["open_paused_early"]

    @property
    def finished_on_time(self) -> int:
        return self.flows["finished_on_time"] + self.end["open_paused_on_time"]

    @property
    def finished_total(self) -> int:
        # A dossier waiting for its only supplement counts as finished at the request time.
        return self.flows["finished"] + self.end["open_paused"]

    @property
    def finished_late(self) -> int:
        return self.finished_total - self.finished_early - self.finished_on_time

    @property
    def in_process(self) -> int:
        return self.end["open_total"] - self.end["open_paused"]


@dataclass(frozen=True)
class Transparency:
    publish_on_time: tuple[int, int]
    public_update_on_time: tuple[int, int]
    public_content_full: tuple[int, int]


def add_working_days(day: date, n: int, calendar: WorkingCalendar) -> date:
    for _ in range(n):
        day = calendar.next_working_day(day)
    return day


def transparency_counts(
    rows: Iterable[dict], date_from: date, date_to: date, calendar, params: M.Params
) -> Transparency:
    """The province's procedure-catalogue facts for a window (every unit inherits them)."""
    decided = on_time = due_public = public_on_time = 0
    latest_public: dict[int, dict] = {}
    for row in rows:
        if date_from <= row["decision_date"] <= date_to:
            decided += 1
            notice = calendar.working_days_between(row["decision_date"], row["effective_date"])
            on_time += notice >= params.publication_notice_working_days
        deadline = add_working_days(
            row["decision_date"], params.public_update_working_days, calendar
        )
        public = row["public_date"]
        if (public and date_from <= public <= date_to) or date_from <= deadline <= date_to:
            due_public += 1
            public_on_time += bool(public and public <= deadline and public <= date_to)
        if public and public <= date_to:
            current = latest_public.get(row["procedure_id"])
            if current is None or current["decision_date"] < row["decision_date"]:
                latest_public[row["procedure_id"]] = row
    complete = sum(1 for r in latest_public.values() if r["components_complete"])
    return Transparency(
        (on_time, decided), (public_on_time, due_public), (complete, len(latest_public))
    )


@dataclass
class WindowFacts:
    date_from: date
    date_to: date
    units: dict[str, UnitFacts]
    transparency: dict[str, dict]  # province code → publication rows (evaluated per version)
    fee_procedures: set[int]
    _transparency: dict = field(default_factory=dict, repr=False)

    def counts(self, key: str, methodology: M.Methodology | str, calendar=None) -> dict:
        """``{code: (numerator, denominator)}`` of every indicator of the unit."""
        version = M.get(methodology)
        unit = self.units[key]
        memo = (unit.province, version.params)
        if memo not in self._transparency:
            self._transparency[memo] = transparency_counts(
                self.transparency.get(unit.province, ()),
                self.date_from,
                self.date_to,
                calendar or working_calendar(),
                version.params,
            )
        return indicator_counts(unit, version.params, self._transparency[memo], self.fee_procedures)


def window_facts(
    *, date_from: date, date_to: date, provinces: Iterable[str] | None = None
) -> WindowFacts:
    """Every unit's facts for the window: the pooled provinces, their provincial centres and
    communes (all provinces, or only ``provinces``). A fixed number of queries."""
    return windows_facts(windows=[(date_from, date_to)], provinces=provinces)[0]


def windows_facts(
    *, windows: list[tuple[date, date]], provinces: Iterable[str] | None = None
) -> list[WindowFacts]:
    """``window_facts`` for several windows at once, with the same 10 queries (a night's month,
    quarter and year to date read the facts table once)."""
    for date_from, date_to in windows:
        if date_to < date_from:
            raise ValueError(f"empty window {date_from} .. {date_to}")
    provinces = None if provinces is None else list(provinces)
    province_filter = Q() if provinces is None else Q(province_id__in=provinces)
    first = min(a for a, _ in windows) - timedelta(days=1)
    last = max(b for _, b in windows)

    levels = dict(Procedure.objects.values_list("id", "level"))
    by_level: dict[str, set[int]] = defaultdict(set)
    for pid, level in levels.items():
        by_level[level].add(pid)
    province_names = dict(
        Province.objects.filter(Q() if provinces is None else Q(code__in=provinces)).values_list(
            "code", "name"
        )
    )
    center_rows = list(
        ServiceCenter.objects.filter(province_filter)
        .order_by("province_id", "code")
        .values_list("id", "code", "level", "province_id", "name", "commune_id")
    )

    # Flows: one plain sum per centre and "which windows contain the day" (a bit mask), not
    # one filtered sum per window and column; stocks: only the rows of the boundary days.
    mask = _window_mask(windows)
    fact_rows = list(
        DailyFact.objects.filter(province_filter, day__range=(first + timedelta(1), last))
        .annotate(mask=mask)
        .values("center_id", "mask")
        .annotate(**{f: Sum(f) for f in FLOW_FIELDS})
        .order_by()
    )
    boundaries = {a - timedelta(days=1) for a, _ in windows} | {b for _, b in windows}
    stock_rows = {
        (row["center_id"], row["day"]): row
        for row in DailyFact.objects.filter(province_filter, day__in=sorted(boundaries)).values(
            "center_id", "day", *STOCK_FIELDS
        )
    }
    procedure_rows = _procedure_rows(windows, provinces)
    online = list(
        OnlineService.objects.filter(
            Q() if provinces is None else Q(center__province_id__in=provinces),
            available_from__lte=last,
        ).values_list("center_id", "procedure_id", "available_from")
    )
    copies = dict(
        CertifiedCopyService.objects.filter(
            Q() if provinces is None else Q(commune__province_id__in=provinces),
            available_from__lte=last,
        ).values_list("commune_id", "available_from")
    )
    transparency: dict[str, list] = defaultdict(list)
    for row in ProcedurePublication.objects.filter(
        Q() if provinces is None else Q(province_id__in=provinces),
        decision_date__lte=last,
    ).values(
        "province_id",
        "procedure_id",
        "decision_date",
        "effective_date",
        "public_date",
        "components_complete",
    ):
        transparency[row["province_id"]].append(row)
    fee_procedures = _fee_procedures_by_date({b for _, b in windows})

    results = []
    for n, (date_from, date_to) in enumerate(windows):
        units: dict[str, UnitFacts] = {}
        centers: dict[int, UnitFacts] = {}
        for code, name in province_names.items():
            units[code] = UnitFacts(code, UnitKind.PROVINCE, code, name, authority=set(levels))
        for cid, code, level, province_id, name, commune_id in center_rows:
            commune = level == ServiceCenter.Level.COMMUNE
            offers_copies = commune and commune_id in copies and copies[commune_id] <= date_to
            units[code] = centers[cid] = UnitFacts(
                code,
                UnitKind.COMMUNE if commune else UnitKind.PROVINCIAL_CENTER,
                province_id,
                name,
                center_id=cid,
                authority=set(by_level["commune" if commune else "province"]),
                communes=int(commune),
                communes_with_copies=int(offers_copies),
            )
        bit = 1 << n
        for row in fact_rows:
            unit = centers.get(row["center_id"])
            if unit is None or not row["mask"] & bit:
                continue
            for f in FLOW_FIELDS:
                unit.flows[f] += row[f] or 0
        before = date_from - timedelta(days=1)
        for unit in centers.values():
            start = stock_rows.get((unit.center_id, before))
            end = stock_rows.get((unit.center_id, date_to))
            for f in STOCK_FIELDS:
                unit.start[f] = start[f] if start else 0
                unit.end[f] = end[f] if end else 0
        for center_id, pid, *flags in procedure_rows:
            unit = centers.get(center_id)
            if unit is None:
                continue
            used_online, fee_data, paid_online, population = flags[4 * n : 4 * n + 4]
            if used_online:
                unit.used_online.add(pid)
            if fee_data:
                unit.fee_data.add(pid)
            if paid_online:
                unit.paid_online.add(pid)
            if population:
                unit.population.add(pid)
        for cid, pid, since in online:
            if cid in centers and since <= date_to:
                centers[cid].offered_online.add(pid)
        for unit in centers.values():
            parent = units.get(unit.province)
            if parent is not None:
                parent.absorb(unit)
                parent.communes += unit.communes
                parent.communes_with_copies += unit.communes_with_copies
        for unit in centers.values():
            if unit.kind == UnitKind.PROVINCIAL_CENTER and unit.province in units:
                # Certified copies are a commune service: the provincial centre shows its
                # province's share.
                unit.communes = units[unit.province].communes
                unit.communes_with_copies = units[unit.province].communes_with_copies
        results.append(
            WindowFacts(date_from, date_to, units, dict(transparency), fee_procedures[date_to])
        )
    return results


def _procedure_rows(windows: list[tuple[date, date]], provinces: list[str] | None) -> list[tuple]:
    """(centre, procedure, then for each window: online, fee, paid, population flags) — whether
    a day of the window has its bit set in the monthly procedure facts."""
    sql = Dialect(connection.vendor)
    table = MonthlyProcedureFact._meta.db_table
    params: list = []
    cells = []
    for a, b in windows:
        masks = month_bits(a, b)
        for column in PROCEDURE_DAY_FIELDS:
            cases = " ".join("WHEN %s THEN %s" for _ in masks)
            for month, bits in masks.items():
                params += [sql.adapt_day(month), bits]
            cells.append(
                f"MAX(CASE WHEN ({column} & (CASE month {cases} ELSE 0 END)) <> 0 "
                "THEN 1 ELSE 0 END)"
            )
    first = min(a for a, _ in windows).replace(day=1)
    last = max(b for _, b in windows)
    where = "month >= %s AND month <= %s"
    params += [sql.adapt_day(first), sql.adapt_day(last)]
    if provinces is not None:
        where += f" AND province_id IN ({', '.join(['%s'] * len(provinces))})"
        params += list(provinces)
    query = (
        f"SELECT center_id, procedure_id, {', '.join(cells)} FROM {table} WHERE {where} "
        "GROUP BY center_id, procedure_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _window_mask(windows: list[tuple[date, date]]):
    """SQL: the bit mask of the windows containing a fact's day (bit n ↔ window n)."""
    terms = [
        Case(When(day__range=(a, b), then=Value(1 << n)), default=Value(0))
        for n, (a, b) in enumerate(windows)
    ]
    expression = terms[0]
    for term in terms[1:]:
        expression = expression + term
    return ExpressionWrapper(expression, output_field=IntegerField())


def _fee_procedures_by_date(dates: set[date]) -> dict[date, set[int]]:
    """Procedures whose version in force on each date carries a fee."""
    versions = list(ProcedureVersion.objects.values_list("procedure_id", "valid_from", "fee_vnd"))
    result = {}
    for on in dates:
        current: dict[int, tuple[date, int]] = {}
        for procedure_id, valid_from, fee in versions:
            if valid_from <= on and (
                procedure_id not in current or current[procedure_id][0] < valid_from
            ):
                current[procedure_id] = (valid_from, fee)
        result[on] = {pid for pid, (_, fee) in current.items() if fee > 0}
    return result


def indicator_counts(
    unit: UnitFacts, params: M.Params, transparency: Transparency, fee_procedures: set[int]
) -> dict[str, tuple[int, int]]:
    f, s0, s1 = unit.flows, unit.start, unit.end
    rescheduled = params.due_basis == M.DUE_RESCHEDULED
    received = f["received"]
    handled = unit.handled
    if rescheduled:
        on_time = (
            f["finished_in_time_rs"] + s1["open_paused_in_time_rs"] + s1["open_within_time_rs"]
        )
        dissatisfied = f["dissatisfied_rs"]
    else:
        on_time = (
            f["finished_early"]
            + f["finished_on_time"]
            + s1["open_paused_early"]
            + s1["open_paused_on_time"]
            + s1["open_within_time"]
        )
        dissatisfied = f["dissatisfied"]
    offered = unit.offered_online & unit.authority
    fee_owned = unit.authority & fee_procedures
    copies = (unit.communes_with_copies, unit.communes)
    return {
        "publish_on_time": transparency.publish_on_time,
        "public_update_on_time": transparency.public_update_on_time,
        "public_content_full": transparency.public_content_full,
        "dossier_sync": (f["received_synced"] + s0["open_synced"], handled),
        "dossiers_on_time": (on_time, handled),
        "procedures_online": (len(offered), len(unit.authority)),
        "online_services_used": (len(offered & unit.used_online), len(offered)),
        "dossiers_online": (f["received_online"], received),
        "dossiers_paid_online": (f["paid_online"], f["fee_bearing"]),
        "fee_procedures_integrated": (len(fee_owned & unit.fee_data), len(fee_owned)),
        "fee_procedures_paid_online": (len(fee_owned & unit.paid_online), len(fee_owned)),
        "electronic_result": (f["electronic_results"], received),
        "digitised_dossiers": (f["received_digitised"], received),
        "reused_data": (f["received_reused"], received),
        "personal_storage_linked": (f["received_personal_storage"], received),
        "population_data_dossiers": (f["received_population"], received),
        "population_data_procedures": (len(unit.authority & unit.population), len(unit.authority)),
        "certified_copy_service": copies,
        "petitions_on_time": (
            f["petitions_answered_on_time"] + s1["petitions_open_within_time"],
            f["petitions_received"] + s0["petitions_open"],
        ),
        "petition_satisfaction": (
            max(0, f["petitions_received"] - f["petitions_failed"]),
            f["petitions_received"],
        ),
        "dossier_satisfaction": (max(0, on_time - dissatisfied), handled),
    }
