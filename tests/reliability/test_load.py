"""Load: 64 concurrent clients for 2 minutes (``RELIABILITY_LOAD_SECONDS``) against gunicorn
(4 workers x 4 threads) on PostgreSQL — 48 citizens submitting and withdrawing, 16 desk staff
accepting, refusing, processing, finishing and returning through the REST API. Then: zero 5xx,
every accepted submission stored exactly once, unique codes, every history a legal path.

The figures go to ``var/reliability/load.json`` (docs/reliability.md quotes them)."""

from __future__ import annotations

import json
import os

import pytest
from rest_framework.authtoken.models import Token

from tests.conftest import ROOT
from tests.factories import (
    CitizenFactory,
    CommuneCenterFactory,
    ProcedureVersionFactory,
    StaffFactory,
)
from tests.reliability.load import Desk, Load, check_database
from tests.reliability.processes import PrivateRedis, Server

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "120"))
CITIZENS, DESKS, CENTRES = 48, 16, 4
REDIS_PORT, WEB_PORT = 6392, 8392


def population():
    centres = [CommuneCenterFactory() for _ in range(CENTRES)]
    version = ProcedureVersionFactory(fee_vnd=0, online_level="full")
    citizens = [CitizenFactory() for _ in range(CITIZENS)]
    desks = []
    for i in range(DESKS):
        centre = centres[i % CENTRES]
        user = StaffFactory(center=centre, roles=["receptionist", "officer"])
        desks.append(Desk(Token.objects.create(user=user).key, centre.code))
    tokens = [Token.objects.create(user=c).key for c in citizens]
    return centres, version.procedure, citizens, tokens, desks


def save_figures(name: str, figures: dict) -> None:
    out = ROOT / "var" / "reliability"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))


def test_64_clients_for_two_minutes(postgres, tmp_path):
    centres, procedure, citizens, tokens, desks = population()
    redis = PrivateRedis(REDIS_PORT, tmp_path)
    redis.start()
    server = Server(
        WEB_PORT, tmp_path / "web.log", workers=4, threads=4, REDIS_URL=redis.url,
        RELIABILITY_MAIL_DIR=tmp_path / "mail",
    )  # fmt: skip
    try:
        server.start()
        load = Load(
            server.url,
            citizens=tokens,
            desks=desks,
            procedure=procedure.code,
            documents=list(procedure.required_documents),
            centres=[c.code for c in centres],
        )
        result = load.run(SECONDS)
    finally:
        server.stop()
        redis.stop()

    summary = result.summary()
    database = check_database(result, [c.pk for c in citizens])
    save_figures("load", {"clients": CITIZENS + DESKS, **summary, "database": database})
    # Throughput depends on the machine (figures in the JSON); correctness may not.
    assert summary["requests"] >= 2 * (CITIZENS + DESKS), summary
    errors = [(r.action, r.status, r.error) for r in result.server_errors + result.no_answer]
    assert errors == [], f"{len(errors)} failed requests, first: {errors[:5]}"
    assert result.abandoned == []
    assert database["lost"] == [] and database["duplicate_codes"] == []
    assert database["stored_not_acknowledged"] == []
    assert database["stored"] == database["accepted"] > 0
    assert database["illegal_count"] == 0, database["illegal_histories"]
    # The desk really processed: transitions answered 200 beyond the lists.
    transitions = [r for r in result.records if r.agent == "desk" and r.action != "list"]
    assert sum(r.status == 200 for r in transitions) >= DESKS, summary
