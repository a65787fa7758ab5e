"""Side effects survive a broker outage: with Redis stopped, 50 citizens submit dossiers and the
desk accepts them; every submission and transition succeeds and leaves its notification in the
outbox; Redis comes back, the periodic sweeper runs on a real worker, and each citizen receives
exactly one e-mail per event — also when the sweeper runs again and every delivery task is
sent a second time.

The Redis here is a private one (its own port), stopped and started by the test; the shared
Redis other tests use is never touched."""

from __future__ import annotations

import email
import email.header
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from dossiers.models import Dossier, OutboxMessage
from tests.factories import (
    CitizenFactory,
    CommuneCenterFactory,
    ProcedureVersionFactory,
    StaffFactory,
)
from tests.reliability.figures import save_figures
from tests.reliability.processes import (
    PrivateRedis,
    Worker,
    control_app,
    free_port,
    run_django,
    wait_for,
)

# The worker and the web process are other processes: they need a database they can share
# with the test (PostgreSQL; SQLite's test database lives in this process's memory).
pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
]

CITIZENS = 50

SUBMIT = """
import json, os, time
from dossiers import services
from dossiers.models import Procedure
from portal.models import ServiceCenter, User
centre = ServiceCenter.objects.get(pk=int(os.environ["CENTRE"]))
desk = User.objects.get(pk=int(os.environ["DESK"]))
procedure = Procedure.objects.get(pk=int(os.environ["PROCEDURE"]))
out = {"codes": [], "errors": [], "seconds": []}
for pk in json.loads(os.environ["CITIZENS"]):
    started = time.monotonic()
    try:
        dossier = services.dossier_submit(
            citizen=User.objects.get(pk=pk), center=centre, procedure=procedure,
            documents=["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"])
        out["codes"].append(dossier.code)
        # A transition that computes a due time (working calendar, shared-cache version).
        services.dossier_accept(dossier=dossier, actor=desk)
    except Exception as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}")
    out["seconds"].append(time.monotonic() - started)
print(json.dumps(out))
"""


def sent_messages(mail_dir: Path) -> list[email.message.Message]:
    """Every e-mail the file backend wrote (one file per connection, messages separated by a
    line of 79 dashes)."""
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk))
    return messages


def test_submissions_during_a_broker_outage_are_notified_exactly_once(tmp_path, settings):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    centre = CommuneCenterFactory()
    procedure = ProcedureVersionFactory().procedure
    citizens = [CitizenFactory() for _ in range(CITIZENS)]
    desk = StaffFactory(center=centre, roles=["receptionist"])

    redis = PrivateRedis(free_port(), tmp_path)
    redis.start()
    redis.stop()  # the outage: the broker is down while citizens submit

    result = run_django(
        SUBMIT,
        REDIS_URL=redis.url,
        RELIABILITY_MAIL_DIR=mail_dir,
        CENTRE=centre.pk,
        DESK=desk.pk,
        PROCEDURE=procedure.pk,
        CITIZENS=json.dumps([c.pk for c in citizens]),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    submitted = json.loads(result.stdout.strip().splitlines()[-1])
    assert submitted["errors"] == []
    assert len(submitted["codes"]) == CITIZENS
    assert max(submitted["seconds"]) < 5, "a dead broker must not stall a submission"
    assert "left for the sweeper" in result.stderr  # the dispatch failed and said so

    assert Dossier.objects.filter(code__in=submitted["codes"], state=2).count() == CITIZENS
    pending = OutboxMessage.objects.filter(dossier__code__in=submitted["codes"])
    assert (
        pending.count() == 2 * CITIZENS and not pending.filter(delivered_at__isnull=False).exists()
    )
    assert sent_messages(mail_dir) == []

    # Time passes: the sweeper leaves messages younger than its grace period to the
    # after-commit dispatch; these have waited longer than that.
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    redis.start()
    worker = Worker(redis.url, tmp_path / "worker.log", RELIABILITY_MAIL_DIR=mail_dir)
    worker.start()
    client = control_app(redis.url)
    try:
        client.send_task("dossiers.tasks.outbox_sweep")
        wait_for(
            lambda: pending.filter(delivered_at__isnull=False).count() == 2 * CITIZENS,
            90,
            "all notifications delivered",
            interval=0.25,
        )
        # Duplicates from the user's point of view: the sweeper runs again (the beat would,
        # every minute) and every delivery task is delivered a second time (a redelivery
        # after a worker restart). Nothing more may be sent.
        client.send_task("dossiers.tasks.outbox_sweep")
        for message_id in pending.values_list("pk", flat=True):
            client.send_task("dossiers.tasks.outbox_deliver", args=[message_id])
        # One worker, one task at a time, in order: when this answers, all above are done. (An
        # earlier eager test may leave a task context behind: this wait is not inside a task.)
        ping = client.send_task("portal.ping")
        assert ping.get(timeout=60, disable_sync_subtasks=False) == "pong"
    finally:
        worker.stop()
        redis.stop()

    messages = sent_messages(mail_dir)
    save_figures(
        "outbox",
        {
            "citizens": CITIZENS,
            "submissions_during_outage": len(submitted["codes"]),
            "acceptances_during_outage": CITIZENS,
            "failed_during_outage": len(submitted["errors"]),
            "slowest_submission_seconds": round(max(submitted["seconds"]), 2),
            "notifications_waiting": 2 * CITIZENS,
            "emails_sent": len(messages),
            "duplicate_emails": sum(
                n - 1 for n in Counter((m["To"], m["Subject"]) for m in messages).values()
            ),
            "extra_sweeps": 1,
            "redelivered_tasks": 2 * CITIZENS,
        },
    )
    received = Counter(
        (m["To"], str(email.header.make_header(email.header.decode_header(m["Subject"]))))
        for m in messages
    )
    assert len(messages) == 2 * CITIZENS
    assert set(received.values()) == {1}  # no e-mail twice
    assert Counter(to for to, _ in received) == Counter({c.email: 2 for c in citizens})
    assert all(row.attempts == 1 for row in pending)
    codes = {d.code for d in Dossier.objects.filter(code__in=submitted["codes"])}
    assert codes == set(submitted["codes"])
