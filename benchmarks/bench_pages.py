"""Pages and list endpoints, timed at the server with Django's test Client in-process (the
whole request/response cycle through middleware, views, templates and the database; no
socket), p95 over repeated requests after a warm-up, and the number of SQL queries per request.

- manager pages (national ranking, a province page, a unit page for the year to date and for a
  month) read the prepared year of snapshots (benchmarks/data.py): target p95 ≤ 50 ms, queries
  bounded (≤ ``MAX_QUERIES``);
- the staff dossier changelist in admin for a centre holding 1,000,000 dossiers: p95 ≤ 200 ms;
- a citizen's "my dossiers" page and the API list endpoints (dossiers, as a citizen and as the
  centre's staff) with at least 1,000,000 dossiers in the table: p95 ≤ 50 ms.

The million-dossier centre: the busiest centre of the prepared data receives copies of the
prepared dossiers (new codes, same procedures, applicants, states and times) until it holds
1,000,000; they are inserted in a transaction that is rolled back at the end, so the prepared
database (and the other benchmarks) never see them.
"""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.data import PERIOD
from benchmarks.harness import Figure, Measurement

HEAVY = 1_000_000
REQUESTS = 40  # measured requests per page, after WARMUP
WARMUP = 5
MAX_QUERIES = 30


class _Rollback(Exception):
    pass


def p95(runs: list[float]) -> float:
    ordered = sorted(runs)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(client: Client, url: str, **headers) -> tuple[list[float], int]:
    for _ in range(WARMUP):
        response = client.get(url, **headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    runs = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        client.get(url, **headers)
        runs.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, **headers)
    return runs, len(ctx.captured_queries)


def figure(size, path, url, runs, queries, target_ms, what) -> Figure:
    m = Measurement(url, runs, work=1, unit="request")
    value = p95(runs)
    ratio = value * 1000 / target_ms
    return Figure(
        path=path,
        size=size,
        measured=m,
        target=f"p95 ≤ {target_ms} ms" + (f", ≤ {MAX_QUERIES} queries" if queries else ""),
        ratio=ratio,
        met=ratio <= 1 and queries <= MAX_QUERIES,
        notes=f"p95 {value * 1000:.1f} ms (ratio = p95 / target), {queries} queries; {what}",
        extra={"p95_s": value, "queries": queries, "url": url},
    )


def _manager():
    from portal.models import User

    user, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def manager_pages(size: str) -> list[Figure]:
    from portal.models import ServiceCenter
    from scoring.models import IndexSnapshot

    client = Client()
    client.force_login(_manager())
    day = PERIOD[1].isoformat()
    snapshots = IndexSnapshot.objects.count()
    commune = ServiceCenter.objects.filter(level="commune", province_id="01").order_by("id").first()
    what = f"{snapshots:,} snapshot rows (a year), date {day}, in-process test Client"
    figures = []
    for path, url in (
        ("national ranking page", f"/rankings/?date={day}"),
        ("province page", f"/rankings/provinces/01/?date={day}"),
        ("unit page", f"/rankings/units/{commune.code}/?date={day}"),
        # A month's trend is read date by date (the trend index holds the year to date only).
        ("unit page, month window", f"/rankings/units/{commune.code}/?date={day}&window=month"),
    ):
        runs, queries = timed(client, url)
        figures.append(figure(size, path, url, runs, queries, 50, what))
    return figures


def _heavy_centre() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT center_id FROM dossiers_dossier GROUP BY center_id ORDER BY count(*) DESC "
            "LIMIT 1"
        )
        centre = cursor.fetchone()[0]
        cursor.execute("SELECT code FROM portal_servicecenter WHERE id = %s", [centre])
        return centre, cursor.fetchone()[0]


def _fill(centre: int) -> int:
    """Copies of the prepared dossiers in ``centre`` until it holds HEAVY (same transaction)."""
    from dossiers.models import Dossier

    fields = [
        f.column
        for f in Dossier._meta.concrete_fields
        if f.column not in ("id", "code", "center_id")
    ]
    cols = ", ".join(f'"{c}"' for c in fields)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dossiers_dossier WHERE center_id = %s", [centre])
        have = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM dossiers_dossier")
        table = cursor.fetchone()[0]
        need = HEAVY - have
        copies = -(-need // table)
        cursor.execute(
            f"INSERT INTO dossiers_dossier (code, center_id, {cols}) "
            f"SELECT 'BENCH-' || lpad((row_number() OVER ())::text, 8, '0'), %s, {cols} "
            f"FROM dossiers_dossier d CROSS JOIN generate_series(1, %s) g LIMIT %s",
            [centre, copies, need],
        )
        cursor.execute("ANALYZE dossiers_dossier")
        cursor.execute("SELECT count(*) FROM dossiers_dossier")
        return cursor.fetchone()[0]


def list_pages(size: str) -> list[Figure]:
    from portal.models import StaffMembership, User

    centre, code = _heavy_centre()
    figures = []
    with transaction.atomic():
        try:
            started = time.perf_counter()
            table = _fill(centre)
            filled = time.perf_counter() - started
            what = (
                f"centre {code} with {HEAVY:,} dossiers, {table:,} in the table (copies inserted "
                f"in {filled:.0f} s, rolled back afterwards), in-process test Client"
            )
            staff = User.objects.get(
                pk=StaffMembership.objects.filter(center_id=centre)
                .order_by("id")
                .values_list("user_id", flat=True)[0]
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT applicant_id FROM dossiers_dossier WHERE center_id = %s "
                    "GROUP BY applicant_id ORDER BY count(*) DESC LIMIT 1",
                    [centre],
                )
                citizen = User.objects.get(pk=cursor.fetchone()[0])
            own = citizen.dossiers.count() if hasattr(citizen, "dossiers") else None
            staff_client, citizen_client = Client(), Client()
            staff_client.force_login(staff)
            citizen_client.force_login(citizen)
            for path, client, url, target, note in (
                ("staff dossier changelist in admin (centre with 1,000,000 dossiers)",
                 staff_client, "/admin/dossiers/dossier/", 200, "receptionist of the centre"),
                ("citizen \"my dossiers\" page (1,000,000+ dossiers in the table)",
                 citizen_client, "/my/dossiers/", 50, f"the citizen with most dossiers ({own})"),
                ("API list: citizen's dossiers (1,000,000+ in the table)",
                 citizen_client, "/api/v1/dossiers/", 50, "GET /api/v1/dossiers/ as the citizen"),
                ("API list: staff's dossiers (centre with 1,000,000)",
                 staff_client, "/api/v1/dossiers/", 50, "GET /api/v1/dossiers/ as the staff"),
            ):  # fmt: skip
                runs, queries = timed(client, url)
                figures.append(figure(size, path, url, runs, queries, target, f"{note}; {what}"))
            raise _Rollback
        except _Rollback:
            pass
        finally:
            transaction.set_rollback(True)
    return figures


def run(size: str, **_) -> list[Figure]:
    return manager_pages(size) + list_pages(size)
