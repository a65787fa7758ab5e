"""Daily facts: per service centre and local day, the flows of the day and the stocks at its end,
computed from the stored dossier, rating and petition columns with set-based SQL.

One ``INSERT … SELECT`` per table computes any range of days (the nightly job's range is one
day): every dossier, rating and petition touching the range becomes a few *marker* rows
(+1 / −1 on the day it enters or leaves a stock, 1 on the day of a flow), the markers are summed
per centre and day, and a running sum over the days turns the stock deltas into day-end stocks.
Stock intervals are clamped to the range, so a range needs no earlier facts and one day, a month
or a year give the same rows. The procedure-distinct indicators get one bit per day in
``MonthlyProcedureFact`` (per centre, month and procedure), set by one upsert.

What a day touches: dossiers accepted or finished that day (indexes on ``accepted_at`` and
``finished_at``), dossiers open now (the partial index on open states), dossiers finished after
the day (``finished_at``), ratings given and petitions received that day. The cost grows with the
day's activity and the open stock, never with history.

Rules (index-methodology.md, dossier-rules.md), by local date in Asia/Ho_Chi_Minh:

- only accepted dossiers count; the end of processing is ``finished_at`` (set by the services
  when a dossier is processed, stopped or withdrawn after acceptance);
- late ⇔ more than one supplement request, or finished after the due time; early ⇔ finished on
  an earlier calendar day than the due day; on time ⇔ otherwise (the due day, in time);
- a dossier waiting for its only supplement request (state 5, one request) counts as finished
  at the request time, on time if the request was before the due time (``open_paused*`` stocks);
- a dossier open at a day's end is within time ⇔ its due time has not passed at that instant
  and it has at most one supplement request;
- ``*_rs`` columns judge against the rescheduled due time (apology slip) when there is one.

Approximations, all of the "history is not stored on the dossier" kind, exact for the nightly
run of yesterday: recomputing an old day sees the *current* pause and supplement columns, so
a dossier paused over that day but resumed since counts as in process; online payments made
after the acceptance day are counted on the finish day (there is no index on ``paid_at`` and a
result is only issued once paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dossiers.models import Dossier, Petition, ProcedureVersion, Rating
from dossiers.workflow import OPEN_STATES, State
from portal.models import ServiceCenter
from scoring.models import (
    FLOW_FIELDS,
    PROCEDURE_DAY_FIELDS,
    PROCEDURE_SET_FIELDS,
    STOCK_FIELDS,
    DailyFact,
    FactDay,
    MonthlyProcedureFact,
    MonthlyProcedureSet,
    YearToDateFact,
)

OPEN = ", ".join(str(int(s)) for s in sorted(OPEN_STATES))
WITH_RESULT = f"{int(State.PROCESSED)}, {int(State.RETURNED)}"
PAUSED = int(State.SUPPLEMENT_REQUESTED)
# A dossier waiting for its only supplement request (counted as finished at the request time).
WAITING_ONCE = f"state = {PAUSED} AND supplement_count = 1 AND paused_at IS NOT NULL"
# The due time an apology slip set, else the original one.
RS_DUE = "COALESCE(rescheduled_due_at, due_at)"
ONLINE_CHANNEL = 2
ALL_DAYS = (1 << 31) - 1  # every day bit of a month (day n ↔ bit n − 1)
INFINITY = date(9999, 12, 31)


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date) -> datetime:
    """The first instant of a local day (aware)."""
    return datetime.combine(day, time.min, tzinfo=local_zone())


class Dialect:
    """The few SQL fragments that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str):
        if vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"daily facts need PostgreSQL or SQLite, not {vendor}")
        self.pg = vendor == "postgresql"
        if not self.pg:
            # SQLite stores UTC text; the local date is a fixed shift (Viet Nam has kept UTC+7
            # without daylight saving since 1975).
            offset = local_zone().utcoffset(datetime(2025, 1, 1))
            self.shift = f"'{int(offset.total_seconds() // 60):+d} minutes'"

    def local_date(self, expr: str) -> str:
        if self.pg:
            return f"CAST(({expr}) AT TIME ZONE '{settings.TIME_ZONE}' AS date)"
        return f"date({expr}, {self.shift})"

    def day_param(self, name: str) -> str:
        return f"CAST(%({name})s AS date)" if self.pg else f"%({name})s"

    @property
    def infinity(self) -> str:
        return "DATE '9999-12-31'" if self.pg else "'9999-12-31'"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    def day_bit(self, day: str) -> str:
        """1 << (day of month − 1)."""
        if self.pg:
            return f"(1 << (CAST(EXTRACT(DAY FROM {day}) AS integer) - 1))"
        return f"(1 << (CAST(strftime('%%d', {day}) AS INTEGER) - 1))"

    def month_start(self, day: str) -> str:
        if self.pg:
            return f"CAST(date_trunc('month', {day}) AS date)"
        return f"date({day}, 'start of month')"

    def next_day(self, expr: str) -> str:
        return f"CAST({expr} + 1 AS date)" if self.pg else f"date({expr}, '+1 day')"

    def day_literal(self, value: date) -> str:
        """A date constant in the statement text (only ever built from a ``date``)."""
        return f"DATE '{value.isoformat()}'" if self.pg else f"'{value.isoformat()}'"

    def adapt_day(self, value: date):
        return value if self.pg else value.isoformat()

    def adapt_instant(self, value: datetime):
        return connection.ops.adapt_datetimefield_value(value)


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _marker(
    columns: tuple[str, ...], day: str, values: dict[str, str], source: str, center="center_id"
) -> str:
    """One arm of the marker union, already summed per centre and day (a year's backfill would
    otherwise sort several marker rows per dossier): ``center_id, day`` and every column
    (0 unless given)."""
    unknown = set(values) - set(columns)
    assert not unknown, unknown
    cells = ", ".join(f"SUM({values[c]}) AS {c}" if c in values else f"0 AS {c}" for c in columns)
    return f"SELECT {center} AS center_id, {day} AS day, {cells} {source} GROUP BY 1, 2"


FACT_COLUMNS = FLOW_FIELDS + STOCK_FIELDS


def _tables():
    return {
        "dossier": Dossier._meta.db_table,
        "rating": Rating._meta.db_table,
        "petition": Petition._meta.db_table,
        "version": ProcedureVersion._meta.db_table,
        "center": ServiceCenter._meta.db_table,
        "fact": DailyFact._meta.db_table,
        "total": YearToDateFact._meta.db_table,
        "procmonth": MonthlyProcedureFact._meta.db_table,
        "procset": MonthlyProcedureSet._meta.db_table,
    }


def _dossier_columns(sql: Dialect, fin_day: str) -> str:
    """Per-dossier values the stock markers need (one row per dossier open in the range)."""
    ld = sql.local_date
    inf = sql.infinity
    due_day = f"COALESCE({ld('due_at')}, {inf})"
    return f"""
        center_id,
        {ld("accepted_at")} AS acc_day,
        {fin_day} AS fin_day,
        {due_day} AS due_day,
        COALESCE({ld(RS_DUE)}, {inf}) AS rs_due_day,
        {_flag(WAITING_ONCE)} AS paused_set,
        COALESCE({ld("paused_at")}, {inf}) AS paused_day,
        {_flag("supplement_count <= 1")} AS supp_ok,
        {_flag("synced")} AS synced_flag,
        {_flag(f"{WAITING_ONCE} AND {ld('paused_at')} < {due_day}")} AS p_early,
        {_flag(f"{WAITING_ONCE} AND {ld('paused_at')} = {ld('due_at')} AND paused_at <= due_at")}
            AS p_on_time,
        {_flag(f"{WAITING_ONCE} AND ({RS_DUE} IS NULL OR paused_at <= {RS_DUE})")} AS p_in_time_rs
    """


def _stock_ctes(sql: Dialect) -> str:
    """The dossiers open at some point of the range, one row each with the days they enter and
    leave each stock (``sd2``)."""
    t = _tables()
    ld = sql.local_date
    day_from = sql.day_param("day_from")
    stop_day = "CASE WHEN paused_set = 1 THEN paused_day ELSE fin_day END"
    return f"""sd AS (
    SELECT {_dossier_columns(sql, sql.infinity)}
    FROM {t["dossier"]}
    WHERE state IN ({OPEN}) AND accepted_at IS NOT NULL AND accepted_at < %(e_to)s
    UNION ALL
    SELECT {_dossier_columns(sql, ld("finished_at"))}
    FROM {t["dossier"]}
    WHERE state NOT IN ({OPEN}) AND finished_at >= %(s_from_next)s AND accepted_at < %(e_to)s
),
sd1 AS (
    SELECT sd.*, {sql.greatest("acc_day", day_from)} AS start_day, {stop_day} AS stop_day
    FROM sd
),
sd2 AS (
    SELECT sd1.*,
        CASE WHEN supp_ok = 1 THEN {sql.least("stop_day", "due_day")} ELSE start_day END AS w_end,
        CASE WHEN supp_ok = 1 THEN {sql.least("stop_day", "rs_due_day")} ELSE start_day END
            AS w_end_rs
    FROM sd1
),
"""


def _stock_markers(sql: Dialect, cols: tuple[str, ...]) -> list[str]:
    """Dossier stocks over a range: +1 / −1 on the days a dossier of ``sd2`` enters or leaves
    the open, synced, within-time (original and rescheduled due) and paused stocks."""
    day_from, day_to = sql.day_param("day_from"), sql.day_param("day_to")
    return [
        _marker(
            cols,
            "start_day",
            {
                "open_total": "1",
                "open_synced": "synced_flag",
                "open_within_time": _flag("start_day < w_end"),
                "open_within_time_rs": _flag("start_day < w_end_rs"),
            },
            f"FROM sd2 WHERE start_day < fin_day AND start_day <= {day_to}",
        ),
        _marker(
            cols,
            "fin_day",
            {"open_total": "-1", "open_synced": "-synced_flag"},
            f"FROM sd2 WHERE start_day < fin_day AND fin_day <= {day_to}",
        ),
        _marker(
            cols,
            "w_end",
            {"open_within_time": "-1"},
            f"FROM sd2 WHERE start_day < w_end AND w_end <= {day_to}",
        ),
        _marker(
            cols,
            "w_end_rs",
            {"open_within_time_rs": "-1"},
            f"FROM sd2 WHERE start_day < w_end_rs AND w_end_rs <= {day_to}",
        ),
        _marker(
            cols,
            sql.greatest("paused_day", day_from),
            {
                "open_paused": "1",
                "open_paused_early": "p_early",
                "open_paused_on_time": "p_on_time",
                "open_paused_in_time_rs": "p_in_time_rs",
            },
            f"FROM sd2 WHERE paused_set = 1 AND paused_day <= {day_to}",
        ),
    ]


def _day_end_stocks(sql: Dialect, cols: tuple[str, ...]) -> str:
    """The same stocks for a one-day range (the nightly run), in one pass: every interval then
    starts on the day, so a dossier counts in a stock if it is still in it at the day's end —
    its timestamps compared with the end instant, not turned into local days row by row."""
    ld = sql.local_date
    t = _tables()
    end = "%(e_to)s"
    # Still running at the end: not stopped by a supplement request before it (an open or
    # later-finished dossier has not finished by then).
    running = f"supplement_count <= 1 AND (NOT ({WAITING_ONCE}) OR paused_at >= {end})"
    waiting = f"{WAITING_ONCE} AND paused_at < {end}"
    columns = "center_id, state, supplement_count, synced, due_at, rescheduled_due_at, paused_at"
    return _marker(
        cols,
        sql.day_param("day_from"),
        {
            "open_total": "1",
            "open_synced": _flag("synced"),
            "open_within_time": _flag(f"{running} AND (due_at IS NULL OR due_at >= {end})"),
            "open_within_time_rs": _flag(f"{running} AND ({RS_DUE} IS NULL OR {RS_DUE} >= {end})"),
            "open_paused": _flag(waiting),
            "open_paused_early": _flag(
                f"{waiting} AND {ld('paused_at')} < COALESCE({ld('due_at')}, {sql.infinity})"
            ),
            "open_paused_on_time": _flag(
                f"{waiting} AND {ld('paused_at')} = {ld('due_at')} AND paused_at <= due_at"
            ),
            "open_paused_in_time_rs": _flag(
                f"{waiting} AND ({RS_DUE} IS NULL OR paused_at <= {RS_DUE})"
            ),
        },
        f"""FROM (
            SELECT {columns} FROM {t["dossier"]}
            WHERE state IN ({OPEN}) AND accepted_at IS NOT NULL AND accepted_at < {end}
            UNION ALL
            SELECT {columns} FROM {t["dossier"]}
            WHERE state NOT IN ({OPEN}) AND finished_at >= {end} AND accepted_at < {end}
        ) open_then""",
    )


def _facts_sql(sql: Dialect, *, one_day: bool = False) -> str:
    t = _tables()
    ld = sql.local_date
    day_from, day_to = sql.day_param("day_from"), sql.day_param("day_to")
    cols = FACT_COLUMNS
    late = "(supplement_count >= 2 OR (due_at IS NOT NULL AND finished_at > due_at))"
    early = f"(NOT {late} AND {ld('finished_at')} < COALESCE({ld('due_at')}, {sql.infinity}))"
    in_time_rs = f"(supplement_count <= 1 AND ({RS_DUE} IS NULL OR finished_at <= {RS_DUE}))"
    fee_online = "fee_vnd > 0 AND payment_channel = 'online' AND paid_at IS NOT NULL"
    not_late_now = "(supplement_count <= 1 AND (finished_at IS NULL OR due_at IS NULL OR finished_at <= due_at))"
    not_late_now_rs = (
        f"(supplement_count <= 1 AND (finished_at IS NULL OR {RS_DUE} IS NULL "
        f"OR finished_at <= {RS_DUE}))"
    )

    arms = [
        # Flows at acceptance.
        _marker(
            cols,
            ld("accepted_at"),
            {
                "received": "1",
                "received_online": _flag(f"channel = {ONLINE_CHANNEL}"),
                "received_digitised": _flag("digitised"),
                "received_reused": _flag("reused_data"),
                "received_population": _flag("population_data"),
                "received_personal_storage": _flag("personal_storage"),
                "received_synced": _flag("synced"),
                "fee_bearing": _flag("fee_vnd > 0"),
                "paid_online": _flag(f"{fee_online} AND {ld('paid_at')} <= {ld('accepted_at')}"),
            },
            f"FROM {t['dossier']} WHERE accepted_at >= %(s_from)s AND accepted_at < %(e_to)s",
        ),
        # Flows at the end of processing.
        _marker(
            cols,
            ld("finished_at"),
            {
                "finished": "1",
                "finished_early": _flag(early),
                "finished_on_time": _flag(f"NOT {late} AND NOT {early}"),
                "finished_late": _flag(late),
                "finished_in_time_rs": _flag(in_time_rs),
                "finished_with_result": _flag(f"state IN ({WITH_RESULT})"),
                "electronic_results": _flag(f"state IN ({WITH_RESULT}) AND electronic_result"),
                "paid_online": _flag(f"{fee_online} AND {ld('paid_at')} > {ld('accepted_at')}"),
            },
            f"FROM {t['dossier']} WHERE finished_at >= %(s_from)s AND finished_at < %(e_to)s "
            "AND accepted_at IS NOT NULL",
        ),
        # Ratings given in the range.
        _marker(
            cols,
            ld("r.rated_at"),
            {
                "rated_satisfied": _flag("r.satisfied"),
                "rated_unsatisfied": _flag("NOT r.satisfied"),
            },
            f"FROM {t['rating']} r JOIN {t['dossier']} d ON d.id = r.dossier_id "
            "WHERE r.rated_at >= %(s_from)s AND r.rated_at < %(e_to)s",
            center="d.center_id",
        ),
        # Dossiers whose first complaint or unsatisfied rating came in the range.
        _marker(
            cols,
            ld("first_at"),
            {"dissatisfied": "ok", "dissatisfied_rs": "ok_rs"},
            "FROM ds WHERE first_at >= %(s_from)s AND first_at < %(e_to)s",
        ),
        # Petitions.
        _marker(
            cols,
            "recv_day",
            {"petitions_received": "1"},
            f"FROM pt WHERE recv_day >= {day_from}",
        ),
        _marker(
            cols,
            "ans_day",
            {
                "petitions_answered": "1",
                "petitions_answered_on_time": _flag("answered_at <= due_at"),
                "petitions_failed": _flag(
                    "answered_at <= due_at AND ((satisfied IS NOT NULL AND NOT satisfied) "
                    "OR repeated)"
                ),
            },
            f"FROM pt WHERE ans_day >= {day_from} AND ans_day <= {day_to}",
        ),
        _marker(
            cols,
            "due_day",
            {"petitions_failed": "1"},
            f"FROM pt WHERE due_day >= {day_from} AND due_day <= {day_to} "
            "AND (answered_at IS NULL OR answered_at > due_at)",
        ),
        _marker(
            cols,
            "start_day",
            {"petitions_open": "1", "petitions_open_within_time": _flag("start_day < w_end")},
            f"FROM pt2 WHERE start_day < ans_day AND start_day <= {day_to}",
        ),
        _marker(
            cols,
            "ans_day",
            {"petitions_open": "-1"},
            f"FROM pt2 WHERE start_day < ans_day AND ans_day <= {day_to}",
        ),
        _marker(
            cols,
            "w_end",
            {"petitions_open_within_time": "-1"},
            f"FROM pt2 WHERE start_day < w_end AND w_end <= {day_to}",
        ),
    ]
    arms += [_day_end_stocks(sql, cols)] if one_day else _stock_markers(sql, cols)
    markers = "\nUNION ALL\n".join(arms)
    flows = ", ".join(f"COALESCE(g.{c}, 0) AS {c}" for c in FLOW_FIELDS)
    stocks = ", ".join(
        f"SUM(COALESCE(g.{c}, 0)) OVER (PARTITION BY grid.center_id ORDER BY grid.day "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS {c}"
        for c in STOCK_FIELDS
    )
    anything = " OR ".join(f"j.{c} <> 0" for c in FACT_COLUMNS)
    return f"""
INSERT INTO {t["fact"]} (day, center_id, province_id, {", ".join(FACT_COLUMNS)})
WITH RECURSIVE
days(day) AS (
    SELECT {day_from}
    UNION ALL
    SELECT {sql.next_day("day")} FROM days WHERE day < {day_to}
),
{"" if one_day else _stock_ctes(sql)}ds AS (
    SELECT d.center_id,
        {_flag(not_late_now)} AS ok,
        {_flag(not_late_now_rs)} AS ok_rs,
        (SELECT MIN(x.at) FROM (
            SELECT r2.rated_at AS at FROM {t["rating"]} r2
            WHERE r2.dossier_id = d.id AND NOT r2.satisfied
            UNION ALL
            SELECT p2.received_at AS at FROM {t["petition"]} p2 WHERE p2.dossier_id = d.id
        ) x) AS first_at
    FROM {t["dossier"]} d
    WHERE d.id IN (
        SELECT r.dossier_id FROM {t["rating"]} r
        WHERE NOT r.satisfied AND r.rated_at >= %(s_from)s AND r.rated_at < %(e_to)s
        UNION
        SELECT p.dossier_id FROM {t["petition"]} p
        WHERE p.dossier_id IS NOT NULL AND p.received_at >= %(s_from)s AND p.received_at < %(e_to)s
    )
),
pt AS (
    SELECT center_id, received_at, answered_at, due_at, satisfied, repeated,
        {ld("received_at")} AS recv_day,
        COALESCE({ld("answered_at")}, {sql.infinity}) AS ans_day,
        {ld("due_at")} AS due_day
    FROM {t["petition"]}
    WHERE received_at < %(e_to)s
      AND (answered_at IS NULL OR answered_at >= %(s_from)s OR due_at >= %(s_from)s)
),
pt2 AS (
    SELECT pt.*, {sql.greatest("recv_day", day_from)} AS start_day,
        {sql.least("ans_day", "due_day")} AS w_end
    FROM pt
),
m AS (
{markers}
),
g AS (
    SELECT center_id, day, {", ".join(f"SUM({c}) AS {c}" for c in FACT_COLUMNS)}
    FROM m WHERE day >= {day_from} AND day <= {day_to}
    GROUP BY center_id, day
),
grid AS (
    SELECT c.center_id, days.day FROM (SELECT DISTINCT center_id FROM g) c CROSS JOIN days
),
j AS (
    SELECT grid.center_id, grid.day, {flows}, {stocks}
    FROM grid LEFT JOIN g ON g.center_id = grid.center_id AND g.day = grid.day
)
SELECT j.day, j.center_id, c.province_id, {", ".join(f"j.{col}" for col in FACT_COLUMNS)}
FROM j JOIN {t["center"]} c ON c.id = j.center_id
WHERE {anything}
"""


def _totals_sql() -> str:
    """The year-to-date totals of ``day_from`` .. ``year_end`` (one year), from the daily flows:
    each centre's last total before ``day_from`` plus the running sum of its days with flows.
    The last total is found per centre by the (centre, day) index, never by reading the
    year."""
    t = _tables()
    flows = ", ".join(FLOW_FIELDS)
    any_flow = " OR ".join(f"f.{c} <> 0" for c in FLOW_FIELDS)
    running = ", ".join(f"COALESCE(b.{c}, 0) + SUM(f.{c}) OVER w" for c in FLOW_FIELDS)
    return f"""
INSERT INTO {t["total"]} (day, center_id, province_id, {flows})
SELECT f.day, f.center_id, f.province_id, {running}
FROM {t["fact"]} f
LEFT JOIN (
    SELECT b.* FROM (SELECT DISTINCT center_id FROM {t["fact"]}
                     WHERE day >= %(day_from)s AND day <= %(year_end)s) c
    JOIN {t["total"]} b ON b.center_id = c.center_id AND b.day = (
        SELECT MAX(p.day) FROM {t["total"]} p
        WHERE p.center_id = c.center_id AND p.day >= %(year_start)s AND p.day < %(day_from)s)
) b ON b.center_id = f.center_id
WHERE f.day >= %(day_from)s AND f.day <= %(year_end)s AND ({any_flow})
WINDOW w AS (PARTITION BY f.center_id ORDER BY f.day ROWS UNBOUNDED PRECEDING)
"""


def _totals_refresh(day_from: date, day_to: date) -> int:
    """Rewrite the year-to-date totals that the daily facts of ``day_from`` .. ``day_to`` feed:
    from ``day_from`` to the end of each year of the range (every night: one day)."""
    sql = Dialect(connection.vendor)
    rows = 0
    with connection.cursor() as cursor:
        for year in range(day_from.year, day_to.year + 1):
            start, end = max(day_from, date(year, 1, 1)), date(year, 12, 31)
            YearToDateFact.objects.filter(day__range=(start, end)).delete()
            cursor.execute(
                _totals_sql(),
                {
                    "day_from": sql.adapt_day(start),
                    "year_start": sql.adapt_day(date(year, 1, 1)),
                    "year_end": sql.adapt_day(end),
                },
            )
            rows += cursor.rowcount
    return rows


def _procedure_facts_sql(sql: Dialect) -> str:
    """Set the day bits of the range in the monthly procedure facts (after the range's bits were
    cleared): one upsert, OR-ing each (month, centre, procedure)'s new bits in."""
    t = _tables()
    ld = sql.local_date
    fee_online = "d.fee_vnd > 0 AND d.payment_channel = 'online' AND d.paid_at IS NOT NULL"
    flags = {
        "online_days": "received_online",
        "fee_days": "fee_bearing",
        "paid_days": "paid_online",
        "population_days": "received_population",
    }
    # Different days are different bits: OR them (BIT_OR hashes where the distinct sum SQLite
    # needs, having no bit_or aggregate, sorts every group).
    bit_or = "BIT_OR(" if sql.pg else "SUM(DISTINCT "
    bits = ", ".join(
        f"{bit_or}CASE WHEN p.{flag} > 0 THEN {sql.day_bit('p.day')} ELSE 0 END) AS {column}"
        for column, flag in flags.items()
    )
    columns = ", ".join(flags)
    merge = ", ".join(f"{c} = {t['procmonth']}.{c} | excluded.{c}" for c in flags)
    return f"""
INSERT INTO {t["procmonth"]} (month, center_id, province_id, procedure_id, {columns})
SELECT month, center_id, province_id, procedure_id, {columns} FROM (
    WITH m AS (
        SELECT d.center_id, {ld("d.accepted_at")} AS day, v.procedure_id,
            {_flag(f"d.channel = {ONLINE_CHANNEL}")} AS received_online,
            {_flag("d.fee_vnd > 0")} AS fee_bearing,
            {_flag(f"{fee_online} AND {ld('d.paid_at')} <= {ld('d.accepted_at')}")} AS paid_online,
            {_flag("d.population_data")} AS received_population
        FROM {t["dossier"]} d JOIN {t["version"]} v ON v.id = d.procedure_version_id
        WHERE d.accepted_at >= %(s_from)s AND d.accepted_at < %(e_to)s
        UNION ALL
        SELECT d.center_id, {ld("d.finished_at")} AS day, v.procedure_id, 0, 0, 1, 0
        FROM {t["dossier"]} d JOIN {t["version"]} v ON v.id = d.procedure_version_id
        WHERE d.finished_at >= %(s_from)s AND d.finished_at < %(e_to)s
          AND d.accepted_at IS NOT NULL
          AND {fee_online} AND {ld("d.paid_at")} > {ld("d.accepted_at")}
    ),
    p AS (
        SELECT day, center_id, procedure_id, SUM(received_online) AS received_online,
            SUM(fee_bearing) AS fee_bearing, SUM(paid_online) AS paid_online,
            SUM(received_population) AS received_population
        FROM m GROUP BY day, center_id, procedure_id
    )
    SELECT {sql.month_start("p.day")} AS month, p.center_id, c.province_id, p.procedure_id, {bits}
    FROM p JOIN {t["center"]} c ON c.id = p.center_id
    GROUP BY 1, 2, 3, 4
) x
WHERE (online_days | fee_days | paid_days | population_days) <> 0
ON CONFLICT (month, center_id, procedure_id) DO UPDATE SET {merge}
"""


def procedure_bit_sql(sql: Dialect, column: str = "procedure_id") -> tuple[str, str]:
    """SQL of a row's procedure word and bit in procedure masks: bit ``(id − 1) % 64`` of word
    ``(id − 1) // 64`` (bit 63 is the sign: SQL integers are signed)."""
    one = "CAST(1 AS bigint)" if sql.pg else "1"
    return f"(({column} - 1) / 64)", f"({one} << CAST(({column} - 1) %% 64 AS integer))"


def _procedure_sets_sql(sql: Dialect, *, months: dict[date, int] | None = None) -> str:
    """OR the day bits of the monthly procedure facts of ``month_from`` .. ``month_to`` into one
    set per centre, month and word of 64 procedures (``MonthlyProcedureSet``). Different
    procedures are different bits: on SQLite, which has no bit_or aggregate, a distinct sum of
    them is their OR.

    With ``months`` ({month: day bits}), only those days' bits are read and ORed into the
    stored sets (an upsert): what a first computation of days adds to sets that stay true."""
    t = _tables()
    word, bit = procedure_bit_sql(sql)
    aggregate, close = ("BIT_OR", ")") if sql.pg else ("SUM(DISTINCT", "))")
    days, merge = str(ALL_DAYS), ""
    if months is not None:
        whens = " ".join(f"WHEN {sql.day_literal(m)} THEN {b}" for m, b in months.items())
        days = f"CASE month {whens} ELSE 0 END"
        merge = "ON CONFLICT (month, center_id, word) DO UPDATE SET " + ", ".join(
            f"{c} = {t['procset']}.{c} | excluded.{c}" for c in PROCEDURE_SET_FIELDS.values()
        )
    cells = ", ".join(
        f"{aggregate}(CASE WHEN ({day_field} & days) <> 0 THEN bit ELSE 0 END{close}"
        for day_field in PROCEDURE_SET_FIELDS
    )
    sets = ", ".join(PROCEDURE_SET_FIELDS.values())
    return f"""
INSERT INTO {t["procset"]} (month, center_id, province_id, word, {sets})
SELECT month, center_id, province_id, word, {cells}
FROM (SELECT month, center_id, province_id, {word} AS word, {bit} AS bit, {days} AS days,
             {", ".join(PROCEDURE_SET_FIELDS)}
      FROM {t["procmonth"]} WHERE month >= %(month_from)s AND month <= %(month_to)s) m
WHERE (({" | ".join(PROCEDURE_SET_FIELDS)}) & days) <> 0
GROUP BY month, center_id, province_id, word
{merge}
"""


def _procedure_sets_refresh(month_from: date, month_to: date) -> None:
    """Rewrite the monthly procedure sets of ``month_from`` .. ``month_to`` (first days)."""
    sql = Dialect(connection.vendor)
    MonthlyProcedureSet.objects.filter(month__range=(month_from, month_to)).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            _procedure_sets_sql(sql),
            {"month_from": sql.adapt_day(month_from), "month_to": sql.adapt_day(month_to)},
        )


def _procedure_sets_merge(day_from: date, day_to: date) -> None:
    """OR the procedures of ``day_from`` .. ``day_to`` into their months' sets: the sets of
    days computed for the first time (every night) only gain bits, so the month is not
    re-aggregated."""
    sql = Dialect(connection.vendor)
    months = month_bits(day_from, day_to)
    with connection.cursor() as cursor:
        cursor.execute(
            _procedure_sets_sql(sql, months=months),
            {"month_from": sql.adapt_day(min(months)), "month_to": sql.adapt_day(max(months))},
        )


def month_bits(day_from: date, day_to: date) -> dict[date, int]:
    """{first day of month: bit mask of the days of ``day_from`` .. ``day_to`` in that month}."""
    masks: dict[date, int] = {}
    for day in _days(day_from, day_to):
        month = day.replace(day=1)
        masks[month] = masks.get(month, 0) | (1 << (day.day - 1))
    return masks


def _clear_procedure_days(day_from: date, day_to: date) -> bool:
    """Forget what already computed days of the range said in the monthly procedure facts
    (they are recomputed); whether there were any. A day computed for the first time — every
    night — has no bits yet: nothing to clear."""
    computed = FactDay.objects.filter(day__range=(day_from, day_to)).values_list("day", flat=True)
    masks: dict[date, int] = {}
    for day in computed:
        for month, bits in month_bits(day, day).items():
            masks[month] = masks.get(month, 0) | bits
    table = MonthlyProcedureFact._meta.db_table
    sql = Dialect(connection.vendor)
    with connection.cursor() as cursor:
        for month, bits in sorted(masks.items()):
            touched = " OR ".join(f"({c} & %s) <> 0" for c in PROCEDURE_DAY_FIELDS)
            cursor.execute(
                f"UPDATE {table} SET "
                + ", ".join(f"{c} = {c} & %s" for c in PROCEDURE_DAY_FIELDS)
                + f" WHERE month = %s AND ({touched})",
                [ALL_DAYS & ~bits] * len(PROCEDURE_DAY_FIELDS)
                + [sql.adapt_day(month)]
                + [bits] * len(PROCEDURE_DAY_FIELDS),
            )
    if masks:
        MonthlyProcedureFact.objects.filter(
            month__in=list(masks), online_days=0, fee_days=0, paid_days=0, population_days=0
        ).delete()
    return bool(masks)


@dataclass(frozen=True)
class FactsSummary:
    day_from: date
    day_to: date
    fact_rows: int
    procedure_rows: int

    @property
    def days(self) -> int:
        return (self.day_to - self.day_from).days + 1


def facts_work_mem() -> str:
    return getattr(settings, "SCORING_FACTS_WORK_MEM", "64MB")


def facts_compute(*, day_from: date, day_to: date | None = None) -> FactsSummary:
    """(Re)compute the daily facts of every centre for ``day_from`` .. ``day_to`` (inclusive) in
    one transaction: the range's rows are replaced, other days are untouched."""
    day_to = day_to or day_from
    if day_to < day_from:
        raise ValueError(f"empty range {day_from} .. {day_to}")
    sql = Dialect(connection.vendor)
    params = {
        "day_from": sql.adapt_day(day_from),
        "day_to": sql.adapt_day(day_to),
        "s_from": sql.adapt_instant(day_start(day_from)),
        "s_from_next": sql.adapt_instant(day_start(day_from + timedelta(days=1))),
        "e_to": sql.adapt_instant(day_start(day_to + timedelta(days=1))),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if sql.pg:
            # The planner prices the marker union by the whole dossier table and JIT-compiles
            # it: 3.3 s of compilation for a 1.6 s statement on the national year.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SELECT set_config('work_mem', %s, true)", [facts_work_mem()])
        DailyFact.objects.filter(day__range=(day_from, day_to)).delete()
        recomputed = _clear_procedure_days(day_from, day_to)
        cursor.execute(_facts_sql(sql, one_day=day_from == day_to), params)
        fact_rows = cursor.rowcount
        _totals_refresh(day_from, day_to)
        cursor.execute(_procedure_facts_sql(sql), params)
        procedure_rows = cursor.rowcount
        if recomputed:  # cleared bits may empty a set: the months are aggregated again
            _procedure_sets_refresh(day_from.replace(day=1), day_to.replace(day=1))
        else:
            _procedure_sets_merge(day_from, day_to)
        now = timezone.now()
        FactDay.objects.bulk_create(
            [FactDay(day=d, computed_at=now) for d in _days(day_from, day_to)],
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=["computed_at"],
        )
    return FactsSummary(day_from, day_to, fact_rows, procedure_rows)


def _days(day_from: date, day_to: date) -> list[date]:
    return [day_from + timedelta(days=n) for n in range((day_to - day_from).days + 1)]


def missing_ranges(day_from: date, day_to: date) -> list[tuple[date, date]]:
    """The contiguous ranges of days in ``day_from`` .. ``day_to`` whose facts were never
    computed."""
    done = set(FactDay.objects.filter(day__range=(day_from, day_to)).values_list("day", flat=True))
    ranges: list[tuple[date, date]] = []
    for day in _days(day_from, day_to):
        if day in done:
            continue
        if ranges and ranges[-1][1] == day - timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def facts_ensure(*, day_from: date, day_to: date) -> list[FactsSummary]:
    """(Re)compute ``day_from`` .. ``day_to`` and every earlier day of its year-to-date windows
    (from 31 December of the previous year, the carried-over stock of ``ytd``) that was never
    computed — the first night after a deployment backfills, later nights touch one day."""
    earliest = date(day_from.year, 1, 1) - timedelta(days=1)
    summaries = [
        facts_compute(day_from=a, day_to=b)
        for a, b in missing_ranges(earliest, day_from - timedelta(days=1))
    ]
    summaries.append(facts_compute(day_from=day_from, day_to=day_to))
    return summaries
