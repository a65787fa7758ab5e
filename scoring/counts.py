"""Window counts: from daily facts and the non-dossier inputs to each unit's numerators and
denominators, for any date range.

A window [a, b] of a centre = flows summed over a..b + stocks at the end of a−1 (carried over)
+ stocks at the end of b. A province pools its centres by summing counts; procedure-distinct
indicators take the union of procedure sets, so a province counts each procedure once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.db import connection
from django.db.models import Case, ExpressionWrapper, IntegerField, Q, Sum, Value, When

from dossiers.models import Procedure, ProcedureVersion
from portal.calendar import WorkingCalendar, WorkingDayCounter, working_calendar
from portal.models import Province, ServiceCenter
from scoring import methodology as M
from scoring.facts import ALL_DAYS, Dialect, month_bits, procedure_bit_sql
from scoring.models import (
    FLOW_FIELDS,
    PROCEDURE_DAY_FIELDS,
    PROCEDURE_SET_FIELDS,
    STOCK_FIELDS,
    CertifiedCopyService,
    DailyFact,
    MonthlyProcedureFact,
    MonthlyProcedureSet,
    OnlineService,
    ProcedurePublication,
    UnitKind,
    YearToDateFact,
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


PUBLICATION_FIELDS = (
    "province_id",
    "procedure_id",
    "decision_date",
    "effective_date",
    "public_date",
    "components_complete",
)


def publications_until(last: date, provinces=None):
    """Procedure publications decided by ``last`` (of ``provinces``, or all): the transparency
    group's input."""
    return ProcedurePublication.objects.filter(
        Q() if provinces is None else Q(province_id__in=provinces),
        decision_date__lte=last,
    )


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
    for row in publications_until(last, provinces).values(*PUBLICATION_FIELDS):
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


# --- Series: every unit's counts for many dates and windows at once (snapshots, rebuilds) -------
#
# A window [a, D] of a centre = year-to-date flows at D − those at a−1 (zero on 31 December),
# + stocks at a−1 and at D. Only the rows of the boundary days are read (the dates and the days
# before their windows start: 3 a night), a centre's last total of the year standing in for a
# day without one. Procedure sets are bit masks (one bit per procedure, 64 to a word), so a
# province's union is an OR and a set's size a popcount.


@dataclass
class UnitTable:
    """The units of a computation, in a fixed order: the provinces pooled, then their centres
    (by province and code). Arrays of counts follow this order."""

    keys: list[str]
    kinds: list[str]
    provinces: list[str]
    names: list[str]
    center_ids: list[int | None]
    province_index: np.ndarray  # unit → the row of its province (a province: itself)
    n_provinces: int

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class SeriesPoint:
    """The counts of every unit for one date and one window, per methodology parameters:
    ``counts[params][code] = (numerators, denominators)`` as int64 arrays."""

    on: date
    window: str
    start: date
    counts: dict[M.Params, dict[str, tuple[np.ndarray, np.ndarray]]]


def window_starts(window: str, on: date) -> date:
    if window == "month":
        return on.replace(day=1)
    if window == "quarter":
        return on.replace(month=(on.month - 1) // 3 * 3 + 1, day=1)
    if window == "ytd":
        return on.replace(month=1, day=1)
    raise ValueError(f"unknown window {window!r} (month, quarter, ytd)")


def _period(window: str, day: int) -> int:
    """An id of the month, quarter or year of an ordinal day (windows restart with it)."""
    d = date.fromordinal(day)
    if window == "month":
        return d.year * 12 + d.month - 1
    if window == "quarter":
        return d.year * 4 + (d.month - 1) // 3
    return d.year


def counts_series(
    *,
    dates: Iterable[date],
    windows: Iterable[str],
    params: Iterable[M.Params],
    provinces: Iterable[str] | None = None,
):
    """Every unit's indicator counts for each date and window (``windows`` ending on the date):
    returns the ``UnitTable`` and a generator of ``SeriesPoint`` by date, then window. The same
    numbers as ``window_facts(...).counts(...)`` (tested), in a fixed number of queries."""
    dates = sorted(set(dates))
    windows = tuple(windows)
    params = tuple(dict.fromkeys(params))
    provinces = None if provinces is None else list(provinces)
    starts = {(on, w): window_starts(w, on) for on in dates for w in windows}
    points = sorted(set(dates) | {a - timedelta(days=1) for a in starts.values()})
    point_index = {p: i for i, p in enumerate(points)}
    first, last = points[0] + timedelta(days=1), points[-1]

    units, centres = _unit_table(provinces)
    n_centres, n_units = len(centres["ids"]), len(units)
    centre_row = {cid: i for i, cid in enumerate(centres["ids"])}
    ytd, stocks = _fact_points(points, provinces, centre_row)
    procedures = _procedure_masks(dates, windows, first, last, provinces, centre_row, n_centres)
    online = _online_masks(dates, last, provinces, centre_row, n_centres, procedures["words"])
    fee = {
        on: procedures["mask_of"](ids) for on, ids in _fee_procedures_by_date(set(dates)).items()
    }
    copies = dict(
        CertifiedCopyService.objects.filter(
            Q() if provinces is None else Q(commune__province_id__in=provinces),
            available_from__lte=last,
        ).values_list("commune_id", "available_from")
    )
    copies_since = np.array(
        [
            copies[c].toordinal() if is_commune and c in copies else 1 << 40
            for c, is_commune in zip(centres["communes"], centres["is_commune"])
        ],
        dtype=np.int64,
    )
    transparency = _TransparencySeries(provinces, units, last)
    for p in params:
        # Every query before the first point: the caller may stream the points into a COPY,
        # which holds the connection.
        transparency.prepare(p)
    prov_of_centre = units.province_index[units.n_provinces :]
    authority = np.concatenate(
        [np.repeat(procedures["all"][None, :], units.n_provinces, axis=0), centres["authority"]]
    )

    def pooled(values: np.ndarray) -> np.ndarray:
        """Centre rows → every unit's rows (provinces summed from their centres)."""
        out = np.zeros((n_units,) + values.shape[1:], dtype=values.dtype)
        np.add.at(out, prov_of_centre, values)
        out[units.n_provinces :] = values
        return out

    def pooled_masks(masks: np.ndarray) -> np.ndarray:
        out = np.zeros((n_units,) + masks.shape[1:], dtype=np.uint64)
        np.bitwise_or.at(out, prov_of_centre, masks)
        out[units.n_provinces :] = masks
        return out

    def size(masks: np.ndarray) -> np.ndarray:
        return np.bitwise_count(masks).sum(axis=1, dtype=np.int64)

    def generate():
        is_commune = centres["is_commune"].astype(np.int64)
        for on in dates:
            offered_any = pooled_masks(online(on))
            fee_owned = authority & fee[on]
            with_copies = is_commune * (copies_since <= on.toordinal())
            communes = pooled(is_commune)
            copies_n = pooled(with_copies)
            # Certified copies are a commune service: a provincial centre shows its province's.
            provincial = np.flatnonzero(~centres["is_commune"]) + units.n_provinces
            communes[provincial] = communes[units.province_index[provincial]]
            copies_n[provincial] = copies_n[units.province_index[provincial]]
            for w in windows:
                a = starts[(on, w)]
                i_end, i_before = point_index[on], point_index[a - timedelta(days=1)]
                # Windows start with their month, quarter or year: the day before is in the
                # same year, or is 31 December (the totals restart at zero).
                before = ytd[i_before] if a.month > 1 else 0
                flows = pooled(ytd[i_end] - before)
                s0, s1 = pooled(stocks[i_before]), pooled(stocks[i_end])
                used, fee_data, paid, population = (
                    pooled_masks(procedures["window"][(on, w, f)]) for f in PROCEDURE_DAY_FIELDS
                )
                offered = offered_any & authority
                sets = {
                    "procedures_online": (size(offered), size(authority)),
                    "online_services_used": (size(offered & used), size(offered)),
                    "fee_procedures_integrated": (size(fee_owned & fee_data), size(fee_owned)),
                    "fee_procedures_paid_online": (size(fee_owned & paid), size(fee_owned)),
                    "population_data_procedures": (size(authority & population), size(authority)),
                    "certified_copy_service": (copies_n, communes),
                }
                counts = {}
                for p in params:
                    pub = transparency.counts(a, on, p)
                    counts[p] = {
                        **pub,
                        **_flow_counts(flows, s0, s1, p),
                        **sets,
                    }
                yield SeriesPoint(on, w, a, counts)

    return units, generate()


_FLOW = {name: i for i, name in enumerate(FLOW_FIELDS)}
_STOCK = {name: i for i, name in enumerate(STOCK_FIELDS)}


def _flow_counts(flows: np.ndarray, s0: np.ndarray, s1: np.ndarray, params: M.Params) -> dict:
    """``indicator_counts`` on arrays (one row per unit)."""

    def f(name):
        return flows[:, _FLOW[name]]

    def start(name):
        return s0[:, _STOCK[name]]

    def end(name):
        return s1[:, _STOCK[name]]

    received = f("received")
    handled = received + start("open_total")
    if params.due_basis == M.DUE_RESCHEDULED:
        on_time = (
            f("finished_in_time_rs") + end("open_paused_in_time_rs") + end("open_within_time_rs")
        )
        dissatisfied = f("dissatisfied_rs")
    else:
        on_time = (
            f("finished_early")
            + f("finished_on_time")
            + end("open_paused_early")
            + end("open_paused_on_time")
            + end("open_within_time")
        )
        dissatisfied = f("dissatisfied")
    return {
        "dossier_sync": (f("received_synced") + start("open_synced"), handled),
        "dossiers_on_time": (on_time, handled),
        "dossiers_online": (f("received_online"), received),
        "dossiers_paid_online": (f("paid_online"), f("fee_bearing")),
        "electronic_result": (f("electronic_results"), received),
        "digitised_dossiers": (f("received_digitised"), received),
        "reused_data": (f("received_reused"), received),
        "personal_storage_linked": (f("received_personal_storage"), received),
        "population_data_dossiers": (f("received_population"), received),
        "petitions_on_time": (
            f("petitions_answered_on_time") + end("petitions_open_within_time"),
            f("petitions_received") + start("petitions_open"),
        ),
        "petition_satisfaction": (
            np.maximum(0, f("petitions_received") - f("petitions_failed")),
            f("petitions_received"),
        ),
        "dossier_satisfaction": (np.maximum(0, on_time - dissatisfied), handled),
    }


def _unit_table(provinces: list[str] | None) -> tuple[UnitTable, dict]:
    province_filter = Q() if provinces is None else Q(province_id__in=provinces)
    province_names = dict(
        Province.objects.filter(Q() if provinces is None else Q(code__in=provinces))
        .order_by("code")
        .values_list("code", "name")
    )
    rows = [
        r
        for r in ServiceCenter.objects.filter(province_filter)
        .order_by("province_id", "code")
        .values_list("id", "code", "level", "province_id", "name", "commune_id")
        if r[3] in province_names
    ]
    levels = dict(Procedure.objects.values_list("id", "level"))
    order = {code: i for i, code in enumerate(province_names)}
    keys = list(province_names)
    kinds = [UnitKind.PROVINCE] * len(keys)
    codes = list(province_names)
    names = list(province_names.values())
    center_ids: list[int | None] = [None] * len(keys)
    province_index = list(range(len(keys)))
    is_commune = []
    for cid, code, level, province_id, name, _ in rows:
        commune = level == ServiceCenter.Level.COMMUNE
        is_commune.append(commune)
        keys.append(code)
        kinds.append(UnitKind.COMMUNE if commune else UnitKind.PROVINCIAL_CENTER)
        codes.append(province_id)
        names.append(name)
        center_ids.append(cid)
        province_index.append(order[province_id])
    units = UnitTable(
        keys, kinds, codes, names, center_ids, np.array(province_index, dtype=np.int64), len(order)
    )
    index, words = _procedure_bits(levels)
    by_level = {
        level: _mask([index[p] for p, lv in levels.items() if lv == level], words)
        for level in ("commune", "province")
    }
    authority = np.array(
        [by_level["commune" if c else "province"] for c in is_commune], dtype=np.uint64
    ).reshape(len(rows), words)
    centres = {
        "ids": [r[0] for r in rows],
        "communes": [r[5] for r in rows],
        "is_commune": np.array(is_commune, dtype=bool),
        "authority": authority,
    }
    return units, centres


def _mask(indexes: Iterable[int], words: int) -> np.ndarray:
    out = np.zeros(words, dtype=np.uint64)
    for i in indexes:
        out[i // 64] |= np.uint64(1) << np.uint64(i % 64)
    return out


def _buckets(sql: Dialect, points: list[date]) -> tuple[str, list]:
    """SQL: the index of the boundary segment of a fact's day: 0 up to ``points[0]``, i for
    ``points[i-1]`` < day ≤ ``points[i]``."""
    if sql.pg:
        return "width_bucket(day, %s::date[])", [[p + timedelta(days=1) for p in points[:-1]]]
    cases = " ".join(f"WHEN day <= %s THEN {i}" for i in range(len(points)))
    return f"CASE {cases} ELSE {len(points)} END", [p.isoformat() for p in points]


def _fact_points(points: list[date], provinces, centre_row: dict[int, int]):
    """(year-to-date flows, stocks) at each boundary point: arrays [point, centre, field]. A
    centre's totals on a day are those of its last ``YearToDateFact`` of the year up to that
    day (the row of that day, or one index probe); its stocks, those of its daily fact of that day
    (none: zero)."""
    points = list(points)
    sql = Dialect(connection.vendor)
    table, centres = DailyFact._meta.db_table, ServiceCenter._meta.db_table
    total = YearToDateFact._meta.db_table
    in_provinces, where_params = "", []
    if provinces is not None:
        in_provinces = f"province_id IN ({', '.join(['%s'] * len(provinces))})"
        where_params = list(provinces)
    n = len(points)
    totals = np.zeros((n, len(centre_row), len(FLOW_FIELDS)), dtype=np.int64)
    stocks = np.zeros((n, len(centre_row), len(STOCK_FIELDS)), dtype=np.int64)
    flows = ", ".join(f"b.{f}" for f in FLOW_FIELDS)
    # Nearly every centre has flows on nearly every day, so most totals are the row of the
    # point's day itself: one range of the day index for all points; only the centres without
    # a row that day take the backward step of the (centre, day) index.
    cases = " ".join(f"WHEN %s THEN {i}" for i in range(n))
    exact = (
        f"SELECT b.center_id, CASE b.day {cases} END, {flows} FROM {total} b "
        f"WHERE b.day IN ({', '.join(['%s'] * n)}){in_provinces and f' AND b.{in_provinces}'}"
    )
    days = [sql.adapt_day(p) for p in points]
    if sql.pg:
        last_row = (
            f"SELECT b.center_id, %s, {flows} FROM {centres} c CROSS JOIN LATERAL (SELECT * "
            f"FROM {total} p WHERE p.center_id = c.id AND p.day >= %s AND p.day <= %s "
            "ORDER BY p.day DESC LIMIT 1) b WHERE c.id = ANY(%s)"
        )
    else:
        last_row = (
            f"SELECT b.center_id, %s, {flows} FROM {centres} c JOIN {total} b "
            "ON b.center_id = c.id AND b.day = (SELECT MAX(p.day) FROM "
            f"{total} p WHERE p.center_id = c.id AND p.day >= %s AND p.day <= %s) "
            "WHERE c.id IN (SELECT value FROM json_each(%s))"
        )
    found = np.zeros((n, len(centre_row)), dtype=bool)
    with connection.cursor() as cursor:
        cursor.execute(exact, [*days, *days, *where_params])
        rows = cursor.fetchall()
        _fill(totals, rows, centre_row)
        for centre, i, *_ in rows:
            if centre in centre_row:
                found[i, centre_row[centre]] = True
        for i, p in enumerate(points):  # a repeated point got its rows under its first index
            first = points.index(p)
            totals[i], found[i] = totals[first], found[first]
        ids = np.array(list(centre_row), dtype=np.int64)
        rows_of = np.array(list(centre_row.values()), dtype=np.int64)
        probes, params = [], []
        for i, p in enumerate(points):
            missing = ids[~found[i, rows_of]].tolist()
            if missing:
                probes.append(last_row)
                start = sql.adapt_day(p.replace(month=1, day=1))
                params += [i, start, days[i], missing if sql.pg else json.dumps(missing)]
        if probes:
            cursor.execute(" UNION ALL ".join(probes), params)
            _fill(totals, cursor.fetchall(), centre_row)
        bucket, bucket_params = _buckets(sql, points)
        marks = ", ".join(["%s"] * n)
        cursor.execute(
            f"SELECT center_id, {bucket}, {', '.join(STOCK_FIELDS)} "
            f"FROM {table} WHERE day IN ({marks}){in_provinces and f' AND {in_provinces}'}",
            [*bucket_params, *(sql.adapt_day(p) for p in points), *where_params],
        )
        _fill(stocks, cursor.fetchall(), centre_row)
    return totals, stocks


def _fill(target: np.ndarray, rows: list[tuple], centre_row: dict[int, int]) -> None:
    if not rows:
        return
    data = np.array(rows, dtype=np.int64)
    known = np.array([c in centre_row for c in data[:, 0]], dtype=bool)
    data = data[known]
    centre = np.array([centre_row[c] for c in data[:, 0]], dtype=np.int64)
    target[data[:, 1], centre] = data[:, 2:]


def _procedure_masks(dates, windows, first, last, provinces, centre_row, n_centres) -> dict:
    """Per (date, window, field): each centre's mask of procedures with a day bit set in the
    window. A window starts with its month, quarter or year, so its set on a date is the OR of
    its period's events up to that date — and only the first day of a (centre, procedure) in a
    month can add anything: each monthly row becomes at most one event per field, its lowest
    day bit within ``first`` .. ``last``."""
    ids = sorted(Procedure.objects.values_list("id", flat=True))
    index, words = _procedure_bits(ids)

    def mask_of(procedure_ids) -> np.ndarray:
        return _mask((index[p] for p in procedure_ids if p in index), words)

    if len(dates) == 1:
        # The nightly case: the server ORs each centre's procedure bits itself (a few thousand
        # rows back instead of every monthly row of the year).
        result = _procedure_masks_on(dates[0], windows, provinces, centre_row, words)
        return {"window": result, "words": words, "mask_of": mask_of, "all": mask_of(ids)}
    month, centre, proc, day_bits = _procedure_rows_by_month(
        first, last, provinces, centre_row, index
    )
    distinct_months, month_row = np.unique(month, return_inverse=True)
    row_period = {
        w: np.array([_period(w, int(m)) for m in distinct_months], dtype=np.int64)[month_row]
        for w in windows
    }
    result: dict = {}
    for field_name, bits in zip(PROCEDURE_DAY_FIELDS, day_bits):
        lowest = bits & -bits  # the first day of the month with the bit set, as a power of two
        has = lowest > 0
        ev_day = month[has] + np.log2(lowest[has]).astype(np.int64)
        ev_centre, ev_proc = centre[has], proc[has]
        ev_word = ev_proc // 64
        ev_bit = np.left_shift(np.uint64(1), (ev_proc % 64).astype(np.uint64))
        for w in windows:
            period = row_period[w][has]
            order = np.lexsort((ev_day, period))
            p_sorted, d_sorted = period[order], ev_day[order]
            current, mask, taken = None, None, 0
            for on in dates:
                p, day = _period(w, on.toordinal()), on.toordinal()
                if p != current:
                    current, mask = p, np.zeros((n_centres, words), dtype=np.uint64)
                    taken = int(np.searchsorted(p_sorted, p, side="left"))
                stop = int(np.searchsorted(p_sorted, p, side="right"))
                upto = taken + int(np.searchsorted(d_sorted[taken:stop], day, side="right"))
                if upto > taken:
                    sel = order[taken:upto]
                    mask = mask.copy()
                    np.bitwise_or.at(mask, (ev_centre[sel], ev_word[sel]), ev_bit[sel])
                    taken = upto
                result[(on, w, field_name)] = mask
    return {
        "window": result,
        "words": words,
        "mask_of": mask_of,
        "all": mask_of(ids),
    }


def _procedure_bits(ids) -> tuple[dict[int, int], int]:
    """Each procedure's bit in the masks — its id − 1, so stored monthly sets keep their meaning
    when procedures are added — and the 64-bit words the masks need."""
    return {pid: pid - 1 for pid in ids}, max(1, (max(ids, default=0) + 63) // 64)


def _masks_from_rows(rows, keys, centre_row, words) -> dict:
    """{key: [centre, word] masks} from rows (centre id, word, one signed OR per key)."""
    result = {key: np.zeros((len(centre_row), words), dtype=np.uint64) for key in keys}
    if not rows:
        return result
    data = np.array(rows, dtype=np.int64).reshape(len(rows), 2 + len(keys))
    centre = _lookup(centre_row, data[:, 0].tolist())
    known = (centre >= 0) & (data[:, 1] < words)  # a procedure deleted since: beyond the words
    data, centre = data[known], centre[known]
    for k, key in enumerate(keys):
        result[key][centre, data[:, 1]] = data[:, 2 + k].view(np.uint64)
    return result


def _procedure_masks_on(on: date, windows, provinces, centre_row, words) -> dict:
    """``_procedure_masks`` for one date: per window and field, the OR of the monthly procedure
    sets of the window's months before the date's and of that month's day bits up to the date,
    both ORed per centre by the database (a few thousand rows back, not the year's monthly
    facts)."""
    sql = Dialect(connection.vendor)
    month = on.replace(day=1)
    word, bit = procedure_bit_sql(sql)
    aggregate = "BIT_OR({})" if sql.pg else "SUM(DISTINCT {})"
    cells = ", ".join(
        aggregate.format(f"CASE WHEN ({c} & %s) <> 0 THEN {bit} ELSE 0 END")
        for c in PROCEDURE_DAY_FIELDS
    )
    where, where_params = "", []
    if provinces is not None:
        where = f" AND province_id IN ({', '.join(['%s'] * len(provinces))})"
        where_params = list(provinces)
    earliest = min(window_starts(w, on) for w in windows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT center_id, {word}, {cells} FROM {MonthlyProcedureFact._meta.db_table} "
            f"WHERE month = %s{where} GROUP BY center_id, {word}",
            [month_bits(month, on)[month]] * len(PROCEDURE_DAY_FIELDS)
            + [sql.adapt_day(month), *where_params],
        )
        days = _masks_from_rows(cursor.fetchall(), PROCEDURE_DAY_FIELDS, centre_row, words)
        cursor.execute(
            f"SELECT center_id, word, month, {', '.join(PROCEDURE_SET_FIELDS.values())} "
            f"FROM {MonthlyProcedureSet._meta.db_table} "
            f"WHERE month >= %s AND month < %s{where}",
            [sql.adapt_day(earliest), sql.adapt_day(month), *where_params],
        )
        sets = cursor.fetchall()
    # Column by column: a set row per centre and month of the year (20 k rows in July).
    columns = list(zip(*sets)) or [()] * 7
    ordinals = {m: date.fromisoformat(str(m)[:10]).toordinal() for m in set(columns[2])}
    months = np.fromiter((ordinals[m] for m in columns[2]), np.int64, len(sets))
    values = np.array([columns[0], columns[1], *columns[3:]], np.int64).reshape(6, len(sets)).T
    centre = _lookup(centre_row, columns[0]) if sets else np.zeros(0, np.int64)
    result = {}
    for w in windows:
        rows = (months >= window_starts(w, on).toordinal()) & (centre >= 0) & (values[:, 1] < words)
        for k, field_name in enumerate(PROCEDURE_DAY_FIELDS):
            mask = days[field_name].copy()
            np.bitwise_or.at(
                mask, (centre[rows], values[rows, 1]), values[rows, 2 + k].view(np.uint64)
            )
            result[(on, w, field_name)] = mask
    return result


def _procedure_rows_by_month(first: date, last: date, provinces, centre_row, index):
    """The monthly procedure facts of ``first`` .. ``last`` as arrays: the month's first day
    (ordinal), centre row, procedure index and each field's day bits, the bits outside the range
    cleared. Read with one plain query and converted column by column (a year holds about a
    million rows)."""
    where, params = "month >= %s AND month <= %s", [first.replace(day=1), last]
    if provinces is not None:
        where += f" AND province_id IN ({', '.join(['%s'] * len(provinces))})"
        params += list(provinces)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month, center_id, procedure_id, {', '.join(PROCEDURE_DAY_FIELDS)} "
            f"FROM {MonthlyProcedureFact._meta.db_table} WHERE {where}",
            params,
        )
        rows = cursor.fetchall()
    empty = np.zeros(0, dtype=np.int64)
    if not rows:
        return empty, empty, empty, [empty] * len(PROCEDURE_DAY_FIELDS)
    columns = list(zip(*rows))
    months = {m: date.fromisoformat(str(m)[:10]) for m in set(columns[0])}
    month = np.fromiter((months[m].toordinal() for m in columns[0]), np.int64, len(rows))
    centre = _lookup(centre_row, columns[1])
    proc = _lookup(index, columns[2])
    known = (centre >= 0) & (proc >= 0)
    # Days of the first and last months outside the range keep no bit.
    keep = np.full(len(rows), ALL_DAYS, dtype=np.int64)
    keep[month == first.replace(day=1).toordinal()] &= ~((1 << (first.day - 1)) - 1)
    keep[month == last.replace(day=1).toordinal()] &= (1 << last.day) - 1
    day_bits = [
        (np.array(columns[3 + n], dtype=np.int64) & keep)[known]
        for n in range(len(PROCEDURE_DAY_FIELDS))
    ]
    return month[known], centre[known], proc[known], day_bits


def _lookup(positions: dict[int, int], values) -> np.ndarray:
    """``positions[v]`` for each value, −1 where unknown, vectorised through a dense table."""
    values = np.array(values, dtype=np.int64)
    table = np.full(max(max(positions, default=0), int(values.max())) + 1, -1, dtype=np.int64)
    table[list(positions)] = list(positions.values())
    return table[values]


def _online_masks(dates, last, provinces, centre_row, n_centres, words):
    """Each centre's mask of procedures offered online on a date (a function of the date)."""
    index, _ = _procedure_bits(Procedure.objects.values_list("id", flat=True))
    if len(dates) == 1:
        # The nightly case: ORed by the server (a few thousand rows back, not the catalogue).
        mask = _online_masks_on(dates[0], provinces, centre_row, words)
        return lambda on: mask
    rows = [
        (centre_row[c], index[p], since.toordinal())
        for c, p, since in OnlineService.objects.filter(
            Q() if provinces is None else Q(center__province_id__in=provinces),
            available_from__lte=last,
        ).values_list("center_id", "procedure_id", "available_from")
        if c in centre_row and p in index
    ]
    rows.sort(key=lambda r: r[2])
    since = np.array([r[2] for r in rows], dtype=np.int64)
    centre = np.array([r[0] for r in rows], dtype=np.int64)
    proc = np.array([r[1] for r in rows], dtype=np.int64)
    bit = np.left_shift(np.uint64(1), (proc % 64).astype(np.uint64))
    cache: dict[date, np.ndarray] = {}

    def offered(on: date) -> np.ndarray:
        if on not in cache:
            upto = int(np.searchsorted(since, on.toordinal(), side="right"))
            mask = np.zeros((n_centres, words), dtype=np.uint64)
            np.bitwise_or.at(mask, (centre[:upto], proc[:upto] // 64), bit[:upto])
            cache.clear()
            cache[on] = mask
        return cache[on]

    return offered


def _online_masks_on(on: date, provinces, centre_row, words) -> np.ndarray:
    sql = Dialect(connection.vendor)
    word_sql, bit_sql = procedure_bit_sql(sql, "o.procedure_id")
    aggregate = "BIT_OR(bit)" if sql.pg else "SUM(DISTINCT bit)"
    table, centres = OnlineService._meta.db_table, ServiceCenter._meta.db_table
    where, params = "o.available_from <= %s", [sql.adapt_day(on)]
    if provinces is not None:
        where += f" AND c.province_id IN ({', '.join(['%s'] * len(provinces))})"
        params += list(provinces)
    query = (
        f"SELECT center_id, word, {aggregate} FROM (SELECT o.center_id, {word_sql} AS word, "
        f"{bit_sql} AS bit FROM {table} o "
        f"JOIN {centres} c ON c.id = o.center_id WHERE {where}"
        ") m GROUP BY center_id, word"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return _masks_from_rows(rows, ["offered"], centre_row, words)["offered"]


class _TransparencySeries:
    """``transparency_counts`` for every province, any window ending by ``last``: the working-day
    arithmetic is done once per publication row and parameters, windows are comparisons."""

    def __init__(self, provinces, units: UnitTable, last: date):
        self.units = units
        order = {code: i for i, code in enumerate(units.keys[: units.n_provinces])}
        rows = sorted(
            (
                r
                for r in publications_until(last, provinces).values_list(*PUBLICATION_FIELDS)
                if r[0] in order
            ),
            key=lambda r: (order[r[0]], r[1], r[2]),
        )
        self.rows = rows
        self.province = np.array([order[r[0]] for r in rows], dtype=np.int64)
        self.decision = np.array([r[2].toordinal() for r in rows], dtype=np.int64)
        self.public = np.array(
            [r[4].toordinal() if r[4] else 1 << 40 for r in rows], dtype=np.int64
        )
        self.has_public = np.array([r[4] is not None for r in rows], dtype=bool)
        self.complete = np.array([r[5] for r in rows], dtype=np.int64)
        group = [(r[0], r[1]) for r in rows]
        starts = [i for i, g in enumerate(group) if i == 0 or g != group[i - 1]]
        self.group_starts = np.array(starts, dtype=np.int64)
        self.group_province = self.province[self.group_starts] if rows else self.province
        self._derived: dict = {}
        self._memo: dict = {}

    def prepare(self, params: M.Params):
        key = (params.publication_notice_working_days, params.public_update_working_days)
        if key not in self._derived:
            notice, update = key
            decision = self.decision
            effective = np.array([r[3].toordinal() for r in self.rows], dtype=np.int64)
            counter = self._counter(decision, effective, update)
            notice_ok = (counter.between(decision, effective) >= notice).astype(np.int64)
            deadline = counter.add(decision, update)
            self._derived[key] = (notice_ok, deadline)
        return self._derived[key]

    @staticmethod
    def _counter(decision, effective, update_days: int) -> WorkingDayCounter:
        """Working days over every publication's dates and its update deadline (a week per
        working day, plus Tết, is ample)."""
        days = np.concatenate([decision, effective]) if len(decision) else np.array([1])
        first, last = date.fromordinal(int(days.min())), date.fromordinal(int(days.max()))
        return WorkingDayCounter(working_calendar(), first, last + timedelta(7 * update_days + 30))

    def counts(self, a: date, on: date, params: M.Params) -> dict:
        key = (a, on, params.publication_notice_working_days, params.public_update_working_days)
        if key in self._memo:
            return self._memo[key]
        n_units, n_prov = len(self.units), self.units.n_provinces
        notice_ok, deadline = self.prepare(params)
        lo, hi = a.toordinal(), on.toordinal()

        def per_province(values) -> np.ndarray:
            return np.bincount(self.province, weights=values, minlength=n_prov).astype(np.int64)

        decided = (self.decision >= lo) & (self.decision <= hi)
        public_in = self.has_public & (self.public >= lo) & (self.public <= hi)
        due = public_in | ((deadline >= lo) & (deadline <= hi))
        public_on_time = due & self.has_public & (self.public <= deadline) & (self.public <= hi)
        if len(self.rows):
            eligible = self.has_public & (self.public <= hi)
            # Rows are sorted by decision date within (province, procedure): the latest public
            # decision of a procedure is the last eligible row of its group.
            latest = np.maximum.reduceat(
                np.where(eligible, np.arange(len(self.rows)), -1), self.group_starts
            )
            found = latest >= 0
            full = np.bincount(
                self.group_province[found],
                weights=self.complete[latest[found]],
                minlength=n_prov,
            ).astype(np.int64)
            public = np.bincount(self.group_province[found], minlength=n_prov).astype(np.int64)
        else:
            full = public = np.zeros(n_prov, dtype=np.int64)
        per = {
            "publish_on_time": (per_province(decided * notice_ok), per_province(decided)),
            "public_update_on_time": (per_province(public_on_time), per_province(due)),
            "public_content_full": (full, public),
        }
        # Every unit inherits its province's catalogue facts.
        spread = self.units.province_index
        result = {code: (n[spread], d[spread]) for code, (n, d) in per.items()}
        assert all(len(n) == n_units for n, _ in result.values())
        self._memo = {key: result}
        return result
