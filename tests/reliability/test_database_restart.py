"""PostgreSQL restarts under load: requests fail at most while the database is down, the
server recovers by itself (no gunicorn worker restarted), and nothing the server acknowledged
is lost or duplicated.

The cluster is private (initdb into a temporary directory, its own port): the shared
PostgreSQL other tests use is never restarted. Figures: ``var/reliability/db-restart.json``."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from tests.reliability.figures import save_figures
from tests.reliability.load import Desk, Load
from tests.reliability.processes import (
    PrivatePostgres,
    Server,
    free_port,
    run_django,
)

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("RELIABILITY_RESTART_SECONDS", "45"))
RESTART_AFTER = SECONDS / 3
RECOVERY_GRACE = 5.0  # seconds after the restart in which stragglers may still fail
CITIZENS, DESKS = 16, 4
DATABASE = "portal_restart"

SETUP = f"""
import json
from rest_framework.authtoken.models import Token
from tests.factories import (
    CitizenFactory, CommuneCenterFactory, ProcedureVersionFactory, StaffFactory)
centres = [CommuneCenterFactory() for _ in range(2)]
procedure = ProcedureVersionFactory(fee_vnd=0, online_level="full").procedure
citizens = [CitizenFactory() for _ in range({CITIZENS})]
desks = []
for i in range({DESKS}):
    staff = StaffFactory(center=centres[i % 2], roles=["receptionist", "officer"])
    desks.append([Token.objects.create(user=staff).key, centres[i % 2].code])
print(json.dumps({{
    "centres": [c.code for c in centres],
    "procedure": procedure.code,
    "documents": procedure.required_documents,
    "citizens": [c.pk for c in citizens],
    "tokens": [Token.objects.create(user=c).key for c in citizens],
    "desks": desks,
}}))
"""

REPORT = """
import json, os
from tests.reliability.load import stored_report
data = json.loads(open(os.environ["ACCEPTED_FILE"]).read())
print(json.dumps(stored_report(data["accepted"], data["citizens"])))
"""


def booted_workers(log: Path) -> int:
    return log.read_text(errors="replace").count("Booting worker with pid")


def test_a_database_restart_under_load_loses_nothing(tmp_path):
    pg = PrivatePostgres(free_port())
    url = pg.url(DATABASE)
    server = Server(free_port(), tmp_path / "web.log", workers=2, threads=4, DATABASE_URL=url,
                    REDIS_URL="", RELIABILITY_MAIL_DIR=tmp_path / "mail")  # fmt: skip
    try:
        pg.init()
        pg.start()
        pg.create_database(DATABASE)
        migrate = run_django(
            "from django.core.management import call_command\ncall_command('migrate', verbosity=0)",
            timeout=600,
            DATABASE_URL=url,
        )
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        setup = run_django(SETUP, DATABASE_URL=url, REDIS_URL="")
        assert setup.returncode == 0, setup.stderr[-3000:]
        world = json.loads(setup.stdout.strip().splitlines()[-1])

        server.start()
        workers_before = booted_workers(server.log)
        load = Load(
            server.url,
            citizens=world["tokens"],
            desks=[Desk(token, centre) for token, centre in world["desks"]],
            procedure=world["procedure"],
            documents=world["documents"],
            centres=world["centres"],
        )
        restart = {}

        def restart_database():
            time.sleep(RESTART_AFTER)  # a moment in the middle of the load
            restart["begin"] = time.monotonic()
            pg.restart()
            restart["end"] = time.monotonic()

        restarter = threading.Thread(target=restart_database)
        restarter.start()
        result = load.run(SECONDS)
        restarter.join()
        assert server.proc.poll() is None, "the server survived"
        assert booted_workers(server.log) == workers_before, "no gunicorn worker was restarted"
    finally:
        server.stop()

    try:
        accepted_file = tmp_path / "accepted.json"
        accepted_file.write_text(
            json.dumps({"accepted": list(result.accepted.values()), "citizens": world["citizens"]})
        )
        report = run_django(REPORT, DATABASE_URL=url, ACCEPTED_FILE=accepted_file)
        assert report.returncode == 0, report.stderr[-3000:]
        database = json.loads(report.stdout.strip().splitlines()[-1])
    finally:
        pg.remove()

    begin, end = restart["begin"], restart["end"]
    failures = result.server_errors + result.no_answer
    outside = [
        (round(r.started + r.seconds - begin, 2), r.action, r.status, r.error)
        for r in failures
        if not (begin - 0.5 <= r.started + r.seconds <= end + RECOVERY_GRACE)
    ]
    after = [r for r in result.records if r.started > end + RECOVERY_GRACE]
    summary = result.summary()
    save_figures(
        "db-restart",
        {
            "clients": CITIZENS + DESKS,
            "restart_seconds": round(end - begin, 2),
            "failed_during_restart": len(failures) - len(outside),
            "failed_outside_restart": len(outside),
            "requests_after_recovery": len(after),
            **summary,
            "database": database,
        },
    )
    assert outside == [], f"failures outside the restart window: {outside[:5]}"
    assert after and all(r.status and r.status < 500 for r in after)
    assert any(r.action == "submit" and r.status == 201 for r in after), "submissions resumed"
    assert result.abandoned == []
    assert database["lost"] == [] and database["duplicate_codes"] == []
    assert database["stored_not_acknowledged"] == []
    assert database["illegal_count"] == 0, database["illegal_histories"]
