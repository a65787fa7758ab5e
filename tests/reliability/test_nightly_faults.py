"""The nightly index job under a SIGKILL, seen from outside: managers read the ranking page
and the rankings API from a gunicorn server while the Celery worker computing the next run is
killed in the middle. They keep getting the previous complete snapshots, byte for byte; the
next run completes and the pages then show exactly what an undisturbed run shows.

(tests/scoring/test_worker.py checks the same at the model level; this is the end-to-end one.)
Private Redis, worker and server on their own ports."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
import requests
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from rest_framework.authtoken.models import Token

from dossiers import services
from dossiers.models import Procedure
from portal.models import ManagerScope, ServiceCenter
from scoring.models import IndexRun
from tests.factories import CitizenFactory, StaffFactory, UserFactory
from tests.reliability.figures import save_figures
from tests.reliability.processes import (
    PrivateRedis,
    Server,
    Worker,
    control_app,
    free_port,
    wait_for,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

DAY = date(2025, 7, 11)  # a Friday
CENTRES = ["P42", "C18073", "C18532", "P01", "C00004", "C25747"]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def activity(day: date, *, per_centre: int, finish_every: int = 2) -> int:
    """Dossiers through the services at the given centres on ``day`` (some finished)."""
    made = 0
    for code in CENTRES:
        centre = ServiceCenter.objects.get(code=code)
        desk = StaffFactory(center=centre, roles=["receptionist", "officer"])
        procedures = Procedure.objects.filter(level=centre.level).order_by("code")
        for k in range(per_centre):
            procedure = procedures[k % procedures.count()]
            citizen = CitizenFactory()
            at = local(day, 8, 5 * k)
            dossier = services.dossier_receive(
                actor=desk,
                center=centre,
                procedure=procedure,
                citizen=citizen,
                documents=list(procedure.required_documents),
                at=at,
            )
            if k % finish_every == 0:
                if dossier.payment_status == "due":
                    services.dossier_record_payment(
                        dossier=dossier,
                        actor=desk,
                        channel="cash",
                        amount_vnd=dossier.fee_vnd,
                        reference=f"CASH-{dossier.code}",
                        at=at + timedelta(minutes=1),
                    )
                dossier = services.dossier_start_processing(
                    dossier=dossier, actor=desk, at=at + timedelta(minutes=2)
                )
                services.dossier_finish(dossier=dossier, actor=desk, at=at + timedelta(hours=3))
            made += 1
    return made


class Manager:
    """A national manager reading the ranking page (session) and the API (token)."""

    def __init__(self, base_url: str):
        user = UserFactory(username="manager-nation", is_staff=True)
        ManagerScope.objects.create(user=user, province=None)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        self.base_url = base_url
        self.page_session = requests.Session()
        self.page_session.cookies.set("sessionid", session.session_key)
        self.api_session = requests.Session()
        self.api_session.headers["Authorization"] = f"Token {Token.objects.create(user=user).key}"
        self.query = {"date": DAY.isoformat(), "window": "ytd", "methodology": "2026"}

    def api(self) -> dict:
        response = self.api_session.get(
            f"{self.base_url}/api/v1/rankings/", params=self.query, timeout=30
        )
        assert response.status_code == 200, response.text[:500]
        return response.json()

    def page(self) -> str:
        response = self.page_session.get(
            f"{self.base_url}/rankings/", params=self.query, timeout=30
        )
        assert response.status_code == 200, response.text[:500]
        # Per-request noise: the CSRF token of the language switcher.
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.text)

    def both(self) -> tuple[dict, str]:
        return self.api(), self.page()


def test_a_killed_nightly_run_never_shows_and_the_next_run_equals_an_undisturbed_one(
    postgres, reference_data, tmp_path
):
    from scoring.services import index_compute

    activity(DAY - timedelta(days=1), per_centre=6)
    previous = index_compute(date_from=DAY).run
    assert previous.status == "complete"
    activity(DAY, per_centre=8, finish_every=1)  # what the next run must take into account

    redis = PrivateRedis(free_port(), tmp_path)
    redis.start()
    server = Server(free_port(), tmp_path / "web.log", workers=2, REDIS_URL=redis.url)
    worker = Worker(redis.url, tmp_path / "worker.log")
    client = control_app(redis.url)
    try:
        server.start()
        manager = Manager(server.url)
        before = manager.both()
        assert len(before[0]["results"]) == 34

        worker.start()
        client.send_task("scoring.nightly_index", args=[DAY.isoformat()])
        killed = wait_for(
            lambda: (
                IndexRun.objects.filter(status="running", kind="nightly")
                .exclude(provinces_done=[])
                .first()
            ),
            120,
            "a nightly run in the middle of its province tasks",
            interval=0.02,
        )
        worker.kill()
        killed.refresh_from_db()
        assert killed.status == "running" and 0 < len(killed.provinces_done) < 34

        # Readers during and after the crash: the previous complete run, exactly.
        reads = [manager.both() == before for _ in range(10)]
        assert all(reads)

        # The next beat, after the silence limit: the dead run is failed, a new one completes.
        worker = Worker(redis.url, tmp_path / "worker-2.log")
        worker.start()
        client.send_task(
            "scoring.nightly_index", args=[DAY.isoformat()], kwargs={"stale_seconds": 0}
        )
        retried = wait_for(
            lambda: IndexRun.objects.filter(status="complete", kind="nightly").first(),
            180,
            "the next nightly run to complete",
            interval=0.25,
        )
        after = manager.both()
        assert after != before, "the new day's activity shows after the retried run"

        # An undisturbed run over the same data, published last: the pages show the same.
        # The killed worker's task may be redelivered (late acknowledgement) and start one more
        # nightly run of the same day: let it finish, or this run would be skipped as overlapping.
        wait_for(
            lambda: not IndexRun.objects.filter(status="running").exists(),
            180,
            "no index run in progress",
            interval=0.25,
        )
        undisturbed = index_compute(date_from=DAY).run
        assert undisturbed.pk > retried.pk and undisturbed.status == "complete"
        assert manager.both() == after
        save_figures(
            "nightly-kill",
            {
                "provinces": 34,
                "provinces_done_when_killed": len(killed.provinces_done),
                "reads_during_crash": 2 * len(reads),
                "reads_not_previous_snapshots": 2 * reads.count(False),
                "retried_run_equals_undisturbed": True,
            },
        )
    finally:
        worker.stop()
        server.stop()
        redis.stop()
    killed.refresh_from_db()
    assert killed.status == "failed" and killed.error.startswith("abandoned")
