"""Race conditions against real PostgreSQL: threads, each with its own connection, committing
for real (``transaction=True``)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from dossiers import services
from dossiers.errors import TransitionNotAllowed
from dossiers.models import Dossier, DossierEvent
from dossiers.workflow import State
from tests.dossiers.conftest import DOCUMENTS, T0
from tests.factories import CitizenFactory, StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SUBMISSIONS = 100
# Each thread holds one connection; stay well under max_connections (100) on a shared server.
THREADS = 40


def in_own_connection(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connections.close_all()

    return run


def test_concurrent_submissions_get_unique_consecutive_codes(postgres, center, procedure):
    citizens = [CitizenFactory() for _ in range(8)]
    start = threading.Barrier(THREADS)

    @in_own_connection
    def submit(n):
        if n < THREADS:
            start.wait(timeout=30)  # the first wave leaves together
        return services.dossier_submit(
            citizen=citizens[n % len(citizens)],
            center=center,
            procedure=procedure,
            documents=DOCUMENTS,
            at=T0,
        ).code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        codes = list(pool.map(submit, range(SUBMISSIONS)))

    assert len(set(codes)) == SUBMISSIONS
    expected = {f"{center.code}-260302-{n:04d}" for n in range(1, SUBMISSIONS + 1)}
    assert set(codes) == expected
    assert Dossier.objects.filter(center=center).count() == SUBMISSIONS


def _someone_waits_for_a_lock(timeout=10.0) -> bool:
    """True once another backend is blocked on a row lock (PostgreSQL's own view)."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # Statistics views are a snapshot per transaction and we are inside one: refresh.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def test_two_officers_accepting_at_once_exactly_one_succeeds(postgres, walker, center, monkeypatch):
    dossier = walker.submitted()
    first, second = (StaffFactory(center=center, roles=["receptionist"]) for _ in range(2))
    first_holds_the_lock = threading.Event()
    saw_the_other_wait = []
    real_due_at_for = services.due_at_for

    def due_at_for_while_the_other_waits(*args, **kwargs):
        # Runs inside the first acceptance's transaction, with the row locked: hold it until
        # PostgreSQL shows the second acceptance blocked on that lock.
        if not first_holds_the_lock.is_set():
            first_holds_the_lock.set()
            saw_the_other_wait.append(_someone_waits_for_a_lock())
        return real_due_at_for(*args, **kwargs)

    monkeypatch.setattr(services, "due_at_for", due_at_for_while_the_other_waits)

    @in_own_connection
    def accept(actor, wait_first):
        if wait_first:
            assert first_holds_the_lock.wait(timeout=30)
        try:
            services.dossier_accept(dossier=dossier, actor=actor, at=walker.tick())
            return "accepted"
        except TransitionNotAllowed as exc:
            return f"refused: {exc.code}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(accept, [first, second], [False, True]))

    assert results == ["accepted", "refused: transition_not_allowed"]
    assert saw_the_other_wait == [True]
    assert DossierEvent.objects.filter(dossier=dossier, action="accept").count() == 1
    assert Dossier.objects.get(pk=dossier.pk).state == State.ACCEPTED


def test_a_gateway_callback_repeated_at_once_pays_once(postgres, walker):
    dossier = walker.submitted()
    start = threading.Barrier(8)

    @in_own_connection
    def callback(_):
        start.wait(timeout=30)
        return services.dossier_record_payment(
            dossier=dossier,
            actor=None,
            channel="online",
            amount_vnd=dossier.fee_vnd,
            reference="GW-RACE-1",
            at=walker.at,
        ).pk

    with ThreadPoolExecutor(max_workers=8) as pool:
        payment_ids = set(pool.map(callback, range(8)))

    assert len(payment_ids) == 1
    assert DossierEvent.objects.filter(dossier=dossier, action="record_payment").count() == 1


def test_the_test_connection_is_postgres(postgres):
    assert connection.vendor == "postgresql"
